"""Benchmark: search over 1,000,000 messages on PostgreSQL, queries in six languages.

    .venv/bin/python -m tests.benchmarks.search                 # 1,000,000 messages
    .venv/bin/python -m tests.benchmarks.search --messages 100000 --repeat 10

It creates a throwaway database (``test_cencomm_default_searchbench`` on the PostgreSQL
of cencomm/settings_test.py, dropped after the run), makes ``--groups`` groups with
their members, and loads the messages and their search entries with ``COPY`` (the
benchmark's own fast path: the rows the posting service would write, without its
events and receipts), the search indexes dropped during the load and built after it.
Messages are written in English, French, Spanish, Portuguese, Russian and Arabic, with
container numbers that make the vocabulary large. Then it times
``operations.search.search`` — the selector both doors call, snippets and links
included — for three searchers: a member of 5 groups, a coordinator of 20, and staff,
who reads every group; each query ``--repeat`` times. It prints p50, p95 and the worst
per query and over all, and writes JSON with ``--json``. Not part of the pytest run;
results go in docs/performance.md.
"""

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

os.environ.setdefault("CENCOMM_TEST_DB_SUFFIX", "_searchbench")

# Sets Django up, before anything of the project is imported.
from tests.benchmarks.standalone import (
    on_postgresql,
    postgresql_version,
    throwaway_databases,
)

# isort: split
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from groups.models import Administration, ClosedUserGroup, Region, Role
from groups.services import group_create, membership_add, profile_ensure
from messaging.models import Message, SearchEntry
from messaging.rendering import RENDER_VERSION
from operations.search import search, search_request_parse

COUNTRIES = ["FR", "DE", "NL", "BE", "ES", "PT", "RU", "MA", "EG", "BR", "CO", "US"]
SENTENCES = {
    "en": [
        "Seizure of {n} kg of cocaine in container {code} at {place}",
        "Heroin found in the false bottom of a suitcase, flight from {place}",
        "Request: please check container {code} before it leaves {place}",
        "Cigarettes without tax stamps in a truck at the border crossing of {place}",
        "Counterfeit medicines in express parcels, consignee in {place}",
        "Alert: the vessel left {place} with container {code} on board",
    ],
    "fr": [
        "Saisie de {n} kg de cocaïne dans le conteneur {code} au port de {place}",
        "Saisies de tabac de contrebande dans un camion à {place}",
        "Demande : contrôler le conteneur {code} avant son départ de {place}",
        "Médicaments contrefaits dans des colis express à destination de {place}",
        "Héroïne cachée dans un double fond de valise, vol en provenance de {place}",
    ],
    "es": [
        "Incautación de {n} kg de cocaína en el contenedor {code} en {place}",
        "Tabaco de contrabando en un camión en el paso fronterizo de {place}",
        "Medicamentos falsificados en paquetes urgentes con destino a {place}",
        "Solicitud: inspeccionar el contenedor {code} antes de salir de {place}",
    ],
    "pt": [
        "Apreensão de {n} kg de cocaína no contentor {code} no porto de {place}",
        "Cigarros sem selo fiscal num camião na fronteira de {place}",
        "Medicamentos falsificados em encomendas expresso para {place}",
    ],
    "ru": [
        "Изъятие {n} кг кокаина в контейнере {code} в порту {place}",
        "Контрабандные сигареты обнаружены в грузовике на границе {place}",
        "Просьба проверить контейнер {code} до отправки из {place}",
        "Героин в двойном дне чемодана, рейс из {place}",
    ],
    "ar": [
        "ضبط {n} كغ من الكوكايين في الحاوية {code} في ميناء {place}",
        "سجائر مهربة في شاحنة عند معبر {place}",
        "أدوية مزيفة في طرود بريدية متجهة إلى {place}",
        "طلب: تفتيش الحاوية {code} قبل مغادرتها {place}",
    ],
}
PLACES = [
    "Rotterdam",
    "Antwerp",
    "Le Havre",
    "Algeciras",
    "Lisbon",
    "Santos",
    "Saint Petersburg",
    "Tanger Med",
    "Port Said",
    "Hamburg",
    "Valencia",
    "Guayaquil",
]
KINDS = ["text", "text", "text", "alert", "request", "reply", "seizure"]
# (name, query): several languages, common and rare words, phrases, exclusions.
QUERIES = [
    ("fr stems", "saisies cocaïne"),
    ("en word", "heroin suitcase"),
    ("es stems", "incautaciones contenedor"),
    ("pt stems", "apreensão contentor"),
    ("ru stems", "кокаин контейнер"),
    ("ar word", "الكوكايين"),
    ("ar bare", "كوكايين"),
    ("rare code", "MSCU0047110"),  # one container, in a handful of messages
    ("phrase", '"false bottom"'),
    ("exclusion", "cocaine -container"),
    ("or", "tabaco or сигареты"),
    ("filtered", "cocaine"),  # with kind=seizure and a date range
]


def _code(rng: random.Random) -> str:
    return f"MSCU{rng.randrange(10**7):07d}"


def make_world(groups: int):
    """Administrations, ``groups`` groups and their members; the three searchers."""
    administrations = [
        Administration.objects.get_or_create(
            country=country, defaults={"name": f"Customs {country}", "region": Region.EUROPE}
        )[0]
        for country in COUNTRIES
    ]
    users = get_user_model().objects
    staff = users.create_user(username="bench.staff", is_staff=True)
    coordinator = users.create_user(username="bench.coordinator")
    member = users.create_user(username="bench.member")
    authors = [users.create_user(username=f"bench.author{i}") for i in range(48)]
    for index, user in enumerate([staff, coordinator, member, *authors]):
        profile_ensure(user=user, administration=administrations[index % len(administrations)])
    # The coordinator runs 20 of the groups (several operations at once); others run
    # the rest; the member is in 5.
    made = [
        group_create(
            name=f"Benchmark group {index:03d}",
            slug=f"bench-{index:03d}",
            created_by=coordinator if index < 20 else authors[index % len(authors)],
        )
        for index in range(groups)
    ]
    for group in made[:5]:
        membership_add(group=group, user=member, role=Role.MEMBER, added_by=coordinator)
    return (
        made,
        administrations,
        authors,
        {"member": member, "coordinator": coordinator, "staff": staff},
    )


def _message_columns():
    fields = list(Message._meta.concrete_fields)
    return [field.column for field in fields], fields


def load(*, messages: int, groups, administrations, authors, seed: int = 2026) -> float:
    """COPY the messages and their search entries; the search indexes built after."""
    rng = random.Random(seed)
    columns, fields = _message_columns()
    template = Message(render_version=RENDER_VERSION, html="", body="")
    defaults = {
        field.column: field.get_db_prep_save(getattr(template, field.attname), connection)
        for field in fields
    }
    administration_of = {
        author.pk: administrations[i % len(administrations)].pk for i, author in enumerate(authors)
    }
    languages = list(SENTENCES)
    start = timezone.now() - datetime.timedelta(days=60)
    spacing = 60 * 86400 / messages
    seqs = dict.fromkeys((group.pk for group in groups), 0)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS search_entry_vector, search_entry_trigrams")
        with cursor.copy(
            f"COPY messaging_message ({', '.join(columns)}) FROM STDIN"
        ) as message_copy:
            entries = []
            for index in range(1, messages + 1):
                group = groups[index % len(groups)]
                seqs[group.pk] += 1
                author = authors[rng.randrange(len(authors))]
                language = languages[rng.randrange(len(languages))]
                code = "MSCU0047110" if index % 100_003 == 7 else _code(rng)
                body = rng.choice(SENTENCES[language]).format(
                    n=rng.randrange(1, 900), code=code, place=rng.choice(PLACES)
                )
                created = start + datetime.timedelta(seconds=index * spacing)
                row = {
                    **defaults,
                    "id": index,
                    "group_id": group.pk,
                    "seq": seqs[group.pk],
                    "author_id": author.pk,
                    "kind": rng.choice(KINDS),
                    "client_id": uuid.UUID(int=rng.getrandbits(128)),
                    "body": body,
                    "html": "<p>" + body + "</p>",
                    "created_at": created,
                }
                message_copy.write_row([row[column] for column in columns])
                entries.append(
                    (
                        index,
                        group.pk,
                        author.pk,
                        administration_of[author.pk],
                        row["kind"],
                        created,
                        body,
                    )
                )
        with cursor.copy(
            "COPY messaging_searchentry (message_id, group_id, author_id, administration_id,"
            " kind, created_at, text) FROM STDIN"
        ) as entry_copy:
            for entry in entries:
                entry_copy.write_row(entry)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('messaging_message', 'id'), %s)", [messages]
        )
        for group in groups:
            ClosedUserGroup.objects.filter(pk=group.pk).update(last_seq=seqs[group.pk])
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute(
            "CREATE INDEX search_entry_vector ON messaging_searchentry USING gin (search_vector)"
        )
        cursor.execute(
            "CREATE INDEX search_entry_trigrams ON messaging_searchentry "
            "USING gin (text gin_trgm_ops)"
        )
        cursor.execute("ANALYZE messaging_message")
        cursor.execute("ANALYZE messaging_searchentry")
    return time.perf_counter() - started


def _params(name: str, query: str) -> dict:
    if name != "filtered":
        return {"q": query}
    today = timezone.localdate()
    return {
        "q": query,
        "kind": "seizure",
        "from": (today - datetime.timedelta(days=30)).isoformat(),
        "to": today.isoformat(),
    }


def measure(searchers: dict, repeat: int) -> dict:
    timings: dict[str, dict[str, list[float]]] = {}
    counts: dict[str, dict[str, int]] = {}
    for who, user in searchers.items():
        timings[who], counts[who] = {}, {}
        for name, query in QUERIES:
            request = search_request_parse(_params(name, query))
            search(user=user, request=request)  # warm the cache, as a live server's is
            runs = []
            for _ in range(repeat):
                started = time.perf_counter()
                answer = search(user=user, request=request)
                runs.append((time.perf_counter() - started) * 1000)
            timings[who][name] = runs
            counts[who][name] = len(answer.results)
    return {"timings": timings, "counts": counts}


def explain(searchers: dict) -> None:
    """The plan of each statement of a few searches, as PostgreSQL ran them."""
    for who in ("member", "staff"):
        for name, query in QUERIES[:1] + QUERIES[5:6]:
            with CaptureQueriesContext(connection) as captured:
                search(user=searchers[who], request=search_request_parse(_params(name, query)))
            for statement in captured.captured_queries:
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement["sql"])
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                print(f"--- {who} {name}: {statement['sql'][:300]}\n{plan}\n")


def _p95(values: list[float]) -> float:
    return (
        statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else values[0]
    )


def report(results: dict, *, messages: int, load_seconds: float, groups: int) -> dict:
    every = [ms for who in results["timings"].values() for runs in who.values() for ms in runs]
    summary = {
        "messages": messages,
        "groups": groups,
        "postgresql": postgresql_version(),
        "load_seconds": round(load_seconds, 1),
        "p50_ms": round(statistics.median(every), 1),
        "p95_ms": round(_p95(every), 1),
        "max_ms": round(max(every), 1),
        "queries": {},
    }
    print(
        f"{messages:,} messages in {groups} groups, loaded and indexed in {load_seconds:.0f} s"
        f" (PostgreSQL {summary['postgresql']})"
    )
    print(
        f"{'searcher':<12} {'query':<12} {'results':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
    )
    for who, queries in results["timings"].items():
        for name, runs in queries.items():
            row = {
                "results": results["counts"][who][name],
                "p50_ms": round(statistics.median(runs), 1),
                "p95_ms": round(_p95(runs), 1),
                "max_ms": round(max(runs), 1),
            }
            summary["queries"][f"{who} {name}"] = row
            print(
                f"{who:<12} {name:<12} {row['results']:>7} {row['p50_ms']:>8} "
                f"{row['p95_ms']:>8} {row['max_ms']:>8}"
            )
    print(
        f"all: p50 {summary['p50_ms']} ms, p95 {summary['p95_ms']} ms, "
        f"worst {summary['max_ms']} ms over {len(every)} searches"
    )
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--explain", action="store_true", help="print the plans first")
    options = parser.parse_args()
    if not on_postgresql():
        return 2
    with throwaway_databases():
        groups, administrations, authors, searchers = make_world(options.groups)
        load_seconds = load(
            messages=options.messages,
            groups=groups,
            administrations=administrations,
            authors=authors,
        )
        assert SearchEntry.objects.count() == options.messages
        if options.explain:
            explain(searchers)
        results = measure(searchers, options.repeat)
        summary = report(
            results, messages=options.messages, load_seconds=load_seconds, groups=options.groups
        )
    if options.json:
        options.json.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
