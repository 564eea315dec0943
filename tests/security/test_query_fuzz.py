"""Every page and endpoint answers hostile query parameters with a clear answer, never
a 500: each GET route of the authorization matrix, for a coordinator and for staff,
with every parameter any view reads set to each hostile value."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import sign_in
from tests.test_authorization_matrix import ROWS, Matrix

# Every query parameter a page or endpoint reads (grep request.GET / query_params).
PARAMETERS = [
    "status",
    "commodity_category",
    "reporting_country",
    "transport_mode",
    "before",
    "after",
    "limit",
    "offset",
    "page",
    "action",
    "actor",
    "format",
    "operation",
    "category",
    "country",
    "year",
    "next",
    "q",
]
HOSTILE = [
    "\x00",
    "a\x00b",
    "²",
    "٣",
    "-1",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "' OR 1=1 --",
    "%",
    "x" * 5000,
    "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
    "../../etc/passwd",
    "<script>alert(1)</script>",
]


def get_rows():
    for row in ROWS:
        if row.method == "get":
            yield row


@pytest.mark.django_db(databases=["default", "cen"])
@pytest.mark.parametrize("role", ["coordinator", "staff"])
def test_no_query_parameter_makes_a_page_fail(role, world, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    matrix = Matrix(world, make_user)
    client = sign_in(Client(raise_request_exception=False), matrix.users[role])
    failures = []
    for row in get_rows():
        url = reverse(
            row.name,
            kwargs={name: getattr(matrix, attribute) for name, attribute in row.kwargs.items()},
        )
        for value in HOSTILE:
            response = client.get(url, dict.fromkeys(PARAMETERS, value))
            if response.status_code >= 500:
                failures.append((row.name, repr(value)[:40], response.status_code))
    assert failures == [], failures


@pytest.mark.django_db
def test_a_nul_byte_gets_a_clear_400_on_pages_forms_and_the_api(world):
    client = sign_in(Client(), world.ocu)
    page = client.get(
        reverse("operations:seizures", kwargs={"code": world.operation.code}), {"status": "\x00"}
    )
    assert page.status_code == 400
    assert "The request contains a character that is not allowed." in page.content.decode()
    form = client.post(
        reverse("groups:member_add", kwargs={"slug": world.group.slug}),
        {"username": "officer\x00", "role": "member"},
    )
    assert form.status_code == 400
    api = client.get("/api/v1/groups/", {"q": "a\x00"})
    assert api.status_code == 400
    assert api.json()["error"]["code"] == "invalid"


@pytest.mark.django_db
def test_superscript_digits_are_not_a_number_of_offenders(world):
    from django.core.exceptions import ValidationError

    from operations.seizure_rules import clean_seizure_input
    from tests.operations.conftest import seizure_data

    with pytest.raises(ValidationError) as caught:
        clean_seizure_input(seizure_data(offenders_count="²"), operation=world.operation)
    assert list(caught.value.message_dict) == ["offenders_count"]
