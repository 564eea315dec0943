"""What CEN already holds for a planned operation: its pre-operational picture.

Only the permanent CEN database is read (non-nominal records, transferred after
their operations ended), never another operation's group or seizures on the
platform.
"""

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext as _

from groups.models import Membership
from operations.countries import country_name
from operations.models import Operation

from .mapping import COMMODITY_CATEGORY, cen_label
from .models import CenSeizure
from .selectors import CEN

TOP = 8


def operation_countries(*, operation: Operation) -> list[str]:
    """The countries of the operation's members' administrations, and its coordinator's."""
    countries = set(
        Membership.objects.filter(
            group_id=operation.group_id,
            removed_at__isnull=True,
            user__profile__administration__isnull=False,
        ).values_list("user__profile__administration__country", flat=True)
    )
    countries.add(operation.coordinating_administration.country)
    return sorted(countries)


def cen_history_records(*, category: str, countries: list[str]) -> QuerySet[CenSeizure]:
    """CEN records of the category that touch the countries: reported there, or on a
    route leaving from or heading to one of them."""
    return (
        CenSeizure.objects.using(CEN)
        .filter(commodity_category=category)
        .filter(
            Q(reporting_country__in=countries)
            | Q(departure_country__in=countries)
            | Q(destination_country__in=countries)
        )
        .order_by()
    )


def _country(code: str | None) -> str:
    return country_name(code) if code else "?"


def operation_cen_history(*, operation: Operation) -> dict:
    """Counts for the planned operation's CEN charts, each from one grouped query."""
    category = COMMODITY_CATEGORY[operation.commodity_focus]
    countries = operation_countries(operation=operation)
    records = cen_history_records(category=category, countries=countries)
    return {
        "category": category,
        "countries": [{"code": code, "name": country_name(code)} for code in countries],
        "total": records.count(),
        "by_year": _by_year(records),
        "by_route": _by_route(records),
        "by_transport": _grouped(
            records, "transport_mode", label=lambda code: cen_label("transport_mode", code)
        ),
        "by_detection": _grouped(
            records, "detection_method", label=lambda code: cen_label("detection_method", code)
        ),
        "by_concealment": _grouped(
            records,
            "concealment_method",
            label=lambda code: cen_label("concealment_method", code) or _("Not stated"),
        ),
        "top_places": _top_places(records),
    }


# Every row's "validated" is its total: the platform's charts draw both counts, and CEN
# holds only seizures validated before their transfer.


def _grouped(records: QuerySet[CenSeizure], field: str, *, label) -> list[dict]:
    rows = records.values(field).annotate(total=Count("id")).order_by("-total", field)
    return [
        {
            "key": row[field] or "",
            "label": label(row[field]),
            "total": row["total"],
            "validated": row["total"],
        }
        for row in rows
    ]


def _by_year(records: QuerySet[CenSeizure]) -> list[dict]:
    rows = (
        records.annotate(year=ExtractYear("seizure_date"))
        .values("year")
        .annotate(total=Count("id"))
        .order_by("year")
    )
    return [
        {
            "key": str(row["year"]),
            "label": str(row["year"]),
            "total": row["total"],
            "validated": row["total"],
        }
        for row in rows
    ]


def _by_route(records: QuerySet[CenSeizure]) -> list[dict]:
    routes = (
        records.values("departure_country", "destination_country")
        .annotate(total=Count("id"))
        .order_by("-total", "departure_country", "destination_country")[:TOP]
    )
    return [
        {
            "key": f"{row['departure_country'] or '?'}>{row['destination_country'] or '?'}",
            "label": f"{_country(row['departure_country'])} → "
            f"{_country(row['destination_country'])}",
            "total": row["total"],
            "validated": row["total"],
        }
        for row in routes
    ]


def _top_places(records: QuerySet[CenSeizure]) -> list[dict]:
    places = (
        records.values("place", "reporting_country")
        .annotate(total=Count("id"))
        .order_by("-total", "place", "reporting_country")[:TOP]
    )
    return [
        {
            "key": f"{row['place']}|{row['reporting_country']}",
            "label": f"{row['place']} ({row['reporting_country']})",
            "total": row["total"],
            "validated": row["total"],
        }
        for row in places
    ]
