# The shapes static/js/formats.js asks Intl for (cencomm/formats/__init__.py).
DATE_FORMAT = "j E Y г."
DATETIME_FORMAT = r"j E Y г. \в H:i"
