"""Handling codes of messages and attachments: their default, changing one, releasing
an H2 message (core/handling.py has the rules).

The default is the operation's (``Operation.default_handling_code``), read through
the group's reverse relation so that messaging does not import operations; a group
without an operation defaults to H0. Only the author or a coordinator (or staff)
changes a code; only a member of the author's administration or a coordinator
releases an H2 message for what leaves the group. Each change is a stream event
(``handling.changed``, ``handling.released``) and an audit line. A seizure's message
follows its seizure (operations/handling.py): it is not changed here.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Action, audit_record
from core.errors import Forbidden, Invalid
from core.handling import Handling, handling_clean
from core.vocabularies import HandlingCode
from groups.access import GroupNotFound, may, readable_groups
from groups.models import ClosedUserGroup
from groups.stream import EventType, event_append, seq_take

from .models import Attachment, Message


def handling_defaults(group_ids) -> dict[int, Handling]:
    """The default handling of each group's items: its operation's, else H0."""
    if not group_ids:
        return {}
    rows = ClosedUserGroup.objects.filter(pk__in=list(group_ids)).values_list(
        "pk", "operation__default_handling_code", "operation__default_handling_conditions"
    )
    return {
        pk: Handling(code=code or HandlingCode.H0, conditions=conditions or "")
        for pk, code, conditions in rows
    }


def handling_default(group_id: int) -> Handling:
    return handling_defaults([group_id]).get(group_id, Handling())


def may_change_handling(*, actor, author_id: int | None, group_id: int) -> bool:
    """The item's author, a coordinator of the group, or staff."""
    if actor.is_staff or (author_id is not None and author_id == actor.pk):
        return True
    return may("manage", user=actor, group_id=group_id)


def administration_of(user):
    profile = getattr(user, "profile", None) if user is not None else None
    return profile.administration if profile else None


def may_release(*, actor, author, group_id: int) -> bool:
    """A member of the originator's administration, a coordinator, or staff."""
    if actor.is_staff or may("manage", user=actor, group_id=group_id):
        return True
    mine, theirs = administration_of(actor), administration_of(author)
    return mine is not None and theirs is not None and mine.pk == theirs.pk


def handling_event_data(*, item: str, ref, message_seq, actor, handling: Handling) -> dict:
    return {
        "item": item,
        "ref": ref,
        "message_seq": message_seq,
        "by": actor.username,
        **handling.as_data(),
    }


def _readable(*, actor, group: ClosedUserGroup) -> None:
    if actor.is_staff:
        return
    if not readable_groups(user=actor).filter(pk=group.pk).exists():
        raise GroupNotFound


def _message(group: ClosedUserGroup, seq) -> Message:
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise Invalid({"seq": _("seq must be a whole number.")})
    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("author__profile__administration")
        .filter(group=group, seq=seq)
        .first()
    )
    if message is None:
        raise Invalid({"seq": _("There is no such message.")})
    if message.kind == Message.Kind.SEIZURE:
        raise Invalid(
            {"seq": _("A seizure's handling code is changed and released on the seizure.")}
        )
    return message


def message_set_handling(
    *, actor, group: ClosedUserGroup, seq, code=None, conditions=None, source=None, information=None
) -> Message:
    """Change a message's handling code or grading: its author or a coordinator."""
    with transaction.atomic():
        event_seq = seq_take(group_id=group.pk)
        _readable(actor=actor, group=group)
        message = _message(group, seq)
        if not may_change_handling(actor=actor, author_id=message.author_id, group_id=group.pk):
            raise Forbidden(_("Only the author or a coordinator changes an item's handling code."))
        current = Handling(
            message.handling_code,
            message.handling_conditions,
            message.source_grading,
            message.information_grading,
        )
        handling = handling_clean(
            code=code,
            conditions=conditions,
            source=source,
            information=information,
            default=current,
            graded=True,
        )
        if handling == current:
            transaction.set_rollback(True)
            return message
        message.handling_code, message.handling_conditions = handling.code, handling.conditions
        message.source_grading, message.information_grading = handling.source, handling.information
        message.save(
            update_fields=[
                "handling_code",
                "handling_conditions",
                "source_grading",
                "information_grading",
            ]
        )
        data = handling_event_data(
            item="message", ref=message.seq, message_seq=message.seq, actor=actor, handling=handling
        )
        event_append(group=group, seq=event_seq, type=EventType.HANDLING_CHANGED, data=data)
        audit_record(
            actor=actor,
            action=Action.HANDLING_CHANGED,
            group=group,
            target=f"#{message.seq}",
            data={"handling_code": handling.code},
        )
    return message


def message_release(*, actor, group: ClosedUserGroup, seq) -> Message:
    """Release an H2 message for what leaves the group (exports, national systems)."""
    with transaction.atomic():
        event_seq = seq_take(group_id=group.pk)
        _readable(actor=actor, group=group)
        message = _message(group, seq)
        if not may_release(actor=actor, author=message.author, group_id=group.pk):
            raise Forbidden(
                _(
                    "Only a member of the originator's administration or a coordinator "
                    "releases an item."
                )
            )
        if message.handling_code != HandlingCode.H2:
            raise Invalid({"handling_code": _("Only an H2 item is released.")})
        if message.released_at is not None:
            transaction.set_rollback(True)
            return message
        message.released_at, message.released_by = timezone.now(), actor
        message.save(update_fields=["released_at", "released_by"])
        release_record(
            group=group,
            seq=event_seq,
            item="message",
            ref=message.seq,
            message_seq=message.seq,
            actor=actor,
            author=message.author,
        )
    return message


def release_record(*, group, seq: int, item: str, ref, message_seq, actor, author) -> None:
    """The event and the audit line of a release (in the caller's transaction)."""
    administration = administration_of(author)
    event_append(
        group=group,
        seq=seq,
        type=EventType.HANDLING_RELEASED,
        data={
            "item": item,
            "ref": ref,
            "message_seq": message_seq,
            "by": actor.username,
            "administration": administration.country if administration else None,
        },
    )
    audit_record(
        actor=actor,
        action=Action.ITEM_RELEASED,
        group=group,
        target=f"{item} {ref}",
        data={"handling_code": HandlingCode.H2},
    )


def attachment_set_handling(
    *, actor, group: ClosedUserGroup, token, code=None, conditions=None
) -> Attachment:
    """Change an attachment's handling code: its uploader or a coordinator."""
    with transaction.atomic():
        event_seq = seq_take(group_id=group.pk)
        _readable(actor=actor, group=group)
        attachment = (
            Attachment.objects.select_for_update(of=("self",))
            .select_related("message")
            .filter(group=group, token=str(token))
            .first()
        )
        if attachment is None or not (
            attachment.message_id or attachment.uploaded_by_id == actor.pk
        ):
            raise Invalid({"token": _("An attachment is unknown or already used.")})
        if not may_change_handling(
            actor=actor, author_id=attachment.uploaded_by_id, group_id=group.pk
        ):
            raise Forbidden(_("Only the author or a coordinator changes an item's handling code."))
        current = Handling(attachment.handling_code, attachment.handling_conditions)
        handling = handling_clean(code=code, conditions=conditions, default=current)
        if handling == current:
            transaction.set_rollback(True)
            return attachment
        attachment.handling_code, attachment.handling_conditions = (
            handling.code,
            handling.conditions,
        )
        attachment.save(update_fields=["handling_code", "handling_conditions"])
        message_seq = attachment.message.seq if attachment.message_id else None
        data = handling_event_data(
            item="attachment",
            ref=attachment.token,
            message_seq=message_seq,
            actor=actor,
            handling=handling,
        )
        event_append(group=group, seq=event_seq, type=EventType.HANDLING_CHANGED, data=data)
        audit_record(
            actor=actor,
            action=Action.HANDLING_CHANGED,
            group=group,
            target=attachment.original_name,
            data={"handling_code": handling.code},
        )
    return attachment
