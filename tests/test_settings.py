"""Settings from the environment, the database router, and the services the suite runs on."""

import os
import subprocess
import sys

import pytest
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connections

from cencomm.routers import CenRouter
from groups.models import ClosedUserGroup
from operations.cen.models import CenSeizure
from tests.live import ROOT

pytestmark = pytest.mark.django_db(databases=["default", "cen"])


def test_the_router_keeps_the_cen_schema_in_its_own_database():
    router = CenRouter()
    assert router.db_for_write(CenSeizure) == "cen"
    assert router.db_for_read(ClosedUserGroup) == "default"
    assert router.allow_migrate("cen", "cen") and not router.allow_migrate("default", "cen")
    assert router.allow_migrate("default", "groups") and not router.allow_migrate("cen", "groups")
    cen_tables = connections["cen"].introspection.table_names()
    default_tables = connections["default"].introspection.table_names()
    assert (
        CenSeizure._meta.db_table in cen_tables and CenSeizure._meta.db_table not in default_tables
    )
    assert (
        ClosedUserGroup._meta.db_table in default_tables
        and ClosedUserGroup._meta.db_table not in cen_tables
    )


def test_the_suite_runs_on_postgresql_and_redis_when_they_answer():
    """The guard that CI really runs on the services (it fails loudly without them)."""
    if os.environ.get("CI", "").lower() != "true" and connections["default"].vendor != "postgresql":
        pytest.skip("no PostgreSQL here and not in CI")
    assert connections["default"].vendor == "postgresql"
    assert connections["cen"].vendor == "postgresql"
    assert connections["default"].settings_dict["NAME"] != connections["cen"].settings_dict["NAME"]
    assert type(get_channel_layer()).__name__ == "RedisChannelLayer"


def settings_in_a_clean_process(
    env: dict, module: str = "cencomm.settings"
) -> subprocess.CompletedProcess:
    code = (
        "import django, json; from django.conf import settings; django.setup(); "
        "print(json.dumps({'default': settings.DATABASES['default']['ENGINE'], "
        "'cen': settings.DATABASES['cen']['ENGINE'], 'default_name': str(settings.DATABASES['default']['NAME']), "
        "'layer': settings.CHANNEL_LAYERS['default']['BACKEND']}))"
    )
    clean = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "DJANGO_SETTINGS_MODULE": module,
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_with_nothing_set_the_embedded_default_is_sqlite_and_in_memory(tmp_path):
    result = settings_in_a_clean_process({"DEBUG": "1", "CENCOMM_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    import json

    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["default"] == values["cen"] == "django.db.backends.sqlite3"
    assert values["default_name"].startswith(str(tmp_path))
    assert values["layer"] == "channels.layers.InMemoryChannelLayer"


def test_with_urls_set_postgresql_and_redis_are_used(tmp_path):
    result = settings_in_a_clean_process(
        {
            "DEBUG": "1",
            "CENCOMM_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://u:p@db.example:5432/cencomm",
            "CEN_DATABASE_URL": "postgres://u:p@db.example:5432/cen",
            "REDIS_URL": "redis://redis.example:6379/0",
        }
    )
    import json

    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["default"] == values["cen"] == "django.db.backends.postgresql"
    assert values["layer"] == "channels_redis.core.RedisChannelLayer"


def clean_process(arguments: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *arguments],
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_a_secret_key_runs_commands_but_no_server(tmp_path):
    production = {"CENCOMM_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "cencomm.settings"}
    assert settings_in_a_clean_process(production).returncode == 0
    command = clean_process(["manage.py", "makemigrations", "--check", "--dry-run"], production)
    assert command.returncode == 0, command.stderr
    server = clean_process(["-c", "import cencomm.asgi"], production)
    assert server.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in server.stderr
    with_key = clean_process(["-c", "import cencomm.asgi"], {**production, "SECRET_KEY": "k" * 60})
    assert with_key.returncode == 0, with_key.stderr


def test_production_refuses_the_development_key(tmp_path):
    from cencomm.settings import INSECURE_DEFAULT_SECRET_KEY

    result = settings_in_a_clean_process(
        {"CENCOMM_VAR_DIR": str(tmp_path), "SECRET_KEY": INSECURE_DEFAULT_SECRET_KEY}
    )
    assert result.returncode != 0
    assert "development key" in result.stderr and "ImproperlyConfigured" in result.stderr


def test_ci_fails_loudly_when_postgresql_is_missing(tmp_path):
    result = settings_in_a_clean_process(
        {"CI": "true", "TEST_PG_HOST": "127.0.0.254", "CENCOMM_VAR_DIR": str(tmp_path)},
        module="cencomm.settings_test",
    )
    assert result.returncode != 0
    assert "CI=true but PostgreSQL is not reachable" in result.stderr + result.stdout


def test_production_turns_on_secure_cookies_and_hsts():
    assert settings.SECURE_CONTENT_TYPE_NOSNIFF
    assert settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"] == ["'self'"]
    result = settings_in_a_clean_process(
        {"SECRET_KEY": "x" * 60, "DATABASE_URL": "sqlite:///:memory:"}
    )
    assert result.returncode == 0, result.stderr


def test_a_server_process_collects_garbage_less_often(settings):
    import gc

    import cencomm.asgi  # noqa: F401 - importing the application applies the setting

    assert settings.GC_THRESHOLDS == (50000, 20, 100)
    assert gc.get_threshold() == settings.GC_THRESHOLDS
