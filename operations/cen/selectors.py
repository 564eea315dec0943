"""Reading the CEN database for analysts: transferred seizures, filtered and counted."""

import re

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext as _

from .mapping import COMMODITY_CATEGORY
from .models import CenSeizure

CEN = "cen"
COUNTRY = re.compile(r"^[A-Za-z]{2}$")
OPERATION_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def analyst_may_read(user) -> bool:
    return user.is_authenticated and (user.is_staff or user.has_perm("cen.analyse"))


def cen_filters(params) -> tuple[dict, dict[str, str]]:
    """The analyst's filters from a query string: clean values, and an error per bad one."""
    filters: dict = {}
    errors: dict[str, str] = {}
    operation = (params.get("operation") or "").strip()
    if operation:
        if OPERATION_CODE.match(operation):
            filters["operation"] = operation.upper()
        else:
            errors["operation"] = _("Not an operation code.")
    category = (params.get("category") or "").strip()
    if category:
        if category in COMMODITY_CATEGORY.values():
            filters["category"] = category
        else:
            errors["category"] = _("Unknown commodity category.")
    country = (params.get("country") or "").strip()
    if country:
        if COUNTRY.match(country):
            filters["country"] = country.upper()
        else:
            errors["country"] = _("Give a two-letter ISO country code.")
    year = (params.get("year") or "").strip()
    if year:
        if year.isascii() and year.isdigit() and 1900 <= int(year) <= 2999:
            filters["year"] = int(year)
        else:
            errors["year"] = _("Give a year, such as 2026.")
    return filters, errors


def cen_seizures(*, filters: dict) -> QuerySet[CenSeizure]:
    queryset = CenSeizure.objects.using(CEN).all()
    if "operation" in filters:
        queryset = queryset.filter(operation_code=filters["operation"])
    if "category" in filters:
        queryset = queryset.filter(commodity_category=filters["category"])
    if "country" in filters:
        queryset = queryset.filter(reporting_country=filters["country"])
    if "year" in filters:
        queryset = queryset.filter(seizure_date__year=filters["year"])
    return queryset.order_by("-seizure_date", "operation_code", "id")


def cen_chart_data(*, filters: dict) -> dict:
    """Counts for the analyst's charts, each from one grouped query."""
    seizures = cen_seizures(filters=filters).order_by()

    def grouped(field: str) -> list[dict]:
        rows = seizures.values(field).annotate(total=Count("id")).order_by("-total", field)
        # The charts stack "validated" over "total": every CEN seizure was validated.
        return [
            {"key": str(row[field]), "total": row["total"], "validated": row["total"]}
            for row in rows
        ]

    by_year = [
        {"key": str(row["year"]), "total": row["total"], "validated": row["total"]}
        for row in seizures.annotate(year=ExtractYear("seizure_date"))
        .values("year")
        .annotate(total=Count("id"))
        .order_by("year")
    ]
    kilograms = (
        seizures.filter(quantity_kg__isnull=False)
        .values("commodity_category")
        .annotate(kg=Sum("quantity_kg"))
        .order_by("commodity_category")
    )
    return {
        "total": seizures.count(),
        "by_category": grouped("commodity_category"),
        "by_country": grouped("reporting_country"),
        "by_transport": grouped("transport_mode"),
        "by_year": by_year,
        "kilograms": [
            {"category": row["commodity_category"], "kg": format(row["kg"].normalize(), "f")}
            for row in kilograms
        ],
    }


def cen_filter_options() -> dict:
    seizures = CenSeizure.objects.using(CEN).order_by()
    return {
        "operations": list(
            seizures.values_list("operation_code", flat=True).distinct().order_by("operation_code")
        ),
        "countries": list(
            seizures.values_list("reporting_country", flat=True)
            .distinct()
            .order_by("reporting_country")
        ),
        "years": [date.year for date in seizures.dates("seizure_date", "year", order="DESC")],
    }
