"""Retraction: an author hides one of their messages; the record is kept, and the
stream gets a ``message.retracted`` event (the original event is never rewritten)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Action, audit_record
from core.errors import Forbidden, Invalid, ReadOnly
from groups.access import (
    GroupNotFound,
    readable_groups,
)
from groups.models import ClosedUserGroup
from groups.stream import (
    EventType,
    event_append,
    seq_take,
)

from .models import Message
from .search import search_entry_remove


def message_retract(*, author, group: ClosedUserGroup, seq: int) -> Message:
    """Hide a message's content for everyone; the record is kept.

    A read-only group is the closed operation's record: nothing in it changes any more.
    """
    with transaction.atomic():
        event_seq = seq_take(group_id=group.pk)
        status = (
            readable_groups(user=author)
            .filter(pk=group.pk)
            .values_list("status", flat=True)
            .first()
        )
        if status is None:
            raise GroupNotFound
        if status == ClosedUserGroup.Status.READ_ONLY:
            raise ReadOnly(_("This group is read-only: the operation is closed."))
        message = Message.objects.filter(group=group, seq=seq).first()
        if message is None:
            raise Invalid({"seq": _("There is no such message.")})
        if message.author_id != author.pk:
            raise Forbidden(_("Only the author may retract a message."))
        if message.kind == Message.Kind.SEIZURE:
            # The seizure itself stays on record (and goes to the CEN database);
            # hiding its announcement would leave the group blind to it.
            raise Invalid(
                {"seq": _("A seizure report is not retracted: ask a coordinator to reject it.")}
            )
        if message.is_retracted:
            # Nothing changes: roll back the seq taken above.
            transaction.set_rollback(True)
            return message
        message.retracted_at = timezone.now()
        message.save(update_fields=["retracted_at"])
        search_entry_remove(message=message)
        # The original event is not rewritten: catch-up leaves out a retracted
        # message's content when it replays it (messaging.selectors.events_after).
        event_append(
            group=group,
            seq=event_seq,
            type=EventType.MESSAGE_RETRACTED,
            data={"message_seq": seq},
        )
        audit_record(actor=author, action=Action.MESSAGE_RETRACTED, group=group, target=f"#{seq}")
    return message
