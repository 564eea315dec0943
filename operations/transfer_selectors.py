"""Reading transfers: run status, the one-line summary, the report, data quality."""

from collections import Counter, defaultdict
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from core.collation import sorted_by_name
from groups.access import GroupNotFound

from .cen.mapping import SOURCE_SYSTEM
from .cen.models import CenSeizure
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


def pending_review(*, operation: Operation) -> dict:
    """What is not validated yet, by administration: awaiting validation, and rejected
    and awaiting its reporter's correction. The confirmation pages state it."""
    rows = (
        Seizure.objects.filter(operation=operation)
        .exclude(status=Seizure.Status.VALIDATED)
        .values("reporting_administration__name", "reporting_administration__country")
        .annotate(
            submitted=Count("id", filter=Q(status=Seizure.Status.SUBMITTED)),
            rejected=Count("id", filter=Q(status=Seizure.Status.REJECTED)),
        )
        .order_by("reporting_administration__name")
    )
    administrations = [
        {
            "administration": row["reporting_administration__name"],
            "country": row["reporting_administration__country"],
            "submitted": row["submitted"],
            "rejected": row["rejected"],
        }
        for row in rows
    ]
    administrations = sorted_by_name(administrations, lambda row: row["administration"])
    return {
        "submitted": sum(row["submitted"] for row in administrations),
        "rejected": sum(row["rejected"] for row in administrations),
        "administrations": administrations,
    }


def cen_standing(*, operation: Operation) -> dict:
    """Is everything validated in CEN? ``validated_not_in_cen`` says how much is not.

    CEN holds only what reconciled runs and runs under way delivered for this operation
    code, all of it validated here (reconciliation checks it), so the difference of the
    two counts is the number still to send.
    """
    validated = Seizure.objects.filter(operation=operation, status=Seizure.Status.VALIDATED)
    validated_count = validated.count()
    # Only transfer runs write to CEN: without one, CEN holds nothing of the operation.
    ever_sent = TransferRun.objects.filter(operation=operation).exists()
    in_cen = (
        CenSeizure.objects.using("cen")
        .filter(source_system=SOURCE_SYSTEM, operation_code=operation.code)
        .count()
        if ever_sent
        else 0
    )
    not_in_cen = max(validated_count - in_cen, 0)
    return {
        "validated": validated_count,
        "in_cen": in_cen,
        "validated_not_in_cen": not_in_cen,
        "all_in_cen": operation.status == Operation.Status.TRANSFERRED and not_in_cen == 0,
    }


def seizure_in_cen(*, seizure: Seizure, operation: Operation) -> bool:
    """Has this seizure reached CEN? Its record is there under its provenance key."""
    if not TransferRun.objects.filter(operation=operation).exists():
        return False  # only transfer runs write to CEN
    return (
        CenSeizure.objects.using("cen")
        .filter(
            source_system=SOURCE_SYSTEM,
            operation_code=operation.code,
            seizure_uuid=seizure.client_uuid,
        )
        .exists()
    )


def transfer_running(*, operation: Operation) -> bool:
    """Is a run of this operation sending to CEN right now?"""
    return TransferRun.objects.filter(operation=operation, state=TransferRun.State.RUNNING).exists()


def standing_text(*, operation: Operation, standing: dict) -> str:
    """In plain words: is everything validated in CEN, and if not, how much is missing."""
    validated, missing = standing["validated"], standing["validated_not_in_cen"]
    if operation.status == Operation.Status.TRANSFERRED:
        if not missing:
            return ngettext(
                "CEN holds the %(validated)s validated seizure of this operation.",
                "CEN holds all %(validated)s validated seizures of this operation.",
                validated,
            ) % {"validated": validated}
        return ngettext(
            "%(count)s validated seizure is not in CEN yet: a follow-up transfer sends it.",
            "%(count)s validated seizures are not in CEN yet: a follow-up transfer sends them.",
            missing,
        ) % {"count": missing}
    if operation.send_to_cen_continuously and operation.status == Operation.Status.ACTIVE:
        return ngettext(
            "Validated seizures go to CEN within a minute: %(in_cen)s of %(validated)s are there.",
            "Validated seizures go to CEN within a minute: %(in_cen)s of %(validated)s are there.",
            validated,
        ) % {"in_cen": standing["in_cen"], "validated": validated}
    if operation.status == Operation.Status.CLOSED:
        return ngettext(
            "%(count)s validated seizure is not in CEN yet.",
            "%(count)s validated seizures are not in CEN yet.",
            missing,
        ) % {"count": missing}
    return ""


def has_something_to_send(*, operation: Operation, standing: dict | None = None) -> bool:
    """A closed operation goes to CEN; a transferred one again only in a follow-up
    transfer, with seizures validated since (or after a failed run, to put it right)."""
    if operation.status == Operation.Status.CLOSED:
        return True
    if operation.status != Operation.Status.TRANSFERRED:
        return False
    last = (
        TransferRun.objects.filter(operation=operation)
        .exclude(state__in=TransferRun.ACTIVE_STATES)
        .values_list("state", flat=True)
        .first()
    )
    if last == TransferRun.State.FAILED:
        return True
    standing = standing or cen_standing(operation=operation)
    return standing["validated_not_in_cen"] > 0 or revised_since_last_run(operation=operation)


def revised_since_last_run(*, operation: Operation) -> bool:
    """A validated seizure amended after the last finished run: CEN holds its old version."""
    finished = (
        TransferRun.objects.filter(operation=operation, finished_at__isnull=False)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return finished is not None and (
        Seizure.objects.filter(
            operation=operation, status=Seizure.Status.VALIDATED, updated_at__gt=finished
        ).exists()
    )


def may_reopen(*, operation: Operation) -> bool:
    """A closed operation that no run has transferred, nor is transferring now."""
    return (
        operation.status == Operation.Status.CLOSED
        and not TransferRun.objects.filter(
            operation=operation,
            state__in=(*TransferRun.ACTIVE_STATES, TransferRun.State.RECONCILED),
        ).exists()
    )


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
        "updated": run.updated,
        "already_present": run.already_present,
        "withdrawn": run.withdrawn,
        "left_behind": run.left_behind,
        "batches_done": run.batches_done,
        "rows_per_second": run.rows_per_second,
    }


def waiting_for_worker(run: TransferRun, *, now=None) -> bool:
    """A queued run that no worker has picked up within CEN_TRANSFER_PICKUP_SECONDS.

    An idle worker polls the queue every second and claims a job at once, so a run
    still queued after this long means no worker is running (or every worker is busy):
    the page says so instead of showing a silent "Queued".
    """
    if run.state != TransferRun.State.QUEUED:
        return False
    queued_since = max(filter(None, (run.queued_at, run.heartbeat_at)))
    waited = (now or timezone.now()) - queued_since
    return waited.total_seconds() > settings.CEN_TRANSFER_PICKUP_SECONDS


def worker_notice(run: TransferRun) -> str:
    return _(
        "Waiting for a worker: no worker has picked this transfer up since %(time)s. Transfers are run by the task worker (manage.py db_worker); ask the platform's operator to start it. The transfer begins as soon as a worker is running."
    ) % {"time": formats.time_format(timezone.localtime(run.heartbeat_at or run.queued_at))}


def transfer_summary(run: TransferRun) -> str:
    """One line: what the run did, and what the operator or coordinator should know."""
    counts = _summary_counts(run)
    follow_up = bool((run.report or {}).get("previously_transferred"))
    if run.state == TransferRun.State.RECONCILED and run.via == TransferRun.Via.CONTINUOUS:
        return (
            _(
                "%(code)s: sent during the operation — CEN holds its %(validated)s validated seizures: %(inserted)s new, %(updated)s updated, %(withdrawn)s withdrawn, %(present)s unchanged (run #%(run)s)."
            )
            % counts
        )
    if run.state == TransferRun.State.RECONCILED:
        line = _reconciled_line(run, counts, follow_up=follow_up)
        return f"{line} {_left_behind_line(run, counts)}".strip()
    if run.state == TransferRun.State.FAILED:
        line = _failed_line(run, counts, follow_up=follow_up)
        return f"{line} {_left_behind_line(run, counts)}".strip()
    return _(
        "%(code)s: run #%(run)s is %(state)s — %(batches)s batches, %(inserted)s inserted, %(present)s already present."
    ) % {**counts, "state": run.get_state_display().lower()}


def _summary_counts(run: TransferRun) -> dict:
    return {
        "code": run.operation.code,
        "run": run.pk,
        "validated": run.validated,
        "inserted": run.inserted,
        "updated": run.updated,
        "withdrawn": run.withdrawn,
        "present": run.already_present,
        "left": run.left_behind,
        "batches": run.batches_done,
        "rate": f"{run.rows_per_second:,.0f}",
    }


def _left_behind_line(run: TransferRun, counts: dict) -> str:
    if not run.left_behind:
        return ""
    return (
        ngettext(
            "%(left)s seizure left behind (not validated).",
            "%(left)s seizures left behind (not validated).",
            run.left_behind,
        )
        % counts
    )


def _reconciled_line(run: TransferRun, counts: dict, *, follow_up: bool) -> str:
    if follow_up and run.inserted:
        return (
            ngettext(
                "%(code)s: follow-up transfer reconciled — %(inserted)s seizure validated since the last transfer added to CEN, which now holds all %(validated)s validated seizures (run #%(run)s).",
                "%(code)s: follow-up transfer reconciled — %(inserted)s seizures validated since the last transfer added to CEN, which now holds all %(validated)s validated seizures (run #%(run)s).",
                run.inserted,
            )
            % counts
        )
    if run.inserted == 0 and run.updated == 0 and run.withdrawn == 0 and follow_up:
        return (
            _(
                "%(code)s: already transferred — CEN holds all %(validated)s validated seizures; nothing changed (run #%(run)s)."
            )
            % counts
        )
    return (
        ngettext(
            "%(code)s: reconciled and transferred — %(validated)s validated seizures in CEN: %(inserted)s inserted, %(present)s already present, %(batches)s batch at %(rate)s seizures/s (run #%(run)s).",
            "%(code)s: reconciled and transferred — %(validated)s validated seizures in CEN: %(inserted)s inserted, %(present)s already present, %(batches)s batches at %(rate)s seizures/s (run #%(run)s).",
            run.batches_done,
        )
        % counts
    )


def _failed_line(run: TransferRun, counts: dict, *, follow_up: bool) -> str:
    reason = _failure_reason(run.report or {})
    if follow_up:
        return _(
            "%(code)s: follow-up transfer failed (run #%(run)s), %(reason)s; start it again once the cause is put right."
        ) % {**counts, "reason": reason}
    return _(
        "%(code)s: transfer failed (run #%(run)s), %(reason)s; the operation stays closed."
    ) % {**counts, "reason": reason}


def _failure_reason(report: dict) -> str:
    if report.get("error"):
        return _("error: %(error)s") % {"error": report["error"]}
    mismatch = report.get("reconciliation", {})
    return _(
        "CEN does not match: %(missing)s missing, %(unexpected)s unexpected, %(differing)s differing"
    ) % {
        "missing": mismatch.get("missing_count", 0),
        "unexpected": mismatch.get("unexpected_count", 0),
        "differing": mismatch.get("differing_count", 0),
    }


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
    yield from _summary_section(run, report)
    yield from _delivered_section(report)
    yield from _withdrawn_section(report)
    yield from _left_behind_section(report)
    yield from _reconciliation_section(report)
    yield from _quality_section(report)


def _summary_section(run: TransferRun, report: dict) -> Iterator[list[str]]:
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
        (_("Updated"), run.updated),
        (_("Already present"), run.already_present),
        (_("Withdrawn"), run.withdrawn),
        (_("Left behind"), run.left_behind),
        (_("Batches"), run.batches_done),
        (_("Seizures per second"), run.rows_per_second),
        (_("Error"), report.get("error", "")),
    ):
        yield [label, _neutral(value)]


def _delivered_section(report: dict) -> Iterator[list[str]]:
    yield []
    yield [_("Sent to CEN by this run")]
    yield [_("Seizure"), _("Date of seizure"), _("Reporting country"), _("Commodity category")]
    for seizure in report.get("delivered", {}).get("seizures", []):
        yield [
            _neutral(value)
            for value in (
                seizure["uuid"],
                seizure["seizure_date"],
                seizure["reporting_country"],
                seizure["commodity_category"],
            )
        ]


def _withdrawn_section(report: dict) -> Iterator[list[str]]:
    withdrawn = report.get("withdrawn", [])
    if not withdrawn:
        return
    yield []
    yield [_("Withdrawn from CEN (no longer validated)")]
    for seizure_uuid in withdrawn:
        yield [_neutral(seizure_uuid)]


def _left_behind_section(report: dict) -> Iterator[list[str]]:
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


def _reconciliation_section(report: dict) -> Iterator[list[str]]:
    reconciliation = report.get("reconciliation")
    if not reconciliation:
        return
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


def _quality_section(report: dict) -> Iterator[list[str]]:
    quality = report.get("data_quality")
    if not quality:
        return
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
