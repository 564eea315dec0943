"""Redis and PostgreSQL restart under the real server, and clients come back together.

Each test starts daphne as a subprocess (tests/live.py) on servers of the test's own
(tests/restarts.py): a redis-server on a free port, a PostgreSQL cluster made with
initdb. Clients are light websocket clients that behave as docs/protocol.md says
(tests/restarts.py, Client). At the end every client's received seqs are compared with
the database's: nothing missing, nothing twice; and every post that got
`message.accepted` is in the database.

The reconnect storm here has 200 clients; the 2,000-client version is a benchmark
(tests/benchmarks/reconnect_storm.py, docs/performance.md).
"""

import asyncio
import resource
import shutil
import time
import uuid

import psycopg
import pytest
import requests
import websockets
from django.conf import settings
from django.db import connections
from rest_framework.authtoken.models import Token

from groups.models import ClosedUserGroup, GroupEvent, Role
from groups.services import membership_add
from messaging.models import Message
from messaging.services import message_post
from tests.conftest import api_token
from tests.live import application_name, free_port, in_thread, server_environment, start_daphne
from tests.restarts import (
    POSTGRES_BIN,
    Client,
    ConnectionSampler,
    PostgresCluster,
    RedisServer,
    kill_process,
    prepare_cluster,
    reconnect_storm,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "cen"])


def _group_seqs(group_id: int) -> list[int]:
    return list(
        GroupEvent.objects.filter(group_id=group_id).order_by("seq").values_list("seq", flat=True)
    )


async def _until(condition, timeout: float, step: float = 0.1) -> float:
    """Wait until ``condition()`` is true; returns the seconds it took (fails after timeout)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s")
        await asyncio.sleep(step)
    return time.monotonic() - started


# ---- Redis restarts ------------------------------------------------------------------------


@pytest.fixture
def own_redis():
    if connections["default"].vendor != "postgresql" or not shutil.which("redis-server"):
        pytest.skip("needs PostgreSQL and the redis-server binary")
    server = RedisServer()
    server.start()
    yield server
    server.stop()


def test_redis_restarting_under_posting_clients_loses_and_doubles_nothing(world, own_redis):
    slug = world.group.slug
    tokens = {
        user.username: api_token(user)
        for user in (world.officer_fr, world.officer_de, world.ocu, world.observer)
    }
    server = start_daphne(
        REDIS_URL=own_redis.url,
        # Only the return of Redis, not the periodic check, may find the deleted token.
        WEBSOCKET_SESSION_CHECK_SECONDS="600",
    )
    pid = server.process.pid
    outage = {}

    async def scenario():
        stop = asyncio.Event()
        fr = Client(server.ws_url, tokens["officer.fr"], name="fr", post_to=slug)
        de = Client(server.ws_url, tokens["officer.de"], name="de", post_to=slug)
        ocu = Client(server.ws_url, tokens["ocu"], name="ocu", post_to=slug)
        observer = Client(server.ws_url, tokens["observer"], name="observer")
        clients = [fr, de, ocu, observer]
        tasks = [asyncio.ensure_future(client.run(stop)) for client in clients]
        await _until(lambda: all(c.online.is_set() for c in clients), 15)
        await asyncio.sleep(1.5)

        own_redis.stop()
        stopped_at = time.monotonic()
        await asyncio.sleep(0.5)
        health = await asyncio.to_thread(requests.get, f"{server.url}/health/", timeout=10)
        outage["health"] = (health.status_code, health.json()["checks"])
        # The API answers (its rate limits count per process meanwhile), and what is
        # posted through it is stored now and delivered later.
        rest_post = await asyncio.to_thread(
            requests.post,
            f"{server.url}/api/v1/groups/{slug}/messages/",
            json={
                "body": "posted over REST while Redis is down",
                "client_id": "0b7e2c3e-52a3-4c3e-9a1c-000000000001",
            },
            headers={"Authorization": f"Token {tokens['officer.fr']}"},
            timeout=10,
        )
        outage["rest_post"] = rest_post.status_code
        # Notices that Redis would have carried are lost: a removal, and a deleted token.
        removal = await asyncio.to_thread(
            requests.delete,
            f"{server.url}/api/v1/groups/{slug}/members/officer.de/",
            headers={"Authorization": f"Token {tokens['ocu']}"},
            timeout=10,
        )
        outage["removal"] = removal.status_code
        await asyncio.to_thread(
            in_thread, lambda: Token.objects.filter(key=tokens["observer"]).delete()
        )
        # A socket opened meanwhile works at once, on the database alone.
        late = Client(server.ws_url, tokens["officer.fr"], name="late")
        clients.append(late)
        tasks.append(asyncio.ensure_future(late.run(stop)))
        outage["late_hello"] = await _until(late.online.is_set, 10)
        await asyncio.sleep(max(0.0, 3 - (time.monotonic() - stopped_at)))

        own_redis.start()
        restarted_at = time.monotonic()
        # The lost notices take effect once Redis is back.
        outage["revoked_after"] = await _until(lambda: slug in de.revoked, 15)
        outage["ended_after"] = await _until(lambda: observer.ended, 15)
        await asyncio.sleep(1.5)
        for client in clients:
            client.post_to = None
        await _until(lambda: not any(c.pending for c in (fr, ocu, late)), 20)
        heads = {
            slug: (
                await asyncio.to_thread(
                    in_thread, lambda: ClosedUserGroup.objects.get(slug=slug).last_seq
                )
            )
        }
        outage["caught_up_after"] = await _until(
            lambda: all(c.caught_up(heads) and not c.pending for c in (fr, ocu, late)), 20
        ) + (time.monotonic() - restarted_at)
        outage["heads"] = heads
        health = await asyncio.to_thread(requests.get, f"{server.url}/health/", timeout=10)
        outage["health_after"] = health.status_code
        stop.set()
        for client in clients:
            if client.socket is not None:
                await client.socket.close()
        await asyncio.gather(*tasks)
        return clients

    try:
        fr, de, ocu, observer, late = asyncio.run(scenario())
    finally:
        alive = server.process.poll() is None
        errors = server.stop()
    print({key: value for key, value in outage.items() if key != "health"})
    assert alive and server.process.pid == pid, errors[-3000:]
    status, checks = outage["health"]
    assert status == 503 and checks["redis"]["ok"] is False and checks["database"]["ok"] is True
    assert outage["health_after"] == 200
    assert outage["rest_post"] == 201 and outage["removal"] == 204
    assert outage["late_hello"] < 3
    group_seqs = _group_seqs(world.group.pk)
    head = outage["heads"][world.group.slug]
    assert group_seqs == list(range(1, head + 1))
    # Every member still in the group saw every event once, in order, none missing.
    for client in (fr, ocu):
        assert client.received[world.group.slug] == group_seqs, client.name
    # The socket opened during the outage synced from 0 and saw everything once too.
    assert late.received[world.group.slug] == list(range(1, head + 1))
    # The removed member and the deleted token: told once Redis was back, without any
    # periodic check; nothing after the removal leaked.
    removal_seq = GroupEvent.objects.get(group=world.group, type="member.removed").seq
    assert de.received[world.group.slug] == list(range(1, len(de.received[world.group.slug]) + 1))
    assert max(de.received[world.group.slug]) < removal_seq
    assert observer.ended and observer.closes[-1] == 4401
    # Nothing accepted is lost; each accepted post is stored once, with its seq.
    for client in (fr, de, ocu):
        assert client.accepted, client.name
        stored = dict(
            Message.objects.filter(client_id__in=list(client.accepted)).values_list(
                "client_id", "seq"
            )
        )
        assert {str(key): seq for key, seq in stored.items()} == client.accepted, client.name
    # No error but the removed member's posts after the removal.
    for client in (fr, ocu, late, observer):
        assert set(client.errors) <= {"unavailable"}, (client.name, client.errors)
    assert set(de.errors) <= {"unavailable", "not_found", "forbidden"}, de.errors
    assert all(c.connections == 1 for c in (fr, ocu, late)), "a socket was dropped"
    assert "Traceback" not in errors, errors[-3000:]


# ---- PostgreSQL restarts -------------------------------------------------------------------


@pytest.fixture
def own_cluster():
    if connections["default"].vendor != "postgresql" or not (POSTGRES_BIN / "initdb").exists():
        pytest.skip("needs PostgreSQL's initdb and pg_ctl")
    cluster = PostgresCluster()
    cluster.init()
    cluster.start()
    yield cluster
    cluster.destroy()


def _cluster_query(cluster, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(cluster.url("cencomm"), autocommit=True) as connection:
        return connection.execute(sql, params).fetchall()


def test_postgresql_down_for_ten_seconds_answers_unavailable_and_resumes_by_itself(own_cluster):
    port = free_port()
    database_urls = {
        "DATABASE_URL": own_cluster.url("cencomm") + f"?application_name={application_name(port)}",
        "CEN_DATABASE_URL": own_cluster.url("cencomm_cen"),
    }
    environment = server_environment(port, **database_urls)
    world = prepare_cluster(own_cluster, environment)
    slug, tokens = world["group"], world["tokens"]
    server = start_daphne(
        port,
        **database_urls,
        # Shorter than deployed, so that the outage's 503s come quickly in the test.
        DATABASE_POOL_TIMEOUT="2",
        # The periodic session check runs during the outage too, and must not end sockets.
        WEBSOCKET_SESSION_CHECK_SECONDS="2",
    )
    pid = server.process.pid
    seen = {"statuses": []}

    def get(path: str, **headers) -> requests.Response:
        response = requests.get(f"{server.url}{path}", headers=headers, timeout=30)
        seen["statuses"].append((path, response.status_code))
        return response

    async def new_socket_close_code() -> int | None:
        async with websockets.connect(
            server.ws_url, additional_headers={"Authorization": f"Token {tokens['officer.nl']}"}
        ) as socket:
            try:
                await asyncio.wait_for(socket.recv(), 10)
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None
        return None

    async def scenario():
        stop = asyncio.Event()
        clients = [
            Client(server.ws_url, tokens[name], name=name, post_to=slug)
            for name in ("officer.fr", "officer.de", "officer.nl")
        ]
        seen["clients"] = clients
        tasks = [asyncio.ensure_future(client.run(stop)) for client in clients]
        await _until(lambda: all(c.online.is_set() for c in clients), 15)
        await asyncio.sleep(2)

        await asyncio.to_thread(own_cluster.stop)
        stopped_at = time.monotonic()
        health = await asyncio.to_thread(get, "/health/")
        seen["health"] = (health.status_code, health.json()["checks"])
        api = await asyncio.to_thread(
            get, "/api/v1/groups/", Authorization=f"Token {tokens['officer.fr']}"
        )
        seen["api"] = (api.status_code, api.json()["error"]["code"], api.headers.get("Retry-After"))
        seen["page"] = (await asyncio.to_thread(get, "/groups/")).status_code
        seen["new_socket"] = await new_socket_close_code()
        accepted_during = sum(len(c.accepted) for c in clients)
        await asyncio.sleep(max(0.0, 10 - (time.monotonic() - stopped_at)))
        seen["accepted_during"] = sum(len(c.accepted) for c in clients) - accepted_during
        seen["unavailable_during"] = sum(c.errors["unavailable"] for c in clients)

        await asyncio.to_thread(own_cluster.start)
        started_at = time.monotonic()
        before = [len(c.accepted) for c in clients]
        # Service resumes by itself: every client's posts are accepted again.
        seen["posts_resume_after"] = await _until(
            lambda: all(len(c.accepted) > n for c, n in zip(clients, before, strict=True)), 30
        )
        health_after = await asyncio.to_thread(get, "/health/")
        seen["health_after"] = health_after.status_code
        seen["api_after"] = (
            await asyncio.to_thread(
                get, "/api/v1/groups/", Authorization=f"Token {tokens['officer.fr']}"
            )
        ).status_code
        await asyncio.sleep(1)
        for client in clients:
            client.post_to = None
        # Every post still waiting is accepted in the end; then nothing more is posted.
        await _until(lambda: not any(c.pending for c in clients), 20)
        head = _cluster_query(
            own_cluster, "SELECT last_seq FROM groups_closedusergroup WHERE slug = %s", [slug]
        )[0][0]
        seen["caught_up_after"] = await _until(
            lambda: all(c.caught_up({slug: head}) and not c.pending for c in clients), 20
        ) + (time.monotonic() - started_at)
        stop.set()
        for client in clients:
            if client.socket is not None:
                await client.socket.close()
        await asyncio.gather(*tasks)
        return clients, head

    try:
        clients, head = asyncio.run(scenario())
    finally:
        alive = server.process.poll() is None
        errors = server.stop()
    print({c.name: c.summary() for c in seen.get("clients", ())})
    print({k: v for k, v in seen.items() if k not in ("statuses", "health", "clients")})
    assert alive and server.process.pid == pid, errors[-3000:]
    status, checks = seen["health"]
    assert status == 503 and checks["database"]["ok"] is False and checks["redis"]["ok"] is True
    assert seen["api"] == (503, "unavailable", "5")
    assert seen["page"] == 503
    assert seen["new_socket"] == 4503
    assert seen["accepted_during"] == 0 and seen["unavailable_during"] > 0
    # The pools retry at least every 2 s (core/unavailable.py), not 1, 2, 4, 8, 16 s.
    assert seen["posts_resume_after"] < 5
    assert seen["health_after"] == 200 and seen["api_after"] == 200
    assert not [s for s in seen["statuses"] if s[1] >= 500 and s[1] != 503], seen["statuses"]
    group_seqs = [
        row[0]
        for row in _cluster_query(
            own_cluster,
            "SELECT e.seq FROM groups_groupevent e JOIN groups_closedusergroup g "
            "ON g.id = e.group_id WHERE g.slug = %s ORDER BY e.seq",
            [slug],
        )
    ]
    assert group_seqs == list(range(1, head + 1))
    stored = dict(_cluster_query(own_cluster, "SELECT client_id::text, seq FROM messaging_message"))
    for client in clients:
        # Everything once, in order; no socket was dropped; every accepted post is stored.
        assert client.received[slug] == group_seqs, client.name
        assert client.connections == 1, (client.name, client.closes)
        assert set(client.errors) <= {"unavailable"}, (client.name, client.errors)
        assert client.accepted and all(
            stored.get(cid) == seq for cid, seq in client.accepted.items()
        ), client.name


# ---- a reconnect storm ---------------------------------------------------------------------

STORM_CLIENTS = 200  # tests/benchmarks/reconnect_storm.py runs 2,000
STORM_USERS = 20
DEFAULT_POOL, CEN_POOL = 10, 2


def test_clients_cut_off_together_come_back_spread_out_and_all_catch_up(world, make_user):
    if connections["default"].vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("the storm runs on PostgreSQL and Redis")
    resource.setrlimit(
        resource.RLIMIT_NOFILE, (min(8192, resource.getrlimit(resource.RLIMIT_NOFILE)[1]),) * 2
    )
    users = [make_user(f"storm.{number}") for number in range(STORM_USERS)]
    for user in users:
        membership_add(group=world.group, user=user, role=Role.MEMBER, added_by=world.ocu)
    tokens = [api_token(user) for user in users]
    port = free_port()
    servers = []

    def start_server() -> str:
        servers.append(
            start_daphne(
                port,
                DATABASE_POOL_MAX_SIZE=str(DEFAULT_POOL),
                CEN_DATABASE_POOL_MAX_SIZE=str(CEN_POOL),
                DEBUG="0",
                SECURE_SSL_REDIRECT="0",
            )
        )
        return servers[-1].ws_url

    def kill_server() -> None:
        kill_process(servers[-1].process)

    def post_while_down() -> None:
        for number in range(30):
            in_thread(
                message_post,
                author=world.officer_fr,
                group=world.group,
                body=f"while the server was down {number}",
                client_id=uuid.uuid4(),
            )

    def head_now() -> int:
        return in_thread(lambda: ClosedUserGroup.objects.get(pk=world.group.pk).last_seq)

    database = connections["default"].settings_dict
    sampler = ConnectionSampler(
        f"postgresql://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/postgres",
        application_name(port),
    )
    try:
        result = asyncio.run(
            reconnect_storm(
                clients=STORM_CLIENTS,
                tokens=tokens,
                group=world.group.slug,
                start_server=start_server,
                kill_server=kill_server,
                post_while_down=post_while_down,
                head_now=head_now,
                sampler=sampler,
                catch_up_timeout=10,
            )
        )
    finally:
        errors = servers[-1].stop() if servers else ""
    received, head = result.pop("received"), result["head"]
    print(result)
    assert not result["errors"], result["errors"]
    assert not result["closes_after_restart"], result["closes_after_restart"]
    assert result["caught_up_in"] < 10
    # Spread out by the clients' jitter: not everyone in the same instant.
    assert result["last_hello_after"] - result["first_hello_after"] > 0.2
    assert 0 < result["peak_connections"] <= DEFAULT_POOL + CEN_POOL
    # Each client saw every event of the group once, in order.
    assert all(seqs == list(range(1, head + 1)) for seqs in received)
    assert "Traceback" not in errors, errors[-3000:]
