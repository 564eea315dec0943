"""The websocket at /ws/ (messaging.consumers.CugConsumer), end to end.

Every test drives the real ASGI application (``cencomm.asgi.application``) against
PostgreSQL and the real Redis channel layer: nothing is mocked.
"""

import asyncio
import contextlib
import datetime
import json
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from cencomm.asgi import application
from core.metrics import GAPS_FILLED
from groups.models import (
    ClosedUserGroup,
    ClosedUserGroupUserObjectPermission,
    GroupEvent,
    Membership,
    Role,
    UserSession,
)
from groups.services import (
    group_create,
    group_set_status,
    membership_add,
    membership_change_role,
    membership_remove,
    profile_ensure,
)
from groups.sessions import LOGIN_AT, session_end
from groups.stream import event_append, seq_take
from messaging.models import Message
from messaging.services import message_post
from messaging.socket_guard import RateLimiter
from tests.conftest import api_token, sign_in
from tests.live import ROOT, start_daphne

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = b"http://testserver"


# ---- helpers ----------------------------------------------------------------------


class Socket:
    """One client of /ws/: a WebsocketCommunicator that speaks frames."""

    def __init__(self, communicator: WebsocketCommunicator):
        self.communicator = communicator
        self.hello: dict = {}

    async def send(self, frame) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False)
        await self.communicator.send_to(text_data=text)

    async def frame(self, timeout: float = 3) -> dict:
        output = await self.communicator.receive_output(timeout)
        assert output["type"] == "websocket.send", output
        return json.loads(output["text"])

    async def frames(self, count: int, timeout: float = 3) -> list[dict]:
        return [await self.frame(timeout) for _ in range(count)]

    async def sent_nothing_more(self) -> None:
        """Nothing came before this point: the next frame answers a ping.

        The socket handles its inbox one message at a time, in arrival order: the
        client's frames and the group events the fan-out hands it. So the pong comes
        after every answer to an earlier frame, and after whatever the socket does with
        an event another socket of this process has already received (the fan-out puts
        an event into every follower's inbox at once).
        """
        await self.still_usable()

    async def close_code(self, timeout: float = 3) -> tuple[int, list[dict]]:
        """Wait for the server to close; returns the code and the frames sent before it."""
        before = []
        while True:
            output = await self.communicator.receive_output(timeout)
            if output["type"] == "websocket.close":
                return output.get("code", 1000), before
            before.append(json.loads(output["text"]))

    async def post(self, group: str, body: str = "hello", **extra) -> str:
        client_id = extra.pop("client_id", None) or str(uuid.uuid4())
        await self.send(
            {"type": "message.post", "group": group, "client_id": client_id, "body": body, **extra}
        )
        return client_id

    async def sync(self, cursors: dict) -> None:
        await self.send({"type": "sync", "cursors": cursors})

    async def still_usable(self) -> None:
        ping_id = uuid.uuid4().hex
        await self.send({"type": "ping", "id": ping_id})
        assert await self.frame() == {"type": "pong", "id": ping_id}


def _token_key(user) -> str:
    return api_token(user)


async def token_headers(user) -> list[tuple[bytes, bytes]]:
    key = await database_sync_to_async(_token_key)(user)
    return [(b"authorization", f"Token {key}".encode())]


async def session_login(user) -> Client:
    client = Client()
    await database_sync_to_async(sign_in)(client, user)
    return client


def session_headers(client: Client, origin: bytes | None = ORIGIN) -> list[tuple[bytes, bytes]]:
    headers = [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]
    if origin is not None:
        headers.append((b"origin", origin))
    return headers


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    RateLimiter.buckets.clear()
    yield
    RateLimiter.buckets.clear()


@pytest.fixture
async def connect():
    """Open sockets; every one is disconnected at the end of the test.

    ``connect(user)`` authenticates with a token, reads the hello and, unless
    ``sync=False``, syncs every group at its head (reading the empty page each
    group answers with), which is what starts live events.
    """
    opened: list[WebsocketCommunicator] = []

    async def open_socket(user=None, *, headers=None, sync=True, expect_hello=True) -> Socket:
        if headers is None:
            headers = await token_headers(user) if user is not None else []
        communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
        opened.append(communicator)
        socket = Socket(communicator)
        connected, _detail = await communicator.connect()
        assert connected, "the handshake was refused"
        if not expect_hello:
            return socket
        socket.hello = await socket.frame()
        assert socket.hello["type"] == "hello"
        if sync and socket.hello["groups"]:
            await socket.sync(socket.hello["groups"])
            pages = await socket.frames(len(socket.hello["groups"]))
            assert {(p["type"], p["group"], p["limited"]) for p in pages} == {
                ("sync.page", slug, False) for slug in socket.hello["groups"]
            }
            assert all(p["events"] == [] for p in pages)
        return socket

    yield open_socket
    for communicator in opened:
        # A socket the test already saw die has nothing left to close.
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await communicator.disconnect()


async def refused(headers) -> int:
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    try:
        connected, code = await communicator.connect()
        assert not connected
        return code
    finally:
        await communicator.wait()


post_as = database_sync_to_async(message_post)


async def post_quietly(*, author, group, body="posted elsewhere", kind="text"):
    message, _created = await post_as(
        author=author, group=group, body=body, client_id=uuid.uuid4(), kind=kind
    )
    return message


async def marker(group, author, *sockets: Socket) -> int:
    """Post a message and check that it is the next frame of every socket: nothing of
    the group came before it.

    Group events reach a process through one subscription, in commit order, and each
    socket sends them in seq order: any event published before the marker would have
    come first.
    """
    body = f"marker {uuid.uuid4().hex[:8]}"
    message = await post_quietly(author=author, group=group, body=body)
    for socket in sockets:
        event = await socket.frame()
        assert (event["type"], event["group"], event["seq"]) == ("event", group.slug, message.seq)
        assert event["data"]["html"] == f"<p>{body}</p>\n"
    return message.seq


async def head_of(group) -> int:
    return await database_sync_to_async(
        lambda: ClosedUserGroup.objects.values_list("last_seq", flat=True).get(pk=group.pk)
    )()


# ---- connecting -------------------------------------------------------------------


async def test_token_client_gets_a_hello_listing_its_groups_at_their_head(world, connect):
    socket = await connect(world.officer_fr, sync=False)
    assert socket.hello["user"] == "officer.fr"
    assert socket.hello["groups"] == {world.group.slug: world.group.last_seq}
    assert socket.hello["max_frame_bytes"] > 0


async def test_hello_lists_only_the_users_own_groups(world, connect):
    await database_sync_to_async(group_create)(name="Other unit", created_by=world.outsider)
    fr = await connect(world.officer_fr, sync=False)
    outsider = await connect(world.outsider, sync=False)
    assert list(fr.hello["groups"]) == [world.group.slug]
    assert list(outsider.hello["groups"]) == ["other-unit"]


async def test_session_client_from_an_allowed_origin_connects(world, connect):
    client = await session_login(world.officer_fr)
    socket = await connect(headers=session_headers(client))
    assert socket.hello["user"] == "officer.fr"
    await socket.still_usable()


@pytest.mark.parametrize(
    "origin",
    [
        None,
        b"",
        b"null",
        b"http://evil.test",
        b"http://testserver.evil.test",
        b"http://127.0.0.1:8000.evil.test",
        b"http://evil.test/http://testserver",
        b"https://testserver",
        b"http://testserver:8080",
        b"http://127.0.0.1:8001",
        b"ws://testserver",
    ],
)
async def test_session_socket_from_another_origin_is_refused(world, origin):
    client = await session_login(world.officer_fr)
    await refused(session_headers(client, origin=origin))


async def test_the_exact_allowed_origins_are_accepted(world, connect, settings):
    settings.WEBSOCKET_ALLOWED_ORIGINS = ["https://cencomm.example.org:8443"]
    client = await session_login(world.officer_fr)
    await refused(session_headers(client, origin=b"https://cencomm.example.org"))
    socket = await connect(headers=session_headers(client, b"https://cencomm.example.org:8443"))
    assert socket.hello["user"] == "officer.fr"


@pytest.mark.parametrize(
    "headers",
    [
        [(b"origin", ORIGIN)],
        [(b"origin", ORIGIN), (b"cookie", b"sessionid=not-a-session")],
        [(b"authorization", b"Token not-a-token")],
        [(b"authorization", b"Bearer whatever")],
        [(b"authorization", b"Token ")],
    ],
    ids=["no-cookie", "unknown-session", "unknown-token", "other-scheme", "empty-token"],
)
async def test_anonymous_socket_is_closed_with_4401(world, connect, headers):
    socket = await connect(headers=headers, expect_hello=False)
    code, frames = await socket.close_code()
    assert code == 4401
    assert frames == []


async def test_token_of_a_deactivated_user_is_refused(world, connect):
    headers = await token_headers(world.officer_fr)
    world.officer_fr.is_active = False
    await database_sync_to_async(world.officer_fr.save)()
    socket = await connect(headers=headers, expect_hello=False)
    assert (await socket.close_code())[0] == 4401


async def test_coordinator_session_without_its_second_factor_is_refused(world, connect):
    client = Client()
    assert await database_sync_to_async(client.login)(username="ocu", password=_password())
    socket = await connect(headers=session_headers(client), expect_hello=False)
    assert (await socket.close_code())[0] == 4401
    # With the second factor the same coordinator gets in.
    verified = await session_login(world.ocu)
    socket = await connect(headers=session_headers(verified))
    assert socket.hello["user"] == "ocu"


async def test_session_past_its_absolute_lifetime_is_refused(world, connect, settings):
    client = await session_login(world.officer_fr)

    def age_session():
        session = client.session
        session[LOGIN_AT] = timezone.now().timestamp() - settings.SESSION_ABSOLUTE_SECONDS - 5
        session.save()

    await database_sync_to_async(age_session)()
    socket = await connect(headers=session_headers(client), expect_hello=False)
    assert (await socket.close_code())[0] == 4401


def _password():
    from tests.conftest import PASSWORD

    return PASSWORD


# ---- posting ----------------------------------------------------------------------


async def test_post_reaches_every_member_socket_and_no_one_else(world, connect):
    slug = world.group.slug
    fr = await connect(world.officer_fr)
    others = [
        await connect(world.officer_de),
        await connect(world.observer),
        await connect(world.ocu),
    ]
    outsider = await connect(world.outsider)
    head = fr.hello["groups"][slug]

    client_id = await fr.post(slug, "Container **MSKU1234567** to Antwerp")

    accepted, event = await fr.frames(2)
    assert accepted == {
        "type": "message.accepted",
        "client_id": client_id,
        "group": slug,
        "seq": head + 1,
    }
    assert event["type"] == "event"
    assert (event["group"], event["seq"], event["event"]) == (slug, head + 1, "message.created")
    data = event["data"]
    assert data["html"] == "<p>Container <strong>MSKU1234567</strong> to Antwerp</p>\n"
    assert (data["author"], data["country"], data["kind"]) == ("officer.fr", "FR", "text")
    assert data["client_id"] == client_id and data["seq"] == head + 1
    for other in others:
        assert await other.frame() == event
    # The others have the event: the outsider's inbox would have had it too.
    await outsider.sent_nothing_more()
    await marker(world.group, world.ocu, fr, *others)


async def test_same_client_id_twice_stores_one_message(world, connect):
    slug = world.group.slug
    fr = await connect(world.officer_fr)
    de = await connect(world.officer_de)
    client_id = str(uuid.uuid4())
    await fr.post(slug, "once", client_id=client_id)
    first, event = await fr.frames(2)
    await fr.post(slug, "once", client_id=client_id)
    second = await fr.frame()
    assert first == second
    assert first["type"] == "message.accepted" and first["seq"] == event["seq"]
    assert (await de.frame())["seq"] == first["seq"]
    await marker(world.group, world.ocu, fr, de)
    count = await database_sync_to_async(
        Message.objects.filter(author=world.officer_fr, client_id=client_id).count
    )()
    assert count == 1


async def test_observer_post_is_forbidden(world, connect):
    observer = await connect(world.observer)
    member = await connect(world.officer_de)
    client_id = await observer.post(world.group.slug, "I only read")
    error = await observer.frame()
    assert (error["type"], error["code"], error["client_id"]) == ("error", "forbidden", client_id)
    await observer.still_usable()
    await marker(world.group, world.ocu, member, observer)


async def test_post_to_a_read_only_group_is_forbidden(world, connect):
    fr = await connect(world.officer_fr)
    await database_sync_to_async(group_set_status)(
        group=world.group, status=ClosedUserGroup.Status.READ_ONLY
    )
    status_event = await fr.frame()
    assert (status_event["event"], status_event["data"]) == (
        "group.status",
        {"status": "read_only"},
    )
    await fr.post(world.group.slug)
    assert (await fr.frame())["code"] == "forbidden"


async def test_unknown_group_and_someone_elses_group_get_the_same_not_found(world, connect):
    await database_sync_to_async(group_create)(name="Hidden unit", created_by=world.outsider)
    fr = await connect(world.officer_fr)
    client_id = str(uuid.uuid4())
    await fr.post("hidden-unit", "knock knock", client_id=client_id)
    foreign = await fr.frame()
    await fr.post("no-such-group", "knock knock", client_id=client_id)
    unknown = await fr.frame()
    assert foreign.pop("group") == "hidden-unit" and unknown.pop("group") == "no-such-group"
    assert (
        foreign
        == unknown
        == {
            "type": "error",
            "code": "not_found",
            "detail": "No such group.",
            "client_id": client_id,
        }
    )
    for frame_type in ("message.retract", "receipt.read", "receipt.ack"):
        await fr.send({"type": frame_type, "group": "hidden-unit", "seq": 1})
        answer = await fr.frame()
        assert (answer["code"], answer["detail"]) == ("not_found", "No such group.")
    await fr.sync({"hidden-unit": 0})
    assert (await fr.frame())["code"] == "not_found"
    await fr.still_usable()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{not json", "bad_json"),
        ("", "bad_json"),
        ("[" * 100_000 + "]" * 100_000, "bad_json"),
        ("[1, 2, 3]", "bad_frame"),
        ('"message.post"', "bad_frame"),
        ("null", "bad_frame"),
        ('{"no": "type"}', "bad_frame"),
        ('{"type": 7}', "bad_frame"),
        ('{"type": "message.delete"}', "unknown_type"),
        ('{"type": "sync", "cursors": [1, 2]}', "bad_frame"),
    ],
    ids=[
        "broken",
        "empty",
        "deeply-nested",
        "array",
        "string",
        "null",
        "no-type",
        "type-not-string",
        "unknown-type",
        "sync-without-cursors",
    ],
)
async def test_malformed_frame_gets_an_error_and_the_socket_stays_usable(
    world, connect, settings, text, code
):
    settings.WEBSOCKET_MAX_FRAME_BYTES = 1_000_000
    fr = await connect(world.officer_fr)
    if text:
        await fr.send(text)
    else:
        await fr.communicator.send_input({"type": "websocket.receive", "text": ""})
    error = await fr.frame()
    assert (error["type"], error["code"]) == ("error", code)
    assert error["detail"]
    await fr.still_usable()


FRENCH_EMPTY_BODY = "Écrivez quelque chose avant d’envoyer."


async def test_error_frames_speak_the_users_language(world, connect):
    """As the pages: the profile's language (groups.selectors.user_language)."""
    await database_sync_to_async(profile_ensure)(user=world.officer_fr, language="fr")
    fr = await connect(world.officer_fr)
    await fr.send("{not json")
    assert (await fr.frame())["detail"] == "La trame n’est pas du JSON valide."
    await fr.post(world.group.slug, body="")
    invalid = await fr.frame()
    # The service's own words, translated too.
    assert invalid["code"] == "invalid"
    assert (
        invalid["fields"]["body"] == [FRENCH_EMPTY_BODY] and invalid["detail"] == FRENCH_EMPTY_BODY
    )

    await database_sync_to_async(profile_ensure)(user=world.officer_de, language="es")
    de = await connect(world.officer_de)
    await de.send('{"type": "sync", "cursors": [1]}')
    assert (await de.frame())["detail"] == "sync necesita «cursors»: {grupo: último seq visto}."

    ocu = await connect(world.ocu)
    await ocu.send("{not json")
    assert (await ocu.frame())["detail"] == "The frame is not valid JSON."


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "   \n "}, "body"),
        ({"body": 42}, "body"),
        ({"client_id": "not-a-uuid"}, "client_id"),
        ({"client_id": None}, "client_id"),
        ({"client_id": {"a": 1}}, "client_id"),
        ({"kind": "seizure"}, "kind"),
        ({"kind": "shout"}, "kind"),
        ({"kind": ["text"]}, "kind"),
        ({"kind": {"a": 1}}, "kind"),
        ({"reply_to": 999_999}, "reply_to"),
        ({"reply_to": 10**30}, "reply_to"),
        ({"reply_to": "1"}, None),
        ({"reply_to": True}, None),
        ({"attachments": "token"}, None),
        ({"attachments": ["no-such-token"]}, "attachments"),
    ],
)
async def test_invalid_post_gets_an_invalid_error_and_stores_nothing(
    world, connect, changes, field
):
    fr = await connect(world.officer_fr)
    head = await head_of(world.group)
    frame = {
        "type": "message.post",
        "group": world.group.slug,
        "client_id": str(uuid.uuid4()),
        "body": "hello",
        **changes,
    }
    await fr.send(frame)
    error = await fr.frame()
    assert (error["type"], error["code"]) == ("error", "invalid"), error
    if field is not None:
        assert field in error["fields"], error
    assert await head_of(world.group) == head
    await fr.still_usable()


async def test_oversized_body_gets_an_error_and_the_socket_stays_usable(world, connect, settings):
    settings.MESSAGE_MAX_LENGTH = 50
    fr = await connect(world.officer_fr)
    await fr.post(world.group.slug, "x" * 51)
    error = await fr.frame()
    assert (error["code"], list(error["fields"])) == ("invalid", ["body"])
    await fr.post(world.group.slug, "x" * 50)
    assert (await fr.frame())["type"] == "message.accepted"


async def test_oversized_frame_closes_the_socket_with_4413(world, connect, settings):
    settings.WEBSOCKET_MAX_FRAME_BYTES = 2000
    fr = await connect(world.officer_fr)
    await fr.post(world.group.slug, "x" * 1500)  # under the limit: fine
    assert (await fr.frame())["type"] == "message.accepted"
    await fr.frame()
    await fr.post(world.group.slug, "x" * 2100)
    code, frames = await fr.close_code()
    assert code == 4413
    assert [f["code"] for f in frames] == ["too_large"]


async def test_frame_size_is_counted_in_bytes_not_characters(world, connect, settings):
    settings.WEBSOCKET_MAX_FRAME_BYTES = 2000
    fr = await connect(world.officer_fr)
    # 900 characters, 3,600 bytes in UTF-8.
    await fr.post(world.group.slug, "\U0001f6a2" * 900)
    code, _frames = await fr.close_code()
    assert code == 4413


async def test_oversized_binary_frame_closes_the_socket_with_4413(world, connect, settings):
    settings.WEBSOCKET_MAX_FRAME_BYTES = 100
    fr = await connect(world.officer_fr)
    await fr.communicator.send_to(bytes_data=b"{" + b" " * 200 + b"}")
    assert (await fr.close_code())[0] == 4413


async def test_binary_json_frame_is_understood(world, connect):
    fr = await connect(world.officer_fr)
    await fr.communicator.send_to(bytes_data=b'{"type": "ping", "id": 3}')
    assert await fr.frame() == {"type": "pong", "id": 3}


async def test_flooding_gets_rate_limited_then_closed_with_4429(world, connect, settings):
    settings.WEBSOCKET_RATE_BURST = 3
    settings.WEBSOCKET_RATE_PER_SECOND = 0.001
    fr = await connect(world.officer_fr)  # its sync used one token
    await fr.still_usable()
    await fr.still_usable()
    await fr.send({"type": "ping", "id": 1})
    error = await fr.frame()
    assert (error["type"], error["code"]) == ("error", "rate_limited")
    for _ in range(settings.WEBSOCKET_RATE_BURST * 3 - 1):
        await fr.send({"type": "ping"})
        assert (await fr.frame())["code"] == "rate_limited"
    await fr.send({"type": "ping"})
    assert (await fr.close_code())[0] == 4429


async def test_rate_limit_is_per_user_not_per_socket(world, connect, settings):
    settings.WEBSOCKET_RATE_BURST = 2
    settings.WEBSOCKET_RATE_PER_SECOND = 0.001
    first = await connect(world.officer_fr, sync=False)
    second = await connect(world.officer_fr, sync=False)
    other_user = await connect(world.officer_de, sync=False)
    await first.still_usable()
    await second.still_usable()
    await first.send({"type": "ping"})
    assert (await first.frame())["code"] == "rate_limited"
    await other_user.still_usable()


async def test_ping_gets_pong_with_its_id(world, connect):
    fr = await connect(world.officer_fr, sync=False)
    await fr.send({"type": "ping", "id": "abc"})
    assert await fr.frame() == {"type": "pong", "id": "abc"}
    await fr.send({"type": "ping"})
    assert await fr.frame() == {"type": "pong", "id": None}


# ---- catch-up ---------------------------------------------------------------------


async def test_reconnect_gets_exactly_the_missed_events_in_pages(world, connect, settings):
    settings.SYNC_PAGE_SIZE = 2
    slug = world.group.slug
    fr = await connect(world.officer_fr)
    cursor = fr.hello["groups"][slug]
    await fr.communicator.disconnect()

    missed = [
        (await post_quietly(author=author, group=world.group, body=f"missed {n}")).seq
        for n, author in enumerate([world.officer_de, world.ocu, world.officer_de] * 2)
    ]
    assert missed == list(range(cursor + 1, cursor + 7))

    fr = await connect(world.officer_fr, sync=False)
    assert fr.hello["groups"][slug] == cursor + 6
    await fr.sync({slug: cursor})
    pages = await fr.frames(3)
    assert [p["type"] for p in pages] == ["sync.page"] * 3
    assert [[e["seq"] for e in p["events"]] for p in pages] == [missed[:2], missed[2:4], missed[4:]]
    assert [p["limited"] for p in pages] == [True, True, False]
    assert [e["data"]["html"] for p in pages for e in p["events"]] == [
        f"<p>missed {n}</p>\n" for n in range(6)
    ]
    assert all(e["event"] == "message.created" for p in pages for e in p["events"])
    await fr.sent_nothing_more()

    de = await connect(world.officer_de)
    await de.post(slug, "after the catch-up")
    event = await fr.frame()
    assert (event["type"], event["seq"]) == ("event", cursor + 7)
    await marker(world.group, world.ocu, fr)


async def test_sync_with_nothing_missed_answers_one_empty_page(world, connect):
    slug = world.group.slug
    fr = await connect(world.officer_fr, sync=False)
    await fr.sync({slug: fr.hello["groups"][slug]})
    assert await fr.frame() == {"type": "sync.page", "group": slug, "events": [], "limited": False}


async def test_a_cursor_beyond_the_head_needs_a_resync(world, connect):
    slug = world.group.slug
    fr = await connect(world.officer_fr, sync=False)
    await fr.sync({slug: fr.hello["groups"][slug] + 1})
    assert await fr.frame() == {"type": "resync_required", "group": slug}
    await fr.still_usable()


@pytest.mark.parametrize("cursor", [-1, "3", 1.5, None, True, [1]])
async def test_a_cursor_that_is_not_a_seq_is_invalid(world, connect, cursor):
    slug = world.group.slug
    fr = await connect(world.officer_fr, sync=False)
    await fr.sync({slug: cursor})
    error = await fr.frame()
    assert (error["type"], error["code"], error["group"]) == ("error", "invalid", slug)
    await fr.still_usable()


async def test_live_events_wait_for_the_sync_and_are_not_duplicated(world, connect):
    slug = world.group.slug
    fr = await connect(world.officer_fr, sync=False)
    cursor = fr.hello["groups"][slug]
    de = await connect(world.officer_de)
    await de.post(slug, "one")
    await de.post(slug, "two")
    await de.frames(4)
    # Until the socket has synced the group, its live events wait (in the database).
    await fr.sent_nothing_more()
    await fr.sync({slug: cursor})
    page = await fr.frame()
    assert [e["seq"] for e in page["events"]] == [cursor + 1, cursor + 2]
    assert page["limited"] is False
    await fr.sent_nothing_more()
    await de.post(slug, "three")
    event = await fr.frame()
    assert (event["type"], event["seq"]) == ("event", cursor + 3)
    await marker(world.group, world.ocu, fr)


async def test_events_between_hello_and_sync_come_in_order_after_the_missed_ones(world, connect):
    """The reconnect race: the client was away, and a message is posted after the
    hello but before its sync arrives. It must get everything, in seq order, once."""
    slug = world.group.slug
    fr = await connect(world.officer_fr)
    cursor = fr.hello["groups"][slug]
    await fr.communicator.disconnect()
    await post_quietly(author=world.officer_de, group=world.group, body="while away 1")
    await post_quietly(author=world.officer_de, group=world.group, body="while away 2")

    fr = await connect(world.officer_fr, sync=False)
    assert fr.hello["groups"][slug] == cursor + 2
    de = await connect(world.officer_de)
    await post_quietly(author=world.ocu, group=world.group, body="between hello and sync")
    # De has the live event, so fr's inbox has it too: it comes in before the sync.
    assert (await de.frame())["seq"] == cursor + 3
    await fr.sync({slug: cursor})
    await fr.send({"type": "ping", "id": "after the sync"})
    seqs = []
    while (frame := await fr.frame())["type"] != "pong":
        seqs += (
            [e["seq"] for e in frame["events"]] if frame["type"] == "sync.page" else [frame["seq"]]
        )
    assert seqs == [cursor + 1, cursor + 2, cursor + 3]


async def test_live_event_during_a_paged_sync_is_sent_once_after_it(world, connect, settings):
    settings.SYNC_PAGE_SIZE = 3
    slug = world.group.slug
    for n in range(7):
        await post_quietly(author=world.officer_de, group=world.group, body=f"old {n}")
    fr = await connect(world.officer_fr, sync=False)
    de = await connect(world.officer_de)
    head = fr.hello["groups"][slug]
    await fr.sync({slug: 0})
    await de.post(slug, "while syncing")
    # De has its event, so fr's inbox has it too, before the ping: fr answers the ping
    # once it has done all it does for the sync and the event.
    await de.frames(2)
    await fr.send({"type": "ping", "id": "after the event"})
    seqs, limited = [], []
    while (frame := await fr.frame())["type"] != "pong":
        if frame["type"] == "sync.page":
            seqs += [e["seq"] for e in frame["events"]]
            limited.append(frame["limited"])
        else:
            assert frame["type"] == "event"
            seqs.append(frame["seq"])
    assert seqs == list(range(1, head + 2))
    assert limited[-1] is False and all(limited[:-1])


async def test_a_second_sync_never_resends_what_the_socket_already_sent(world, connect):
    slug = world.group.slug
    fr = await connect(world.officer_fr)
    cursor = fr.hello["groups"][slug]
    await post_quietly(author=world.officer_de, group=world.group)
    await post_quietly(author=world.officer_de, group=world.group)
    assert [f["seq"] for f in await fr.frames(2)] == [cursor + 1, cursor + 2]
    # The client's sync crossed those events on the wire: it still says `cursor`.
    await fr.sync({slug: cursor})
    assert await fr.frame() == {"type": "sync.page", "group": slug, "events": [], "limited": False}
    await fr.sent_nothing_more()


async def test_a_lost_notification_is_filled_from_the_database(world, connect):
    slug = world.group.slug
    fr = await connect(world.officer_fr)
    head = fr.hello["groups"][slug]

    @database_sync_to_async
    def event_without_notification():
        # As if the channel layer had dropped it: stored, never broadcast.
        with transaction.atomic():
            seq = seq_take(group_id=world.group.pk)
            GroupEvent.objects.create(group=world.group, seq=seq, type="group.status", data={})

    await event_without_notification()
    await fr.sent_nothing_more()
    gaps = GAPS_FILLED._value.get()
    await post_quietly(author=world.officer_de, group=world.group)
    frames = await fr.frames(2)
    assert [(f["type"], f["seq"], f["event"]) for f in frames] == [
        ("event", head + 1, "group.status"),
        ("event", head + 2, "message.created"),
    ]
    # Both came from the database: the second event showed the gap before it.
    assert GAPS_FILLED._value.get() == gaps + 1
    await marker(world.group, world.ocu, fr)


async def test_a_socket_that_never_syncs_gets_live_events_after_the_grace(world, connect, settings):
    settings.WEBSOCKET_SYNC_GRACE_SECONDS = 0.5
    slug = world.group.slug
    fr = await connect(world.officer_fr, sync=False)
    head = fr.hello["groups"][slug]
    await post_quietly(author=world.officer_de, group=world.group, body="early")
    event = await fr.frame(timeout=3)
    assert (event["type"], event["seq"]) == ("event", head + 1)
    await post_quietly(author=world.officer_de, group=world.group, body="later")
    event = await fr.frame(timeout=1)
    assert (event["type"], event["seq"]) == ("event", head + 2)
    await marker(world.group, world.ocu, fr)


async def test_a_removed_members_sync_shows_nothing_of_the_group(world, connect):
    """Even before the revocation reaches the socket, catch-up reads only what the
    user may still see."""
    fr = await connect(world.officer_fr, sync=False)
    de = await connect(world.officer_de)
    await post_quietly(author=world.officer_de, group=world.group, body="secret")
    await de.frame()  # so fr's inbox has the live event too, before its sync
    # What membership_remove writes, without the notice it sends after commit: the
    # membership ends and its permissions go (groups/access.py reads them).
    await database_sync_to_async(
        Membership.objects.filter(user=world.officer_fr, group=world.group).update
    )(removed_at=timezone.now())
    await database_sync_to_async(
        ClosedUserGroupUserObjectPermission.objects.filter(
            user=world.officer_fr, content_object=world.group
        ).delete
    )()
    await fr.sync({world.group.slug: 0})
    frame = await fr.frame()
    assert frame["type"] == "sync.page" and frame["events"] == []
    await fr.sent_nothing_more()


# ---- membership -------------------------------------------------------------------


async def test_removed_member_socket_gets_access_revoked_and_nothing_more(world, connect):
    slug = world.group.slug
    fr = await connect(world.officer_fr)
    de = await connect(world.officer_de)
    ocu = await connect(world.ocu)

    await database_sync_to_async(membership_remove)(
        group=world.group, user=world.officer_fr, removed_by=world.ocu
    )
    assert await fr.frame() == {"type": "access.revoked", "group": slug}
    removed = await de.frame()
    assert (removed["event"], removed["data"]["user"]) == ("member.removed", "officer.fr")
    await ocu.frame()

    await ocu.post(slug, "not for officer.fr")
    assert (await de.frame())["data"]["html"] == "<p>not for officer.fr</p>\n"
    await fr.sent_nothing_more()

    # The socket no longer knows the group at all.
    await fr.post(slug, "still here?")
    assert (await fr.frame())["code"] == "not_found"
    await fr.sync({slug: 0})
    assert (await fr.frame())["code"] == "not_found"
    await fr.still_usable()


async def test_added_member_socket_gets_access_granted_then_live_events(world, connect):
    slug = world.group.slug
    outsider = await connect(world.outsider)
    assert outsider.hello["groups"] == {}
    fr = await connect(world.officer_fr)

    await database_sync_to_async(membership_add)(
        group=world.group, user=world.outsider, role=Role.MEMBER, added_by=world.ocu
    )
    granted = await outsider.frame()
    head = await head_of(world.group)
    assert granted == {"type": "access.granted", "group": slug, "seq": head}
    await fr.frame()  # member.added

    await fr.post(slug, "welcome")
    event = await outsider.frame()
    assert (event["type"], event["seq"], event["event"]) == ("event", head + 1, "message.created")
    # And the new member may post.
    await outsider.post(slug, "thanks")
    assert (await outsider.frame())["type"] == "message.accepted"


async def test_role_change_is_told_to_the_members_sockets(world, connect):
    de = await connect(world.officer_de)
    await database_sync_to_async(membership_change_role)(
        group=world.group, user=world.officer_de, role=Role.OBSERVER, changed_by=world.ocu
    )
    frames = await de.frames(2)
    assert {"type": "access.changed", "group": world.group.slug, "role": "observer"} in frames
    await de.post(world.group.slug)
    assert (await de.frame())["code"] == "forbidden"


# ---- sessions ---------------------------------------------------------------------


async def test_logout_closes_every_socket_of_the_user_with_4401(world, connect):
    client = await session_login(world.officer_fr)
    browser = await connect(headers=session_headers(client))
    program = await connect(world.officer_fr)
    other_user = await connect(world.officer_de)

    await database_sync_to_async(client.logout)()

    assert (await browser.close_code())[0] == 4401
    assert (await program.close_code())[0] == 4401
    await other_user.still_usable()


async def test_frames_sent_after_the_close_are_ignored(world, connect):
    client = await session_login(world.officer_fr)
    browser = await connect(headers=session_headers(client))
    await database_sync_to_async(client.logout)()
    assert (await browser.close_code())[0] == 4401
    await browser.post(world.group.slug, "too late")
    # The socket handles the post, then the client's leaving, in order; then it ends.
    await browser.communicator.disconnect()
    assert browser.communicator.output_queue.empty()
    assert not await database_sync_to_async(
        Message.objects.filter(author=world.officer_fr).exists
    )()


async def test_deactivating_the_user_closes_their_sockets_with_4401(world, connect):
    fr = await connect(world.officer_fr)
    world.officer_fr.is_active = False
    await database_sync_to_async(world.officer_fr.save)()
    assert (await fr.close_code())[0] == 4401


async def test_ending_one_session_closes_only_its_sockets(world, connect):
    phone = await session_login(world.officer_fr)
    desktop = await session_login(world.officer_fr)
    phone_socket = await connect(headers=session_headers(phone))
    desktop_socket = await connect(headers=session_headers(desktop))

    def end_phone_session():
        record = UserSession.objects.get(session_key=phone.session.session_key)
        return session_end(user=world.officer_fr, public_id=record.public_id)

    ended = await database_sync_to_async(end_phone_session)()
    assert ended
    assert (await phone_socket.close_code())[0] == 4401
    await desktop_socket.still_usable()


async def test_an_expired_session_closes_its_socket(world, connect, settings):
    settings.WEBSOCKET_SESSION_CHECK_SECONDS = 0.2
    client = await session_login(world.officer_fr)
    browser = await connect(headers=session_headers(client))
    await database_sync_to_async(
        Session.objects.filter(session_key=client.session.session_key).update
    )(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    assert (await browser.close_code())[0] == 4401


async def test_a_password_change_elsewhere_closes_the_old_sessions_socket(world, connect, settings):
    settings.WEBSOCKET_SESSION_CHECK_SECONDS = 0.2
    client = await session_login(world.officer_fr)
    browser = await connect(headers=session_headers(client))

    @database_sync_to_async
    def change_password():
        world.officer_fr.set_password("a brand new passphrase 42")
        world.officer_fr.save()

    await change_password()
    assert (await browser.close_code(timeout=3))[0] == 4401


async def test_activity_on_the_socket_renews_the_idle_timeout(world, connect, settings):
    settings.WEBSOCKET_SESSION_CHECK_SECONDS = 0.2
    client = await session_login(world.officer_fr)
    key = client.session.session_key
    browser = await connect(headers=session_headers(client))
    soon = timezone.now() + datetime.timedelta(seconds=30)
    await database_sync_to_async(Session.objects.filter(session_key=key).update)(expire_date=soon)
    await browser.post(world.group.slug, "still at my post")
    await browser.frames(2)
    await asyncio.sleep(0.6)
    expiry = await database_sync_to_async(
        lambda: Session.objects.get(session_key=key).expire_date
    )()
    assert expiry > timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
    await browser.still_usable()


async def test_a_deleted_token_closes_its_socket(world, connect, settings):
    settings.WEBSOCKET_SESSION_CHECK_SECONDS = 0.2
    program = await connect(world.officer_fr)
    await database_sync_to_async(Token.objects.filter(user=world.officer_fr).delete)()
    assert (await program.close_code())[0] == 4401


# ---- retracting and receipts ------------------------------------------------------


async def test_retract_hides_the_message_for_everyone(world, connect):
    slug = world.group.slug
    fr = await connect(world.officer_fr)
    de = await connect(world.officer_de)
    await fr.post(slug, "wrong container number")
    accepted, _event = await fr.frames(2)
    await de.frame()
    seq = accepted["seq"]

    await de.send({"type": "message.retract", "group": slug, "seq": seq})
    assert (await de.frame())["code"] == "forbidden"

    await fr.send({"type": "message.retract", "group": slug, "seq": seq})
    frames = await fr.frames(2)
    assert {"type": "message.retracted.ok", "group": slug, "seq": seq} in frames
    retracted = await de.frame()
    assert (retracted["event"], retracted["data"]) == ("message.retracted", {"message_seq": seq})

    later = await connect(world.ocu, sync=False)
    await later.sync({slug: seq - 1})
    page = await later.frame()
    created = page["events"][0]
    assert (created["seq"], created["data"]["html"], created["data"]["retracted"]) == (
        seq,
        "",
        True,
    )
    assert page["events"][1]["event"] == "message.retracted"


async def test_reading_sends_a_receipt_to_the_author_and_coordinators(world, connect):
    slug = world.group.slug
    fr = await connect(world.officer_fr)
    de = await connect(world.officer_de)
    ocu = await connect(world.ocu)
    await fr.post(slug, "please read")
    accepted, _event = await fr.frames(2)
    await de.frame()
    await ocu.frame()
    seq = accepted["seq"]
    await de.post(slug, "mine")
    own_seq = (await de.frames(2))[0]["seq"]
    await fr.frame()
    await ocu.frame()

    await de.send({"type": "receipt.read", "group": slug, "seq": seq})
    assert await de.frame() == {"type": "receipt.read.ok", "group": slug, "seq": seq}
    expected = {
        "type": "receipt",
        "group": slug,
        "seq": seq,
        "user": "officer.de",
        "read": True,
        "acknowledged": False,
    }
    assert await fr.frame() == expected
    assert await ocu.frame() == expected

    # Reading again changes nothing and tells no one.
    await de.send({"type": "receipt.read", "group": slug, "seq": seq})
    assert (await de.frame())["seq"] == seq

    # A receipt to each of them now: one sent to them before would have come first
    # (their user's channel delivers in the order sent).
    await ocu.send({"type": "receipt.read", "group": slug, "seq": own_seq})
    assert await ocu.frame() == {"type": "receipt.read.ok", "group": slug, "seq": own_seq}
    by_ocu = {**expected, "user": "ocu"}
    assert await fr.frame() == by_ocu
    assert await de.frame() == {**by_ocu, "seq": own_seq}


async def test_acknowledging_an_alert_works_and_a_text_message_is_refused(world, connect):
    slug = world.group.slug
    fr = await connect(world.officer_fr)
    de = await connect(world.officer_de)
    await fr.post(slug, "Stop truck AB-123-CD", kind="alert")
    alert = (await fr.frames(2))[0]["seq"]
    await fr.post(slug, "just chatting")
    text = (await fr.frames(2))[0]["seq"]
    await de.frames(2)

    await de.send({"type": "receipt.ack", "group": slug, "seq": alert})
    assert await de.frame() == {"type": "receipt.ack.ok", "group": slug, "seq": alert}
    receipt = await fr.frame()
    assert (receipt["type"], receipt["seq"], receipt["acknowledged"]) == ("receipt", alert, True)

    await de.send({"type": "receipt.ack", "group": slug, "seq": text})
    error = await de.frame()
    assert (error["code"], list(error["fields"])) == ("invalid", ["seq"])
    await de.send({"type": "receipt.ack", "group": slug, "seq": "one"})
    assert (await de.frame())["code"] == "invalid"
    await de.still_usable()


# ---- the example client of docs/protocol.md, against a real daphne ----------------


def _protocol_doc_example() -> dict:
    text = (ROOT / "docs" / "protocol.md").read_text()
    section = text.split("## Example client in Python", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace = {"__name__": "cencomm_client"}
    exec(compile(code, "docs/protocol.md", "exec"), namespace)  # noqa: S102 - our own doc
    return namespace


def test_the_example_client_in_the_protocol_doc_works(world, tmp_path, capsys):
    slug = world.group.slug
    head = world.group.last_seq
    client = _protocol_doc_example()
    client["CURSORS"] = tmp_path / "cursors.json"
    key = _token_key(world.officer_fr)
    server = start_daphne()
    try:
        asyncio.run(client["main"](server.ws_url, key, slug, "first run"))
        assert capsys.readouterr().out.splitlines() == [f"{slug} #{head + 1} message.created"]

        for body in ("while away", "still away"):
            message_post(
                author=world.officer_de, group=world.group, body=body, client_id=uuid.uuid4()
            )
        cursors = asyncio.run(client["main"](server.ws_url, key, slug, "second run"))
        assert capsys.readouterr().out.splitlines() == [
            f"{slug} #{seq} message.created" for seq in (head + 2, head + 3, head + 4)
        ]
        assert cursors == json.loads(client["CURSORS"].read_text()) == {slug: head + 4}
    finally:
        server.stop()
    bodies = list(
        Message.objects.filter(group=world.group).order_by("seq").values_list("body", flat=True)
    )
    assert bodies == ["first run", "while away", "still away", "second run"]


def test_a_real_server_closes_an_oversized_frame_cleanly(world):
    """Through daphne: the client sees 4413 after the error frame, and the server logs
    no error, however many such frames arrive."""
    import websockets

    key = _token_key(world.officer_fr)
    server = start_daphne(WEBSOCKET_MAX_FRAME_BYTES="2000", LOG_FORMAT="plain")

    async def send_oversized() -> tuple[int, list[str]]:
        async with websockets.connect(
            server.ws_url, additional_headers={"Authorization": f"Token {key}"}
        ) as socket:
            assert json.loads(await socket.recv())["type"] == "hello"
            await socket.send(json.dumps({"type": "ping", "id": "x" * 3000}))
            codes = []
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:
                    codes.append(json.loads(await socket.recv()).get("code"))
        return socket.close_code, codes

    try:
        for _attempt in range(3):
            close_code, codes = asyncio.run(send_oversized())
            assert close_code == 4413
            assert codes == ["too_large"]
    finally:
        log = server.stop()
    assert "ERROR" not in log and "invalid close code" not in log.lower(), log[-2000:]


# ---- the fan-out ------------------------------------------------------------------


async def test_a_removal_event_drops_the_group_before_any_later_event(world, connect):
    """The member.removed event itself takes the group off the user's sockets, in seq
    order: even if the message on the user's own channel never came, no later event
    could reach them."""
    slug = world.group.slug
    fr = await connect(world.officer_fr)
    de = await connect(world.officer_de)

    @database_sync_to_async
    def remove_without_telling_the_user():
        with transaction.atomic():
            Membership.objects.filter(user=world.officer_fr, group=world.group).update(
                removed_at=timezone.now()
            )
            event_append(
                group=world.group,
                type="member.removed",
                data={"user": "officer.fr", "role": "member"},
                removes=world.officer_fr.pk,
            )

    await remove_without_telling_the_user()
    await post_quietly(author=world.officer_de, group=world.group, body="after the removal")
    assert await fr.frame() == {"type": "access.revoked", "group": slug}
    assert [(await de.frame())["event"] for _ in range(2)] == ["member.removed", "message.created"]
    await fr.sent_nothing_more()


async def test_a_socket_whose_inbox_overflows_reads_the_rest_from_the_database(
    world, connect, settings
):
    settings.WEBSOCKET_INBOX_LIMIT = 0  # nothing is queued: every event comes from the database
    slug = world.group.slug
    fr = await connect(world.officer_fr)
    head = fr.hello["groups"][slug]
    for n in range(5):
        await post_quietly(author=world.officer_de, group=world.group, body=f"burst {n}")
    frames = await fr.frames(5)
    assert [(f["type"], f["seq"]) for f in frames] == [("event", head + n) for n in range(1, 6)]
    assert [f["data"]["html"] for f in frames] == [f"<p>burst {n}</p>\n" for n in range(5)]
    await marker(world.group, world.ocu, fr)
