from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from groups.selectors import access_group

from .history import can_see_receipts, message_page
from .history import message_receipts as message_receipts_selector
from .models import Message
from .services import message_post

# ---- the group page's endpoints -------------------------------------------------


@login_required
@require_GET
def message_history(request: HttpRequest, slug: str) -> JsonResponse:
    """Older messages for the group page, as JSON: ``?before=<seq>``."""
    access = access_group(request.user, slug)
    before = request.GET.get("before")
    if before is not None and not before.isdigit():
        return JsonResponse(
            {"error": {"code": "invalid", "detail": _("before must be a seq."), "fields": {}}},
            status=400,
        )
    page = message_page(group=access.group, before_seq=int(before) if before else None)
    return JsonResponse(page)


@login_required
@require_POST
def message_post_form(request: HttpRequest, slug: str) -> HttpResponse:
    """Posting without a socket: the same service as every other door."""
    access = access_group(request.user, slug, need="post")
    try:
        message_post(
            author=request.user,
            group=access.group,
            body=request.POST.get("body", ""),
            client_id=request.POST.get("client_id", ""),
            kind=request.POST.get("kind", Message.Kind.TEXT),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        messages.error(request, str(error))
    return redirect("groups:group", slug=slug)


@login_required
@require_GET
def message_receipts(request: HttpRequest, slug: str, seq: int) -> JsonResponse:
    """Who read and who acknowledged a message: for its author and the coordinators."""
    access = access_group(request.user, slug)
    message = get_object_or_404(Message, group=access.group, seq=seq)
    if not (can_see_receipts(user=request.user, message=message, role=access.role) or access.staff):
        raise PermissionDenied(_("Receipts are shown to the author and the coordinators."))
    return JsonResponse(message_receipts_selector(group=access.group, message=message))
