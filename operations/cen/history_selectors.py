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

    def grouped(field: str, *, label, limit: int | None = None) -> list[dict]:
        rows = records.values(field).annotate(total=Count("id")).order_by("-total", field)
        if limit:
            rows = rows[:limit]
        return [
            {
                "key": row[field] or "",
                "label": label(row[field]),
                "total": row["total"],
                "validated": row["total"],
            }
            for row in rows
        ]

    by_year = [
        {"key": str(row["year"]), "label": str(row["year"]), "total": row["total"]}
        for row in records.annotate(year=ExtractYear("seizure_date"))
        .values("year")
        .annotate(total=Count("id"))
        .order_by("year")
    ]
    routes = (
        records.values("departure_country", "destination_country")
        .annotate(total=Count("id"))
        .order_by("-total", "departure_country", "destination_country")[:TOP]
    )
    places = (
        records.values("place", "reporting_country")
        .annotate(total=Count("id"))
        .order_by("-total", "place", "reporting_country")[:TOP]
    )
    return {
        "category": category,
        "countries": [{"code": code, "name": country_name(code)} for code in countries],
        "total": records.count(),
        "by_year": [{**row, "validated": row["total"]} for row in by_year],
        "by_route": [
            {
                "key": f"{row['departure_country'] or '?'}>{row['destination_country'] or '?'}",
                "label": f"{_country(row['departure_country'])} → "
                f"{_country(row['destination_country'])}",
                "total": row["total"],
                "validated": row["total"],
            }
            for row in routes
        ],
        "by_transport": grouped(
            "transport_mode", label=lambda code: cen_label("transport_mode", code)
        ),
        "by_detection": grouped(
            "detection_method", label=lambda code: cen_label("detection_method", code)
        ),
        "by_concealment": grouped(
            "concealment_method",
            label=lambda code: cen_label("concealment_method", code) or _("Not stated"),
        ),
        "top_places": [
            {
                "key": f"{row['place']}|{row['reporting_country']}",
                "label": f"{row['place']} ({row['reporting_country']})",
                "total": row["total"],
                "validated": row["total"],
            }
            for row in places
        ],
    }
