# The shapes static/js/formats.js asks Intl for (cencomm/formats/__init__.py).
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = r"j F Y \ف\ي H:i"
