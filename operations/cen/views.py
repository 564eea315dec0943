"""The CEN analyst's pages: read-only, for users with the `cen.analyse` permission and staff."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from ..countries import country_name
from .mapping import COMMODITY_CATEGORY, cen_labels
from .selectors import (
    analyst_may_read,
    cen_chart_data,
    cen_filter_options,
    cen_filters,
    cen_seizures,
)


def _check_analyst(user) -> None:
    if not analyst_may_read(user):
        raise PermissionDenied(_("The CEN analysis pages are for CEN analysts."))


@login_required
@require_GET
def analyst_page(request: HttpRequest) -> HttpResponse:
    _check_analyst(request.user)
    filters, errors = cen_filters(request.GET)
    page = Paginator(cen_seizures(filters=filters), 50).get_page(request.GET.get("page"))
    labels = cen_labels()
    options = cen_filter_options()
    query = urlencode(filters)
    return render(
        request,
        "cen/analyst.html",
        {
            "page": page,
            "filters": filters,
            "errors": errors,
            "query": query,
            "labels": labels,
            "categories": [
                (code, labels["commodity_category"][code]) for code in COMMODITY_CATEGORY.values()
            ],
            "options": options,
            "countries": [(code, country_name(code)) for code in options["countries"]],
            "analyst_config": {
                "dataUrl": reverse("cen_analyst_data") + (f"?{query}" if query else ""),
                "labels": labels,
                "strings": {
                    "empty": _("Nothing transferred matches."),
                    "validated": pgettext("seizure count", "Transferred"),
                },
            },
        },
        status=400 if errors else 200,
    )


@login_required
@require_GET
def analyst_data(request: HttpRequest) -> JsonResponse:
    _check_analyst(request.user)
    filters, errors = cen_filters(request.GET)
    if errors:
        return JsonResponse(
            {
                "error": {
                    "code": "invalid",
                    "detail": _("Some filters need correcting."),
                    "fields": errors,
                }
            },
            status=400,
        )
    data = cen_chart_data(filters=filters)
    data["countries"] = {row["key"]: country_name(row["key"]) for row in data["by_country"]}
    return JsonResponse(data)
