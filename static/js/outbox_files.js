/* The outbox to a file and back, for when a device must be left behind.
 *
 * An export writes what has not been sent yet — messages, replies, acknowledgements
 * and seizures — to one JSON file that the outbox of another device imports, and the
 * seizures also to a CSV file per operation in the spreadsheet format that the
 * operation's import page takes (the columns by their codes, each row's client_uuid
 * last). Every item keeps the id it was given when it was written, so whichever way it
 * reaches the server — from this device, from the other one, or by the spreadsheet
 * import — it is stored once. An item is imported only by the user who wrote it, and
 * only the fields an item is made of are read from the file. Used by static/js/outbox.js.
 */
"use strict";

(function () {
  const FORMAT = "cencomm-outbox";
  const VERSION = 1;
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  // Where a seizure is sent: the form's JSON door of its operation, on this server.
  const SEIZURE_DOOR = /^\/operations\/[^/?#]+\/seizures\/submit\/$/;

  function stamp(date) {
    return date.toISOString().slice(0, 16).replace(/[-:]/g, "").replace("T", "-");
  }

  function download(name, type, text) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  // As the server's own export writes a cell: a list joined by commas, and what a
  // spreadsheet program would run as a formula kept as text.
  function csvCell(value) {
    let text = Array.isArray(value) ? value.join(", ") : value === null || value === undefined ? "" : String(value);
    if (["=", "+", "-", "@", "\t", "\r"].includes(text.charAt(0))) text = `'${text}`;
    return /[",\r\n;]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  // The columns the spreadsheet import reads (operations/spreadsheets.py, named on the
  // page by templates/_outbox.html); a field of the form that the import does not read
  // (the handling code: an import takes the operation's default) is in the JSON file only.
  function spreadsheetColumns() {
    const root = document.getElementById("outbox");
    return ((root && root.dataset.spreadsheetColumns) || "").split(",").filter(Boolean);
  }

  function seizureCsv(seizures, columns = spreadsheetColumns()) {
    const rows = seizures.map((item) => columns.map((column) => csvCell(column === "client_uuid" ? item.client_uuid : (item.data || {})[column])));
    // UTF-8 with its byte-order mark, as the server's export: spreadsheet programs read it right.
    return `\ufeff${[columns, ...rows].map((row) => row.join(",")).join("\r\n")}\r\n`;
  }

  function kept(item) {
    const fields = { type: item.type, client_uuid: item.client_uuid, saved_at: item.saved_at };
    if (item.type === "seizure") Object.assign(fields, { operation: item.operation, submitUrl: item.submitUrl, data: item.data });
    else if (item.type === "ack") Object.assign(fields, { group: item.group, seq: item.seq });
    else Object.assign(fields, { group: item.group, frame: item.frame });
    return fields;
  }

  // Writes the files; returns their names (none when nothing waits).
  function exportItems(items, user, now = new Date()) {
    const unsent = items.filter((item) => item.state !== "sent");
    if (!unsent.length) return [];
    const names = [];
    const when = stamp(now);
    const document = { format: FORMAT, version: VERSION, user, exported_at: now.toISOString(), items: unsent.map(kept) };
    names.push(`cencomm-outbox-${user}-${when}.json`);
    download(names[0], "application/json", JSON.stringify(document, null, 1));
    const byOperation = new Map();
    unsent
      .filter((item) => item.type === "seizure")
      .forEach((item) => byOperation.set(item.operation, [...(byOperation.get(item.operation) || []), item]));
    byOperation.forEach((seizures, operation) => {
      const name = `cencomm-seizures-${operation}-${when}.csv`;
      download(name, "text/csv", seizureCsv(seizures));
      names.push(name);
    });
    return names;
  }

  function text(value) {
    return typeof value === "string" && value.length > 0;
  }

  // The item as the outbox stores it, or null when the file's entry is not one.
  function readItem(entry) {
    if (!entry || typeof entry !== "object" || !UUID.test(String(entry.client_uuid))) return null;
    const item = { type: entry.type, client_uuid: entry.client_uuid, saved_at: text(entry.saved_at) ? entry.saved_at : new Date().toISOString() };
    if (entry.type === "message") {
      const frame = entry.frame;
      if (!text(entry.group) || !frame || typeof frame !== "object" || typeof frame.body !== "string") return null;
      // The frame's own fields (kind, body, reply_to, attachments, and any a later
      // composer adds); where it goes and its id are the outbox's, never the file's.
      const copy = {};
      Object.keys(frame).forEach((key) => {
        if (!["type", "group", "client_id"].includes(key)) copy[key] = frame[key];
      });
      return Object.assign(item, { group: entry.group, frame: copy });
    }
    if (entry.type === "ack") {
      if (!text(entry.group) || !Number.isInteger(entry.seq)) return null;
      return Object.assign(item, { group: entry.group, seq: entry.seq });
    }
    if (entry.type === "seizure") {
      if (!text(entry.operation) || !SEIZURE_DOOR.test(String(entry.submitUrl))) return null;
      if (!entry.data || typeof entry.data !== "object" || Array.isArray(entry.data)) return null;
      return Object.assign(item, { operation: entry.operation, submitUrl: entry.submitUrl, data: entry.data });
    }
    return null;
  }

  class FileRefused extends Error {
    constructor(reason, values = {}) {
      super(reason);
      this.reason = reason;
      this.values = values;
    }
  }

  // The items of an exported file, for this user; FileRefused says why not.
  async function readFile(file, user) {
    let parsed;
    try {
      parsed = JSON.parse(await file.text());
    } catch (error) {
      throw new FileRefused("notOutbox");
    }
    if (!parsed || parsed.format !== FORMAT || parsed.version !== VERSION || !Array.isArray(parsed.items)) {
      throw new FileRefused("notOutbox");
    }
    if (parsed.user !== user) throw new FileRefused("otherUser", { user: String(parsed.user) });
    const items = parsed.items.map(readItem);
    if (items.includes(null)) throw new FileRefused("notOutbox");
    return items;
  }

  window.CencommOutboxFiles = { exportItems, readFile, seizureCsv, FileRefused };
})();
