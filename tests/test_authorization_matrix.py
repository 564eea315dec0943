"""Who may do what: one table of roles by every route, run as parametrised tests.

Each row names a route, a method and the outcome for each role. A completeness test
fails when a route exists without a row, so a new page or endpoint cannot ship
unreviewed. Inside a group, a non-member always gets 404 (never 403): the group's
existence is itself closed. WebSocket actions have their table in
tests/messaging/test_consumer_matrix.py.
"""

import datetime
import json
import uuid
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from groups.models import Administration, Region, RiloAssignment
from messaging.services import message_post
from operations.models import Operation, TransferRun
from operations.services import operation_create, operation_set_status, seizure_report
from tests.conftest import sign_in
from tests.operations.conftest import new_uuid, seizure_data

ROLES = [
    "anonymous",
    "outsider",
    "observer",
    "member",
    "coordinator",
    "other_coordinator",
    "staff",
    "analyst",
    "rilo",
]
LOGIN = "login"  # a redirect to the login page

# Outcome sets used by many rows.
EVERYONE_200 = dict.fromkeys(ROLES, 200)
SIGNED_IN_200 = {**EVERYONE_200, "anonymous": LOGIN}
READ_GROUP = {
    "anonymous": LOGIN,
    "outsider": 404,
    "observer": 200,
    "member": 200,
    "coordinator": 200,
    "other_coordinator": 404,
    "staff": 200,
    "analyst": 404,
    "rilo": 404,
}
POST_GROUP = {
    "anonymous": LOGIN,
    "outsider": 404,
    "observer": 403,
    "member": 200,
    "coordinator": 200,
    "other_coordinator": 404,
    "staff": 404,
    "analyst": 404,
    "rilo": 404,
}
MANAGE_GROUP = {
    "anonymous": LOGIN,
    "outsider": 404,
    "observer": 403,
    "member": 403,
    "coordinator": 302,
    "other_coordinator": 404,
    "staff": 302,
    "analyst": 404,
    "rilo": 404,
}
API_READ = {
    "anonymous": 401,
    "outsider": 404,
    "observer": 200,
    "member": 200,
    "coordinator": 200,
    "other_coordinator": 404,
    "staff": 200,
    "analyst": 404,
    "rilo": 404,
}
API_POST = {
    "anonymous": 401,
    "outsider": 404,
    "observer": 403,
    "member": 201,
    "coordinator": 201,
    "other_coordinator": 404,
    "staff": 404,
    "analyst": 404,
    "rilo": 404,
}
API_MANAGE = {
    "anonymous": 401,
    "outsider": 404,
    "observer": 403,
    "member": 403,
    "coordinator": 200,
    "other_coordinator": 404,
    "staff": 200,
    "analyst": 404,
    "rilo": 404,
}
API_SIGNED_IN = {**dict.fromkeys(ROLES, 200), "anonymous": 401}
# The CEN analysis pages: the `cen.analyse` permission or staff; no group involved.
CEN_ANALYST = {**dict.fromkeys(ROLES, 403), "anonymous": LOGIN, "staff": 200, "analyst": 200}
# The RILO page: a RILO assignment (a region) or staff; no group involved.
CEN_RILO = {**dict.fromkeys(ROLES, 403), "anonymous": LOGIN, "staff": 200, "rilo": 200}


def _with(base: dict, **changes) -> dict:
    return {**base, **changes}


@dataclass
class Row:
    name: str
    method: str = "get"
    expect: dict = field(default_factory=dict)
    kwargs: dict = field(default_factory=dict)  # values are names of Matrix attributes
    data: dict | None = None
    json_body: bool = False


ROWS = [
    Row("home", expect=_with(EVERYONE_200, **dict.fromkeys(ROLES, 302))),
    Row("service_worker", expect=EVERYONE_200),
    # Search reads only the groups the user may read: every signed-in user may ask.
    Row("search", expect=SIGNED_IN_200),
    Row("group_search", expect=READ_GROUP, kwargs={"slug": "slug"}),
    # Asked without words, a signed-in user is told to type some (400).
    Row("api-search", expect={**dict.fromkeys(ROLES, 400), "anonymous": 401}),
    Row("web_manifest", expect=EVERYONE_200),
    Row("health", expect=EVERYONE_200),
    Row("metrics", expect=EVERYONE_200),
    Row("login", expect=_with(dict.fromkeys(ROLES, 302), anonymous=200)),
    Row("login_verify", expect=dict.fromkeys(ROLES, 302)),
    Row("logout", "post", expect=dict.fromkeys(ROLES, 302)),
    Row("language_set", "post", expect=dict.fromkeys(ROLES, 302), data={"language": "fr"}),
    Row("account_two_factor", expect=SIGNED_IN_200),
    Row("account_recovery_codes", "post", expect=_with(dict.fromkeys(ROLES, 302), anonymous=LOGIN)),
    Row(
        "account_two_factor_disable",
        "post",
        expect=_with(dict.fromkeys(ROLES, 302), anonymous=LOGIN),
    ),
    Row("account_sessions", expect=SIGNED_IN_200),
    Row(
        "account_session_end",
        "post",
        expect=_with(dict.fromkeys(ROLES, 302), anonymous=LOGIN),
        data={"session": "x"},
    ),
    # Whether this device's session was ended elsewhere: anyone may ask about their own.
    Row("account_device", expect=EVERYONE_200),
    Row(
        "account_device_installed",
        "post",
        expect=_with(dict.fromkeys(ROLES, 204), anonymous=LOGIN),
    ),
    Row("groups:my_groups", expect=SIGNED_IN_200),
    Row("groups:group", expect=READ_GROUP, kwargs={"slug": "slug"}),
    Row("groups:members", expect=READ_GROUP, kwargs={"slug": "slug"}),
    Row(
        "groups:member_add",
        "post",
        expect=MANAGE_GROUP,
        kwargs={"slug": "slug"},
        data={"username": "newcomer", "role": "member"},
    ),
    Row(
        "groups:member_add_all",
        "post",
        expect=MANAGE_GROUP,
        kwargs={"slug": "slug"},
        data={"administration": "NL", "role": "member"},
    ),
    Row(
        "groups:member_role",
        "post",
        expect=MANAGE_GROUP,
        kwargs={"slug": "slug"},
        data={"username": "officer.de", "role": "observer"},
    ),
    Row(
        "groups:member_remove",
        "post",
        expect=MANAGE_GROUP,
        kwargs={"slug": "slug"},
        data={"username": "officer.de"},
    ),
    Row("messaging:history", expect=READ_GROUP, kwargs={"slug": "slug"}),
    Row(
        "messaging:post",
        "post",
        expect=_with(POST_GROUP, member=302, coordinator=302),
        kwargs={"slug": "slug"},
        data={"body": "hi", "client_id": "CLIENT_ID"},
    ),
    Row(
        "messaging:attachment_upload",
        "post",
        expect=_with(POST_GROUP, member=400, coordinator=400),
        kwargs={"slug": "slug"},
    ),
    Row(
        "messaging:attachment_download",
        expect=_with(READ_GROUP, staff=404),
        kwargs={"slug": "slug", "token": "attachment_token"},
    ),
    Row(
        "messaging:receipts",
        expect=_with(READ_GROUP, observer=403),
        kwargs={"slug": "slug", "seq": "alert_seq"},
    ),
    Row(
        "messaging:export",
        expect=_with(MANAGE_GROUP, coordinator=200, staff=200),
        kwargs={"slug": "slug"},
    ),
    Row("audit", expect={**dict.fromkeys(ROLES, 403), "anonymous": LOGIN, "staff": 200}),
    Row(
        "operation_audit",
        expect=_with(MANAGE_GROUP, coordinator=200, staff=200),
        kwargs={"code": "code"},
    ),
    Row("operations:list", expect=SIGNED_IN_200),
    Row(
        "operations:create",
        expect={
            **dict.fromkeys(ROLES, 403),
            "anonymous": LOGIN,
            "coordinator": 200,
            "other_coordinator": 200,
            "staff": 200,
        },
    ),
    Row("operations:detail", expect=READ_GROUP, kwargs={"code": "code"}),
    Row(
        "operations:status",
        "post",
        expect=MANAGE_GROUP,
        kwargs={"code": "code"},
        data={"status": "closed"},
    ),
    # Each lifecycle step: GET is its confirmation page, POST does it (or says why not).
    *[
        row
        for step in ("start", "close", "reopen", "transfer_start")
        for row in (
            Row(
                f"operations:{step}",
                expect=_with(MANAGE_GROUP, coordinator=200, staff=200),
                kwargs={"code": "code"},
            ),
            Row(f"operations:{step}", "post", expect=MANAGE_GROUP, kwargs={"code": "code"}),
        )
    ],
    Row("operations:transfer_status", expect=READ_GROUP, kwargs={"code": "code"}),
    Row(
        "operations:continuous_transfer",
        "post",
        expect=MANAGE_GROUP,
        kwargs={"code": "code"},
        data={"send_to_cen_continuously": "true"},
    ),
    Row(
        "operations:transfer_report",
        expect=_with(MANAGE_GROUP, coordinator=200, staff=200),
        kwargs={"code": "code", "run_id": "transfer_run"},
    ),
    Row(
        "operations:report",
        expect=_with(MANAGE_GROUP, coordinator=200, staff=200),
        kwargs={"code": "code"},
    ),
    Row(
        "operations:report_pdf",
        expect=_with(MANAGE_GROUP, coordinator=200, staff=200),
        kwargs={"code": "code"},
    ),
    Row("cen_analyst", expect=CEN_ANALYST),
    Row("cen_analyst_data", expect=CEN_ANALYST),
    Row("cen_rilo", expect=CEN_RILO),
    Row("operations:dashboard", expect=READ_GROUP, kwargs={"code": "code"}),
    Row("operations:dashboard_data", expect=READ_GROUP, kwargs={"code": "code"}),
    Row("operations:seizures", expect=READ_GROUP, kwargs={"code": "code"}),
    Row("operations:seizure_new", expect=POST_GROUP, kwargs={"code": "code"}),
    Row("operations:seizures_template", expect=READ_GROUP, kwargs={"code": "code"}),
    Row("operations:seizures_import", expect=POST_GROUP, kwargs={"code": "code"}),
    Row("operations:seizures_export_csv", expect=READ_GROUP, kwargs={"code": "code"}),
    Row("operations:seizures_export_xlsx", expect=READ_GROUP, kwargs={"code": "code"}),
    Row(
        "operations:seizure_submit",
        "post",
        expect=_with(POST_GROUP, member=201, coordinator=201),
        kwargs={"code": "code"},
        data={"client_uuid": "CLIENT_ID", "data": "SEIZURE"},
        json_body=True,
    ),
    Row("operations:seizure", expect=READ_GROUP, kwargs={"code": "code", "uuid": "seizure_uuid"}),
    Row(
        "operations:seizure_validate",
        "post",
        expect=MANAGE_GROUP,
        kwargs={"code": "code", "uuid": "seizure_uuid"},
    ),
    Row(
        "operations:seizure_reject",
        "post",
        expect=MANAGE_GROUP,
        kwargs={"code": "code", "uuid": "seizure_uuid"},
        data={"reason": "unclear"},
    ),
    # The matrix's seizure awaits validation: a coordinator's undo is refused, with the
    # reason as a message on the seizure's page (302) or a 400.
    Row(
        "operations:seizure_undo_review",
        "post",
        expect=MANAGE_GROUP,
        kwargs={"code": "code", "uuid": "seizure_uuid"},
    ),
    # Handling codes: the reporter (the matrix's member) or a coordinator changes one; the
    # matrix's seizure is H0, so a release is refused with its reason on the page (302).
    Row(
        "operations:seizure_handling",
        "post",
        expect=_with(MANAGE_GROUP, member=302),
        kwargs={"code": "code", "uuid": "seizure_uuid"},
        data={"handling_code": "H1"},
    ),
    Row(
        "operations:seizure_release",
        "post",
        expect=_with(MANAGE_GROUP, member=302),
        kwargs={"code": "code", "uuid": "seizure_uuid"},
    ),
    Row(
        "operations:default_handling",
        "post",
        expect=MANAGE_GROUP,
        kwargs={"code": "code"},
        data={"handling_code": "H1"},
    ),
    Row(
        "operations:seizure_correct",
        expect=_with(READ_GROUP, observer=403, coordinator=403, staff=403),
        kwargs={"code": "code", "uuid": "seizure_uuid"},
    ),
    Row("api-token", "post", expect=dict.fromkeys(ROLES, 400), data={}, json_body=True),
    Row("api-groups", expect=API_SIGNED_IN),
    Row("api-group", expect=API_READ, kwargs={"slug": "slug"}),
    Row("api-members", expect=API_READ, kwargs={"slug": "slug"}),
    Row(
        "api-members",
        "post",
        expect=_with(API_MANAGE, coordinator=201, staff=201),
        kwargs={"slug": "slug"},
        data={"username": "newcomer"},
        json_body=True,
    ),
    Row("api-member-candidates", expect=API_MANAGE, kwargs={"slug": "slug"}),
    Row("api-notifications", expect=API_SIGNED_IN),
    Row("api-group-notifications", expect=API_READ, kwargs={"slug": "slug"}),
    Row(
        "api-group-notifications",
        "put",
        expect=API_READ,
        kwargs={"slug": "slug"},
        data={"alerts": True},
        json_body=True,
    ),
    Row("api-push-subscriptions", expect=API_SIGNED_IN),
    # Web Push is off unless the operator switches it on: a device is refused (409).
    Row(
        "api-push-subscriptions",
        "post",
        expect={**dict.fromkeys(ROLES, 409), "anonymous": 401},
        data={
            "endpoint": "https://fcm.googleapis.com/fcm/send/x",
            "keys": {"p256dh": "B" + "A" * 86, "auth": "A" * 22},
        },
        json_body=True,
    ),
    Row(
        "api-push-subscriptions",
        "delete",
        expect={**dict.fromkeys(ROLES, 204), "anonymous": 401},
        data={"endpoint": "https://fcm.googleapis.com/fcm/send/x"},
        json_body=True,
    ),
    Row(
        "api-member",
        "patch",
        expect=API_MANAGE,
        kwargs={"slug": "slug", "username": "member_name"},
        data={"role": "observer"},
        json_body=True,
    ),
    Row(
        "api-member",
        "delete",
        expect=_with(API_MANAGE, coordinator=204, staff=204),
        kwargs={"slug": "slug", "username": "member_name"},
    ),
    Row("api-messages", expect=API_READ, kwargs={"slug": "slug"}),
    # A multipart post without a file: members get past access and are told what is missing.
    Row(
        "api-attachments",
        "post",
        expect=_with(API_POST, member=400, coordinator=400),
        kwargs={"slug": "slug"},
    ),
    Row(
        "api-messages",
        "post",
        expect=API_POST,
        kwargs={"slug": "slug"},
        data={"client_id": "CLIENT_ID", "body": "hello"},
        json_body=True,
    ),
    Row(
        "api-message-acknowledge",
        "post",
        expect=_with(API_READ, staff=404),
        kwargs={"slug": "slug", "seq": "alert_seq"},
    ),
    Row(
        "api-message-read",
        "post",
        expect=_with(API_READ, staff=404),
        kwargs={"slug": "slug", "seq": "alert_seq"},
    ),
    # The alert's author (the matrix's member) or a coordinator changes its code; the
    # alert is H0, so a release is refused as bad input (400).
    Row(
        "api-message-handling",
        "post",
        expect=_with(API_READ, observer=403),
        kwargs={"slug": "slug", "seq": "alert_seq"},
        data={"handling_code": "H1"},
        json_body=True,
    ),
    Row(
        "api-message-release",
        "post",
        expect=_with(API_READ, observer=403, member=400, coordinator=400, staff=400),
        kwargs={"slug": "slug", "seq": "alert_seq"},
    ),
    Row(
        "api-attachment-handling",
        "post",
        expect=_with(API_READ, observer=403),
        kwargs={"slug": "slug", "token": "attachment_token"},
        data={"handling_code": "H1"},
        json_body=True,
    ),
    Row("api-operations", expect=API_SIGNED_IN),
    Row(
        "api-operations",
        "post",
        expect={
            **dict.fromkeys(ROLES, 403),
            "anonymous": 401,
            "coordinator": 201,
            "other_coordinator": 201,
            "staff": 201,
        },
        data="NEW_OPERATION",
        json_body=True,
    ),
    Row("api-operation", expect=API_READ, kwargs={"code": "code"}),
    Row(
        "api-operation",
        "patch",
        expect=API_MANAGE,
        kwargs={"code": "code"},
        data={"send_to_cen_continuously": True},
        json_body=True,
    ),
    Row(
        "api-operation-status",
        "post",
        expect=API_MANAGE,
        kwargs={"code": "code"},
        data={"status": "closed"},
        json_body=True,
    ),
    # The operation is active: a coordinator's reopening is refused with a clear 400.
    Row(
        "api-operation-reopen",
        "post",
        expect=_with(API_MANAGE, coordinator=400, staff=400),
        kwargs={"code": "code"},
    ),
    Row("api-seizures", expect=API_READ, kwargs={"code": "code"}),
    Row(
        "api-seizures",
        "post",
        expect=API_POST,
        kwargs={"code": "code"},
        data="API_SEIZURE",
        json_body=True,
    ),
    Row("api-seizure", expect=API_READ, kwargs={"code": "code", "uuid": "seizure_uuid"}),
    Row(
        "api-seizure-validate",
        "post",
        expect=API_MANAGE,
        kwargs={"code": "code", "uuid": "seizure_uuid"},
    ),
    Row(
        "api-seizure-reject",
        "post",
        expect=API_MANAGE,
        kwargs={"code": "code", "uuid": "seizure_uuid"},
        data={"reason": "unclear"},
        json_body=True,
    ),
    Row(
        "api-seizure-undo-review",
        "post",
        expect=_with(API_MANAGE, coordinator=400, staff=400),
        kwargs={"code": "code", "uuid": "seizure_uuid"},
    ),
    Row(
        "api-seizure-handling",
        "post",
        expect=_with(API_READ, observer=403),
        kwargs={"code": "code", "uuid": "seizure_uuid"},
        data={"handling_code": "H1"},
        json_body=True,
    ),
    Row(
        "api-seizure-release",
        "post",
        expect=_with(API_READ, observer=403, member=400, coordinator=400, staff=400),
        kwargs={"code": "code", "uuid": "seizure_uuid"},
    ),
    # The matrix's seizure awaits validation: a coordinator amends only validated ones (400).
    Row(
        "api-seizure-revise",
        "post",
        expect=_with(API_MANAGE, coordinator=400, staff=400),
        kwargs={"code": "code", "uuid": "seizure_uuid"},
        data="API_SEIZURE",
        json_body=True,
    ),
    Row("api-transfers", expect=API_READ, kwargs={"code": "code"}),
    # The operation is active, so a coordinator's start is refused with a clear 400.
    Row(
        "api-transfers",
        "post",
        expect=_with(API_MANAGE, coordinator=400, staff=400),
        kwargs={"code": "code"},
    ),
    Row("api-transfer", expect=API_READ, kwargs={"code": "code", "run_id": "transfer_run"}),
    Row(
        "api-transfer-report",
        expect=_with(API_MANAGE, observer=403, member=403),
        kwargs={"code": "code", "run_id": "transfer_run"},
    ),
    Row("api-operation-report", expect=API_MANAGE, kwargs={"code": "code"}),
    Row("api-schema", expect=EVERYONE_200),
    Row("api-docs", expect=EVERYONE_200),
]

# Routes that are not the platform's own doors: the admin site (staff only, and
# guarded by Django itself) and the API's catch-all JSON 404.
NOT_IN_MATRIX_PREFIXES = ("admin:",)


class Matrix:
    """The world every row runs in."""

    def __init__(self, world, make_user):
        self.world = world
        operation_set_status(
            operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu
        )
        world.operation.refresh_from_db()
        self.slug = world.group.slug
        self.code = world.operation.code
        self.member_name = "officer.de"
        make_user("newcomer", country="NL")
        other = make_user("other.coordinator", country="JP")
        today = datetime.date.today()
        operation_create(
            code="OTHER-2026",
            name="Another operation",
            commodity_focus="tobacco",
            coordinating_administration=Administration.objects.get(country="JP"),
            planned_start=today,
            planned_end=today + datetime.timedelta(days=10),
            created_by=other,
        )
        analyst = make_user("analyst", country="DE")
        analyst.user_permissions.add(
            Permission.objects.get(content_type__app_label="cen", codename="analyse")
        )
        rilo = make_user("rilo.weu", country="NL")
        RiloAssignment.objects.create(user=rilo, region=Region.EUROPE)
        alert, _created = message_post(
            author=world.officer_fr,
            group=world.group,
            body="Watch flight AF401",
            client_id=uuid.uuid4(),
            kind="alert",
        )
        self.alert_seq = alert.seq
        seizure, _created = seizure_report(
            reporter=world.officer_fr,
            operation=world.operation,
            data=seizure_data(),
            client_uuid=new_uuid(),
        )
        self.seizure_uuid = seizure.client_uuid
        self.attachment_token = _posted_attachment(world)
        self.transfer_run = TransferRun.objects.create(operation=world.operation, via="web").pk
        self.users = {
            "anonymous": None,
            "outsider": world.outsider,
            "observer": world.observer,
            "member": world.officer_fr,
            "coordinator": world.ocu,
            "other_coordinator": other,
            "staff": world.staff,
            "analyst": analyst,
            "rilo": rilo,
        }

    def body(self, row: Row):
        data = row.data
        if data == "NEW_OPERATION":
            today = datetime.date.today()
            return {
                "code": "NEW-OP-1",
                "name": "New",
                "commodity_focus": "drugs",
                "coordinating_administration": "BE",
                "planned_start": today.isoformat(),
                "planned_end": (today + datetime.timedelta(days=9)).isoformat(),
            }
        if data == "API_SEIZURE":
            return {
                **seizure_data(offenders_count=1, estimated_value=None),
                "client_uuid": new_uuid(),
            }
        data = dict(data or {})
        for key, value in data.items():
            if value == "CLIENT_ID":
                data[key] = new_uuid()
            elif value == "SEIZURE":
                data[key] = seizure_data()
        return data


def _posted_attachment(world) -> str:
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from messaging.attachments import attachment_upload

    image = io.BytesIO()
    Image.new("RGB", (4, 4)).save(image, format="PNG")
    attachment = attachment_upload(
        user=world.officer_fr,
        group=world.group,
        uploaded_file=SimpleUploadedFile("x.png", image.getvalue()),
    )
    message_post(
        author=world.officer_fr,
        group=world.group,
        body="photo",
        client_id=uuid.uuid4(),
        attachment_tokens=[attachment.token],
    )
    return attachment.token


def matrix_cases():
    for row in ROWS:
        for role in ROLES:
            yield pytest.param(row, role, id=f"{row.method.upper()} {row.name} as {role}")


@pytest.mark.django_db(databases=["default", "cen"])
@pytest.mark.parametrize(("row", "role"), list(matrix_cases()))
def test_authorization_matrix(row, role, world, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    matrix = Matrix(world, make_user)
    client = Client()
    user = matrix.users[role]
    if user is not None:
        sign_in(client, user)
    url = reverse(
        row.name,
        kwargs={name: getattr(matrix, attribute) for name, attribute in row.kwargs.items()},
    )
    body = matrix.body(row)
    if row.json_body:
        response = getattr(client, row.method)(
            url, data=json.dumps(body), content_type="application/json"
        )
    elif row.method == "get":
        response = client.get(url)
    else:
        response = getattr(client, row.method)(url, data=body or {})
    expected = row.expect[role]
    if expected == LOGIN:
        assert response.status_code == 302 and response.url.startswith(reverse("login")), response
    else:
        assert response.status_code == expected, getattr(response, "content", b"")[:300]
    if expected == 404 and row.name.startswith("api-"):
        assert response.json()["error"]["code"] == "not_found"


def _named_routes(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _named_routes(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


def test_every_route_has_a_row():
    routes = {
        name
        for name in _named_routes(get_resolver().url_patterns)
        if not name.startswith(NOT_IN_MATRIX_PREFIXES)
    }
    covered = {row.name for row in ROWS}
    assert sorted(routes - covered) == [], "routes without a row in the authorization matrix"
    assert sorted(covered - routes) == [], "rows for routes that no longer exist"


def test_every_row_names_every_role():
    for row in ROWS:
        assert set(row.expect) == set(ROLES), row.name
