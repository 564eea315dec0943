"""Django for the standalone benchmark scripts (transfer, spreadsheets).

Imported first by a script run as ``python tests/benchmarks/<name>.py``: the test
settings, with databases of their own (``CENCOMM_TEST_DB_SUFFIX``, ``_bench`` unless
set), created for the run and dropped after it.
"""

import contextlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cencomm.settings_test")
os.environ.setdefault("CENCOMM_TEST_DB_SUFFIX", "_bench")

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402


def on_postgresql() -> bool:
    """The benchmarks measure PostgreSQL; on anything else they say so and stop."""
    if all(connections[alias].vendor == "postgresql" for alias in ("default", "cen")):
        return True
    print("The benchmark measures PostgreSQL: start it (README) and run again.")
    return False


@contextlib.contextmanager
def throwaway_databases():
    """Both databases, made for this run and dropped after it."""
    old_config = setup_databases(verbosity=0, interactive=False, aliases={"default", "cen"})
    try:
        yield
    finally:
        teardown_databases(old_config, verbosity=0)


def postgresql_version() -> str:
    version = connections["default"].pg_version
    return f"{version // 10000}.{version % 100}"
