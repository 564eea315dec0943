"""Reading transfers: run status, the one-line summary, the report, data quality."""

from collections import Counter, defaultdict
from collections.abc import Iterator

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from groups.selectors import GroupNotFound

from .models import Operation, Seizure, TransferRun

# The simplified form's optional fields, and what "filled in" means for each. Transit
# countries are left out: a direct route legitimately has none.
OPTIONAL_FIELDS = {
    "hs_code": ~Q(hs_code=""),
    "estimated_value": Q(estimated_value__isnull=False),
    "departure_country": ~Q(departure_country=""),
    "destination_country": ~Q(destination_country=""),
    "concealment": ~Q(concealment=""),
    "offenders_count": Q(offenders_count__isnull=False),
}


def optional_field_labels() -> dict[str, str]:
    return {name: str(Seizure._meta.get_field(name).verbose_name) for name in OPTIONAL_FIELDS}


def transfer_runs(*, operation: Operation, limit: int = 20) -> QuerySet[TransferRun]:
    return TransferRun.objects.filter(operation=operation).select_related("started_by")[:limit]


def transfer_run_for(*, operation: Operation, run_id: int) -> TransferRun:
    run = (
        TransferRun.objects.select_related("operation", "started_by")
        .filter(operation=operation, pk=run_id)
        .first()
    )
    if run is None:
        raise GroupNotFound
    return run


def run_data(run: TransferRun) -> dict:
    """A run's progress as the live event and the status JSON carry it."""

    def moment(value):
        return value.isoformat() if value else None

    return {
        "run": run.pk,
        "state": run.state,
        "via": run.via,
        "started_by": run.started_by.get_username() if run.started_by_id else None,
        "queued_at": moment(run.queued_at),
        "started_at": moment(run.started_at),
        "finished_at": moment(run.finished_at),
        "attempts": run.attempts,
        "validated": run.validated,
        "sent": run.sent,
        "inserted": run.inserted,
        "already_present": run.already_present,
        "left_behind": run.left_behind,
        "batches_done": run.batches_done,
        "rows_per_second": run.rows_per_second,
    }


def transfer_summary(run: TransferRun) -> str:
    """One line: what the run did, and what the operator or coordinator should know."""
    code = run.operation.code
    counts = {
        "code": code,
        "run": run.pk,
        "validated": run.validated,
        "inserted": run.inserted,
        "present": run.already_present,
        "left": run.left_behind,
        "batches": run.batches_done,
        "rate": f"{run.rows_per_second:,.0f}",
    }
    left = (
        ngettext(
            "%(left)s seizure left behind (not validated).",
            "%(left)s seizures left behind (not validated).",
            run.left_behind,
        )
        % counts
        if run.left_behind
        else ""
    )
    if run.state == TransferRun.State.RECONCILED:
        if run.inserted == 0 and run.report.get("previously_transferred"):
            line = (
                _(
                    "%(code)s: already transferred — CEN holds all %(validated)s validated seizures; nothing changed (run #%(run)s)."
                )
                % counts
            )
        else:
            line = (
                ngettext(
                    "%(code)s: reconciled and transferred — %(validated)s validated seizures in CEN: %(inserted)s inserted, %(present)s already present, %(batches)s batch at %(rate)s seizures/s (run #%(run)s).",
                    "%(code)s: reconciled and transferred — %(validated)s validated seizures in CEN: %(inserted)s inserted, %(present)s already present, %(batches)s batches at %(rate)s seizures/s (run #%(run)s).",
                    run.batches_done,
                )
                % counts
            )
        return f"{line} {left}".strip()
    if run.state == TransferRun.State.FAILED:
        report = run.report or {}
        if report.get("error"):
            reason = _("error: %(error)s") % {"error": report["error"]}
        else:
            mismatch = report.get("reconciliation", {})
            reason = _(
                "CEN does not match: %(missing)s missing, %(unexpected)s unexpected, %(differing)s differing"
            ) % {
                "missing": mismatch.get("missing_count", 0),
                "unexpected": mismatch.get("unexpected_count", 0),
                "differing": mismatch.get("differing_count", 0),
            }
        line = _(
            "%(code)s: transfer failed (run #%(run)s), %(reason)s; the operation stays closed."
        ) % {**counts, "reason": reason}
        return f"{line} {left}".strip()
    return _(
        "%(code)s: run #%(run)s is %(state)s — %(batches)s batches, %(inserted)s inserted, %(present)s already present."
    ) % {**counts, "state": run.get_state_display().lower()}


def _median(counts: Counter) -> float:
    """The median of values given as value → how many times."""
    total = counts.total()
    middle = [(total - 1) // 2, total // 2]
    seen = 0
    found = []
    for value in sorted(counts):
        while len(found) < 2 and middle[len(found)] < seen + counts[value]:
            found.append(value)
        seen += counts[value]
    return (found[0] + found[1]) / 2 if found[0] != found[1] else found[0]


def data_quality(*, operation: Operation) -> dict:
    """Per reporting administration: how many seizures, how complete, how timely.

    Completeness is the share of seizures with each optional field filled in;
    timeliness is the days from the seizure to its report.
    """
    per_administration = (
        Seizure.objects.filter(operation=operation)
        .values(
            "reporting_administration",
            "reporting_administration__name",
            "reporting_administration__country",
        )
        .annotate(
            reported=Count("id"),
            validated=Count("id", filter=Q(status=Seizure.Status.VALIDATED)),
            submitted=Count("id", filter=Q(status=Seizure.Status.SUBMITTED)),
            rejected=Count("id", filter=Q(status=Seizure.Status.REJECTED)),
            **{f"filled_{name}": Count("id", filter=q) for name, q in OPTIONAL_FIELDS.items()},
        )
        .order_by("-reported", "reporting_administration__name")
    )
    # Timeliness from a histogram (administration, seizure day, report day → count): a
    # handful of rows per administration whatever the number of seizures.
    delays: dict[int, Counter] = defaultdict(Counter)
    histogram = (
        Seizure.objects.filter(operation=operation)
        .values("reporting_administration", "seizure_date", reported_on=TruncDate("created_at"))
        .annotate(seizures=Count("id"))
        .order_by()
    )
    for row in histogram:
        days = max((row["reported_on"] - row["seizure_date"]).days, 0)
        delays[row["reporting_administration"]][days] += row["seizures"]
    rows = []
    for row in per_administration:
        reported = row["reported"]
        completeness = {
            name: round(100 * row[f"filled_{name}"] / reported, 1) for name in OPTIONAL_FIELDS
        }
        days = delays.get(row["reporting_administration"]) or Counter({0: 1})
        rows.append(
            {
                "administration": row["reporting_administration__name"],
                "country": row["reporting_administration__country"],
                "reported": reported,
                "validated": row["validated"],
                "submitted": row["submitted"],
                "rejected": row["rejected"],
                "completeness": completeness,
                "completeness_overall": round(sum(completeness.values()) / len(completeness), 1),
                "days_median": _median(days),
                "days_mean": round(sum(d * n for d, n in days.items()) / days.total(), 1),
                "days_max": max(days),
            }
        )
    return {"fields": list(OPTIONAL_FIELDS), "administrations": rows}


def _neutral(value) -> str:
    """A cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def report_rows(run: TransferRun) -> Iterator[list[str]]:
    """The run's report as CSV rows, in sections: summary, left behind, mismatch, quality."""
    report = run.report or {}
    yield [_("Transfer report"), run.operation.code, f"#{run.pk}"]
    yield [_("Summary"), transfer_summary(run)]
    for label, value in (
        (_("State"), run.get_state_display()),
        (_("Started from"), run.get_via_display()),
        (_("Started by"), run.started_by.get_username() if run.started_by_id else ""),
        (_("Queued at"), run.queued_at.isoformat()),
        (_("Started at"), run.started_at.isoformat() if run.started_at else ""),
        (_("Finished at"), run.finished_at.isoformat() if run.finished_at else ""),
        (_("Attempts"), run.attempts),
        (_("Validated seizures"), run.validated),
        (_("Sent"), run.sent),
        (_("Inserted"), run.inserted),
        (_("Already present"), run.already_present),
        (_("Left behind"), run.left_behind),
        (_("Batches"), run.batches_done),
        (_("Seizures per second"), run.rows_per_second),
        (_("Error"), report.get("error", "")),
    ):
        yield [label, _neutral(value)]

    yield []
    yield [_("Left behind (not transferred)")]
    yield [
        _("Seizure"),
        _("Status"),
        _("Reason"),
        _("Date of seizure"),
        _("Reporting country"),
        _("Commodity category"),
    ]
    statuses = dict(Seizure.Status.choices)
    for seizure in report.get("left_behind", {}).get("seizures", []):
        if seizure["status"] == Seizure.Status.REJECTED:
            reason = _("Rejected: %(reason)s") % {"reason": seizure["reason"]}
        else:
            reason = _("Awaiting validation: validate or reject it, then transfer again.")
        yield [
            _neutral(value)
            for value in (
                seizure["uuid"],
                statuses.get(seizure["status"], seizure["status"]),
                reason,
                seizure["seizure_date"],
                seizure["reporting_country"],
                seizure["commodity_category"],
            )
        ]

    reconciliation = report.get("reconciliation")
    if reconciliation:
        yield []
        yield [_("Reconciliation")]
        yield [_("Validated seizures"), reconciliation["expected"]]
        yield [_("Seizures in CEN"), reconciliation["in_cen"]]
        for key, label in (
            ("missing", _("Missing in CEN")),
            ("unexpected", _("In CEN but not validated here")),
            ("differing", _("Content differs")),
        ):
            for uuid in reconciliation.get(key, []):
                yield [label, uuid]

    quality = report.get("data_quality")
    if quality:
        labels = optional_field_labels()
        yield []
        yield [_("Data quality per administration")]
        yield [
            _("Administration"),
            _("Country"),
            _("Reported"),
            pgettext("seizure count", "Validated"),
            _("Awaiting validation"),
            _("Rejected"),
            _("Completeness (%)"),
            *[_("%(field)s filled (%%)") % {"field": labels[name]} for name in quality["fields"]],
            _("Days to report (median)"),
            _("Days to report (mean)"),
            _("Days to report (max)"),
        ]
        for row in quality["administrations"]:
            yield [
                _neutral(value)
                for value in (
                    row["administration"],
                    row["country"],
                    row["reported"],
                    row["validated"],
                    row["submitted"],
                    row["rejected"],
                    row["completeness_overall"],
                    *[row["completeness"][name] for name in quality["fields"]],
                    row["days_median"],
                    row["days_mean"],
                    row["days_max"],
                )
            ]
