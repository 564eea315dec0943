"""What the API promises in its schema is what it does: exact decimals, the real limits,
typed seizure cards, every error code, an attachment upload for token clients, and a
docs page whose scripts all come from the platform."""

import io
import re
import uuid

import pytest
from django.conf import settings as django_settings
from rest_framework import exceptions
from rest_framework.test import APIClient

from core.api import ERROR_CODES, positive_decimal_pattern
from messaging.models import Attachment, Message
from operations.models import Operation
from operations.services import operation_set_status
from tests.conftest import api_token
from tests.operations.conftest import seizure_data

pytestmark = pytest.mark.django_db


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


@pytest.fixture
def schema():
    return APIClient().get("/api/schema/?format=json").json()


@pytest.fixture
def active(world):
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    return world


def _report(world, **overrides):
    data = seizure_data(**{"estimated_value": None, **overrides})
    data.update(client_uuid=str(uuid.uuid4()), offenders_count=1)
    return token_client(world.officer_fr).post(
        f"/api/v1/operations/{world.operation.code}/seizures/", data, format="json"
    )


# ---- decimals ---------------------------------------------------------------------


def test_decimals_come_back_as_exact_strings(active):
    reported = _report(
        active, quantity="1234567890123.457", estimated_value="99999999999999.99", currency="EUR"
    )
    assert reported.status_code == 201, reported.json()
    assert reported.json()["quantity"] == "1234567890123.457"
    assert reported.json()["estimated_value"] == "99999999999999.99"
    code, seizure_uuid = active.operation.code, reported.json()["uuid"]
    client = token_client(active.observer)
    one = client.get(f"/api/v1/operations/{code}/seizures/{seizure_uuid}/").json()
    listed = client.get(f"/api/v1/operations/{code}/seizures/").json()["results"][0]
    assert one["estimated_value"] == listed["estimated_value"] == "99999999999999.99"
    # The alert card in the group's messages carries the quantity as a string too.
    messages = client.get(f"/api/v1/groups/{active.group.slug}/messages/").json()["messages"]
    card = next(m["seizure"] for m in messages if m["kind"] == "seizure")
    assert card["quantity"] == "1234567890123.457"


@pytest.mark.parametrize("quantity", ["", "-", ".", "0", "0.000", "-1", "1e3", "1.", 12.5, 3])
def test_a_quantity_that_is_not_a_positive_decimal_string_is_refused(active, quantity):
    response = _report(active, quantity=quantity)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["fields"]) == ["quantity"]


def test_an_empty_estimated_value_is_refused_and_null_is_not(active):
    assert _report(active, estimated_value="").status_code == 400
    assert _report(active, estimated_value=None).status_code == 201


def test_the_published_quantity_pattern_takes_only_positive_decimals(schema):
    properties = schema["components"]["schemas"]["SeizureReportRequest"]["properties"]
    quantity = properties["quantity"]
    assert (quantity["type"], quantity["format"]) == ("string", "decimal")
    assert quantity["pattern"] == positive_decimal_pattern(whole_digits=13, places=3)
    for refused in ["", "-", ".", "0", "0.0", "-2", "1.2345", "12345678901234"]:
        assert not re.search(quantity["pattern"], refused), refused
    for taken in ["1", "12.5", "0.005", "9999999999999.999"]:
        assert re.search(quantity["pattern"], taken), taken
    assert properties["estimated_value"]["nullable"] is True
    assert schema["components"]["schemas"]["Seizure"]["properties"]["quantity"]["type"] == "string"


def test_wrong_json_types_are_refused_not_coerced(active):
    response = token_client(active.officer_fr).post(
        f"/api/v1/groups/{active.group.slug}/messages/",
        {"client_id": str(uuid.uuid4()), "body": 12345},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["body"]
    assert Message.objects.count() == 0


# ---- limits and types in the schema -----------------------------------------------


def test_the_schema_states_the_real_limits(schema):
    post = schema["components"]["schemas"]["MessagePostRequest"]["properties"]
    assert post["body"]["maxLength"] == django_settings.MESSAGE_MAX_LENGTH
    assert post["attachments"]["maxItems"] == django_settings.ATTACHMENTS_PER_MESSAGE
    parameters = {
        p["name"]: p["schema"]
        for p in schema["paths"]["/api/v1/groups/{slug}/messages/"]["get"]["parameters"]
    }
    assert parameters["limit"]["minimum"] == 1 and parameters["limit"]["maximum"] == 500
    assert parameters["after"]["minimum"] == 0


def test_a_body_past_the_limit_is_refused_by_the_api(active):
    response = token_client(active.officer_fr).post(
        f"/api/v1/groups/{active.group.slug}/messages/",
        {"client_id": str(uuid.uuid4()), "body": "x" * (django_settings.MESSAGE_MAX_LENGTH + 1)},
        format="json",
    )
    assert response.status_code == 400
    assert "body" in response.json()["error"]["fields"]


def test_the_seizure_card_is_a_typed_component(schema):
    card = schema["components"]["schemas"]["SeizureCard"]
    assert {"uuid", "status", "quantity", "unit", "transport_mode"} <= set(card["required"])
    assert card["properties"]["quantity"]["format"] == "decimal"
    seizure = schema["components"]["schemas"]["Message"]["properties"]["seizure"]
    assert seizure["allOf"] == [{"$ref": "#/components/schemas/SeizureCard"}]


def test_every_error_code_the_handler_can_produce_is_documented(schema):
    drf_codes = {
        cls.default_code
        for cls in vars(exceptions).values()
        if isinstance(cls, type) and issubclass(cls, exceptions.APIException)
    } - {"error"}
    documented = set(schema["components"]["schemas"]["ErrorCodeEnum"]["enum"])
    assert documented == set(ERROR_CODES)
    assert drf_codes - {"invalid"} <= documented
    assert {"authentication_failed", "method_not_allowed", "locked_out"} <= documented
    with open(django_settings.BASE_DIR / "docs" / "api.md", encoding="utf-8") as docs:
        text = docs.read()
    assert [code for code in ERROR_CODES if f"`{code}`" not in text] == []


def test_a_bad_token_and_a_wrong_method_answer_their_documented_codes(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/groups/").json()["error"]["code"] == "authentication_failed"
    response = token_client(world.officer_fr).delete("/api/v1/groups/")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


# ---- attachments by the API ---------------------------------------------------------


def _png(size=(40, 30)) -> io.BytesIO:
    from PIL import Image

    image = Image.new("RGB", size, "navy")
    output = io.BytesIO()
    image.save(output, format="PNG", pnginfo=_png_text("GPS", "48.8566,2.3522"))
    output.seek(0)
    output.name = "seal.png"
    return output


def _png_text(key, value):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text(key, value)
    return info


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _stored_files(media) -> list:
    return [path for path in media.rglob("*") if path.is_file()]


def test_a_token_client_uploads_a_photo_and_posts_it(active, media):
    client = token_client(active.officer_fr)
    url = f"/api/v1/groups/{active.group.slug}/attachments/"
    uploaded = client.post(url, {"file": _png()}, format="multipart")
    assert uploaded.status_code == 201, uploaded.json()
    body = uploaded.json()
    assert (body["name"], body["content_type"]) == ("seal.png", "image/png")
    stored = Attachment.objects.get(token=body["token"])
    data = stored.file.read()
    # Re-encoded as the page does: the text chunk with the position is gone.
    assert b"48.8566" not in data and len(data) == body["size"]
    posted = client.post(
        f"/api/v1/groups/{active.group.slug}/messages/",
        {"client_id": str(uuid.uuid4()), "body": "The seal", "attachments": [body["token"]]},
        format="json",
    )
    assert posted.status_code == 201
    assert posted.json()["attachments"] == [body]


def test_a_non_member_gets_the_404_of_a_missing_group(active, media):
    client = token_client(active.outsider)
    real = client.post(
        f"/api/v1/groups/{active.group.slug}/attachments/", {"file": _png()}, format="multipart"
    )
    missing = client.post(
        "/api/v1/groups/no-such-group/attachments/", {"file": _png()}, format="multipart"
    )
    assert real.status_code == missing.status_code == 404
    assert real.json() == missing.json()
    assert Attachment.objects.count() == 0 and _stored_files(media) == []


def test_an_observer_cannot_upload(active, media):
    response = token_client(active.observer).post(
        f"/api/v1/groups/{active.group.slug}/attachments/", {"file": _png()}, format="multipart"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert Attachment.objects.count() == 0 and _stored_files(media) == []


def test_an_oversized_file_is_refused_and_nothing_is_stored(active, media, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    response = token_client(active.officer_fr).post(
        f"/api/v1/groups/{active.group.slug}/attachments/",
        {"file": _png(size=(400, 400))},
        format="multipart",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and list(error["fields"]) == ["file"]
    assert Attachment.objects.count() == 0 and _stored_files(media) == []


def test_a_forged_type_is_refused_and_nothing_is_stored(active, media):
    forged = io.BytesIO(b"<html><script>alert(1)</script></html>")
    forged.name = "photo.jpg"
    response = token_client(active.officer_fr).post(
        f"/api/v1/groups/{active.group.slug}/attachments/", {"file": forged}, format="multipart"
    )
    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]
    assert Attachment.objects.count() == 0 and _stored_files(media) == []


def test_an_upload_without_a_file_or_as_json_is_a_clear_4xx(active, media):
    client = token_client(active.officer_fr)
    url = f"/api/v1/groups/{active.group.slug}/attachments/"
    assert client.post(url, {}, format="multipart").json()["error"]["fields"] == {
        "file": ["No file was submitted."]
    }
    as_json = client.post(url, {"file": "aGVsbG8="}, format="json")
    assert as_json.status_code == 415
    assert as_json.json()["error"]["code"] == "unsupported_media_type"


# ---- the docs page ----------------------------------------------------------------------


def test_the_docs_page_loads_only_scripts_served_by_the_platform(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    assert len(sources) == 2
    for attributes, body in sources:
        assert body.strip() == "", "an inline script, which the policy blocks"
        source = re.search(r'src="([^"]+)"', attributes).group(1)
        assert source.startswith("/static/"), source
    assert "redoc.standalone" in html
    assert "<style" not in html and "cdn" not in html.lower()
    directives = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert directives["script-src"] == "'self'"
    for static_path in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(static_path).status_code == 200, static_path


@pytest.mark.parametrize(
    "parameter", ["status", "commodity_category", "reporting_country", "limit"]
)
def test_an_empty_seizure_filter_is_refused_not_ignored(world, parameter):
    response = token_client(world.ocu).get(
        f"/api/v1/operations/{world.operation.code}/seizures/?{parameter}="
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [parameter]


@pytest.mark.parametrize("parameter", ["limit", "after"])
def test_an_empty_message_page_parameter_is_refused(world, parameter):
    response = token_client(world.officer_fr).get(
        f"/api/v1/groups/{world.group.slug}/messages/?{parameter}="
    )
    assert response.status_code == 400
