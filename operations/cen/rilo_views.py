"""The RILO page: the data input of the administrations of the regions a RILO monitors."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from groups.models import Region
from operations.countries import country_name
from operations.transfer_selectors import optional_field_labels

from .rilo_selectors import PERIODS, RiloRefused, rilo_data_input, rilo_scope


def _chart_rows(rows: list[dict], value: str) -> list[dict]:
    return [
        {
            "key": row["country"],
            "label": country_name(row["country"]),
            "total": row[value],
            "validated": row[value],
        }
        for row in rows
        if row[value] is not None
    ]


@login_required
@require_GET
def rilo_page(request: HttpRequest) -> HttpResponse:
    try:
        scope = rilo_scope(user=request.user, params=request.GET)
    except RiloRefused as refusal:
        # Administrations and regions are no secret on the platform: a RILO who asks
        # for another region is told so, with the reason, rather than shown a 404.
        return render(request, "cen/refused.html", {"reason": str(refusal) or None}, status=403)
    data = rilo_data_input(scope=scope)
    rows = data["administrations"]
    labels = optional_field_labels()
    reported = sum(row["reported"] for row in rows)
    validated = sum(row["validated"] for row in rows)
    return render(
        request,
        "cen/rilo.html",
        {
            "scope": scope,
            "data": data,
            "rows": rows,
            "fields": [(name, labels[name]) for name in data["fields"]],
            "regions": [(code, Region(code).label) for code in scope.regions],
            "periods": PERIODS,
            "totals": {
                "reported": reported,
                "validated": validated,
                "share_validated": round(100 * validated / reported, 1) if reported else None,
                "cen_records": sum(row["cen_records"] for row in rows),
                "silent": sum(1 for row in rows if not row["reported"]),
            },
            "rilo_charts": {
                "by_month": data["by_month"],
                "cen_by_month": data["cen_by_month"],
                "reported": [
                    {
                        "key": row["country"],
                        "label": country_name(row["country"]),
                        "total": row["reported"],
                        "validated": row["validated"],
                    }
                    for row in rows
                ],
                "share_validated": _chart_rows(rows, "share_validated"),
                "completeness": _chart_rows(rows, "completeness_overall"),
                "days_median": _chart_rows(rows, "days_median"),
                "cen_records": _chart_rows(rows, "cen_records"),
                "strings": {
                    "empty": _("Nothing reported in this period."),
                    "validated": pgettext("seizure count", "Validated"),
                },
            },
        },
        status=400 if scope.errors else 200,
    )
