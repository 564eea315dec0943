"""Ship the audit trail to an outside log system: one JSON object a line, with each
entry's hash and the previous one's (docs/security.md, "Shipping the audit trail")."""

import argparse
import datetime
import json
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import is_naive, make_aware

from core.audit import audit_since, entry_document


def _since(text: str) -> tuple[int, datetime.datetime | None]:
    """``--since``: an entry id (ship those after it) or a time (at or after it)."""
    if text.isdigit():
        return int(text), None
    moment = parse_datetime(text)
    if moment is None and parse_date(text) is not None:
        moment = datetime.datetime.combine(parse_date(text), datetime.time())
    if moment is None:
        raise CommandError(f"--since takes an entry id or a time (2026-12-03T18:00), not {text!r}.")
    return 0, make_aware(moment, datetime.UTC) if is_naive(moment) else moment


class Command(BaseCommand):
    help = "Write the audit trail as JSON lines (one entry a line), from --since on."

    def add_arguments(self, parser):
        parser.add_argument(
            "--since",
            default="0",
            help="an entry id (the entries after it) or a time (the entries at or after it)",
        )
        parser.add_argument(
            "--follow", action="store_true", help="keep running and write new entries as they come"
        )
        parser.add_argument(
            "--interval", type=float, default=2.0, help="seconds between looks when following"
        )
        parser.add_argument(
            "--output", help="append to this file instead of writing to standard output"
        )
        parser.add_argument("--polls", type=int, default=0, help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        after_id, since = _since(options["since"])
        out = open(options["output"], "a", encoding="utf-8") if options["output"] else self.stdout  # noqa: SIM115
        polls = options["polls"]
        try:
            while True:
                after_id, written = self._ship(out, after_id=after_id, since=since)
                polls -= 1
                if not options["follow"] or polls == 0:
                    return
                if not written:
                    time.sleep(options["interval"])
        except (KeyboardInterrupt, BrokenPipeError):
            return
        finally:
            if out is not self.stdout:
                out.close()

    def _ship(self, out, *, after_id: int, since) -> tuple[int, int]:
        written = 0
        while True:
            entries = audit_since(after_id=after_id, since=since)
            for entry in entries:
                # OutputWrapper and files alike: the line ends with its newline.
                out.write(json.dumps(entry_document(entry), ensure_ascii=False) + "\n")
            out.flush()
            written += len(entries)
            if not entries:
                return after_id, written
            after_id = entries[-1].pk
