"""What a Regional Intelligence Liaison Office reads: the data input of its region.

For each administration of the region: the seizures it reported on the platform
(across every operation), how many were validated, how complete and how timely they
were, and how many of its seizures CEN holds. Administrations that reported nothing
are listed too: they are the ones a RILO has to chase.
"""

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from core.collation import sorted_by_name
from groups.models import Administration, Region, RiloAssignment
from operations.models import Seizure
from operations.transfer_selectors import OPTIONAL_FIELDS

from .models import CenSeizure
from .selectors import CEN, COUNTRY

PERIODS = (6, 12, 24, 36)
DEFAULT_MONTHS = 12


class RiloRefused(PermissionDenied):
    """Asked for a region or administration the user does not monitor."""


@dataclass(frozen=True)
class RiloScope:
    regions: list[str]  # the regions the user may choose from
    region: str
    administrations: list[Administration]  # the region's, by name
    administration: Administration | None  # one of them, when narrowed to it
    months: int
    errors: dict[str, str]

    @property
    def region_label(self) -> str:
        return str(Region(self.region).label)

    @property
    def monitored(self) -> list[Administration]:
        return [self.administration] if self.administration else self.administrations


def rilo_regions(user) -> list[str]:
    """The regions a user monitors: every one for staff, else their RILO assignments."""
    if not user.is_authenticated:
        return []
    if user.is_staff:
        return list(Region.values)
    assigned = set(RiloAssignment.objects.filter(user=user).values_list("region", flat=True))
    return [region for region in Region.values if region in assigned]


def rilo_may_read(user) -> bool:
    return user.is_authenticated and (
        user.is_staff or RiloAssignment.objects.filter(user=user).exists()
    )


def rilo_scope(*, user, params) -> RiloScope:
    """The region, administration and period a RILO asks for, checked against what the
    user monitors. Raises ``RiloRefused`` (a 403 with its reason) for another region or
    another region's administration; badly written values are errors, not refusals."""
    regions = rilo_regions(user)
    if not regions:
        raise RiloRefused(_("The RILO pages are for Regional Intelligence Liaison Offices."))
    errors: dict[str, str] = {}

    months = DEFAULT_MONTHS
    raw_months = (params.get("months") or "").strip()
    if raw_months:
        if raw_months.isascii() and raw_months.isdigit() and int(raw_months) in PERIODS:
            months = int(raw_months)
        else:
            errors["months"] = _("Choose one of the periods offered.")

    region = regions[0]
    raw_region = (params.get("region") or "").strip().upper()
    if raw_region:
        if raw_region not in Region.values:
            errors["region"] = _("Unknown region.")
        elif raw_region not in regions:
            raise RiloRefused(
                _("You monitor %(mine)s; %(region)s is not your region.")
                % {
                    "mine": ", ".join(str(Region(code).label) for code in regions),
                    "region": Region(raw_region).label,
                }
            )
        else:
            region = raw_region

    administration = None
    raw_administration = (params.get("administration") or "").strip().upper()
    if raw_administration:
        found = (
            Administration.objects.filter(country=raw_administration).first()
            if COUNTRY.match(raw_administration)
            else None
        )
        if found is None:
            errors["administration"] = _("No administration has this country code.")
        elif found.region not in regions:
            raise RiloRefused(
                _("%(administration)s belongs to %(region)s, a region you do not monitor.")
                % {"administration": found.name, "region": found.get_region_display()}
            )
        else:
            administration = found
            region = found.region

    return RiloScope(
        regions=regions,
        region=region,
        administrations=sorted_by_name(Administration.objects.filter(region=region)),
        administration=administration,
        months=months,
        errors=errors,
    )


def _month_start(day: datetime.date, months_back: int) -> datetime.date:
    month_index = day.year * 12 + (day.month - 1) - months_back
    return datetime.date(month_index // 12, month_index % 12 + 1, 1)


def _month_keys(first: datetime.date, today: datetime.date) -> list[str]:
    keys = []
    day = first
    while day <= today:
        keys.append(f"{day:%Y-%m}")
        day = _month_start(day, -1)
    return keys


def _median(counts: Counter) -> float:
    """The median of values given as value → how many times."""
    values = sorted(counts)
    total = counts.total()
    wanted = [(total - 1) // 2, total // 2]
    found = []
    seen = 0
    for value in values:
        seen += counts[value]
        while len(found) < 2 and wanted[len(found)] < seen:
            found.append(value)
    return (found[0] + found[1]) / 2


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def rilo_data_input(*, scope: RiloScope, today: datetime.date | None = None) -> dict:
    """The monitored administrations' data input since the first day of the period.

    Platform seizures count in the month they were reported (their data input); CEN
    records, which carry no report date, in the month of the seizure.
    """
    today = today or timezone.localdate()
    since = _month_start(today, scope.months - 1)
    since_moment = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
    monitored = scope.monitored
    reported = Seizure.objects.filter(
        reporting_administration__in=[administration.pk for administration in monitored],
        created_at__gte=since_moment,
    ).order_by()
    in_cen = CenSeizure.objects.using(CEN).filter(
        reporting_country__in=[administration.country for administration in monitored],
        seizure_date__gte=since,
    )
    per_administration = _reported_per_administration(reported)
    delays = _report_delays(reported)
    cen_per_country = _records_per_country(in_cen)
    month_keys = _month_keys(since, today)
    return {
        "region": scope.region,
        "since": since,
        "months": scope.months,
        "fields": list(OPTIONAL_FIELDS),
        "administrations": [
            _administration_row(
                administration,
                counts=per_administration.get(administration.pk),
                days=delays.get(administration.pk),
                cen_records=cen_per_country.get(administration.country, 0),
            )
            for administration in monitored
        ],
        "by_month": _reported_by_month(reported, month_keys),
        "cen_by_month": _cen_by_month(in_cen, month_keys),
    }


def _reported_per_administration(reported: QuerySet[Seizure]) -> dict[int, dict]:
    return {
        row["reporting_administration"]: row
        for row in reported.values("reporting_administration").annotate(
            reported=Count("id"),
            validated=Count("id", filter=Q(status=Seizure.Status.VALIDATED)),
            submitted=Count("id", filter=Q(status=Seizure.Status.SUBMITTED)),
            rejected=Count("id", filter=Q(status=Seizure.Status.REJECTED)),
            operations=Count("operation", distinct=True),
            last_report=Max("created_at"),
            **{f"filled_{name}": Count("id", filter=q) for name, q in OPTIONAL_FIELDS.items()},
        )
    }


def _report_delays(reported: QuerySet[Seizure]) -> dict[int, Counter]:
    """Days to report from a histogram (administration, seizure day, report day → count):
    a few rows per administration whatever the number of seizures."""
    delays: dict[int, Counter] = defaultdict(Counter)
    for row in reported.values(
        "reporting_administration", "seizure_date", reported_on=TruncDate("created_at")
    ).annotate(seizures=Count("id")):
        days = max((row["reported_on"] - row["seizure_date"]).days, 0)
        delays[row["reporting_administration"]][days] += row["seizures"]
    return delays


def _records_per_country(in_cen: QuerySet[CenSeizure]) -> dict[str, int]:
    return dict(
        in_cen.order_by()
        .values("reporting_country")
        .annotate(records=Count("id"))
        .values_list("reporting_country", "records")
    )


def _administration_row(
    administration: Administration, *, counts: dict | None, days: Counter | None, cen_records: int
) -> dict:
    """One administration's line; ``counts`` is None when it reported nothing."""
    total = counts["reported"] if counts else 0
    completeness = {
        name: _percent(counts[f"filled_{name}"], total) if counts else None
        for name in OPTIONAL_FIELDS
    }
    return {
        "country": administration.country,
        "name": administration.name,
        "reported": total,
        "validated": counts["validated"] if counts else 0,
        "submitted": counts["submitted"] if counts else 0,
        "rejected": counts["rejected"] if counts else 0,
        "operations": counts["operations"] if counts else 0,
        "last_report": counts["last_report"] if counts else None,
        "share_validated": _percent(counts["validated"], total) if counts else None,
        "completeness": completeness,
        "completeness_overall": (
            round(sum(completeness.values()) / len(completeness), 1) if counts else None
        ),
        "days_median": _median(days) if days else None,
        "days_mean": (
            round(sum(day * n for day, n in days.items()) / days.total(), 1) if days else None
        ),
        "days_max": max(days) if days else None,
        "cen_records": cen_records,
    }


def _reported_by_month(reported: QuerySet[Seizure], month_keys: list[str]) -> list[dict]:
    by_month = {key: {"total": 0, "validated": 0} for key in month_keys}
    for row in reported.values(month=TruncMonth("created_at")).annotate(
        total=Count("id"), validated=Count("id", filter=Q(status=Seizure.Status.VALIDATED))
    ):
        by_month[f"{row['month']:%Y-%m}"] = {"total": row["total"], "validated": row["validated"]}
    return [{"key": key, **by_month[key]} for key in month_keys]


def _cen_by_month(in_cen: QuerySet[CenSeizure], month_keys: list[str]) -> list[dict]:
    cen_by_month = dict.fromkeys(month_keys, 0)
    for row in (
        in_cen.order_by().values(month=TruncMonth("seizure_date")).annotate(records=Count("id"))
    ):
        cen_by_month[f"{row['month']:%Y-%m}"] = row["records"]
    return [
        {"key": key, "total": cen_by_month[key], "validated": cen_by_month[key]}
        for key in month_keys
    ]
