"""Receipts: read cursors, acknowledgements of alerts and requests, and the live
receipts their authors and the group's coordinators get."""

from django.db import transaction
from django.db.models import OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Forbidden, Invalid
from core.realtime import notify_user_on_commit
from groups.access import (
    GroupNotFound,
    granted,
    may,
)
from groups.models import ClosedUserGroup, Membership, Role

from .models import Message, Receipt


def _receipt_frame(*, group: ClosedUserGroup, seq: int, user, acknowledged: bool) -> dict:
    return {
        "type": "receipt",
        "group": group.slug,
        "seq": seq,
        "user": user.username,
        "read": True,
        "acknowledged": acknowledged,
    }


def _notify_receipts(
    *, group: ClosedUserGroup, receipts: list[tuple[Message, dict]], coordinators: set[int], reader
) -> None:
    """Receipts go live to each message's author and to the group's coordinators.

    One channel message per person, however many messages were read at once.
    """
    frames_for: dict[int, list[dict]] = {}
    for message, frame in receipts:
        for watcher in (coordinators | {message.author_id}) - {reader.pk, None}:
            frames_for.setdefault(watcher, []).append(frame)
    for watcher, frames in frames_for.items():
        notify_user_on_commit(
            user_id=watcher,
            message={"type": "receipt.update", "group_id": group.pk, "frames": frames},
        )


def _coordinator_ids(group: ClosedUserGroup) -> set[int]:
    return set(
        Membership.objects.filter(
            group=group, role=Role.COORDINATOR, removed_at__isnull=True
        ).values_list("user_id", flat=True)
    )


def _locked_membership(*, group: ClosedUserGroup, user) -> Membership | None:
    """The reader's membership, locked, if they may still read the group; ``None`` for
    someone who may read it without being a member (an auditor); ``GroupNotFound`` for
    anyone else."""
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .filter(group=group, user=user, removed_at__isnull=True)
        .filter(granted("view", user=user.pk, group=OuterRef("group_id")))
        .first()
    )
    if membership is None and not may("view", user=user, group_id=group.pk):
        raise GroupNotFound
    return membership


def receipt_mark_read(*, user, group: ClosedUserGroup, up_to_seq: int) -> int:
    """Move the member's read cursor forward to ``up_to_seq``; returns the cursor."""
    if not isinstance(up_to_seq, int) or isinstance(up_to_seq, bool) or up_to_seq < 0:
        raise Invalid({"seq": _("seq must be a whole number.")})
    with transaction.atomic():
        membership = _locked_membership(group=group, user=user)
        if membership is None:
            return up_to_seq  # a reader without membership keeps no cursor
        last_seq = ClosedUserGroup.objects.values_list("last_seq", flat=True).get(pk=group.pk)
        up_to_seq = min(up_to_seq, last_seq)
        if up_to_seq <= membership.last_read_seq:
            return membership.last_read_seq
        newly_read = _advance_read_cursor(membership=membership, group=group, up_to_seq=up_to_seq)
        if newly_read:
            _notify_receipts(
                group=group,
                receipts=[
                    (
                        message,
                        _receipt_frame(group=group, seq=message.seq, user=user, acknowledged=False),
                    )
                    for message in newly_read
                ],
                coordinators=_coordinator_ids(group),
                reader=user,
            )
    return up_to_seq


def _advance_read_cursor(*, membership: Membership, group: ClosedUserGroup, up_to_seq: int):
    """Move the (locked) membership's read cursor to ``up_to_seq``; the messages of
    others that this newly marks read, whose authors are owed a receipt."""
    previous = membership.last_read_seq
    Membership.objects.filter(pk=membership.pk).update(last_read_seq=up_to_seq)
    membership.last_read_seq = up_to_seq
    return list(
        Message.objects.filter(group=group, seq__gt=previous, seq__lte=up_to_seq)
        .exclude(author_id=membership.user_id)
        .only("id", "seq", "author_id")
    )


def receipt_acknowledge(*, user, group: ClosedUserGroup, seq: int) -> Receipt:
    """Acknowledge an alert or a request (which also marks it read)."""
    with transaction.atomic():
        membership = _locked_membership(group=group, user=user)
        if membership is None:
            raise Forbidden(_("Members acknowledge; you may only read this group."))
        message = Message.objects.filter(group=group, seq=seq).first()
        if message is None:
            raise Invalid({"seq": _("There is no such message.")})
        if not message.needs_acknowledgement:
            raise Invalid({"seq": _("Only alerts and requests are acknowledged.")})
        receipt, _created = Receipt.objects.get_or_create(message=message, user=user)
        if receipt.acknowledged_at is not None:
            return receipt
        now = timezone.now()
        receipt.acknowledged_at = now
        receipt.read_at = receipt.read_at or now
        receipt.save(update_fields=["acknowledged_at", "read_at"])
        receipts = [(message, _receipt_frame(group=group, seq=seq, user=user, acknowledged=True))]
        if membership.last_read_seq < seq:
            # Acknowledging marks read everything up to the message, like reading does:
            # the authors of the messages it passes over get their receipts too.
            receipts += [
                (
                    earlier,
                    _receipt_frame(group=group, seq=earlier.seq, user=user, acknowledged=False),
                )
                for earlier in _advance_read_cursor(
                    membership=membership, group=group, up_to_seq=seq
                )
                if earlier.seq != seq
            ]
        _notify_receipts(
            group=group,
            receipts=sorted(receipts, key=lambda pair: pair[0].seq),
            coordinators=_coordinator_ids(group),
            reader=user,
        )
    return receipt
