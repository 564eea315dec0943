"""The published OpenAPI schema, checked against the running code by schemathesis.

Every operation is called with generated data as a coordinator, a member and an
observer: no response may be a server error or break the schema (status codes,
content types, bodies and headers all as documented). Requests that are valid for
the schema but refused by a business rule (a 400 naming the rule) are expected.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from operations.models import Operation
from operations.services import operation_set_status
from tests.conftest import api_token

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture(autouse=True)
def keep_the_test_transaction():
    """The WSGI handler closes connections after each request; the test's transaction must live."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(world):
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    return {
        role: api_token(user)
        for role, user in {
            "coordinator": world.ocu,
            "member": world.officer_fr,
            "observer": world.observer,
        }.items()
    }


def _known_path_values(world) -> dict:
    return {"slug": world.group.slug, "code": world.operation.code}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["coordinator", "member", "observer"])
@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_matches_its_schema(case, role, tokens, world):
    # Half of the calls go to the real group and operation, so that the checks reach
    # past the 404 of a made-up slug.
    if case.path_parameters and hash(str(case.path_parameters)) % 2 == 0:
        for name, value in _known_path_values(world).items():
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
        ],
    )
