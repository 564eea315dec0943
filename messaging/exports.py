"""The group's record as CSV: every message with its handling code and grading, for
the coordinators to keep or pass on. What leaves the group leaves out unreleased H2
messages (and H2 attachments of messages not released) and retracted content."""

import csv
import io

from django.utils.translation import gettext as _

from core.audit import Action, audit_record
from core.errors import Forbidden
from core.handling import handling_banner
from groups.access import GroupAccess
from groups.models import ClosedUserGroup, Role

from .history import message_leaving_group, messages_leaving_group
from .models import Message

COLUMNS = [
    "seq",
    "created_at",
    "author",
    "country",
    "kind",
    "handling_code",
    "handling_conditions",
    "source_grading",
    "information_grading",
    "released",
    "handling",
    "body",
    "attachments",
]


def check_may_export(access: GroupAccess) -> None:
    if not (access.staff or access.role == Role.COORDINATOR):
        raise Forbidden(_("The group's record is exported by its coordinators."))


def _neutral(text: str) -> str:
    """A spreadsheet must not run what a member typed: formulas become text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _row(message: Message) -> list:
    data = message_leaving_group(message)
    retracted = message.is_retracted
    return [
        message.seq,
        message.created_at.isoformat(),
        data["author"] or "",
        data["country"] or "",
        message.kind,
        message.handling_code,
        _neutral(message.handling_conditions),
        message.source_grading,
        message.information_grading,
        "yes" if message.released_at else "",
        _neutral(
            handling_banner(
                message.handling_code,
                message.handling_conditions,
                message.source_grading,
                message.information_grading,
            )
        ),
        "" if retracted else _neutral(message.body),
        "; ".join(
            f"{attachment['name']} ({attachment['handling_code']})"
            for attachment in data["attachments"]
        ),
    ]


def messages_export_csv(*, group: ClosedUserGroup, actor) -> bytes:
    """The record as CSV (UTF-8 with its mark, for spreadsheets); the export is audited."""
    queryset = (
        messages_leaving_group(Message.objects.filter(group=group))
        .select_related("author__profile__administration", "reply_to", "seizure")
        .prefetch_related("attachments")
        .order_by("seq")
    )
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(COLUMNS)
    rows = 0
    for message in queryset.iterator(chunk_size=1000):
        writer.writerow(_row(message))
        rows += 1
    kept = Message.objects.filter(group=group).count() - rows
    audit_record(
        actor=actor,
        action=Action.MESSAGES_EXPORTED,
        group=group,
        target=group.slug,
        data={"messages": rows, "left_out_h2": kept},
    )
    return ("\ufeff" + output.getvalue()).encode("utf-8")
