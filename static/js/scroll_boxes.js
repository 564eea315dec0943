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

  // What was added, and every box around it: one of them may scroll now.
  function check(root) {
    const element = root.nodeType === Node.ELEMENT_NODE ? root : root.parentElement;
    if (!element || !element.isConnected) return;
    mark(element);
    element.querySelectorAll("*").forEach(mark);
    for (let up = element.parentElement; up && up !== document.documentElement; up = up.parentElement) mark(up);
  }

  let pending = null;
  function later(roots) {
    const scheduled = pending !== null;
    pending = pending || new Set();
    roots.forEach((root) => pending.add(root));
    if (scheduled) return;
    window.requestAnimationFrame(() => {
      const everything = pending.has(document.body);
      const roots = everything ? [document.body] : pending;
      pending = null;
      roots.forEach(check);
    });
  }

  function start() {
    later([document.body]);
    new MutationObserver((records) => {
      later(records.flatMap((record) => (record.addedNodes.length ? Array.from(record.addedNodes) : [record.target])));
    }).observe(document.body, { childList: true, subtree: true });
    window.addEventListener("resize", () => later([document.body]));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
