"""One date format and one date-time format per language, the same on the server and in
the browser: Django renders these (FORMAT_MODULE_PATH), and static/js/formats.js asks
the browser's Intl for the same shapes (day, month written out, year; time on 24 hours),
with Latin digits in every language, as the server writes them."""
