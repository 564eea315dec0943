"""Handling codes of seizures and of the operation's default (core/handling.py has the
rules; messaging/handling.py those of messages and attachments).

A seizure and the message that announced it carry one code: changing or releasing
the seizure changes or releases its message too, in one transaction, with one
``handling.changed`` or ``handling.released`` event and an audit line. The operation's
default is a setting its coordinators change (``operation.settings``).
"""

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Action, audit_record
from core.errors import Forbidden, Invalid, NotFound
from core.handling import Handling, handling_clean
from core.vocabularies import HandlingCode
from groups.access import may
from groups.stream import EventType, event_append, seq_take
from messaging.handling import (
    handling_event_data,
    may_change_handling,
    may_release,
    release_record,
)
from messaging.models import Message

from .models import Operation, Seizure
from .seizure_rules import clean_seizure_input

HANDLING_INPUT = ("handling_code", "handling_conditions")


def operation_handling(operation: Operation) -> Handling:
    """The operation's default as the database has it now, not as the caller's copy."""
    code, conditions = Operation.objects.filter(pk=operation.pk).values_list(
        "default_handling_code", "default_handling_conditions"
    ).first() or (operation.default_handling_code, operation.default_handling_conditions)
    return Handling(code=code, conditions=conditions)


def clean_seizure_with_handling(data: dict, *, operation: Operation) -> tuple[dict, Handling]:
    """The seizure's fields and its handling code, checked together: the errors of
    both come at once, each by its field."""
    errors: dict = {}
    handling = None
    given = data if isinstance(data, dict) else {}
    try:
        handling = handling_clean(
            code=given.get("handling_code"),
            conditions=given.get("handling_conditions"),
            default=operation_handling(operation),
        )
    except Invalid as error:
        errors.update(error.message_dict)
    fields = {key: value for key, value in given.items() if key not in HANDLING_INPUT}
    try:
        cleaned = clean_seizure_input(
            fields if isinstance(data, dict) else data, operation=operation
        )
    except Invalid as error:
        raise Invalid({**error.message_dict, **errors}) from None
    if errors:
        raise Invalid(errors)
    return cleaned, handling


def _locked_seizure(seizure: Seizure) -> Seizure:
    return (
        Seizure.objects.select_for_update(of=("self",))
        .select_related("message", "reported_by__profile__administration")
        .get(pk=seizure.pk)
    )


def seizure_set_handling(*, actor, seizure: Seizure, code=None, conditions=None) -> Seizure:
    """Change a seizure's handling code (and its message's): its reporter or a coordinator."""
    with transaction.atomic():
        operation = Operation.objects.select_related("group").get(pk=seizure.operation_id)
        group = operation.group
        event_seq = seq_take(group_id=group.pk)
        seizure = _locked_seizure(seizure)
        if not may_change_handling(
            actor=actor, author_id=seizure.reported_by_id, group_id=group.pk
        ):
            raise Forbidden(_("Only the author or a coordinator changes an item's handling code."))
        current = Handling(seizure.handling_code, seizure.handling_conditions)
        handling = handling_clean(code=code, conditions=conditions, default=current)
        if handling == current:
            transaction.set_rollback(True)
            return seizure
        seizure.handling_code, seizure.handling_conditions = handling.code, handling.conditions
        # An update, not a save: the seizure's content (and CEN's copy) has not changed.
        Seizure.objects.filter(pk=seizure.pk).update(
            handling_code=handling.code, handling_conditions=handling.conditions
        )
        if seizure.message_id:
            Message.objects.filter(pk=seizure.message_id).update(
                handling_code=handling.code, handling_conditions=handling.conditions
            )
        data = handling_event_data(
            item="seizure",
            ref=str(seizure.client_uuid),
            message_seq=seizure.message.seq if seizure.message_id else None,
            actor=actor,
            handling=handling,
        )
        event_append(group=group, seq=event_seq, type=EventType.HANDLING_CHANGED, data=data)
        audit_record(
            actor=actor,
            action=Action.HANDLING_CHANGED,
            group=group,
            target=str(seizure.client_uuid),
            data={"handling_code": handling.code},
        )
    return seizure


def seizure_release(*, actor, seizure: Seizure) -> Seizure:
    """Release an H2 seizure (and its message) for what leaves the operation: a member
    of the reporting administration or a coordinator."""
    with transaction.atomic():
        operation = Operation.objects.select_related("group").get(pk=seizure.operation_id)
        group = operation.group
        event_seq = seq_take(group_id=group.pk)
        seizure = _locked_seizure(seizure)
        if not may_release(actor=actor, author=seizure.reported_by, group_id=group.pk):
            raise Forbidden(
                _(
                    "Only a member of the originator's administration or a coordinator "
                    "releases an item."
                )
            )
        if seizure.handling_code != HandlingCode.H2:
            raise Invalid({"handling_code": _("Only an H2 item is released.")})
        if seizure.released_at is not None:
            transaction.set_rollback(True)
            return seizure
        now = timezone.now()
        seizure.released_at, seizure.released_by = now, actor
        Seizure.objects.filter(pk=seizure.pk).update(released_at=now, released_by=actor)
        if seizure.message_id:
            Message.objects.filter(pk=seizure.message_id).update(released_at=now, released_by=actor)
        release_record(
            group=group,
            seq=event_seq,
            item="seizure",
            ref=str(seizure.client_uuid),
            message_seq=seizure.message.seq if seizure.message_id else None,
            actor=actor,
            author=seizure.reported_by,
        )
    return seizure


def seizures_leaving_group(queryset: QuerySet[Seizure]) -> QuerySet[Seizure]:
    """The seizures that may leave the operation: all but the unreleased H2 ones."""
    return queryset.exclude(handling_code=HandlingCode.H2, released_at__isnull=True)


def seizure_leaving_group(seizure: Seizure) -> Seizure:
    """The seizure, if it may leave the operation; else the 404 of a missing one."""
    if seizure.handling_code == HandlingCode.H2 and seizure.released_at is None:
        raise NotFound(_("No such seizure."))
    return seizure


def operation_set_default_handling(
    *, operation: Operation, actor, code=None, conditions=None
) -> Operation:
    """The code the operation's new items carry unless their author chooses another:
    its coordinators (and staff). Announced as ``operation.settings``, audited."""
    if not (actor.is_staff or may("manage", user=actor, group_id=operation.group_id)):
        raise Forbidden(_("Only the operation's coordinators may do this."))
    with transaction.atomic():
        operation = (
            Operation.objects.select_for_update().select_related("group").get(pk=operation.pk)
        )
        handling = handling_clean(
            code=code, conditions=conditions, default=operation_handling(operation)
        )
        if handling == operation_handling(operation):
            return operation
        operation.default_handling_code = handling.code
        operation.default_handling_conditions = handling.conditions
        operation.save(update_fields=["default_handling_code", "default_handling_conditions"])
        data = {
            "send_to_cen_continuously": operation.send_to_cen_continuously,
            "default_handling_code": handling.code,
            "default_handling_conditions": handling.conditions,
        }
        event_append(group=operation.group, type=EventType.OPERATION_SETTINGS, data=data)
        audit_record(
            actor=actor,
            action=Action.HANDLING_CHANGED,
            group=operation.group,
            target=operation.code,
            data={"default_handling_code": handling.code},
        )
    return operation
