import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from core.vocabularies import (
    CommodityCategory,
    Concealment,
    DetectionMethod,
    Direction,
    HandlingCode,
    LocationType,
    TransportMode,
    Unit,
)
from groups.models import Administration

from .countries import country_choices, currency_choices


def _blank(choices):
    return [("", "—"), *choices]


class OperationForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=64, help_text=_("For example THUNDER-2026."))
    name = forms.CharField(label=_("Name"), max_length=200)
    commodity_focus = forms.ChoiceField(
        label=_("Commodity focus"), choices=CommodityCategory.choices
    )
    coordinating_administration = forms.ModelChoiceField(
        label=_("Coordinating administration"), queryset=Administration.objects.all()
    )
    planned_start = forms.DateField(
        label=_("Planned start"), widget=forms.DateInput(attrs={"type": "date"})
    )
    planned_end = forms.DateField(
        label=_("Planned end"), widget=forms.DateInput(attrs={"type": "date"})
    )
    send_to_cen_continuously = forms.BooleanField(
        label=_("Send validated seizures to CEN during the operation"),
        required=False,
        help_text=_(
            "Each validated seizure goes to CEN within a minute, not only in the transfer at the end."
        ),
    )


class SeizureForm(forms.Form):
    """Renders the simplified seizure form; the rules are checked by the service."""

    seizure_date = forms.DateField(
        label=_("Date of seizure"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reporting_country = forms.ChoiceField(label=_("Reporting country"))
    place = forms.CharField(
        label=_("Place"), max_length=200, help_text=_("Customs office, port or airport.")
    )
    location_type = forms.ChoiceField(
        label=_("Type of location"), choices=_blank(LocationType.choices)
    )
    transport_mode = forms.ChoiceField(
        label=_("Means of transport"), choices=_blank(TransportMode.choices)
    )
    detection_method = forms.ChoiceField(
        label=_("Detection method"), choices=_blank(DetectionMethod.choices)
    )
    commodity_category = forms.ChoiceField(
        label=_("Commodity category"), choices=_blank(CommodityCategory.choices)
    )
    commodity_description = forms.CharField(label=_("Commodity description"), max_length=300)
    hs_code = forms.CharField(
        label=_("HS code"), max_length=12, required=False, help_text=_("4 to 10 digits, if known.")
    )
    quantity = forms.CharField(
        label=_("Quantity"), widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    unit = forms.ChoiceField(label=_("Unit"), choices=_blank(Unit.choices))
    estimated_value = forms.CharField(
        label=_("Estimated value"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    currency = forms.ChoiceField(label=_("Currency"), required=False)
    direction = forms.ChoiceField(label=_("Direction"), choices=_blank(Direction.choices))
    departure_country = forms.ChoiceField(label=_("Country of departure"), required=False)
    destination_country = forms.ChoiceField(label=_("Country of destination"), required=False)
    transit_countries = forms.MultipleChoiceField(
        label=_("Transit countries"), required=False, widget=forms.SelectMultiple(attrs={"size": 4})
    )
    concealment = forms.ChoiceField(
        label=_("Concealment"), choices=_blank(Concealment.choices), required=False
    )
    concealment_details = forms.CharField(
        label=_("Concealment details"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("How the goods were hidden. No names or other personal data."),
    )
    offenders_count = forms.IntegerField(
        label=_("Number of offenders"), required=False, min_value=0
    )
    handling_code = forms.ChoiceField(
        label=_("Handling code"),
        choices=HandlingCode.choices,
        help_text=_("How the seizure may be used; the operation's default is chosen."),
    )
    handling_conditions = forms.CharField(
        label=_("Conditions (H3 only)"), max_length=200, required=False
    )

    def __init__(self, *args, reporting_country: str = "", handling=None, **kwargs):
        """``handling``: the operation's default, for a new report. Without it (a
        correction) the form has no handling fields: a seizure's code is changed on its
        page, by its reporter or a coordinator."""
        super().__init__(*args, **kwargs)
        if handling is None:
            del self.fields["handling_code"], self.fields["handling_conditions"]
        elif not self.is_bound:
            self.initial.setdefault("handling_code", handling.code)
            self.initial.setdefault("handling_conditions", handling.conditions)
        countries = list(country_choices())
        for name in ("reporting_country", "departure_country", "destination_country"):
            self.fields[name].choices = _blank(countries)
        self.fields["transit_countries"].choices = countries
        self.fields["currency"].choices = _blank(currency_choices())
        if not self.is_bound:
            self.initial.setdefault("reporting_country", reporting_country)
            self.initial.setdefault("seizure_date", datetime.date.today().isoformat())


class HandlingForm(forms.Form):
    """An item's handling code, as its author or a coordinator changes it."""

    handling_code = forms.ChoiceField(label=_("Handling code"), choices=HandlingCode.choices)
    handling_conditions = forms.CharField(
        label=_("Conditions (H3 only)"), max_length=200, required=False
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
