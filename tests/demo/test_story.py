import datetime

import pytest
from django.core.management import call_command

from core.vocabularies import CommodityCategory
from groups.models import Administration, GroupEvent, Membership
from messaging.models import Message, Receipt
from operations.models import Operation, Seizure
from operations.services import operation_create

# seed_demo writes the demo's past seizures into the CEN database too.
pytestmark = pytest.mark.django_db(databases=["default", "cen"])


def test_the_demo_group_opens_on_an_operation_at_work_and_is_told_once(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    operation = Operation.objects.get(code="DEMO-2026")
    group = operation.group
    kinds = list(Message.objects.filter(group=group).order_by("seq").values_list("kind", flat=True))
    assert {"notice", "alert", "request", "text", "seizure"} <= set(kinds)
    assert kinds.count("seizure") == 3
    statuses = sorted(Seizure.objects.filter(operation=operation).values_list("status", flat=True))
    assert statuses == ["rejected", "submitted", "validated"]
    alert = Message.objects.get(group=group, kind="alert")
    assert Receipt.objects.filter(message=alert, acknowledged_at__isnull=False).count() == 1
    assert Message.objects.filter(group=group, reply_to=alert).exists()
    # Every message is an event of the group's stream, seqs without gaps.
    seqs = list(
        GroupEvent.objects.filter(group=group).order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1))
    coordinator = Membership.objects.get(group=group, user__username="ocu")
    assert coordinator.last_read_seq == seqs[-1]

    call_command("seed_demo")
    assert Message.objects.filter(group=group).count() == len(kinds)
    assert GroupEvent.objects.filter(group=group).count() == len(seqs)


def test_a_closed_demo_operation_is_told_nothing_and_seeding_still_succeeds(settings, make_user):
    settings.DEBUG = True
    coordinator = make_user("ocu", country="BE")
    today = datetime.date.today()
    operation = operation_create(
        code="DEMO-2026",
        name="Closed before the demo was seeded",
        commodity_focus=CommodityCategory.DRUGS,
        coordinating_administration=Administration.objects.get(country="BE"),
        planned_start=today - datetime.timedelta(days=30),
        planned_end=today - datetime.timedelta(days=2),
        created_by=coordinator,
    )
    Operation.objects.filter(pk=operation.pk).update(status=Operation.Status.CLOSED)
    call_command("seed_demo")
    assert not Message.objects.filter(group=operation.group).exists()
    assert not Seizure.objects.exists()
