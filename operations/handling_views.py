"""The pages' doors to handling codes: a seizure's (change, release) and the operation's
default. Thin: the rules are operations/handling.py's and core/handling.py's."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.handling import Handling
from messaging.handling import may_change_handling, may_release

from .forms import HandlingForm
from .handling import operation_set_default_handling, seizure_release, seizure_set_handling
from .models import Seizure
from .selectors import OperationAccess, access_operation, seizure_for


@dataclass(frozen=True)
class SeizureHandling:
    """What the seizure page shows of its handling code, and what the reader may do."""

    banner: str
    form: HandlingForm
    may_change: bool
    may_release: bool


def seizure_handling(*, access: OperationAccess, seizure: Seizure, user) -> SeizureHandling:
    group_id = access.operation.group_id
    return SeizureHandling(
        banner=Handling(seizure.handling_code, seizure.handling_conditions).banner,
        form=HandlingForm(
            initial={
                "handling_code": seizure.handling_code,
                "handling_conditions": seizure.handling_conditions,
            }
        ),
        may_change=may_change_handling(
            actor=user, author_id=seizure.reported_by_id, group_id=group_id
        ),
        may_release=seizure.handling_code == "H2"
        and seizure.released_at is None
        and may_release(actor=user, author=seizure.reported_by, group_id=group_id),
    )


def _refused(request: HttpRequest, error: ValidationError) -> None:
    """Bad input is said on the page it came from; a refusal is the 403 page."""
    messages.error(request, " ".join(error.messages))


@login_required
@require_POST
def seizure_handling_change(request: HttpRequest, code: str, uuid) -> HttpResponse:
    access = access_operation(request.user, code)
    seizure = seizure_for(operation=access.operation, uuid=uuid)
    try:
        seizure_set_handling(
            actor=request.user,
            seizure=seizure,
            code=request.POST.get("handling_code", ""),
            conditions=request.POST.get("handling_conditions", ""),
        )
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("The handling code was changed."))
    return redirect("operations:seizure", code=access.operation.code, uuid=seizure.client_uuid)


@login_required
@require_POST
def seizure_release_view(request: HttpRequest, code: str, uuid) -> HttpResponse:
    access = access_operation(request.user, code)
    seizure = seizure_for(operation=access.operation, uuid=uuid)
    try:
        seizure_release(actor=request.user, seizure=seizure)
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("The seizure was released for outside the operation."))
    return redirect("operations:seizure", code=access.operation.code, uuid=seizure.client_uuid)


@login_required
@require_POST
def operation_default_handling(request: HttpRequest, code: str) -> HttpResponse:
    """A coordinator sets the code the operation's new items carry by default."""
    access = access_operation(request.user, code)
    try:
        operation_set_default_handling(
            operation=access.operation,
            actor=request.user,
            code=request.POST.get("handling_code", ""),
            conditions=request.POST.get("handling_conditions", ""),
        )
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("The operation's default handling code was changed."))
    return redirect("operations:detail", code=access.operation.code)
