"""Settings for the test suite: the real PostgreSQL and Redis whenever they answer.

``DATABASE_URL``/``CEN_DATABASE_URL``/``REDIS_URL`` win when set. Otherwise the
local services on 127.0.0.1 are used when reachable. With ``CI=true`` a missing
service stops the run with a clear message instead of silently falling back.
"""

import os
import socket


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _require(name: str, host: str, port: int) -> bool:
    if _reachable(host, port):
        return True
    if os.environ.get("CI", "").lower() == "true":
        raise SystemExit(
            f"CI=true but {name} is not reachable on {host}:{port}. The test suite runs on the "
            f"real {name}; start it (see README, 'Running the tests') and run again."
        )
    return False


os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("CSRF_TRUSTED_ORIGINS", "http://testserver,http://127.0.0.1:8000")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

PG_HOST, PG_PORT = os.environ.get("TEST_PG_HOST", "127.0.0.1"), 5432
if "DATABASE_URL" not in os.environ and _require("PostgreSQL", PG_HOST, PG_PORT):
    os.environ["DATABASE_URL"] = f"postgres://postgres@{PG_HOST}:{PG_PORT}/cencomm"
    os.environ["CEN_DATABASE_URL"] = f"postgres://postgres@{PG_HOST}:{PG_PORT}/cencomm_cen"
if "REDIS_URL" not in os.environ and _require("Redis", "127.0.0.1", 6379):
    # A database number of our own, and a prefix per run, so nothing else is touched.
    os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/11"
os.environ.setdefault("CHANNEL_LAYER_PREFIX", f"cencomm-test-{os.getpid()}")

from .settings import *  # noqa: E402, F403
from .settings import DATABASES  # noqa: E402

# Tests run over plain HTTP; the production security settings are checked separately
# by `manage.py check --deploy` in the test command.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The lockout is switched on by the tests that check it (tests/test_lockout.py); the
# test client's login() has no request for it to count.
AXES_ENABLED = False
# The connection pool stays on (cencomm/settings.py): the tests run on what is deployed.
# Django makes a pool on its first connection, after the aliases point at the test
# databases, and closes it before it clones or drops one.
for _alias, _database in DATABASES.items():
    # A suffix lets several test runs share one PostgreSQL server side by side.
    _suffix = os.environ.get("CENCOMM_TEST_DB_SUFFIX", "")
    _database["TEST"] = {"NAME": f"test_cencomm_{_alias}{_suffix}"}
