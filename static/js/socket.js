/* CENcomm live connection: one websocket per tab, every group of the user.
 *
 * Keeps a cursor (last seq seen) per group, reconnects with back-off, and on every
 * (re)connection asks the server for what it missed (`sync`). The server never sends
 * a seq twice on one socket; the client still drops anything at or below its cursor,
 * so a message shows exactly once whatever the network did.
 * Protocol: docs/protocol.md.
 */
"use strict";

(function () {
  const RETRY_FIRST_MS = 500;
  const RETRY_MAX_MS = 5000;
  const RETRY_AFTER_FLOOD_MS = 30000;

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  class CencommSocket {
    constructor({ cursors = {}, onEvent, onFrame, onState, onReady }) {
      this.cursors = Object.assign({}, cursors);
      this.onEvent = onEvent || (() => {});
      this.onFrame = onFrame || (() => {});
      this.onState = onState || (() => {});
      this.onReady = onReady || (() => {});
      this.ws = null;
      this.retry = 0;
      this.stopped = false;
      this.ready = false;
    }

    url() {
      const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
      return `${scheme}//${window.location.host}/ws/`;
    }

    connect() {
      if (this.stopped) return;
      this.onState("connecting");
      const ws = new WebSocket(this.url());
      this.ws = ws;
      ws.addEventListener("message", (message) => this.receive(message.data));
      ws.addEventListener("close", (event) => this.closed(event));
      ws.addEventListener("error", () => ws.close());
    }

    closed(event) {
      this.ready = false;
      if (event.code === 4401) {
        this.stopped = true;
        this.onState("ended");
        // The session is over; a device ended from elsewhere wipes its copies (device.js).
        window.dispatchEvent(new CustomEvent("cencomm:session-ended"));
        return;
      }
      if (this.stopped) return;
      this.onState("offline");
      // Back-off with jitter (docs/protocol.md): a step of 0.5 s doubling up to 5 s, and
      // a wait anywhere between half and one and a half steps, so that the pages a server
      // restart cut off together come back spread out rather than in one burst. After
      // 4429 (flooding) the page waits longer.
      const step = event.code === 4429 ? RETRY_AFTER_FLOOD_MS : Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.retry);
      const delay = step * (0.5 + Math.random());
      this.retry += 1;
      window.setTimeout(() => this.connect(), delay);
    }

    receive(text) {
      let frame;
      try {
        frame = JSON.parse(text);
      } catch (error) {
        return;
      }
      switch (frame.type) {
        case "hello":
          this.hello(frame);
          break;
        case "event":
          this.event(frame.group, frame);
          break;
        case "sync.page":
          frame.events.forEach((event) => this.event(frame.group, event));
          break;
        case "access.granted":
          if (!(frame.group in this.cursors)) this.cursors[frame.group] = frame.seq;
          this.onFrame(frame);
          break;
        case "access.revoked":
          delete this.cursors[frame.group];
          this.onFrame(frame);
          break;
        case "resync_required":
          this.onFrame(frame);
          break;
        case "error":
          // A sync the server could not serve (its database was down): ask again later.
          if (frame.code === "unavailable" && !frame.client_id && frame.group in this.cursors) this.resyncSoon(frame.group);
          this.onFrame(frame);
          break;
        default:
          this.onFrame(frame);
      }
    }

    hello(frame) {
      this.retry = 0;
      const sync = {};
      Object.entries(frame.groups).forEach(([group, head]) => {
        // A group this page never saw starts at the head: its history is not wanted here.
        if (!(group in this.cursors)) this.cursors[group] = head;
        sync[group] = this.cursors[group];
      });
      Object.keys(this.cursors).forEach((group) => {
        if (!(group in frame.groups)) {
          delete this.cursors[group];
          this.onFrame({ type: "access.revoked", group });
        }
      });
      this.send({ type: "sync", cursors: sync });
      this.ready = true;
      this.onState("online");
      this.onReady();
    }

    resyncSoon(group) {
      const ws = this.ws;
      window.setTimeout(() => {
        if (this.ws === ws && group in this.cursors) this.send({ type: "sync", cursors: { [group]: this.cursors[group] } });
      }, 2000 + Math.random() * 1000);
    }

    event(group, event) {
      const cursor = this.cursors[group];
      if (cursor === undefined || event.seq <= cursor) return;
      this.cursors[group] = event.seq;
      this.onEvent(group, event);
    }

    send(frame) {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) {
        this.ws.send(JSON.stringify(frame));
        return true;
      }
      return false;
    }
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, (match, name) => (name in values ? String(values[name]) : match));
  }

  function jsonScript(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  window.Cencomm = { CencommSocket, newClientId, format, jsonScript };
})();
