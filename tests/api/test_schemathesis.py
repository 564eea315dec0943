"""The published OpenAPI schema, checked against the running code by schemathesis.

Every operation is called with generated data as a coordinator, a member and an
observer: no response may be a server error or break the schema (status codes,
content types, bodies and headers all as documented), and data the schema rejects
(negative cases: wrong types, out-of-range numbers, strings off their pattern) must
be rejected by the server too. Requests that are valid for the schema but refused by
a business rule (a 400 naming the rule) are expected. The group holds a seizure
alert with large decimals and a message with a photo, so that the answers checked
include real seizures, seizure cards and attachments.
"""

import io
import json
import uuid
import zlib

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from PIL import Image
from schemathesis import checks

from messaging.attachments import attachment_upload
from messaging.services import message_post
from operations.models import Operation
from operations.services import operation_set_status, seizure_report
from tests.conftest import api_token
from tests.operations.conftest import seizure_data


def _published_schema():
    """The schema /api/schema/ publishes, made the way its view makes it.

    Made here rather than fetched: fetching would go through the middleware, which may
    reach the database, and at collection time the database is not open to tests.
    """
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer
    from drf_spectacular.settings import spectacular_settings

    document = SchemaGenerator().get_schema(request=None, public=spectacular_settings.SERVE_PUBLIC)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)))
    loaded.app = get_wsgi_application()
    return loaded


schema = _published_schema()


@pytest.fixture(autouse=True)
def keep_the_test_transaction():
    """The WSGI handler closes connections after each request; the test's transaction must live."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def contents(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    seizure, _created = seizure_report(
        reporter=world.officer_fr,
        operation=world.operation,
        data=seizure_data(
            quantity="1234567890123.457", estimated_value="99999999999999.99", currency="EUR"
        ),
        client_uuid=uuid.uuid4(),
    )
    photo = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(photo, format="PNG")
    attachment = attachment_upload(
        user=world.officer_fr,
        group=world.group,
        uploaded_file=SimpleUploadedFile("seal.png", photo.getvalue()),
    )
    message, _created = message_post(
        author=world.officer_fr,
        group=world.group,
        body="The seal, photographed",
        client_id=uuid.uuid4(),
        attachment_tokens=[attachment.token],
    )
    return {
        "slug": world.group.slug,
        "code": world.operation.code,
        "uuid": str(seizure.client_uuid),
        "seq": message.seq,
    }


@pytest.fixture
def tokens(world, contents):
    return {
        role: api_token(user)
        for role, user in {
            "coordinator": world.ocu,
            "member": world.officer_fr,
            "observer": world.observer,
        }.items()
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["coordinator", "member", "observer"])
@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_matches_its_schema(case, role, tokens, contents):
    # Half of the calls go to the real group, operation, seizure and message, so that
    # the checks reach past the 404 of a made-up one (crc32: the same half every run).
    if case.path_parameters and zlib.crc32(str(case.path_parameters).encode()) % 2 == 0:
        for name, value in contents.items():
            if name in case.path_parameters:
                case.path_parameters[name] = value
    case.call_and_validate(
        headers={"Authorization": f"Token {tokens[role]}"},
        checks=[
            checks.not_a_server_error,
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_schema_conformance,
            checks.response_headers_conformance,
            checks.negative_data_rejection,
        ],
    )
