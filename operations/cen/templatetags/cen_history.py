"""The planned operation's CEN history panel, for the operation page."""

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from operations.models import Operation

from ..history_selectors import operation_cen_history

register = template.Library()


@register.simple_tag
def cen_history_for(access) -> dict | None:
    """What CEN holds for the operation's focus and countries, while it is planned.

    ``access`` is the page's OperationAccess from ``access_operation``: only the
    operation's members (and staff) reach the page that shows it.
    """
    operation = access.operation
    if operation.status != Operation.Status.PLANNED:
        return None
    history = operation_cen_history(operation=operation)
    history["strings"] = {
        "empty": _("Nothing in CEN."),
        "validated": pgettext("seizure count", "Transferred"),
    }
    return history
