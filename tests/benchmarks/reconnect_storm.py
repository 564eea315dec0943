"""A reconnect storm: 2,000 sockets lose their server at once and come back.

    .venv/bin/python tests/benchmarks/reconnect_storm.py [--clients 2000] [--users 100]

One daphne process on PostgreSQL and Redis (databases of the run's own, made and
dropped here: tests/benchmarks/standalone.py). The clients (one asyncio task each,
in this process) follow one group, as docs/protocol.md tells a client to: cursor per
group, back-off with jitter, sync on every hello. The server is killed (SIGKILL),
30 messages are posted while it is down, and it is started again on the same port.
Measured: how long until every client has caught up (its cursor at the group's head,
every seq received once), how the reconnections spread out, and the server's peak
PostgreSQL connections (pg_stat_activity) against its pools' bound.

The test suite runs the same routine with 200 clients
(tests/test_restarts.py::test_clients_cut_off_together_come_back_spread_out_and_all_catch_up);
results are in docs/performance.md.
"""

import argparse
import asyncio
import json
import resource
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks import standalone  # noqa: F401  (sets Django up)
from tests.benchmarks.standalone import on_postgresql, throwaway_databases

DEFAULT_POOL, CEN_POOL = 10, 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=10.0, help="catch-up limit, seconds")
    parser.add_argument(
        "--connect-timeout",
        type=int,
        default=None,
        help="daphne's --websocket_connect_timeout, seconds (its default: 5)",
    )
    options = parser.parse_args()
    if not on_postgresql():
        return 1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, options.clients * 2 + 1000)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    with throwaway_databases():
        return run(options)


def run(options) -> int:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connections

    from groups.models import Administration, ClosedUserGroup, Region, Role
    from groups.services import membership_add, profile_ensure
    from groups.two_factor import token_issue
    from messaging.services import message_post
    from tests.conftest import World
    from tests.live import application_name, free_port, in_thread, start_daphne
    from tests.restarts import ConnectionSampler, kill_process, reconnect_storm

    if not settings.REDIS_URL:
        print("The benchmark needs Redis (REDIS_URL).")
        return 1

    def make_user(username, *, country="FR", **fields):
        administration, _ = Administration.objects.get_or_create(
            country=country, defaults={"name": f"Customs {country}", "region": Region.EUROPE}
        )
        user = get_user_model().objects.create_user(username=username, password="x" * 12, **fields)
        profile_ensure(user=user, administration=administration)
        return user

    world = World(make_user)
    users = [make_user(f"storm.{number}") for number in range(options.users)]
    for user in users:
        membership_add(group=world.group, user=user, role=Role.MEMBER, added_by=world.ocu)
    tokens = [token_issue(user=user, second_factor=False).key for user in users]
    port = free_port()
    servers = []

    def start_server() -> str:
        servers.append(
            start_daphne(
                port,
                daphne_args=(
                    ["--websocket_connect_timeout", str(options.connect_timeout)]
                    if options.connect_timeout
                    else []
                ),
                DATABASE_POOL_MAX_SIZE=str(DEFAULT_POOL),
                CEN_DATABASE_POOL_MAX_SIZE=str(CEN_POOL),
                DEBUG="0",
                SECURE_SSL_REDIRECT="0",
            )
        )
        return servers[-1].ws_url

    def post_while_down() -> None:
        for number in range(30):
            in_thread(
                message_post,
                author=world.officer_fr,
                group=world.group,
                body=f"while the server was down {number}",
                client_id=uuid.uuid4(),
            )

    database = connections["default"].settings_dict
    sampler = ConnectionSampler(
        f"postgresql://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/postgres",
        application_name(port),
    )
    try:
        result = asyncio.run(
            reconnect_storm(
                clients=options.clients,
                tokens=tokens,
                group=world.group.slug,
                start_server=start_server,
                kill_server=lambda: kill_process(servers[-1].process),
                post_while_down=post_while_down,
                head_now=lambda: in_thread(
                    lambda: ClosedUserGroup.objects.get(pk=world.group.pk).last_seq
                ),
                sampler=sampler,
                catch_up_timeout=options.timeout,
            )
        )
    finally:
        errors = servers[-1].stop() if servers else ""
    received, head = result.pop("received"), result["head"]
    result["each_saw_every_seq_once"] = all(seqs == list(range(1, head + 1)) for seqs in received)
    result["pool_bound"] = DEFAULT_POOL + CEN_POOL
    result["server_tracebacks"] = errors.count("Traceback")
    print(json.dumps(result, default=dict, indent=2))
    ok = (
        result["each_saw_every_seq_once"]
        and not result["errors"]
        and not result["closes_after_restart"]
        and result["peak_connections"] <= result["pool_bound"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
