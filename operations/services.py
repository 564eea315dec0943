import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from groups.models import Administration
from groups.services import group_create

from .models import Operation
from .vocabularies import CommodityCategory


@transaction.atomic
def operation_create(
    *,
    code: str,
    name: str,
    commodity_focus: str,
    coordinating_administration: Administration,
    planned_start: datetime.date,
    planned_end: datetime.date,
    created_by,
) -> Operation:
    """Create an operation and its closed user group, the creator as coordinator."""
    code = code.strip().upper()
    errors = {}
    if Operation.objects.filter(code=code).exists():
        errors["code"] = _("An operation with this code already exists.")
    if commodity_focus not in CommodityCategory.values:
        errors["commodity_focus"] = _("Unknown commodity category.")
    if planned_end < planned_start:
        errors["planned_end"] = _("The operation cannot end before it starts.")
    if errors:
        raise ValidationError(errors)
    group = group_create(name=f"{code} — {name}", slug=code.lower(), created_by=created_by)
    return Operation.objects.create(
        code=code,
        name=name,
        commodity_focus=commodity_focus,
        coordinating_administration=coordinating_administration,
        planned_start=planned_start,
        planned_end=planned_end,
        group=group,
    )
