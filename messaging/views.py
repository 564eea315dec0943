from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.audit import Action, audit_record
from core.errors import json_error
from groups.access import access_group

from .attachments import attachment_for_download, attachment_upload
from .exports import check_may_export, messages_export_csv
from .history import can_see_receipts, message_page
from .history import message_receipts as message_receipts_selector
from .models import Message
from .services import attachment_data, message_post

HANDLING_FIELDS = ("handling_code", "handling_conditions", "source_grading", "information_grading")

# ---- the group page's endpoints -------------------------------------------------


@login_required
@require_GET
def message_history(request: HttpRequest, slug: str) -> JsonResponse:
    """Older messages for the group page, as JSON: ``?before=<seq>``."""
    access = access_group(request.user, slug)
    before = request.GET.get("before")
    # ASCII digits only ("²".isdigit() is true), and within a seq's range.
    if before is not None and not (before.isascii() and before.isdigit() and len(before) <= 18):
        return json_error(400, "invalid", _("before must be a seq."))
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
            handling={key: request.POST.get(key) for key in HANDLING_FIELDS},
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        messages.error(request, str(error))
    return redirect("groups:group", slug=slug)


@login_required
@require_GET
def messages_export(request: HttpRequest, slug: str) -> HttpResponse:
    """The group's record as CSV, with each message's handling code: unreleased H2
    messages are left out (messaging/exports.py)."""
    access = access_group(request.user, slug)
    check_may_export(access)
    response = HttpResponse(
        messages_export_csv(group=access.group, actor=request.user),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{access.group.slug}-messages.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def message_receipts(request: HttpRequest, slug: str, seq: int) -> JsonResponse:
    """Who read and who acknowledged a message: for its author and the coordinators."""
    access = access_group(request.user, slug)
    message = get_object_or_404(Message, group=access.group, seq=seq)
    if not (can_see_receipts(user=request.user, message=message, role=access.role) or access.staff):
        raise PermissionDenied(_("Receipts are shown to the author and the coordinators."))
    return JsonResponse(message_receipts_selector(group=access.group, message=message))


@login_required
@require_POST
def attachment_upload_view(request: HttpRequest, slug: str) -> JsonResponse:
    """Upload one file (field ``file``); the message that follows names its token."""
    access = access_group(request.user, slug, need="post")
    uploaded = request.FILES.get("file")
    if uploaded is None:
        return json_error(
            400, "invalid", _("Choose a file."), fields={"file": [_("Choose a file.")]}
        )
    try:
        attachment = attachment_upload(
            user=request.user,
            group=access.group,
            uploaded_file=uploaded,
            handling_code=request.POST.get("handling_code"),
            handling_conditions=request.POST.get("handling_conditions"),
        )
    except ValidationError as error:
        fields = error.message_dict if hasattr(error, "error_dict") else {"file": error.messages}
        return json_error(400, "invalid", " ".join(error.messages), fields=fields)
    return JsonResponse(attachment_data(attachment), status=201)


@login_required
@require_GET
def attachment_download(request: HttpRequest, slug: str, token: str) -> FileResponse:
    """Members only; the same 404 for a file that does not exist and one not theirs."""
    access = access_group(request.user, slug)
    attachment = attachment_for_download(user=request.user, group=access.group, token=token)
    if attachment is None:
        raise Http404
    audit_record(
        actor=request.user,
        action=Action.ATTACHMENT_DOWNLOADED,
        group=access.group,
        target=attachment.original_name,
        data={"sha256": attachment.sha256},
    )
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
