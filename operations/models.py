from django.db import models
from django.utils.translation import gettext_lazy as _

from groups.models import Administration, ClosedUserGroup

from .vocabularies import CommodityCategory


class Operation(models.Model):
    """A joint enforcement operation. It owns exactly one closed user group."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")
        TRANSFERRED = "transferred", _("Transferred")

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    commodity_focus = models.CharField(
        _("commodity focus"), max_length=32, choices=CommodityCategory.choices
    )
    coordinating_administration = models.ForeignKey(
        Administration,
        on_delete=models.PROTECT,
        related_name="coordinated_operations",
        verbose_name=_("coordinating administration"),
    )
    planned_start = models.DateField(_("planned start"))
    planned_end = models.DateField(_("planned end"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PLANNED
    )
    group = models.OneToOneField(
        ClosedUserGroup, on_delete=models.PROTECT, related_name="operation"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-planned_start", "code"]
        verbose_name = _("operation")
        verbose_name_plural = _("operations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(planned_end__gte=models.F("planned_start")),
                name="operation_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"
