"""Operations: their lifecycle, and the seizures reported during them."""

import datetime
import functools
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.audit import Action, audit_entry, audit_record
from core.errors import Forbidden, Invalid
from core.handling import Handling
from core.metrics import MESSAGES_POSTED
from core.vocabularies import CommodityCategory, Unit
from groups.access import may
from groups.models import Administration, ClosedUserGroup
from groups.services import group_create, group_set_status
from groups.stream import EventType, event_append, events_append_together, seq_take, seqs_take
from messaging.models import Message
from messaging.rendering import RENDER_VERSION, render_markdown
from messaging.services import check_poster, message_data

from .handling import clean_seizure_with_handling
from .models import Operation, Seizure, TransferRun
from .search import seizures_search_index
from .seizure_rules import clean_seizure_input, parse_client_uuid
from .transfer_selectors import seizure_in_cen, transfer_running

# Who may move an operation from one status to the next; `transferred` is set only
# by a reconciled CEN transfer, never by hand.
TRANSITIONS = {
    (Operation.Status.PLANNED, Operation.Status.ACTIVE),
    (Operation.Status.ACTIVE, Operation.Status.CLOSED),
}


# Seizures are validated, rejected and corrected in these: after closing and after a
# transfer too, so that nothing reported is stranded.
REVIEWABLE = (Operation.Status.ACTIVE, Operation.Status.CLOSED, Operation.Status.TRANSFERRED)

# Codes that would stand for a page of their own in the operations' addresses.
RESERVED_CODES = frozenset({"NEW"})
CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,63}")


def operation_create(
    *,
    code: str,
    name: str,
    commodity_focus: str,
    coordinating_administration: Administration,
    planned_start: datetime.date,
    planned_end: datetime.date,
    created_by,
    send_to_cen_continuously: bool = False,
) -> Operation:
    """Create an operation and its closed user group, the creator as coordinator.

    A code already taken by an operation or group the creator may not see is refused
    with the same words as any other unusable code, so that creating an operation
    never tells anyone that a closed group exists; the refusal is written to the
    audit trail, where staff see it.
    """
    code = code.strip().upper()
    errors = {}
    if not code:
        errors["code"] = _("Give the operation a code, such as THUNDER-2026.")
    elif not CODE_PATTERN.fullmatch(code):
        errors["code"] = _("Use letters, digits and dashes only.")
    else:
        problem = _code_problem(code=code, user=created_by)
        if problem:
            errors["code"] = problem
    if not name.strip():
        errors["name"] = _("Give the operation a name.")
    if commodity_focus not in CommodityCategory.values:
        errors["commodity_focus"] = _("Unknown commodity category.")
    if planned_end < planned_start:
        errors["planned_end"] = _("The operation cannot end before it starts.")
    if errors:
        raise Invalid(errors)
    try:
        return _operation_create(
            code=code,
            name=name.strip(),
            commodity_focus=commodity_focus,
            coordinating_administration=coordinating_administration,
            planned_start=planned_start,
            planned_end=planned_end,
            created_by=created_by,
            send_to_cen_continuously=bool(send_to_cen_continuously),
        )
    except (IntegrityError, ValidationError) as error:
        # Taken between the check and the insert, or by a group's slug.
        if isinstance(error, ValidationError) and "slug" not in getattr(error, "error_dict", {}):
            raise
        raise Invalid({"code": _code_problem(code=code, user=created_by)}) from None


def _code_problem(*, code: str, user) -> str | None:
    """Why ``code`` cannot be used by ``user``, in words that reveal nothing hidden."""
    slug = slugify(code.lower())
    operation = Operation.objects.filter(code=code).select_related("group").first()
    group = operation.group if operation else ClosedUserGroup.objects.filter(slug=slug).first()
    if code not in RESERVED_CODES and group is None:
        return None
    visible = group is not None and (user.is_staff or may("view", user=user, group_id=group.pk))
    if visible:
        return _("An operation with this code already exists.")
    if group is not None:
        # Written before the refusal is raised and outside the creating transaction,
        # so that it stays.
        with transaction.atomic():
            audit_record(
                actor=user,
                action=Action.OPERATION_CODE_REFUSED,
                target=code,
                data={"reason": "taken by an operation or group the user cannot see"},
            )
    return _("This code cannot be used: choose another.")


@transaction.atomic
def _operation_create(
    *,
    code: str,
    name: str,
    commodity_focus: str,
    coordinating_administration: Administration,
    planned_start: datetime.date,
    planned_end: datetime.date,
    created_by,
    send_to_cen_continuously: bool = False,
) -> Operation:
    group = group_create(name=f"{code} — {name}", slug=code.lower(), created_by=created_by)
    operation = Operation.objects.create(
        code=code,
        name=name,
        commodity_focus=commodity_focus,
        coordinating_administration=coordinating_administration,
        planned_start=planned_start,
        planned_end=planned_end,
        group=group,
        send_to_cen_continuously=send_to_cen_continuously,
    )
    audit_record(
        actor=created_by,
        action=Action.OPERATION_CREATED,
        group=group,
        target=code,
        data={"send_to_cen_continuously": send_to_cen_continuously},
    )
    return operation


def check_coordinator(*, operation: Operation, actor) -> None:
    if actor.is_staff:
        return
    if not may("manage", user=actor, group_id=operation.group_id):
        raise Forbidden(_("Only the operation's coordinators may do this."))


@transaction.atomic
def operation_set_status(*, operation: Operation, status: str, actor) -> Operation:
    """Move the operation along planned → active → closed; closing makes its group read-only."""
    operation = Operation.objects.select_for_update().get(pk=operation.pk)
    check_coordinator(operation=operation, actor=actor)
    if status not in Operation.Status.values:
        raise Invalid({"status": _("Unknown status.")})
    if (operation.status, status) not in TRANSITIONS:
        raise Invalid(
            {
                "status": _("An operation that is %(current)s cannot become %(new)s.")
                % {
                    "current": Operation.Status(operation.status).label.lower(),
                    "new": Operation.Status(status).label.lower(),
                }
            }
        )
    return _apply_status(operation=operation, status=status, actor=actor)


def _apply_status(*, operation: Operation, status: str, actor=None, reopened=False) -> Operation:
    operation.status = status
    operation.save(update_fields=["status"])
    group = operation.group
    if status in (Operation.Status.CLOSED, Operation.Status.TRANSFERRED):
        group_set_status(group=group, status=ClosedUserGroup.Status.READ_ONLY)
    elif reopened:
        group_set_status(group=group, status=ClosedUserGroup.Status.OPEN)
    data = {"status": status, **({"reopened": True} if reopened else {})}
    event_append(group=group, type=EventType.OPERATION_STATUS, data=data)
    audit_record(
        actor=actor, action=Action.OPERATION_STATUS, group=group, target=operation.code, data=data
    )
    return operation


@transaction.atomic
def operation_reopen(*, operation: Operation, actor) -> Operation:
    """Make a closed operation active again, its group writable: only before any transfer.

    Once a run has reconciled, CEN holds the operation as closed; late seizures are then
    reviewed and corrected in the closed operation and go in a follow-up transfer. The
    operation row is locked, as ``cen_transfer_start`` locks it, so a reopening and a
    transfer never overlap.
    """
    check_coordinator(operation=operation, actor=actor)
    operation = Operation.objects.select_for_update().select_related("group").get(pk=operation.pk)
    if operation.status != Operation.Status.CLOSED:
        raise Invalid(
            {
                "status": _("Only a closed operation is reopened; this one is %(status)s.")
                % {"status": Operation.Status(operation.status).label.lower()}
            }
        )
    runs = TransferRun.objects.filter(operation=operation)
    if runs.filter(state__in=TransferRun.ACTIVE_STATES).exists():
        raise Invalid(
            {"status": _("A transfer to CEN is under way: the operation cannot be reopened.")}
        )
    if runs.filter(state=TransferRun.State.RECONCILED).exists():
        raise Invalid(
            {"status": _("This operation was transferred to CEN: it cannot be reopened.")}
        )
    return _apply_status(
        operation=operation, status=Operation.Status.ACTIVE, actor=actor, reopened=True
    )


# While these, an operation may send its validated seizures to CEN as they are validated.
CONTINUOUS_TRANSFER_STATUSES = (Operation.Status.PLANNED, Operation.Status.ACTIVE)


@transaction.atomic
def operation_set_continuous_transfer(*, operation: Operation, enabled: bool, actor) -> Operation:
    """Send validated seizures to CEN within a minute of validation, or only at the end.

    Coordinators and staff; before the operation closes (afterwards the final and
    follow-up transfers send them). Audited, and announced in the group as
    ``operation.settings``. Switched on, whatever is validated already goes soon.
    """
    check_coordinator(operation=operation, actor=actor)
    if not isinstance(enabled, bool):
        raise Invalid({"send_to_cen_continuously": _("Give true or false.")})
    operation = Operation.objects.select_for_update().select_related("group").get(pk=operation.pk)
    if operation.status not in CONTINUOUS_TRANSFER_STATUSES:
        raise Invalid(
            {
                "send_to_cen_continuously": _(
                    "This operation is %(status)s: its seizures go to CEN in its final and follow-up transfers, not during the operation."
                )
                % {"status": Operation.Status(operation.status).label.lower()}
            }
        )
    if operation.send_to_cen_continuously == enabled:
        return operation
    operation.send_to_cen_continuously = enabled
    operation.save(update_fields=["send_to_cen_continuously"])
    data = {"send_to_cen_continuously": enabled}
    group = operation.group
    event_append(group=group, type=EventType.OPERATION_SETTINGS, data=data)
    audit_record(
        actor=actor, action=Action.OPERATION_STATUS, group=group, target=operation.code, data=data
    )
    if enabled:
        transaction.on_commit(functools.partial(_send_to_cen_soon, operation.pk), robust=True)
    return operation


def _send_to_cen_soon(operation_id: int) -> None:
    # The transfer module builds on this one (it marks operations transferred here).
    from .transfer import cen_transfer_schedule

    cen_transfer_schedule(operation_id=operation_id)


@transaction.atomic
def operation_mark_transferred(*, operation: Operation) -> Operation:
    """Called by a reconciled CEN transfer only."""
    operation = Operation.objects.select_for_update().get(pk=operation.pk)
    if operation.status == Operation.Status.TRANSFERRED:
        return operation
    if operation.status != Operation.Status.CLOSED:
        raise Invalid({"status": _("Only a closed operation is transferred.")})
    return _apply_status(operation=operation, status=Operation.Status.TRANSFERRED)


# ---- seizures -----------------------------------------------------------------


def seizure_summary(cleaned: dict) -> str:
    """The seizure message's text, for anyone who reads the group without the card."""
    return _("Seizure: %(quantity)s %(unit)s of %(category)s — %(description)s, at %(place)s.") % {
        "quantity": format(cleaned["quantity"].normalize(), "f"),
        "unit": Unit(cleaned["unit"]).label,
        "category": CommodityCategory(cleaned["commodity_category"]).label,
        "description": cleaned["commodity_description"],
        "place": cleaned["place"],
    }


def seizure_message(
    *, group, seq: int, reporter, client_uuid, cleaned: dict, handling: Handling | None = None
) -> Message:
    """The group message that announces a new seizure (its summary as body), not saved;
    it carries the seizure's handling code."""
    body = seizure_summary(cleaned)
    handling = handling or Handling()
    return Message(
        group=group,
        seq=seq,
        author=reporter,
        kind=Message.Kind.SEIZURE,
        client_id=client_uuid,
        body=body,
        html=render_markdown(body),
        render_version=RENDER_VERSION,
        handling_code=handling.code,
        handling_conditions=handling.conditions,
    )


def seizure_report(
    *, reporter, operation: Operation, data: dict, client_uuid
) -> tuple[Seizure, bool]:
    """Store a seizure and its alert message in one transaction; ``(seizure, created)``.

    The same ``client_uuid`` twice stores one seizure (the offline queue and the
    spreadsheet import resend safely). ``data`` may carry the reporter's
    ``handling_code`` and ``handling_conditions``; else the operation's default.
    """
    client_uuid = parse_client_uuid(client_uuid)
    existing = Seizure.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        if existing.reported_by_id != reporter.pk or existing.operation_id != operation.pk:
            raise Invalid({"client_uuid": _("This client_uuid was already used.")})
        return existing, False
    cleaned, handling = clean_seizure_with_handling(data, operation=operation)
    administration = getattr(getattr(reporter, "profile", None), "administration", None)
    if administration is None:
        raise Invalid(
            {"__all__": _("Your account has no administration: ask a coordinator to set it.")}
        )
    with transaction.atomic():
        group = operation.group
        seq = check_poster(group=group, author=reporter)
        check_accepts_seizures(operation)
        message = seizure_message(
            group=group,
            seq=seq,
            reporter=reporter,
            client_uuid=client_uuid,
            cleaned=cleaned,
            handling=handling,
        )
        message.save()
        seizure = Seizure.objects.create(
            operation=operation,
            client_uuid=client_uuid,
            reported_by=reporter,
            reporting_administration=administration,
            message=message,
            handling_code=handling.code,
            handling_conditions=handling.conditions,
            **cleaned,
        )
        seizures_search_index([seizure])
        event_append(
            group=group,
            seq=seq,
            type=EventType.SEIZURE_REPORTED,
            data={**message_data(message, author=reporter), "seizure": seizure.as_card()},
        )
        audit_record(
            actor=reporter, action=Action.SEIZURE_REPORTED, group=group, target=str(client_uuid)
        )
    MESSAGES_POSTED.labels(kind="seizure").inc()
    return seizure, True


def check_accepts_seizures(operation: Operation) -> None:
    status = Operation.objects.values_list("status", flat=True).get(pk=operation.pk)
    if status != Operation.Status.ACTIVE:
        raise Forbidden(
            _("This operation is %(status)s: seizures are reported while it is active.")
            % {"status": Operation.Status(status).label.lower()}
        )


def _review(*, seizure: Seizure, actor, status: str, reason: str = "") -> Seizure:
    with transaction.atomic():
        # Read the operation afresh: the caller's copy may be older than its status.
        operation = Operation.objects.select_related("group").get(pk=seizure.operation_id)
        group = operation.group
        seq = seq_take(group_id=group.pk)
        check_coordinator(operation=operation, actor=actor)
        seizure = Seizure.objects.select_for_update().get(pk=seizure.pk)
        # After closing and after a transfer too: nothing reported is stranded, and
        # what is validated late goes to CEN in a follow-up transfer.
        if operation.status not in REVIEWABLE:
            raise Invalid({"status": _("Seizures are reviewed once the operation has started.")})
        if seizure.status != Seizure.Status.SUBMITTED:
            raise Invalid(
                {
                    "status": _(
                        "Only a submitted seizure can be validated or rejected; this one is %(status)s."
                    )
                    % {"status": Seizure.Status(seizure.status).label.lower()}
                }
            )
        seizure.status = status
        seizure.rejection_reason = reason
        seizure.reviewed_by = actor
        seizure.reviewed_at = timezone.now()
        seizure.save(
            update_fields=["status", "rejection_reason", "reviewed_by", "reviewed_at", "updated_at"]
        )
        event_append(
            group=group,
            seq=seq,
            type=EventType(f"seizure.{status}"),
            data=_review_data(seizure, actor=actor),
        )
        audit_record(
            actor=actor,
            action=Action.SEIZURE_VALIDATED
            if status == Seizure.Status.VALIDATED
            else Action.SEIZURE_REJECTED,
            group=group,
            target=str(seizure.client_uuid),
        )
        if (
            status == Seizure.Status.VALIDATED
            and operation.send_to_cen_continuously
            and operation.status == Operation.Status.ACTIVE
        ):
            # After commit: the run must see this validation. The schedule joins a
            # queued run, so many validations make one run.
            transaction.on_commit(functools.partial(_send_to_cen_soon, operation.pk), robust=True)
    return seizure


def _review_data(seizure: Seizure, *, actor) -> dict:
    return {
        "uuid": str(seizure.client_uuid),
        "message_seq": seizure.message.seq if seizure.message_id else None,
        "status": seizure.status,
        "reason": seizure.rejection_reason,
        "by": actor.username,
        "reporter": seizure.reported_by.username,
        "seizure": seizure.as_card(),
    }


def seizures_validate_many(*, operation: Operation, client_uuids, actor) -> int:
    """Validate every submitted seizure of ``client_uuids`` at once (the demo's
    thousands of synthetic seizures): the same checks, one ``seizure.validated`` event
    and one audit line per seizure, written together. Returns how many."""
    with transaction.atomic():
        operation = Operation.objects.select_related("group").get(pk=operation.pk)
        group = operation.group
        seqs_take({group.pk: 0})  # the group's lock, as for one review
        check_coordinator(operation=operation, actor=actor)
        if operation.status not in REVIEWABLE:
            raise Invalid({"status": _("Seizures are reviewed once the operation has started.")})
        seizures = list(
            Seizure.objects.select_for_update(of=("self",))
            .select_related("message", "reported_by")
            .filter(
                operation=operation,
                client_uuid__in=list(client_uuids),
                status=Seizure.Status.SUBMITTED,
            )
            .order_by("pk")
        )
        if not seizures:
            return 0
        now = timezone.now()
        for seizure in seizures:
            seizure.status = Seizure.Status.VALIDATED
            seizure.reviewed_by, seizure.reviewed_at, seizure.updated_at = actor, now, now
        Seizure.objects.bulk_update(
            seizures, ["status", "reviewed_by", "reviewed_at", "updated_at"], batch_size=2000
        )
        audit = [
            audit_entry(
                actor=actor,
                action=Action.SEIZURE_VALIDATED,
                group=group,
                target=str(seizure.client_uuid),
            )
            for seizure in seizures
        ]
        events_append_together(
            group=group,
            entries=[(EventType.SEIZURE_VALIDATED, _review_data(z, actor=actor)) for z in seizures],
            rows=(audit,),
        )
        if operation.send_to_cen_continuously and operation.status == Operation.Status.ACTIVE:
            transaction.on_commit(functools.partial(_send_to_cen_soon, operation.pk), robust=True)
    return len(seizures)


def _check_corrector(*, operation: Operation, reporter) -> None:
    if operation.status not in REVIEWABLE:
        raise Forbidden(_("Seizures are reviewed once the operation has started."))
    if not may("post", user=reporter, group_id=operation.group_id):
        raise Forbidden(_("Only the officer who reported a seizure may correct it."))


def seizure_validate(*, seizure: Seizure, actor) -> Seizure:
    return _review(seizure=seizure, actor=actor, status=Seizure.Status.VALIDATED)


def seizure_reject(*, seizure: Seizure, actor, reason: str) -> Seizure:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid({"reason": _("Say why the seizure is rejected, so it can be corrected.")})
    if len(reason) > 500:
        raise Invalid({"reason": _("At most %(limit)d characters.") % {"limit": 500}})
    return _review(seizure=seizure, actor=actor, status=Seizure.Status.REJECTED, reason=reason)


def seizure_review_undo(*, seizure: Seizure, actor) -> Seizure:
    """A coordinator takes back a validation or a rejection: the seizure awaits
    validation again, as it did before the review.

    Only while the seizure has not reached CEN: once its record is there, a mistake is
    put right by amending the validated seizure (``seizure_revise``), which the next
    transfer carries to CEN. Refused too while a transfer is sending, so that a run
    never reads a validation that is being taken back. Audited, and announced in the
    group as ``seizure.review_undone``.
    """
    with transaction.atomic():
        operation = Operation.objects.select_related("group").get(pk=seizure.operation_id)
        group = operation.group
        seq = seq_take(group_id=group.pk)
        check_coordinator(operation=operation, actor=actor)
        seizure = (
            Seizure.objects.select_for_update(of=("self",))
            .select_related("message", "reported_by")
            .get(pk=seizure.pk)
        )
        _check_review_undoable(operation=operation, seizure=seizure)
        undone = seizure.status
        seizure.status = Seizure.Status.SUBMITTED
        seizure.rejection_reason = ""
        seizure.reviewed_by = None
        seizure.reviewed_at = None
        seizure.save(
            update_fields=["status", "rejection_reason", "reviewed_by", "reviewed_at", "updated_at"]
        )
        data = {**_review_data(seizure, actor=actor), "undone": undone}
        data.pop("reason")
        event_append(group=group, seq=seq, type=EventType.SEIZURE_REVIEW_UNDONE, data=data)
        audit_record(
            actor=actor,
            action=Action.SEIZURE_REVIEW_UNDONE,
            group=group,
            target=str(seizure.client_uuid),
            data={"undone": undone},
        )
    return seizure


def _check_review_undoable(*, operation: Operation, seizure: Seizure) -> None:
    if operation.status not in REVIEWABLE:
        raise Invalid({"status": _("Seizures are reviewed once the operation has started.")})
    if seizure.status not in (Seizure.Status.VALIDATED, Seizure.Status.REJECTED):
        raise Invalid(
            {
                "status": _(
                    "Only a validated or rejected seizure has a review to undo; this one awaits validation."
                )
            }
        )
    if seizure.status == Seizure.Status.VALIDATED and transfer_running(operation=operation):
        raise Invalid(
            {
                "status": _(
                    "A transfer to CEN is under way: undo the validation once it has finished."
                )
            }
        )
    if seizure_in_cen(seizure=seizure, operation=operation):
        raise Invalid(
            {
                "status": _(
                    "This seizure has reached CEN: its validation can no longer be undone. "
                    "Amend it instead; the next transfer updates it in CEN."
                )
            }
        )


def seizure_correct(*, seizure: Seizure, reporter, data: dict) -> Seizure:
    """The reporter corrects a rejected seizure; it goes back to `submitted`."""
    return _seizure_amend(
        seizure=seizure, reporter=reporter, data=data, from_status=Seizure.Status.REJECTED
    )


def seizure_amend(*, seizure: Seizure, reporter, data: dict) -> Seizure:
    """The reporter puts right a seizure that awaits validation (a spreadsheet row
    corrected and imported again); once validated or rejected it is no longer changed
    this way."""
    return _seizure_amend(
        seizure=seizure, reporter=reporter, data=data, from_status=Seizure.Status.SUBMITTED
    )


def _seizure_amend(*, seizure: Seizure, reporter, data: dict, from_status: str) -> Seizure:
    if seizure.reported_by_id != reporter.pk:
        raise Forbidden(_("Only the officer who reported a seizure may correct it."))
    operation = seizure.operation
    cleaned = clean_seizure_input(data, operation=operation)
    with transaction.atomic():
        operation = Operation.objects.select_related("group").get(pk=operation.pk)
        group = operation.group
        if operation.status == Operation.Status.ACTIVE:
            seq = check_poster(group=group, author=reporter)
        else:
            # A closed group is read-only for new reports, not for putting right what
            # was reported: a rejected seizure is corrected after closing, and after a
            # transfer, so that it can still reach CEN.
            seq = seq_take(group_id=group.pk)
            _check_corrector(operation=operation, reporter=reporter)
        seizure = Seizure.objects.select_for_update().get(pk=seizure.pk)
        if seizure.status != from_status and from_status == Seizure.Status.REJECTED:
            raise Invalid({"status": _("Only a rejected seizure is corrected.")})
        if seizure.status != from_status:
            raise Invalid({"status": seizure_locked_reason(seizure)})
        for field, value in cleaned.items():
            setattr(seizure, field, value)
        seizure.status = Seizure.Status.SUBMITTED
        seizure.rejection_reason = ""
        seizure.reviewed_by = None
        seizure.reviewed_at = None
        seizure.save()
        _record_correction(group=group, seq=seq, seizure=seizure, actor=reporter)
        seizures_search_index([seizure])
    return seizure


def _record_correction(*, group, seq: int, seizure: Seizure, actor) -> None:
    """The live event and the audit line of a changed seizure (in the caller's transaction)."""
    event_append(
        group=group,
        seq=seq,
        type=EventType.SEIZURE_CORRECTED,
        data={
            "uuid": str(seizure.client_uuid),
            "message_seq": seizure.message.seq if seizure.message_id else None,
            "status": seizure.status,
            "by": actor.username,
            "reporter": seizure.reported_by.username,
            "seizure": seizure.as_card(),
        },
    )
    audit_record(
        actor=actor,
        action=Action.SEIZURE_CORRECTED,
        group=group,
        target=str(seizure.client_uuid),
        data={"status": seizure.status},
    )


def seizure_revise(*, seizure: Seizure, actor, data: dict) -> Seizure:
    """A coordinator puts right a validated seizure (a mistake found after validation,
    often after it reached CEN). It stays validated; the next transfer run sees its new
    content hash and updates the CEN record."""
    cleaned = clean_seizure_input(data, operation=seizure.operation)
    with transaction.atomic():
        operation = Operation.objects.select_related("group").get(pk=seizure.operation_id)
        group = operation.group
        seq = seq_take(group_id=group.pk)
        check_coordinator(operation=operation, actor=actor)
        if operation.status not in REVIEWABLE:
            raise Invalid({"status": _("Seizures are reviewed once the operation has started.")})
        seizure = Seizure.objects.select_for_update().get(pk=seizure.pk)
        if seizure.status != Seizure.Status.VALIDATED:
            raise Invalid({"status": _("Only a validated seizure is amended by a coordinator.")})
        for field, value in cleaned.items():
            setattr(seizure, field, value)
        seizure.reviewed_by = actor
        seizure.reviewed_at = timezone.now()
        seizure.save()
        _record_correction(group=group, seq=seq, seizure=seizure, actor=actor)
        seizures_search_index([seizure])
        if operation.send_to_cen_continuously and operation.status == Operation.Status.ACTIVE:
            transaction.on_commit(functools.partial(_send_to_cen_soon, operation.pk), robust=True)
    return seizure


def seizure_locked_reason(seizure: Seizure) -> str:
    """Why a reviewed seizure is no longer changed by its reporter's own copy of it."""
    if seizure.status == Seizure.Status.VALIDATED:
        return _(
            "This seizure was already validated: it can no longer be changed. "
            "Put the row back as it was, or ask a coordinator."
        )
    return _(
        "This seizure was rejected: correct it on its page, where the reason is given, "
        "and put the row back as it was."
    )
