# Search (messaging/search.py): one entry per message, and what each engine needs to
# find it — on PostgreSQL a search vector that the database generates from the text in
# every language, a GIN index on it and a trigram index for Arabic and Cyrillic words
# (pg_trgm); on SQLite an FTS5 table of the words' forms. Messages already posted get
# their entry here (their text and attachments' names; `manage.py search_reindex`
# adds the seizures' fields).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from messaging.search_text import index_terms

PG_CONFIGS = ("english", "french", "spanish", "portuguese", "russian", "arabic", "simple")
PG_VECTOR = " || ".join(f"to_tsvector('{config}'::regconfig, text)" for config in PG_CONFIGS)
PG_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE messaging_searchentry ADD COLUMN search_vector tsvector "
    f"GENERATED ALWAYS AS ({PG_VECTOR}) STORED",
    "CREATE INDEX search_entry_vector ON messaging_searchentry USING gin (search_vector)",
    "CREATE INDEX search_entry_trigrams ON messaging_searchentry USING gin (text gin_trgm_ops)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS search_entry_trigrams",
    "DROP INDEX IF EXISTS search_entry_vector",
    "ALTER TABLE messaging_searchentry DROP COLUMN IF EXISTS search_vector",
]
SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE messaging_search_fts USING fts5("
    "terms, tokenize = 'unicode61 remove_diacritics 2')"
]
SQLITE_BACKWARD = ["DROP TABLE IF EXISTS messaging_search_fts"]


def _run(statements_of):
    def run(apps, schema_editor):
        for statement in statements_of.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


def backfill(apps, schema_editor):
    Message = apps.get_model("messaging", "Message")
    Attachment = apps.get_model("messaging", "Attachment")
    SearchEntry = apps.get_model("messaging", "SearchEntry")
    Profile = apps.get_model("groups", "Profile")
    sqlite = schema_editor.connection.vendor == "sqlite"
    last = 0
    while True:
        batch = list(
            Message.objects.filter(pk__gt=last, retracted_at__isnull=True).order_by("pk")[:2000]
        )
        if not batch:
            return
        last = batch[-1].pk
        names: dict[int, list[str]] = {}
        for message_id, name in Attachment.objects.filter(message__in=batch).values_list(
            "message_id", "original_name"
        ):
            names.setdefault(message_id, []).append(name)
        administration_of = dict(
            Profile.objects.filter(user_id__in={m.author_id for m in batch}).values_list(
                "user_id", "administration_id"
            )
        )
        entries = [
            SearchEntry(
                message_id=message.pk,
                group_id=message.group_id,
                author_id=message.author_id,
                administration_id=administration_of.get(message.author_id),
                kind=message.kind,
                created_at=message.created_at,
                text="\n".join([message.body, *names.get(message.pk, [])]),
            )
            for message in batch
        ]
        SearchEntry.objects.bulk_create(entries)
        if sqlite:
            with schema_editor.connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO messaging_search_fts (rowid, terms) VALUES (%s, %s)",
                    [(entry.message_id, index_terms(entry.text)) for entry in entries],
                )


class Migration(migrations.Migration):

    dependencies = [
        ("groups", "0009_group_event"),
        ("messaging", "0003_handling"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchEntry",
            fields=[
                (
                    "message",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_entry",
                        serialize=False,
                        to="messaging.message",
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("text", "Message"),
                            ("alert", "Alert"),
                            ("request", "Request"),
                            ("reply", "Reply"),
                            ("notice", "Notice"),
                            ("seizure", "Seizure"),
                        ],
                        max_length=16,
                    ),
                ),
                ("created_at", models.DateTimeField()),
                ("text", models.TextField()),
                (
                    "administration",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="groups.administration",
                    ),
                ),
                (
                    "author",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "group",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="groups.closedusergroup",
                    ),
                ),
            ],
            options={
                "verbose_name": "search entry",
                "verbose_name_plural": "search entries",
                "indexes": [
                    models.Index(
                        fields=["group", "created_at"], name="search_entry_group_time"
                    )
                ],
            },
        ),
        migrations.RunPython(
            _run({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
