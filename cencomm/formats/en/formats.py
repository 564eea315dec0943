# The shapes static/js/formats.js asks Intl for (cencomm/formats/__init__.py).
DATE_FORMAT = "F j, Y"
DATETIME_FORMAT = r"F j, Y \a\t H:i"
