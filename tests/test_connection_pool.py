"""A daphne process holds at most its pools' PostgreSQL connections, whatever the load, and a
request that finds none free gets 503 within the pool's timeout: never a hang, never a 500.

Both run the real server (daphne on PostgreSQL and Redis) and count the server's
connections in pg_stat_activity, where it names them (tests/live.py, application_name).
"""

import asyncio
import json
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests
import websockets
from django.conf import settings
from django.db import connections
from django.test import Client
from django.urls import reverse

from operations.cen.models import CenSeizure
from tests.conftest import api_token, sign_in
from tests.live import application_name, start_daphne

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "cen"])

# The load: 2,000 requests from 20 clients, half REST, half pages, while a few sockets post.
CLIENTS = 20
REQUESTS_PER_CLIENT = 100
DEFAULT_POOL, CEN_POOL = 6, 2
LOAD_ENVIRONMENT = {
    "DATABASE_POOL_MIN_SIZE": "2",
    "DATABASE_POOL_MAX_SIZE": str(DEFAULT_POOL),
    "CEN_DATABASE_POOL_MAX_SIZE": str(CEN_POOL),
    # Longer than deployed: 20 clients queue for 6 connections, and this machine's speed
    # moves by 2x between hours; the bound, not the wait, is what is measured here.
    "DATABASE_POOL_TIMEOUT": "15",
    # As deployed: without DEBUG (which, among others, has WhiteNoise look for a static
    # file behind every request).
    "DEBUG": "0",
    "SECURE_SSL_REDIRECT": "0",
    # The load is one test's few users: the per-user API rate limit is not what is measured.
    "API_THROTTLE_RATE": "1000000/minute",
}


@pytest.fixture(autouse=True)
def real_services():
    if connections["default"].vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("the connection bound is PostgreSQL's, behind the real server with Redis")


def _connect(alias: str, **options) -> psycopg.Connection:
    """A connection of the test's own, outside Django's (which the test keeps for itself)."""
    database = connections[alias].settings_dict
    return psycopg.connect(
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        user=database["USER"],
        password=database["PASSWORD"] or None,
        dbname=database["NAME"],
        **options,
    )


class ConnectionSampler(threading.Thread):
    """Counts the server's connections to the test databases every few milliseconds."""

    def __init__(self, server_port: int):
        super().__init__(daemon=True)
        self.name_in_postgres = application_name(server_port)
        self.databases = [connections[alias].settings_dict["NAME"] for alias in ("default", "cen")]
        self.samples: list[int] = []
        self.done = threading.Event()

    def run(self):
        with _connect("default", autocommit=True) as connection:
            while not self.done.is_set():
                self.samples.append(
                    connection.execute(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = ANY(%s) AND application_name = %s",
                        [self.databases, self.name_in_postgres],
                    ).fetchone()[0]
                )
                time.sleep(0.02)

    def stop(self) -> int:
        self.done.set()
        self.join(timeout=5)
        return max(self.samples)


def _session_cookie(user) -> str:
    client = sign_in(Client(), user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _post_frames(server, key: str, slug: str, stop: threading.Event) -> tuple[int, int]:
    """Post on one socket until told to stop; returns (posted, accepted)."""

    async def run():
        posted = accepted = 0
        async with websockets.connect(
            server.ws_url, additional_headers={"Authorization": f"Token {key}"}
        ) as socket:
            hello = json.loads(await socket.recv())
            await socket.send(json.dumps({"type": "sync", "cursors": hello["groups"]}))
            while not stop.is_set():
                await socket.send(
                    json.dumps(
                        {
                            "type": "message.post",
                            "group": slug,
                            "client_id": str(uuid.uuid4()),
                            "body": f"under load {posted}",
                        }
                    )
                )
                posted += 1
                while True:
                    frame = json.loads(await asyncio.wait_for(socket.recv(), 10))
                    if frame["type"] == "message.accepted":
                        accepted += 1
                        break
                    assert frame["type"] != "error", frame
                await asyncio.sleep(0.05)
        return posted, accepted

    return asyncio.run(run())


def test_connections_stay_within_the_pools_under_load_of_requests_and_sockets(world):
    slug = world.group.slug
    users = [world.officer_fr, world.officer_de, world.observer, world.ocu]
    tokens = [api_token(user) for user in users]
    cookies = [_session_cookie(users[number % len(users)]) for number in range(CLIENTS)]
    api_paths = [
        "/api/v1/groups/",
        f"/api/v1/groups/{slug}/",
        f"/api/v1/groups/{slug}/messages/",
        "/api/v1/operations/",
    ]
    page_paths = [
        reverse("groups:my_groups"),
        reverse("groups:group", args=[slug]),
        reverse("operations:list"),
    ]
    server = start_daphne(**LOAD_ENVIRONMENT)
    sampler = ConnectionSampler(server.port)
    stop_sockets = threading.Event()

    def client(number: int) -> Counter:
        statuses = Counter()
        with requests.Session() as session:
            for request_number in range(REQUESTS_PER_CLIENT):
                if request_number % 2:
                    path = api_paths[request_number // 2 % len(api_paths)]
                    headers = {"Authorization": f"Token {tokens[number % len(tokens)]}"}
                else:
                    path = page_paths[request_number // 2 % len(page_paths)]
                    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookies[number]}"}
                response = session.get(server.url + path, headers=headers, timeout=30)
                statuses[(path, response.status_code)] += 1
        return statuses

    try:
        sampler.start()
        with ThreadPoolExecutor(max_workers=CLIENTS + 3) as pool:
            sockets = [
                pool.submit(_post_frames, server, api_token(user), slug, stop_sockets)
                for user in (world.officer_fr, world.officer_de, world.ocu)
            ]
            started = time.monotonic()
            statuses = sum((result for result in pool.map(client, range(CLIENTS))), Counter())
            elapsed = time.monotonic() - started
            stop_sockets.set()
            posts = [socket.result(timeout=30) for socket in sockets]
        peak = sampler.stop()
    finally:
        stop_sockets.set()
        sampler.done.set()
        errors = server.stop()
    print(
        f"{sum(statuses.values())} requests in {elapsed:.1f} s, posts {posts}, "
        f"peak {peak} server connections (bound {DEFAULT_POOL + CEN_POOL})"
    )
    failed = {key: count for key, count in statuses.items() if key[1] != 200}
    assert not failed, (failed, errors[-3000:])
    assert sum(statuses.values()) == CLIENTS * REQUESTS_PER_CLIENT
    assert all(posted == accepted and posted > 0 for posted, accepted in posts), posts
    assert 0 < peak <= DEFAULT_POOL + CEN_POOL, sampler.samples


# ---- exhausted: 503 within the timeout ---------------------------------------------------------

POOL_TIMEOUT = 1.5


def _wait_until_blocked_on_a_lock(server, count: int):
    """Until this many of the server's connections wait for the lock the test holds."""
    with _connect("default", autocommit=True) as connection:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            waiting = connection.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = %s AND wait_event_type = 'Lock'",
                [application_name(server.port)],
            ).fetchone()[0]
            if waiting >= count:
                return
            time.sleep(0.05)
    raise AssertionError(f"the server's requests did not reach the lock ({waiting} of {count})")


def _timed_get(url: str, **headers) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = requests.get(url, headers=headers, timeout=POOL_TIMEOUT + 10)
    return response, time.monotonic() - started


def test_a_request_that_finds_no_connection_free_gets_503_within_the_timeout(world):
    staff_cookie = _session_cookie(world.staff)
    officer_cookies = [_session_cookie(world.officer_fr) for _number in range(2)]
    key = api_token(world.officer_de)
    server = start_daphne(
        DATABASE_POOL_MIN_SIZE="1",
        DATABASE_POOL_MAX_SIZE="2",
        CEN_DATABASE_POOL_MAX_SIZE="1",
        DATABASE_POOL_TIMEOUT=str(POOL_TIMEOUT),
    )
    cookie = settings.SESSION_COOKIE_NAME
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            # The CEN pool's only connection is held by a request that waits for a lock:
            # the next CEN read fails in the view, and gets 503 there.
            with _connect("cen") as cen, cen.transaction():
                cen.execute(f"LOCK TABLE {CenSeizure._meta.db_table} IN ACCESS EXCLUSIVE MODE")
                holder = pool.submit(
                    requests.get,
                    server.url + reverse("cen_analyst_data"),
                    headers={"Cookie": f"{cookie}={staff_cookie}"},
                    timeout=30,
                )
                _wait_until_blocked_on_a_lock(server, 1)
                page, elapsed = _timed_get(
                    server.url + reverse("cen_analyst_data"), Cookie=f"{cookie}={staff_cookie}"
                )
                assert page.status_code == 503 and page.headers["Content-Type"].startswith(
                    "text/html"
                )
                assert POOL_TIMEOUT <= elapsed < POOL_TIMEOUT + 3
                health, _elapsed = _timed_get(server.url + "/health/")
                checks = health.json()["checks"]
                assert health.status_code == 503
                assert checks["cen_database"]["ok"] is False
                assert checks["cen_database"]["error"] == "PoolTimeout"
                assert checks["cen_database"]["pool"]["max"] == 1
                assert checks["database"]["ok"] and checks["redis"]["ok"]
            assert holder.result(timeout=10).status_code == 200

            # Both connections of the default pool are held by page requests waiting for
            # the sessions table: the API and the pages answer 503, in their own shapes.
            with _connect("default") as platform, platform.transaction():
                platform.execute("LOCK TABLE django_session IN ACCESS EXCLUSIVE MODE")
                holders = [
                    pool.submit(
                        requests.get,
                        server.url + reverse("groups:my_groups"),
                        headers={"Cookie": f"{cookie}={session}"},
                        timeout=30,
                    )
                    for session in officer_cookies
                ]
                _wait_until_blocked_on_a_lock(server, 2)
                api, elapsed = _timed_get(
                    server.url + "/api/v1/groups/", Authorization=f"Token {key}"
                )
                assert api.status_code == 503
                assert POOL_TIMEOUT <= elapsed < POOL_TIMEOUT + 3
                assert api.json()["error"]["code"] == "unavailable"
                assert api.json()["error"]["fields"] == {}
                assert api.headers["Retry-After"]
                page, _elapsed = _timed_get(server.url + reverse("login"))
                assert page.status_code == 503
                assert "Temporarily unavailable" in page.text
                health, _elapsed = _timed_get(server.url + "/health/")
                checks = health.json()["checks"]
                assert health.status_code == 503
                assert checks["database"]["ok"] is False
                assert checks["database"]["error"] == "PoolTimeout"
                assert checks["database"]["pool"] | {"waiting": 0} == {
                    "size": 2,
                    "idle": 0,
                    "waiting": 0,
                    "max": 2,
                }
                assert checks["cen_database"]["ok"] and checks["redis"]["ok"]
            assert [holder.result(timeout=10).status_code for holder in holders] == [200, 200]
        # The pool gives the connections back: everything answers again.
        again = requests.get(
            server.url + "/api/v1/groups/", headers={"Authorization": f"Token {key}"}, timeout=10
        )
        assert again.status_code == 200
        assert requests.get(server.url + "/health/", timeout=10).status_code == 200
    finally:
        print(server.stop()[-3000:])


# ---- what counts as "unavailable", and the settings -------------------------------------------


def test_a_cancelled_statement_is_a_fault_of_the_request_not_an_unavailable_database():
    from django.db import OperationalError, transaction

    from core.unavailable import database_unavailable

    with (
        pytest.raises(OperationalError) as cancelled,
        transaction.atomic(),
        connections["default"].cursor() as cursor,
    ):
        cursor.execute("SET LOCAL statement_timeout = 1")
        cursor.execute("SELECT pg_sleep(1)")
    assert not database_unavailable(cancelled.value)


def test_a_database_that_refuses_the_connection_is_unavailable():
    from django.db import OperationalError
    from django.db.backends.postgresql.base import DatabaseWrapper

    from core.unavailable import database_unavailable

    unreachable = {**connections["default"].settings_dict, "PORT": 1, "OPTIONS": {}}
    wrapper = DatabaseWrapper(unreachable, alias="unreachable")
    with pytest.raises(OperationalError) as refused:
        wrapper.ensure_connection()
    assert database_unavailable(refused.value)


def test_postgresql_gets_a_pool_sized_from_the_environment_and_sqlite_none(tmp_path):
    import subprocess
    import sys

    from tests.live import ROOT

    code = (
        "import django, json; from django.conf import settings; django.setup(); "
        "print(json.dumps({alias: d.get('OPTIONS', {}).get('pool') for alias, d in "
        "settings.DATABASES.items()} | {'age': settings.DATABASES['default']['CONN_MAX_AGE']}))"
    )

    def pools(**env) -> dict:
        result = subprocess.run(
            [sys.executable, "-c", code],
            env={
                "PATH": "/usr/bin:/bin",
                "DJANGO_SETTINGS_MODULE": "cencomm.settings",
                "DEBUG": "1",
                "CENCOMM_VAR_DIR": str(tmp_path),
                **env,
            },
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    postgres = "postgres://postgres@127.0.0.1:5432/"
    assert pools(
        DATABASE_URL=postgres + "cencomm",
        CEN_DATABASE_URL=postgres + "cen",
        DATABASE_POOL_MAX_SIZE="7",
        DATABASE_POOL_TIMEOUT="2.5",
    ) == {
        "default": {"min_size": 2, "max_size": 7, "timeout": 2.5},
        "cen": {"min_size": 0, "max_size": 4, "timeout": 2.5},
        "age": 0,
    }
    assert pools() == {"default": None, "cen": None, "age": 0}
