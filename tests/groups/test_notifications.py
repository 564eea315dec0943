"""Notifications for people who are not looking: the choices, the devices, and Web Push
end to end — a push service of our own (a thread) that decrypts what it receives with
the device's keys and checks the server's VAPID signature."""

import base64
import http.server
import json
import os
import threading
import time
import uuid

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.core.management import call_command
from django.test import Client
from django_tasks_db.models import DBTaskResult

from groups.models import PushSubscription
from groups.notifications import mentioned_usernames, notify_users
from groups.services import membership_remove
from groups.web_push import vapid_key_pair, vapid_public_key
from messaging.services import message_post
from operations.models import Operation
from operations.services import operation_set_status, seizure_report
from tests.conftest import sign_in
from tests.operations.conftest import new_uuid, seizure_data

pytestmark = pytest.mark.django_db(databases=["default", "cen"])

TASK = "groups.tasks.deliver_notifications"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushService:
    """A push service on 127.0.0.1: records every request; answers 201, or what
    ``answers`` says for a path."""

    def __init__(self):
        self.received: list[dict] = []
        self.answers: dict[str, int] = {}
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                service.received.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
                self.send_response(service.answers.get(self.path, 201))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Device:
    """The browser's side of a subscription: its P-256 key pair and auth secret."""

    def __init__(self, push: PushService):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.endpoint = f"{push.origin}/push/{uuid.uuid4()}"
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.subscription = {
            "endpoint": self.endpoint,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }

    def decrypt(self, body: bytes) -> dict:
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


@pytest.fixture
def push(settings):
    service = PushService()
    settings.WEB_PUSH_ENABLED = True
    settings.WEB_PUSH_VAPID_PRIVATE_KEY = vapid_key_pair()[0]
    settings.WEB_PUSH_CONTACT = "mailto:ops@cencomm.test"
    settings.WEB_PUSH_ALLOWED_ORIGINS = ["http://127.0.0.1:*"]
    yield service
    service.stop()


@pytest.fixture
def active(world):
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    world.operation.refresh_from_db()
    world.group.refresh_from_db()
    return world


def opt_in(user, slug, **choices) -> Client:
    """The user, signed in, chooses kinds in the group through the API."""
    client = sign_in(Client(), user)
    response = client.put(
        f"/api/v1/groups/{slug}/notifications/",
        data=json.dumps(choices),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return client


def register(client: Client, device: Device):
    response = client.post(
        "/api/v1/push-subscriptions/",
        data=json.dumps(device.subscription),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def post_alert(world, author, body, capture, kind="alert"):
    with capture(execute=True):
        message_post(author=author, group=world.group, body=body, client_id=uuid.uuid4(), kind=kind)


def run_worker():
    """The real worker, as scripts/run-demo starts it, until the queue is empty (in a
    test whose transactions commit)."""
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)


def deliver_queued() -> list[dict]:
    """Inside a test's transaction: run each queued notification task as the worker
    would, and give back what each returned; the queue is emptied."""
    from groups.tasks import deliver_notifications

    queued = list(DBTaskResult.objects.filter(task_path=TASK).order_by("enqueued_at"))
    DBTaskResult.objects.filter(pk__in=[row.pk for row in queued]).delete()
    return [deliver_notifications.call(*row.args_kwargs["args"]) for row in queued]


def check_vapid(authorization: str, *, audience: str) -> dict:
    """The VAPID header: a JWT signed (ES256) by the server's public key, for this push
    service's origin, with the contact and an expiry within a day."""
    scheme, _space, params = authorization.partition(" ")
    assert scheme == "vapid"
    values = dict(part.strip().split("=", 1) for part in params.split(","))
    assert values["k"] == vapid_public_key()
    header, claims, signature = values["t"].split(".")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(values["k"]))
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        public.verify(der, f"{header}.{claims}x".encode(), ec.ECDSA(hashes.SHA256()))
    assert json.loads(unb64url(header)) == {"typ": "JWT", "alg": "ES256"}
    decoded = json.loads(unb64url(claims))
    assert decoded["aud"] == audience
    assert decoded["sub"] == "mailto:ops@cencomm.test"
    assert time.time() < decoded["exp"] <= time.time() + 24 * 3600
    return decoded


@pytest.mark.django_db(databases=["default", "cen"], transaction=True)
def test_an_alert_reaches_the_device_with_no_content_and_a_valid_vapid_signature(
    active, push, django_capture_on_commit_callbacks
):
    device = Device(push)
    client = opt_in(active.officer_fr, active.group.slug, alerts=True)
    register(client, device)

    post_alert(
        active,
        active.officer_de,
        "Container MSCU1234567 leaves Rotterdam",
        django_capture_on_commit_callbacks,
    )
    assert push.received == [], "nothing is sent from the request"
    run_worker()

    [request] = push.received
    assert push.origin + request["path"] == device.endpoint
    assert request["headers"]["content-encoding"] == "aes128gcm"
    assert request["headers"]["urgency"] == "high"
    assert int(request["headers"]["ttl"]) > 0
    assert b"MSCU1234567" not in request["body"]
    check_vapid(request["headers"]["authorization"], audience=push.origin)
    payload = device.decrypt(request["body"])
    assert payload == {
        "group": active.group.slug,
        "url": f"/groups/{active.group.slug}/",
        "counts": {"alert": 1},
        "title": f"New in {active.group.slug}",
        "body": "1 new alert",
    }
    text = json.dumps(payload)
    for secret in ("MSCU1234567", "Rotterdam", "officer.de", "Container"):
        assert secret not in text
    assert PushSubscription.objects.get(endpoint=device.endpoint).last_sent_at is not None


def test_a_member_who_did_not_choose_alerts_gets_nothing(
    active, push, django_capture_on_commit_callbacks
):
    device = Device(push)
    client = opt_in(active.officer_fr, active.group.slug, seizures=True, mentions=True)
    register(client, device)
    post_alert(active, active.officer_de, "Watch AF401", django_capture_on_commit_callbacks)
    assert deliver_queued() == [{}]
    assert push.received == []


def test_the_author_is_never_told_of_their_own_alert(
    active, push, django_capture_on_commit_callbacks
):
    device = Device(push)
    register(opt_in(active.officer_de, active.group.slug, alerts=True), device)
    post_alert(active, active.officer_de, "Watch AF401", django_capture_on_commit_callbacks)
    assert deliver_queued() == [{}]
    assert push.received == []


def test_a_removed_member_gets_nothing(active, push, django_capture_on_commit_callbacks):
    device = Device(push)
    register(opt_in(active.officer_fr, active.group.slug, alerts=True), device)
    membership_remove(group=active.group, user=active.officer_fr, removed_by=active.ocu)
    post_alert(active, active.officer_de, "Watch AF401", django_capture_on_commit_callbacks)
    assert deliver_queued() == [{}]
    assert push.received == []


def test_a_member_removed_after_the_alert_but_before_delivery_gets_nothing(
    active, push, django_capture_on_commit_callbacks
):
    register(opt_in(active.officer_fr, active.group.slug, alerts=True), Device(push))
    post_alert(active, active.officer_de, "Watch AF401", django_capture_on_commit_callbacks)
    membership_remove(group=active.group, user=active.officer_fr, removed_by=active.ocu)
    assert deliver_queued() == [{}]
    assert push.received == []


def test_a_subscription_the_push_service_no_longer_knows_is_deleted(
    active, push, django_capture_on_commit_callbacks
):
    gone, kept = Device(push), Device(push)
    client = opt_in(active.officer_fr, active.group.slug, alerts=True)
    register(client, gone)
    register(client, kept)
    push.answers[gone.endpoint.removeprefix(push.origin)] = 410
    post_alert(active, active.officer_de, "Watch AF401", django_capture_on_commit_callbacks)
    assert deliver_queued() == [{"gone": 1, "sent": 1}]
    assert len(push.received) == 2
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [kept.endpoint]


def test_with_web_push_off_nothing_is_queued_or_sent_and_devices_are_refused(
    active, push, settings, django_capture_on_commit_callbacks
):
    client = opt_in(active.officer_fr, active.group.slug, alerts=True)
    register(client, Device(push))
    settings.WEB_PUSH_ENABLED = False
    post_alert(active, active.officer_de, "Watch AF401", django_capture_on_commit_callbacks)
    assert not DBTaskResult.objects.filter(task_path=TASK).exists()
    response = client.post(
        "/api/v1/push-subscriptions/",
        data=json.dumps(Device(push).subscription),
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert client.get("/api/v1/notifications/").json()["web_push"] is False
    # A notice queued while it was on is not sent either.
    settings.WEB_PUSH_ENABLED = True
    post_alert(active, active.officer_de, "Watch AF402", django_capture_on_commit_callbacks)
    settings.WEB_PUSH_ENABLED = False
    assert deliver_queued() == [{}]
    assert push.received == []


def test_a_seizure_report_is_pushed_as_a_seizure(active, push, django_capture_on_commit_callbacks):
    device = Device(push)
    register(opt_in(active.officer_fr, active.group.slug, seizures=True), device)
    with django_capture_on_commit_callbacks(execute=True):
        seizure_report(
            reporter=active.officer_de,
            operation=active.operation,
            data=seizure_data(),
            client_uuid=new_uuid(),
        )
    assert deliver_queued() == [{"sent": 1}]
    payload = device.decrypt(push.received[0]["body"])
    assert payload["counts"] == {"seizure": 1}
    assert payload["body"] == "1 new seizure report"


def test_a_mention_tells_only_the_member_named(active, push, django_capture_on_commit_callbacks):
    named, other = Device(push), Device(push)
    register(opt_in(active.officer_fr, active.group.slug, mentions=True), named)
    register(opt_in(active.ocu, active.group.slug, mentions=True), other)
    post_alert(
        active,
        active.officer_de,
        "@officer.fr, can you check the van? (ask @outsider too)",
        django_capture_on_commit_callbacks,
        kind="text",
    )
    assert deliver_queued() == [{"sent": 1}]
    [request] = push.received
    assert push.origin + request["path"] == named.endpoint
    payload = named.decrypt(request["body"])
    assert payload["counts"] == {"mention": 1}
    assert "van" not in json.dumps(payload)


def test_a_plain_message_queues_nothing(active, push, django_capture_on_commit_callbacks):
    register(opt_in(active.officer_fr, active.group.slug, alerts=True), Device(push))
    post_alert(
        active,
        active.officer_de,
        "mail ops@example.org",
        django_capture_on_commit_callbacks,
        kind="text",
    )
    assert not DBTaskResult.objects.filter(task_path=TASK).exists()


def test_the_push_is_worded_in_the_recipients_language(
    active, push, django_capture_on_commit_callbacks
):
    profile = active.officer_fr.profile
    profile.language = "fr"
    profile.save()
    device = Device(push)
    register(opt_in(active.officer_fr, active.group.slug, alerts=True), device)
    post_alert(active, active.officer_de, "one", django_capture_on_commit_callbacks)
    post_alert(active, active.officer_de, "two", django_capture_on_commit_callbacks)
    deliver_queued()
    assert [device.decrypt(r["body"])["body"] for r in push.received] == ["1 nouvelle alerte"] * 2


def test_logging_out_removes_the_devices_of_that_session_only(active, push):
    here, elsewhere = Device(push), Device(push)
    client = opt_in(active.officer_fr, active.group.slug, alerts=True)
    register(client, here)
    other_client = sign_in(Client(), active.officer_fr)
    register(other_client, elsewhere)
    assert client.post("/logout/").status_code == 302
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [elsewhere.endpoint]


def test_the_same_endpoint_moves_to_whoever_registers_it_next(active, push):
    device = Device(push)
    register(opt_in(active.officer_fr, active.group.slug, alerts=True), device)
    register(opt_in(active.officer_de, active.group.slug, alerts=True), device)
    assert PushSubscription.objects.get().user == active.officer_de


def test_devices_are_listed_without_their_endpoints_and_removed_by_endpoint(active, push):
    device = Device(push)
    client = opt_in(active.officer_fr, active.group.slug, alerts=True)
    created = register(client, device)
    listed = client.get("/api/v1/push-subscriptions/").json()
    assert [entry["id"] for entry in listed] == [created["id"]]
    assert listed[0]["this_session"] is True
    assert device.endpoint not in json.dumps(listed)
    # Another user cannot remove it, nor see it.
    intruder = sign_in(Client(), active.officer_de)
    assert intruder.get("/api/v1/push-subscriptions/").json() == []
    body = json.dumps({"endpoint": device.endpoint})
    assert (
        intruder.delete(
            "/api/v1/push-subscriptions/", data=body, content_type="application/json"
        ).status_code
        == 204
    )
    assert PushSubscription.objects.count() == 1
    assert (
        client.delete(
            "/api/v1/push-subscriptions/", data=body, content_type="application/json"
        ).status_code
        == 204
    )
    assert PushSubscription.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "http://10.0.0.5/steal"}, "endpoint"),
        ({"endpoint": "https://fcm.googleapis.com.evil.example/x"}, "endpoint"),
        ({"keys": {"p256dh": "AAAA", "auth": b64url(b"x" * 16)}}, "p256dh"),
        ({"keys": {"p256dh": b64url(b"\x04" + b"x" * 64), "auth": "short"}}, "auth"),
    ],
)
def test_a_subscription_for_an_unknown_push_service_or_with_bad_keys_is_refused(
    active, push, change, field
):
    client = sign_in(Client(), active.officer_fr)
    body = {**Device(push).subscription, **change}
    response = client.post(
        "/api/v1/push-subscriptions/", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not PushSubscription.objects.exists()


def test_choices_are_per_group_and_kinds_left_out_keep_their_value(active):
    client = sign_in(Client(), active.officer_fr)
    url = f"/api/v1/groups/{active.group.slug}/notifications/"
    assert client.get(url).json() == {"alerts": False, "seizures": False, "mentions": False}
    client.put(url, data=json.dumps({"alerts": True}), content_type="application/json")
    client.put(url, data=json.dumps({"mentions": True}), content_type="application/json")
    assert client.get(url).json() == {"alerts": True, "seizures": False, "mentions": True}
    listed = client.get("/api/v1/notifications/").json()
    assert listed["groups"] == {
        active.group.slug: {"alerts": True, "seizures": False, "mentions": True}
    }
    assert listed["web_push"] is False and listed["vapid_public_key"] is None
    wrong = client.put(url, data=json.dumps({"alerts": "yes"}), content_type="application/json")
    assert wrong.status_code == 400 and "alerts" in wrong.json()["error"]["fields"]
    outsider = sign_in(Client(), active.outsider)
    assert (
        outsider.put(
            url, data=json.dumps({"alerts": True}), content_type="application/json"
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ("hi @officer.fr.", {"officer.fr"}),
        ("@ocu, @officer.de: look", {"ocu", "officer.de"}),
        ("write to ops@example.org", set()),
        ("(@x_y-z)", {"x_y-z"}),
        ("@", set()),
    ],
)
def test_mentions_are_usernames_after_an_at_sign(body, names):
    assert mentioned_usernames(body) == names


def test_the_entry_point_tells_the_users_named_who_chose_the_kind(
    active, push, django_capture_on_commit_callbacks
):
    named, chose_nothing = Device(push), Device(push)
    register(opt_in(active.officer_fr, active.group.slug, mentions=True), named)
    register(opt_in(active.observer, active.group.slug, alerts=True), chose_nothing)
    with django_capture_on_commit_callbacks(execute=True):
        notify_users(
            group=active.group,
            kind="mention",
            users=[active.officer_fr, active.observer, active.officer_de],
            author=active.officer_de,
        )
    assert deliver_queued() == [{"sent": 1}]
    assert named.decrypt(push.received[0]["body"])["counts"] == {"mention": 1}


def test_staff_who_read_every_group_are_told_but_not_a_deactivated_member(
    active, push, django_capture_on_commit_callbacks
):
    staff_device, member_device = Device(push), Device(push)
    register(opt_in(active.staff, active.group.slug, alerts=True), staff_device)
    register(opt_in(active.officer_fr, active.group.slug, alerts=True), member_device)
    active.officer_fr.is_active = False
    active.officer_fr.save()
    post_alert(active, active.officer_de, "Watch AF401", django_capture_on_commit_callbacks)
    assert deliver_queued() == [{"sent": 1}]
    assert [push.origin + r["path"] for r in push.received] == [staff_device.endpoint]


def test_the_key_command_prints_a_private_key_the_server_derives_its_public_key_from(
    settings, capsys
):
    call_command("web_push_keys")
    private_line, public_line = capsys.readouterr().out.splitlines()
    private = private_line.removeprefix("WEB_PUSH_VAPID_PRIVATE_KEY=")
    assert len(unb64url(private)) == 32
    settings.WEB_PUSH_ENABLED = True
    settings.WEB_PUSH_VAPID_PRIVATE_KEY = private
    public = vapid_public_key()
    assert public_line.endswith(public)
    assert len(unb64url(public)) == 65 and unb64url(public)[0] == 4
    settings.WEB_PUSH_ENABLED = False
    assert vapid_public_key() is None
