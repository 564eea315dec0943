/* Every box that scrolls can be scrolled from the keyboard.
 *
 * Wide tables, charts and code blocks scroll inside their own box so that a page fits
 * a phone, and long lists scroll within the page (static/css). Such a box with nothing
 * focusable inside could only be scrolled with a pointer; while it scrolls it takes a
 * place in the tab order (tabindex=0), so Tab reaches it, it shows the focus ring and
 * the arrow keys move it. Whether a box scrolls depends on the screen and on what is
 * drawn into it later (charts, live messages): it is checked again when the page
 * changes and on resize.
 */
"use strict";

(function () {
  const FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";

  const SCROLLING = ["auto", "scroll"];

  function scrolls(element) {
    const style = getComputedStyle(element);
    return (
      (SCROLLING.includes(style.overflowX) && element.scrollWidth > element.clientWidth + 1) ||
      (SCROLLING.includes(style.overflowY) && element.scrollHeight > element.clientHeight + 1)
    );
  }

  function mark(element) {
    const given = element.dataset.scrollFocus === "true";
    if (scrolls(element)) {
      if (given || element.hasAttribute("tabindex") || element.querySelector(FOCUSABLE)) return;
      element.tabIndex = 0;
      element.dataset.scrollFocus = "true";
    } else if (given) {
      element.removeAttribute("tabindex");
      delete element.dataset.scrollFocus;
    }
  }

  function check(root) {
    if (root.nodeType !== Node.ELEMENT_NODE) return;
    mark(root);
    root.querySelectorAll("*").forEach(mark);
  }

  let pending = null;
  function later(roots) {
    pending = pending || new Set();
    roots.forEach((root) => pending.add(root));
    if (pending.size > 1 && pending.has(document.body)) pending = new Set([document.body]);
    window.requestAnimationFrame(() => {
      if (!pending) return;
      const roots = pending;
      pending = null;
      roots.forEach((root) => root.isConnected && check(root));
    });
  }

  function start() {
    later([document.body]);
    new MutationObserver((records) => {
      const roots = [];
      records.forEach((record) => {
        if (record.type === "childList") record.addedNodes.forEach((node) => roots.push(node.parentElement ? node : record.target));
        else roots.push(record.target);
      });
      // A box that grew wider (a chart drawn into it) is the parent of what was added.
      later(roots.map((node) => (node.parentElement && node.parentElement !== document.documentElement ? node.parentElement : node)));
    }).observe(document.body, { childList: true, subtree: true });
    window.addEventListener("resize", () => later([document.body]));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
