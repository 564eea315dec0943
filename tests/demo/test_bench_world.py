"""`seed_demo --bench K N`: the benchmark world, K operations with N members and their tokens."""

import json

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from groups.models import Membership, Role
from groups.roles import ROLE_PERMISSIONS

# seed_demo writes the demo's past seizures into the CEN database too.
pytestmark = pytest.mark.django_db(databases=["default", "cen"])


def test_the_benchmark_world_spreads_members_over_operations_each_with_a_token(settings, tmp_path):
    settings.DEBUG = True
    out = tmp_path / "tokens.json"
    call_command("seed_demo", "--bench", "3", "10", "--bench-tokens", str(out))
    world = json.loads(out.read_text())
    assert sorted(world) == ["bench-001", "bench-002", "bench-003"]
    assert sorted(len(tokens) for tokens in world.values()) == [3, 3, 4]
    for slug, keys in world.items():
        for key in keys:
            user = Token.objects.get(key=key).user
            membership = Membership.objects.get(user=user, removed_at__isnull=True)
            assert (membership.group.slug, membership.role) == (slug, Role.MEMBER)
            # The guardian permissions match the role, as for any member.
            assert ROLE_PERMISSIONS[Role.MEMBER] <= (user.get_all_permissions(membership.group))
    # Built again with the same sizes: the same members and tokens, nothing doubled.
    call_command("seed_demo", "--bench", "3", "10", "--bench-tokens", str(out))
    assert json.loads(out.read_text()) == world
    assert Membership.objects.filter(user__username__startswith="bench.").count() == 10


def test_the_tokens_can_go_to_standard_output(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo", "--bench", "2", "4", "--bench-tokens", "-")
    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    assert {slug: len(keys) for slug, keys in json.loads(last_line).items()} == {
        "bench-001": 2,
        "bench-002": 2,
    }


@pytest.mark.parametrize("sizes", [("0", "10"), ("2", "-1")])
def test_impossible_sizes_are_refused(settings, sizes):
    settings.DEBUG = True
    with pytest.raises(CommandError):
        call_command("seed_demo", "--bench", *sizes)


def test_the_benchmark_members_are_added_through_the_service_with_events_and_audit(settings):
    from core.models import AuditEntry
    from groups.models import GroupEvent
    from operations.models import Operation

    settings.DEBUG = True
    call_command("seed_demo", "--bench", "2", "6")
    for operation in Operation.objects.filter(code__startswith="BENCH-"):
        assert operation.status == Operation.Status.ACTIVE
        group = operation.group
        members = set(
            Membership.objects.filter(group=group, user__username__startswith="bench.").values_list(
                "user__username", flat=True
            )
        )
        added = {
            event.data["user"]
            for event in GroupEvent.objects.filter(group=group, type="member.added")
            if event.data["user"].startswith("bench.")
        }
        audited = set(
            AuditEntry.objects.filter(
                group=group, action="member_added", target__startswith="bench."
            ).values_list("target", flat=True)
        )
        assert members == added == audited and len(members) == 3
        # The stream has no gap: its seqs run 1…head.
        seqs = list(GroupEvent.objects.filter(group=group).values_list("seq", flat=True))
        group.refresh_from_db()
        assert seqs == list(range(1, group.last_seq + 1))
        assert GroupEvent.objects.filter(group=group, type="operation.status").exists()
