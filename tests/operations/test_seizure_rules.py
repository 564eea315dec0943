import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from operations.seizure_rules import clean_seizure_input
from tests.operations.conftest import seizure_data

pytestmark = pytest.mark.django_db


def errors_for(world, **overrides) -> dict:
    with pytest.raises(ValidationError) as error:
        clean_seizure_input(seizure_data(**overrides), operation=world.operation)
    return {field: " ".join(messages) for field, messages in error.value.message_dict.items()}


def test_a_good_report_comes_back_clean(world):
    cleaned = clean_seizure_input(seizure_data(), operation=world.operation)
    assert cleaned["quantity"] == Decimal("12.5")
    assert cleaned["transit_countries"] == ["ES"]
    assert cleaned["seizure_date"] == datetime.date.today() - datetime.timedelta(days=1)
    assert cleaned["offenders_count"] == 1


def test_a_future_date_is_refused(world):
    tomorrow = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
    assert "future" in errors_for(world, seizure_date=tomorrow)["seizure_date"]


def test_a_date_outside_the_operation_is_refused(world, settings):
    settings.SEIZURE_DATE_TOLERANCE_DAYS = 2
    long_ago = (world.operation.planned_start - datetime.timedelta(days=3)).isoformat()
    assert "within the operation" in errors_for(world, seizure_date=long_ago)["seizure_date"]


def test_a_date_just_before_the_start_is_within_the_tolerance(world, settings):
    settings.SEIZURE_DATE_TOLERANCE_DAYS = 2
    early = (world.operation.planned_start - datetime.timedelta(days=2)).isoformat()
    assert clean_seizure_input(seizure_data(seizure_date=early), operation=world.operation)


@pytest.mark.parametrize("quantity", ["0", "-3", "abc", "1e400", "NaN", "1.23456"])
def test_quantity_must_be_a_positive_number(world, quantity):
    assert "quantity" in errors_for(world, quantity=quantity)


def test_unit_must_fit_the_category(world):
    message = errors_for(world, commodity_category="currency", unit="kg")["unit"]
    assert "not a unit for" in message


@pytest.mark.parametrize("hs_code", ["12", "12345678901", "12ab"])
def test_hs_code_has_four_to_ten_digits(world, hs_code):
    assert "hs_code" in errors_for(world, hs_code=hs_code)


def test_hs_code_with_dots_is_accepted(world):
    cleaned = clean_seizure_input(seizure_data(hs_code="2403.11"), operation=world.operation)
    assert cleaned["hs_code"] == "240311"


def test_departure_equal_to_destination_needs_the_domestic_direction(world):
    assert "destination_country" in errors_for(
        world, departure_country="FR", destination_country="FR"
    )
    cleaned = clean_seizure_input(
        seizure_data(departure_country="FR", destination_country="FR", direction="domestic"),
        operation=world.operation,
    )
    assert cleaned["direction"] == "domestic"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("location_type", "spaceport"),
        ("transport_mode", "teleport"),
        ("detection_method", "psychic"),
        ("commodity_category", "gold"),
        ("unit", "bushel"),
        ("direction", "sideways"),
        ("reporting_country", "XX"),
        ("departure_country", "FRA"),
        ("currency", "EURO"),
    ],
)
def test_wrong_vocabulary_values_are_named(world, field, value):
    overrides = {field: value}
    if field == "currency":
        overrides["estimated_value"] = "10"
    assert field in errors_for(world, **overrides)


def test_transit_countries_must_be_codes(world):
    assert "transit_countries" in errors_for(world, transit_countries=["ES", "Atlantis"])
    cleaned = clean_seizure_input(
        seizure_data(transit_countries="es, pt"), operation=world.operation
    )
    assert cleaned["transit_countries"] == ["ES", "PT"]


def test_a_value_needs_a_currency(world):
    assert "currency" in errors_for(world, estimated_value="1000")


def test_missing_fields_are_each_named(world):
    errors = errors_for(world, place="", quantity="", unit="")
    assert {"place", "quantity", "unit"} <= set(errors)


def test_unknown_fields_are_refused(world):
    data = seizure_data()
    data["offender_name"] = "John Doe"
    with pytest.raises(ValidationError) as error:
        clean_seizure_input(data, operation=world.operation)
    assert "offender_name" in str(error.value)
