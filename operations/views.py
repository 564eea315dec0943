import json
import uuid as uuid_module

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import describe, json_error
from core.vocabularies import VOCABULARIES, vocabulary_labels
from groups.models import Role
from messaging.client_strings import client_strings, offline_strings

from . import services
from .countries import country_name
from .forms import HandlingForm, OperationForm, RejectForm, SeizureForm
from .handling import operation_handling
from .handling_views import seizure_handling
from .models import Operation, Seizure
from .selectors import (
    access_operation,
    dashboard_totals,
    may_create_operations,
    operations_of_user,
    seizure_for,
    seizure_list,
    seizure_status_counts,
)
from .transfer_selectors import may_reopen, pending_review, seizure_in_cen

MAX_JSON_BYTES = 64 * 1024


def _errors(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            field: [m for e in errors for m in e.messages]
            for field, errors in error.error_dict.items()
        }
    return {"__all__": list(error.messages)}


def _json_error(detail: str, *, fields=None) -> JsonResponse:
    return json_error(400, "invalid", detail, fields=fields)


def _reporting_country(user) -> str:
    administration = getattr(getattr(user, "profile", None), "administration", None)
    return administration.country if administration else ""


@login_required
def operation_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "operations/list.html",
        {
            "operations": operations_of_user(user=request.user),
            "may_create": may_create_operations(user=request.user),
        },
    )


@login_required
def operation_create(request: HttpRequest) -> HttpResponse:
    if not may_create_operations(user=request.user):
        raise PermissionDenied(_("Only staff and coordinators create operations."))
    form = OperationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            operation = services.operation_create(created_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, texts in _errors(error).items():
                form.add_error(field if field in form.fields else None, texts)
        else:
            messages.success(
                request, _("Operation %(code)s was created.") % {"code": operation.code}
            )
            return redirect("operations:detail", code=operation.code)
    return render(
        request, "operations/create.html", {"form": form}, status=400 if form.errors else 200
    )


# The lifecycle's steps, each behind a confirmation page: the status it leads from and to.
LIFECYCLE_STEPS = {
    "start": (Operation.Status.PLANNED, Operation.Status.ACTIVE),
    "close": (Operation.Status.ACTIVE, Operation.Status.CLOSED),
    "reopen": (Operation.Status.CLOSED, Operation.Status.ACTIVE),
}


@login_required
def operation_detail(request: HttpRequest, code: str) -> HttpResponse:
    access = access_operation(request.user, code)
    operation = access.operation
    steps = [
        step
        for step, (current, _new) in LIFECYCLE_STEPS.items()
        if current == operation.status and access.is_coordinator
    ]
    if "reopen" in steps and not may_reopen(operation=operation):
        steps.remove("reopen")
    return render(
        request,
        "operations/detail.html",
        {
            "access": access,
            "operation": operation,
            "group": operation.group,
            "counts": seizure_status_counts(operation=operation),
            "steps": steps,
            "may_send_continuously": operation.status in services.CONTINUOUS_TRANSFER_STATUSES,
            "default_handling_form": HandlingForm(
                initial={
                    "handling_code": operation.default_handling_code,
                    "handling_conditions": operation.default_handling_conditions,
                }
            ),
        },
    )


@login_required
@require_POST
def operation_continuous_transfer(request: HttpRequest, code: str) -> HttpResponse:
    """Send validated seizures to CEN as they are validated, or only at the end."""
    access = access_operation(request.user, code)
    value = request.POST.get("send_to_cen_continuously", "")
    try:
        if value not in ("true", "false"):
            raise ValidationError({"send_to_cen_continuously": _("Give true or false.")})
        operation = services.operation_set_continuous_transfer(
            operation=access.operation, enabled=value == "true", actor=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Validated seizures now go to CEN within a minute of their validation.")
            if operation.send_to_cen_continuously
            else _("Validated seizures now go to CEN in the transfer at the end."),
        )
    return redirect("operations:detail", code=access.operation.code)


def _lifecycle_step(request: HttpRequest, code: str, step: str) -> HttpResponse:
    """GET: what the step does and what is still pending; POST: do it."""
    access = access_operation(request.user, code)
    if not access.is_coordinator:
        raise PermissionDenied(_("Only the operation's coordinators may do this."))
    operation = access.operation
    current, new = LIFECYCLE_STEPS[step]
    if request.method == "POST":
        try:
            if step == "reopen":
                services.operation_reopen(operation=operation, actor=request.user)
            else:
                services.operation_set_status(operation=operation, status=new, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, STEP_DONE[step]())
        return redirect("operations:detail", code=operation.code)
    possible = operation.status == current and (step != "reopen" or may_reopen(operation=operation))
    return render(
        request,
        "operations/confirm.html",
        {
            "access": access,
            "operation": operation,
            "group": operation.group,
            "step": step,
            "possible": possible,
            "pending": pending_review(operation=operation),
            "counts": seizure_status_counts(operation=operation),
        },
    )


STEP_DONE = {
    "start": lambda: _("The operation has started: members report seizures in its group."),
    "close": lambda: _("The operation is closed: its group is read-only."),
    "reopen": lambda: _("The operation is active again: its group is open."),
}


@login_required
@require_http_methods(["GET", "POST"])
def operation_start(request: HttpRequest, code: str) -> HttpResponse:
    return _lifecycle_step(request, code, "start")


@login_required
@require_http_methods(["GET", "POST"])
def operation_close(request: HttpRequest, code: str) -> HttpResponse:
    return _lifecycle_step(request, code, "close")


@login_required
@require_http_methods(["GET", "POST"])
def operation_reopen(request: HttpRequest, code: str) -> HttpResponse:
    return _lifecycle_step(request, code, "reopen")


@login_required
@require_POST
def operation_status(request: HttpRequest, code: str) -> HttpResponse:
    access = access_operation(request.user, code)
    try:
        services.operation_set_status(
            operation=access.operation, status=request.POST.get("status", ""), actor=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The operation's status was changed."))
    return redirect("operations:detail", code=access.operation.code)


@login_required
def seizures(request: HttpRequest, code: str) -> HttpResponse:
    access = access_operation(request.user, code)
    filters = {
        key: request.GET.get(key, "")
        for key in ("status", "commodity_category", "reporting_country")
    }
    return render(
        request,
        "operations/seizures.html",
        {
            "access": access,
            "operation": access.operation,
            "group": access.operation.group,
            "seizures": seizure_list(operation=access.operation, filters=filters)[:500],
            "filters": filters,
            "statuses": Seizure.Status.choices,
            "categories": VOCABULARIES["commodity_category"].choices,
        },
    )


@login_required
def seizure_new(request: HttpRequest, code: str) -> HttpResponse:
    """The simplified seizure form. It works offline: see static/js/seizure_form.js."""
    access = access_operation(request.user, code, need="post")
    operation = access.operation
    form = SeizureForm(
        request.POST or None,
        reporting_country=_reporting_country(request.user),
        handling=operation_handling(operation),
    )
    status = 200
    if request.method == "POST":
        data = {name: request.POST.get(name, "") for name in form.fields}
        data["transit_countries"] = request.POST.getlist("transit_countries")
        try:
            seizure, _created = services.seizure_report(
                reporter=request.user,
                operation=operation,
                data=data,
                client_uuid=request.POST.get("client_uuid", ""),
            )
        except ValidationError as error:
            for field, texts in _errors(error).items():
                form.add_error(field if field in form.fields else None, texts)
            status = 400
        except PermissionDenied as error:
            form.add_error(None, str(error))
            status = 403
        else:
            messages.success(request, _("The seizure was reported."))
            return redirect("operations:seizure", code=operation.code, uuid=seizure.client_uuid)
    return render(
        request,
        "operations/seizure_form.html",
        {
            "access": access,
            "operation": operation,
            "group": operation.group,
            "form": form,
            "form_config": {
                "operation": operation.code,
                "submitUrl": reverse("operations:seizure_submit", kwargs={"code": operation.code}),
                "seizureUrl": reverse(
                    "operations:seizure",
                    kwargs={"code": operation.code, "uuid": uuid_module.UUID(int=0)},
                ),
                "user": request.user.username,
            },
            "offline_strings": offline_strings(),
            "client_uuid": uuid_module.uuid4(),
        },
        status=status,
    )


@login_required
@require_POST
def seizure_submit(request: HttpRequest, code: str) -> JsonResponse:
    """The seizure form's JSON door, used online and by the offline queue."""
    access = access_operation(request.user, code, need="post")
    if len(request.body) > MAX_JSON_BYTES:
        return _json_error(_("The submission is too large."))
    try:
        payload = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return _json_error(_("The submission is not valid JSON."))
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        return _json_error(_('Send {"client_uuid": …, "data": {…}}.'))
    try:
        seizure, created = services.seizure_report(
            reporter=request.user,
            operation=access.operation,
            data=payload["data"],
            client_uuid=payload.get("client_uuid"),
        )
    except ValidationError as error:
        fields = _errors(error)
        return _json_error(_("Some fields need correcting."), fields=fields)
    except PermissionDenied as error:
        described = describe(error)
        return json_error(403, "forbidden", described.detail, reason=described.reason)
    return JsonResponse(
        {
            "status": "created" if created else "duplicate",
            "uuid": str(seizure.client_uuid),
            "url": reverse(
                "operations:seizure",
                kwargs={"code": access.operation.code, "uuid": seizure.client_uuid},
            ),
        },
        status=201 if created else 200,
    )


@login_required
def seizure_detail(request: HttpRequest, code: str, uuid) -> HttpResponse:
    access = access_operation(request.user, code)
    seizure = seizure_for(operation=access.operation, uuid=uuid)
    return render(
        request,
        "operations/seizure_detail.html",
        {
            "access": access,
            "operation": access.operation,
            "group": access.operation.group,
            "seizure": seizure,
            "reject_form": RejectForm(),
            "handling": seizure_handling(access=access, seizure=seizure, user=request.user),
            "transit_names": [country_name(code) for code in seizure.transit_countries],
            "can_review": access.is_coordinator and seizure.status == Seizure.Status.SUBMITTED,
            "can_correct": seizure.reported_by_id == request.user.pk
            and seizure.status == Seizure.Status.REJECTED
            and access.role in (Role.MEMBER, Role.COORDINATOR)
            and access.operation.status in services.REVIEWABLE,
            "can_revise": access.is_coordinator
            and seizure.status == Seizure.Status.VALIDATED
            and access.operation.status in services.REVIEWABLE,
            "can_undo_review": access.is_coordinator
            and seizure.status in (Seizure.Status.VALIDATED, Seizure.Status.REJECTED)
            and access.operation.status in services.REVIEWABLE
            and not seizure_in_cen(seizure=seizure, operation=access.operation),
        },
    )


def _review(request: HttpRequest, code: str, uuid, action) -> HttpResponse:
    access = access_operation(request.user, code)
    seizure = seizure_for(operation=access.operation, uuid=uuid)
    try:
        action(seizure)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("The seizure is now %(status)s.")
            % {"status": Seizure.objects.get(pk=seizure.pk).get_status_display().lower()},
        )
    return redirect("operations:seizure", code=access.operation.code, uuid=seizure.client_uuid)


@login_required
@require_POST
def seizure_validate(request: HttpRequest, code: str, uuid) -> HttpResponse:
    return _review(
        request, code, uuid, lambda s: services.seizure_validate(seizure=s, actor=request.user)
    )


@login_required
@require_POST
def seizure_reject(request: HttpRequest, code: str, uuid) -> HttpResponse:
    return _review(
        request,
        code,
        uuid,
        lambda s: services.seizure_reject(
            seizure=s, actor=request.user, reason=request.POST.get("reason", "")
        ),
    )


@login_required
@require_POST
def seizure_undo_review(request: HttpRequest, code: str, uuid) -> HttpResponse:
    """A coordinator returns a validated or rejected seizure to awaiting validation."""
    access = access_operation(request.user, code)
    seizure = seizure_for(operation=access.operation, uuid=uuid)
    try:
        services.seizure_review_undo(seizure=seizure, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The review was undone: the seizure awaits validation again."))
    return redirect("operations:seizure", code=access.operation.code, uuid=seizure.client_uuid)


@login_required
def seizure_correct(request: HttpRequest, code: str, uuid) -> HttpResponse:
    """The reporter corrects a rejected seizure; a coordinator amends a validated one."""
    access = access_operation(request.user, code)
    seizure = seizure_for(operation=access.operation, uuid=uuid)
    revising = access.is_coordinator and seizure.status == Seizure.Status.VALIDATED
    if not revising and seizure.reported_by_id != request.user.pk:
        raise PermissionDenied(_("Only the officer who reported a seizure may correct it."))
    initial = {name: getattr(seizure, name) for name in SeizureForm.base_fields}
    form = SeizureForm(request.POST or None, initial=initial)
    if request.method == "POST":
        data = {name: request.POST.get(name, "") for name in form.fields}
        data["transit_countries"] = request.POST.getlist("transit_countries")
        try:
            if revising:
                services.seizure_revise(seizure=seizure, actor=request.user, data=data)
            else:
                services.seizure_correct(seizure=seizure, reporter=request.user, data=data)
        except ValidationError as error:
            for field, texts in _errors(error).items():
                form.add_error(field if field in form.fields else None, texts)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("The seizure was amended; the next transfer updates it in CEN.")
                if revising
                else _("The corrected seizure was submitted again."),
            )
            return redirect(
                "operations:seizure", code=access.operation.code, uuid=seizure.client_uuid
            )
    return render(
        request,
        "operations/seizure_correct.html",
        {
            "access": access,
            "operation": access.operation,
            "group": access.operation.group,
            "seizure": seizure,
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@login_required
def dashboard(request: HttpRequest, code: str) -> HttpResponse:
    access = access_operation(request.user, code)
    operation = access.operation
    return render(
        request,
        "operations/dashboard.html",
        {
            "access": access,
            "operation": operation,
            "group": operation.group,
            "dashboard_config": {
                "operation": operation.code,
                "group": operation.group.slug,
                "dataUrl": reverse("operations:dashboard_data", kwargs={"code": operation.code}),
                "seizureUrl": reverse(
                    "operations:seizure",
                    kwargs={"code": operation.code, "uuid": uuid_module.UUID(int=0)},
                ),
                "cursor": operation.group.last_seq,
                "labels": vocabulary_labels(),
            },
            "client_strings": client_strings(),
        },
    )


@login_required
@require_GET
def dashboard_data(request: HttpRequest, code: str) -> JsonResponse:
    access = access_operation(request.user, code)
    totals = dashboard_totals(operation=access.operation)
    latest = [
        {**seizure.as_card(), "reported_by": seizure.reported_by.username}
        for seizure in seizure_list(operation=access.operation).exclude(
            status=Seizure.Status.REJECTED
        )[:10]
    ]
    return JsonResponse(
        {
            **totals,
            "latest": latest,
            "countries": {row["key"]: country_name(row["key"]) for row in totals["by_country"]},
        }
    )
