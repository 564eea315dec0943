"""Reading the audit trail: staff read all of it, coordinators their operation's."""

import csv

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.audit import Action, audit_record
from core.models import AuditEntry
from operations.selectors import access_operation


def _filtered(request: HttpRequest, queryset: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
    action = request.GET.get("action", "")
    if action in Action.values:
        queryset = queryset.filter(action=action)
    actor = request.GET.get("actor", "").strip()
    if actor:
        queryset = queryset.filter(actor_name__iexact=actor[:150])
    return queryset.select_related("group")


class _Echo:
    def write(self, value):
        return value


def _neutral(value) -> str:
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(entries: QuerySet[AuditEntry], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    header = ["at", "actor", "action", "group", "target", "ip", "data"]
    rows = (
        [
            _neutral(v)
            for v in (
                e.at.isoformat(),
                e.actor_name,
                e.action,
                e.group.slug if e.group else "",
                e.target,
                e.ip or "",
                e.data,
            )
        ]
        for e in entries.iterator(chunk_size=2000)
    )
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in [header, *rows]), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _page(request: HttpRequest, entries: QuerySet[AuditEntry], context: dict) -> HttpResponse:
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/list.html",
        {**context, "page": page, "actions": Action.choices, "filters": request.GET},
    )


@login_required
def audit_all(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise PermissionDenied(_("The whole audit trail is for staff."))
    entries = _filtered(request, AuditEntry.objects.all())
    if request.GET.get("format") == "csv":
        audit_record(actor=request.user, action=Action.AUDIT_EXPORTED, target="all")
        return _csv(entries, "cencomm-audit.csv")
    return _page(request, entries, {"scope": _("Everything")})


@login_required
def audit_operation(request: HttpRequest, code: str) -> HttpResponse:
    access = access_operation(request.user, code)
    if not access.is_coordinator:
        raise PermissionDenied(_("The operation's audit trail is for its coordinators."))
    operation = access.operation
    entries = _filtered(request, AuditEntry.objects.filter(group=operation.group))
    if request.GET.get("format") == "csv":
        audit_record(
            actor=request.user,
            action=Action.AUDIT_EXPORTED,
            group=operation.group,
            target=operation.code,
        )
        return _csv(entries, f"cencomm-audit-{operation.code}.csv")
    return _page(
        request,
        entries,
        {
            "scope": operation.code,
            "operation": operation,
            "group": operation.group,
            "access": access,
        },
    )
