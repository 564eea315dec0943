/* Dates, numbers and names in the page's language, one format per language.
 *
 * The server writes dates with Django's formats for the language (cencomm/formats/):
 * day, month written out, year, and "at" a time on 24 hours. These ask the browser's
 * Intl for exactly those shapes, with Latin digits in every language as the server
 * writes them, so that a date rendered by the server and one added live read the same.
 * Names sort with the language's collation, as the server sorts them
 * (core/collation.py).
 */
"use strict";

(function () {
  const lang = document.documentElement.lang || "en";
  const base = { numberingSystem: "latn" };
  const day = { day: "numeric", month: "long", year: "numeric" };
  const dateFormat = new Intl.DateTimeFormat(lang, { ...base, ...day });
  const dateTimeFormat = new Intl.DateTimeFormat(lang, { ...base, ...day, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const dayMonthFormat = new Intl.DateTimeFormat(lang, { ...base, day: "numeric", month: "short" });
  const numberFormat = new Intl.NumberFormat(lang, { ...base, maximumFractionDigits: 3 });
  const collator = new Intl.Collator(lang);

  // "2026-09-02" is that day wherever the reader is; a full ISO time is a moment.
  function toDate(value) {
    if (value instanceof Date) return value;
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || "");
    return match ? new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : new Date(value);
  }

  window.CencommFormats = {
    lang,
    rtl: document.documentElement.dir === "rtl",
    date: (value) => dateFormat.format(toDate(value)),
    dateTime: (value) => dateTimeFormat.format(toDate(value)),
    // The same date without its year, where the year is plain (a chart's axis).
    dayMonth: (value) => dayMonthFormat.format(toDate(value)),
    number: (value) => numberFormat.format(Number(value)),
    compare: (a, b) => collator.compare(a, b),
  };
})();
