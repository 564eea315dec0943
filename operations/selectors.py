from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum

from groups.access import (
    GroupAccess,
    GroupNotFound,
    Need,
    access_group_where,
    manages_any_group,
    readable_groups,
)
from groups.models import Role

from .models import Operation, Seizure


@dataclass(frozen=True)
class OperationAccess:
    operation: Operation
    group_access: GroupAccess

    @property
    def role(self) -> str | None:
        return self.group_access.role

    @property
    def is_coordinator(self) -> bool:
        return self.group_access.role == Role.COORDINATOR or self.group_access.staff

    @property
    def can_report(self) -> bool:
        return (
            self.group_access.role in (Role.MEMBER, Role.COORDINATOR)
            and self.operation.status == Operation.Status.ACTIVE
        )


def access_operation(user, code: str, *, need: Need = "view") -> OperationAccess:
    """Like ``access_group``: the same 404, after the same work, for a missing operation
    and one not yours."""
    group_access = access_group_where(user, need=need, operation__code=(code or "").upper())
    operation = Operation.objects.select_related("coordinating_administration").get(
        group_id=group_access.group.pk
    )
    operation.group = group_access.group
    return OperationAccess(operation=operation, group_access=group_access)


def operations_of_user(*, user) -> QuerySet[Operation]:
    queryset = Operation.objects.select_related("coordinating_administration", "group")
    if user.is_staff:
        return queryset
    return queryset.filter(group__in=readable_groups(user=user))


def may_create_operations(*, user) -> bool:
    return user.is_staff or manages_any_group(user=user)


def seizure_list(*, operation: Operation, filters: dict | None = None) -> QuerySet[Seizure]:
    filters = filters or {}
    queryset = Seizure.objects.filter(operation=operation).select_related(
        "reported_by", "reporting_administration", "message"
    )
    for field in ("status", "commodity_category", "reporting_country", "transport_mode"):
        value = filters.get(field)
        if value:
            queryset = queryset.filter(**{field: value})
    return queryset.order_by("-seizure_date", "-created_at")


def seizure_for(*, operation: Operation, uuid) -> Seizure:
    seizure = (
        Seizure.objects.select_related(
            "reported_by", "reporting_administration", "message", "reviewed_by"
        )
        .filter(operation=operation, client_uuid=uuid)
        .first()
    )
    if seizure is None:
        raise GroupNotFound
    return seizure


def seizure_status_counts(*, operation: Operation) -> dict[str, int]:
    counts = dict(
        Seizure.objects.filter(operation=operation)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in Seizure.Status.values}


def dashboard_totals(*, operation: Operation) -> dict:
    """The live dashboard's numbers: every count comes from one grouped query."""
    seizures = Seizure.objects.filter(operation=operation).exclude(status=Seizure.Status.REJECTED)

    def grouped(field: str) -> list[dict]:
        rows = (
            seizures.values(field)
            .annotate(
                total=Count("id"),
                validated=Count("id", filter=Q(status=Seizure.Status.VALIDATED)),
            )
            .order_by("-total", field)
        )
        return [
            {"key": str(row[field]), "total": row["total"], "validated": row["validated"]}
            for row in rows
        ]

    quantities = (
        seizures.values("commodity_category", "unit")
        .annotate(quantity=Sum("quantity"))
        .order_by("commodity_category", "unit")
    )
    return {
        "status": seizure_status_counts(operation=operation),
        "by_category": grouped("commodity_category"),
        "by_country": grouped("reporting_country"),
        "by_transport": grouped("transport_mode"),
        "by_day": sorted(grouped("seizure_date"), key=lambda row: row["key"]),
        "quantities": [
            {
                "category": row["commodity_category"],
                "unit": row["unit"],
                "quantity": format(row["quantity"].normalize(), "f"),
            }
            for row in quantities
        ],
    }
