/* Feedback where the eyes are, on every page.
 *
 * The answer to what the user just did — the message after a form was sent (validated,
 * rejected, undone, imported, started…), a form's errors, a refusal — is brought into
 * view and focused when the page opens, so that it is seen on a phone and read out by a
 * screen reader (role status or alert, tabindex -1). Scripts answer the same way through
 * `window.CencommFeedback.reveal`.
 *
 * A plain form is sent once: a second tap while the first is on its way does nothing
 * (forms whose script sends them itself, like the seizure form, guard their own).
 */
"use strict";

(function () {
  const RESET_AFTER_MS = 10000;

  function reveal(element) {
    if (!element) return;
    element.hidden = false;
    if (!element.hasAttribute("tabindex")) element.setAttribute("tabindex", "-1");
    element.scrollIntoView({ block: "center" });
    element.focus({ preventScroll: true });
  }

  window.CencommFeedback = { reveal };

  // What a page rendered as the answer to a form: a message, the form's errors (the
  // first field in error takes the focus), the result of an import, a refusal.
  const ANSWERS = [
    "[data-feedback]",
    "main section[role='alert']",
    "main section[role='status']",
    "main .form-errors",
    "main .field-error",
  ].join(", ");

  function revealAnswer() {
    const answer = Array.from(document.querySelectorAll(ANSWERS)).find(
      (element) => !element.hidden && element.textContent.trim(),
    );
    if (!answer) return;
    const field = answer.matches(".field-error") && answer.closest(".field");
    const control = field && field.querySelector("input, select, textarea");
    if (control) {
      control.scrollIntoView({ block: "center" });
      control.focus({ preventScroll: true });
    } else {
      reveal(answer);
    }
  }

  function release(form) {
    delete form.dataset.sending;
    form.querySelectorAll("button[aria-busy='true']").forEach((button) => {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    });
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    // Listening on the document, this runs after the form's own script: a form that
    // script sends itself (it prevented the default) is left to it.
    if (event.defaultPrevented || !(form instanceof HTMLFormElement)) return;
    if (form.method.toLowerCase() !== "post") return;
    if (form.dataset.sending === "true") {
      event.preventDefault();
      return;
    }
    form.dataset.sending = "true";
    // Disabled after the submission has taken the button's own name and value.
    window.setTimeout(() => {
      form.querySelectorAll("button:not([type]), button[type='submit']").forEach((button) => {
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
      });
    }, 0);
    // A form that answers with a download leaves the page where it is: usable again.
    window.setTimeout(() => release(form), RESET_AFTER_MS);
  });

  // Back to a page kept by the browser: its forms are usable again.
  window.addEventListener("pageshow", () => document.querySelectorAll("form[data-sending]").forEach(release));

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", revealAnswer);
  else revealAnswer();
})();
