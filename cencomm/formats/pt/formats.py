# The shapes static/js/formats.js asks Intl for (cencomm/formats/__init__.py).
DATE_FORMAT = r"j \d\e F \d\e Y"
DATETIME_FORMAT = r"j \d\e F \d\e Y à\s H:i"
