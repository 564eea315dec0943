"""The first days of DEMO-2026, told through the platform's own services.

A newcomer who opens the demo sees a group already at work: the OCU's opening notice,
an alert passed from one airport to the next and acknowledged, a request and its reply,
seizures reported on the form — one validated, one awaiting validation, one rejected
and waiting for its reporter's correction — and the dashboard built from them.
Everything goes through the services every door calls, so the story obeys the same
rules as a person at the keyboard. It is told once: a group that already holds
messages is left as it is.
"""

import datetime
import uuid

from django.db import transaction

from groups.models import ClosedUserGroup
from messaging.models import Message
from messaging.services import message_post, receipt_acknowledge, receipt_mark_read
from operations.models import Operation
from operations.services import seizure_reject, seizure_report, seizure_validate

# Fixed keys: telling the story twice could never store it twice.
NAMESPACE = uuid.UUID("0b6f1d3e-7c1a-4c55-9d0e-2f4b8a6c1e77")


def _key(name: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, name)


def demo_story_tell(*, operation: Operation, users: dict) -> bool:
    """Post the story into the operation's group; False (and nothing told) unless the
    operation is active and its group still empty."""
    group = operation.group
    active = Operation.objects.filter(pk=operation.pk, status=Operation.Status.ACTIVE).exists()
    if not active or Message.objects.filter(group=group).exists():
        return False
    # All of it or none of it: a story cut short would not be told again.
    with transaction.atomic():
        _tell(operation=operation, group=group, users=users)
    return True


# long: the story's script, its messages and seizures told in order, read top to bottom
def _tell(*, operation: Operation, group, users: dict) -> None:
    ocu, fr, de, nl = (users[name] for name in ("ocu", "officer.fr", "officer.de", "officer.nl"))
    today = datetime.date.today()

    def post(author, name, body, kind=Message.Kind.TEXT, reply_to=None, handling=None):
        message, _created = message_post(
            author=author,
            group=group,
            body=body,
            client_id=_key(name),
            kind=kind,
            reply_to_seq=reply_to.seq if reply_to else None,
            handling=handling,
        )
        return message

    def seizure(reporter, name, **fields):
        record, _created = seizure_report(
            reporter=reporter, operation=operation, data=fields, client_uuid=_key(name)
        )
        return record

    post(
        ocu,
        "welcome",
        f"Welcome to **{operation.code}**. Report every seizure with the seizure form "
        "(*Report a seizure*), even a small one: the OCU validates them for the "
        "end-of-operation transfer to CEN.\n\n"
        "- Use **alert** for a shipment or passenger still on the move\n"
        "- Use **request** when you need an answer from another administration\n"
        "- No personal data in messages: flight numbers and seat rows are fine, names are not",
        kind=Message.Kind.NOTICE,
    )
    alert = post(
        nl,
        "alert-kl",
        "Passenger on **KL 1723** from Bogotá, due at Paris-CDG 2F this afternoon after a "
        "transit in Amsterdam. Hold luggage flagged by our risk profile: two suitcases, "
        "heavier than declared. Please check on arrival.",
        kind=Message.Kind.ALERT,
        # Risk-profile intelligence: kept within the operation, its source graded.
        handling={"handling_code": "H2", "source_grading": "B", "information_grading": "2"},
    )
    receipt_acknowledge(user=fr, group=group, seq=alert.seq)
    post(fr, "reply-kl", "Received: the CDG 2F team meets the flight.", reply_to=alert)
    found = seizure(
        fr,
        "seizure-cdg",
        seizure_date=today.isoformat(),
        reporting_country="FR",
        place="Paris-Charles de Gaulle airport, terminal 2F",
        location_type="airport",
        transport_mode="air",
        detection_method="intelligence",
        commodity_category="drugs",
        commodity_description="Cocaine in the lining of two suitcases",
        quantity="12.4",
        unit="kg",
        direction="transit",
        departure_country="CO",
        destination_country="FR",
        transit_countries="NL",
        concealment="luggage",
        offenders_count="1",
    )
    seizure_validate(seizure=found, actor=ocu)
    post(fr, "thanks-nl", "12.4 kg in the suitcase lining, as flagged. Thank you, Schiphol.")
    request = post(
        de,
        "request-gru",
        "Has anyone seen trolley cases with a false bottom on flights from São Paulo this "
        "week? Two at Frankfurt since Monday, same model.",
        kind=Message.Kind.REQUEST,
    )
    post(nl, "reply-gru", "Not yet at Schiphol; our X-ray teams are told.", reply_to=request)
    seizure(
        de,
        "seizure-fra-cash",
        seizure_date=(today - datetime.timedelta(days=1)).isoformat(),
        reporting_country="DE",
        place="Frankfurt airport, terminal 1",
        location_type="airport",
        transport_mode="air",
        detection_method="detector_dog",
        commodity_category="currency",
        commodity_description="Undeclared euro banknotes in a false-bottom trolley case",
        quantity="85000",
        unit="units",
        estimated_value="85000",
        currency="EUR",
        direction="export",
        departure_country="DE",
        destination_country="BR",
        concealment="false_compartment",
        offenders_count="1",
    )
    doubtful = seizure(
        nl,
        "seizure-ams",
        seizure_date=(today - datetime.timedelta(days=2)).isoformat(),
        reporting_country="NL",
        place="Amsterdam Schiphol airport",
        location_type="airport",
        transport_mode="air",
        detection_method="scanner",
        commodity_category="drugs",
        commodity_description="White powder in shampoo bottles",
        quantity="1.8",
        unit="kg",
        direction="import",
        departure_country="SR",
        concealment="inside_other_goods",
    )
    seizure_reject(
        seizure=doubtful,
        actor=ocu,
        reason="Give the laboratory result: the field test only says 'white powder'.",
    )
    # The OCU has read everything so far; the officers have news waiting.
    receipt_mark_read(
        user=ocu, group=group, up_to_seq=ClosedUserGroup.objects.get(pk=group.pk).last_seq
    )
    return True
