"""Settings of the daphne processes that tests start: the platform's, plus the test suite's
fast password hasher (the users they log in as were made by the test process)."""

from cencomm.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
