/* Handling codes and grading on the group page (core/handling.py): the banner each
 * message shows, the composer's choice, and the dialog in which the author or a
 * coordinator changes a message's code. group.js calls these.
 */
"use strict";

(function () {
  const { format, jsonScript } = window.Cencomm;
  const config = jsonScript("page-config");
  const T = jsonScript("client-strings");

  function label(vocabulary, value) {
    return ((config.labels || {})[vocabulary] || {})[value] || value;
  }

  function text(data) {
    const code = data.handling_code || "H0";
    let words = label("handling_code", code);
    if (code === "H3" && data.handling_conditions) words = format(T.handlingConditions, { code: words, conditions: data.handling_conditions });
    const parts = [words];
    if (data.source_grading || data.information_grading) {
      parts.push(format(T.grading, { grading: `${data.source_grading || "?"}${data.information_grading || "?"}` }));
    }
    if (code === "H2" && data.released) parts.push(T.handlingReleased);
    return parts.join(" · ");
  }

  // actions: [{label, run}], buttons at the end of the banner.
  function banner(data, actions) {
    const element = document.createElement("div");
    element.className = `handling-banner handling-${data.handling_code || "H0"}`;
    const words = document.createElement("span");
    words.className = "handling-text";
    words.textContent = text(data);
    element.append(words);
    actions.forEach((action) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link-button";
      button.textContent = action.label;
      button.addEventListener("click", action.run);
      element.append(button);
    });
    return element;
  }

  // The conditions' field shows only for H3.
  function linkConditions(select, input) {
    const show = () => {
      const h3 = select.value === "H3";
      input.hidden = !h3;
      const inputLabel = document.querySelector(`label[for="${input.id}"]`);
      if (inputLabel) inputLabel.hidden = !h3;
    };
    select.addEventListener("change", show);
    show();
  }

  function fields(prefix) {
    const value = (id) => {
      const element = document.getElementById(`${prefix}-${id}`);
      return element ? element.value : "";
    };
    const frame = { handling_code: value("handling") };
    if (frame.handling_code === "H3") frame.handling_conditions = value("conditions").trim();
    frame.source_grading = value("source");
    frame.information_grading = value("information");
    return frame;
  }

  function composerFrame() {
    return document.getElementById("composer-handling") ? fields("composer") : {};
  }

  // An attachment takes the code chosen in the composer when it is uploaded.
  function uploadFields(form) {
    const frame = composerFrame();
    if (frame.handling_code) form.append("handling_code", frame.handling_code);
    if (frame.handling_conditions) form.append("handling_conditions", frame.handling_conditions);
  }

  const dialog = document.getElementById("handling-dialog");
  let onSave = null;

  // graded: a message's grading is offered too; an attachment has none.
  function openDialog(data, save, graded = true) {
    if (!dialog) return;
    ["source", "information"].forEach((name) => {
      const select = document.getElementById(`handling-dialog-${name}`);
      select.hidden = !graded;
      const selectLabel = document.querySelector(`label[for="${select.id}"]`);
      if (selectLabel) selectLabel.hidden = !graded;
    });
    document.getElementById("handling-dialog-handling").value = data.handling_code || "H0";
    document.getElementById("handling-dialog-conditions").value = data.handling_conditions || "";
    document.getElementById("handling-dialog-source").value = data.source_grading || "";
    document.getElementById("handling-dialog-information").value = data.information_grading || "";
    document.getElementById("handling-dialog-handling").dispatchEvent(new Event("change"));
    onSave = save;
    dialog.showModal();
  }

  if (dialog) {
    linkConditions(document.getElementById("handling-dialog-handling"), document.getElementById("handling-dialog-conditions"));
    document.getElementById("handling-dialog-save").addEventListener("click", (event) => {
      event.preventDefault();
      const frame = fields("handling-dialog");
      if (document.getElementById("handling-dialog-source").hidden) {
        delete frame.source_grading;
        delete frame.information_grading;
      }
      if (frame.handling_code !== "H3") frame.handling_conditions = "";
      dialog.close();
      if (onSave) onSave(frame);
    });
  }
  const composerSelect = document.getElementById("composer-handling");
  if (composerSelect) linkConditions(composerSelect, document.getElementById("composer-conditions"));

  window.CencommHandling = { banner, text, composerFrame, uploadFields, openDialog, label };
})();
