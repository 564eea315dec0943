"""Handling codes on the websocket: posted with a message, shown in its live frame,
changed and released by frames, refused in the user's language."""

import uuid

import pytest
from channels.db import database_sync_to_async

from messaging.models import Message
from tests.messaging.test_consumer import connect, fresh_rate_limits  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def stored(seq: int, group) -> Message:
    return Message.objects.get(group=group, seq=seq)


async def test_a_message_posted_with_a_code_shows_it_in_every_live_frame(world, connect):  # noqa: F811
    author = await connect(world.officer_fr)
    reader = await connect(world.officer_de)
    client_id = await author.post(
        world.group.slug,
        "Container MSCU 123",
        handling_code="H3",
        handling_conditions="Not before the search",
        source_grading="B",
        information_grading="3",
    )
    accepted = await author.frame()
    assert (accepted["type"], accepted["client_id"]) == ("message.accepted", client_id)
    for socket in (author, reader):
        event = await socket.frame()
        assert event["event"] == "message.created"
        data = event["data"]
        assert (data["handling_code"], data["handling_conditions"]) == (
            "H3",
            "Not before the search",
        )
        assert (data["source_grading"], data["information_grading"], data["released"]) == (
            "B",
            "3",
            False,
        )


async def test_a_bad_code_is_refused_in_the_users_language_and_nothing_is_stored(
    world,
    connect,  # noqa: F811
):
    author = await connect(world.officer_fr)
    count = await database_sync_to_async(Message.objects.count)()
    client_id = await author.post(
        world.group.slug, "x", handling_code="H3", handling_conditions="", source_grading="Q"
    )
    error = await author.frame()
    assert (error["type"], error["code"], error["client_id"]) == ("error", "invalid", client_id)
    assert set(error["fields"]) == {"handling_conditions", "source_grading"}
    assert await database_sync_to_async(Message.objects.count)() == count


async def test_frames_change_and_release_a_code_and_every_member_hears_it(world, connect):  # noqa: F811
    author = await connect(world.officer_fr)
    reader = await connect(world.officer_de)
    await author.post(world.group.slug, "about to be restricted", client_id=str(uuid.uuid4()))
    await author.frame()  # accepted
    seq = (await author.frame())["seq"]
    await reader.frame()

    await reader.send(
        {"type": "message.handling", "group": world.group.slug, "seq": seq, "handling_code": "H2"}
    )
    refused = await reader.frame()
    assert (refused["type"], refused["code"]) == ("error", "forbidden")

    await author.send(
        {"type": "message.handling", "group": world.group.slug, "seq": seq, "handling_code": "H2"}
    )
    assert await author.frame() == {
        "type": "message.handling.ok",
        "group": world.group.slug,
        "seq": seq,
    }
    for socket in (author, reader):
        event = await socket.frame()
        assert event["event"] == "handling.changed"
        assert (event["data"]["message_seq"], event["data"]["handling_code"]) == (seq, "H2")
    assert (await stored(seq, world.group)).handling_code == "H2"

    await reader.send({"type": "message.release", "group": world.group.slug, "seq": seq})
    refused = await reader.frame()
    assert (refused["type"], refused["code"]) == ("error", "forbidden")
    coordinator = await connect(world.ocu)
    await coordinator.send({"type": "message.release", "group": world.group.slug, "seq": seq})
    assert (await coordinator.frame())["type"] == "message.release.ok"
    event = await reader.frame()
    assert (event["event"], event["data"]["by"], event["data"]["administration"]) == (
        "handling.released",
        "ocu",
        "FR",
    )
    assert (await stored(seq, world.group)).released_at is not None


@database_sync_to_async
def posted_attachment(world) -> str:
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from messaging.attachments import attachment_upload
    from messaging.services import message_post

    image = io.BytesIO()
    Image.new("RGB", (4, 4)).save(image, format="PNG")
    attachment = attachment_upload(
        user=world.officer_fr,
        group=world.group,
        uploaded_file=SimpleUploadedFile("seal.png", image.getvalue(), "image/png"),
    )
    message_post(
        author=world.officer_fr,
        group=world.group,
        body="the seal",
        client_id=uuid.uuid4(),
        attachment_tokens=[attachment.token],
    )
    return attachment.token


async def test_a_frame_changes_an_attachments_code_for_its_uploader_only(world, connect):  # noqa: F811
    from messaging.models import Attachment

    token = await posted_attachment(world)
    author = await connect(world.officer_fr)
    other = await connect(world.officer_de)
    frame = {"type": "attachment.handling", "group": world.group.slug, "token": token}
    await other.send({**frame, "handling_code": "H2"})
    refused = await other.frame()
    assert (refused["type"], refused["code"]) == ("error", "forbidden")
    await author.send({**frame, "handling_code": "H3"})
    refused = await author.frame()
    assert (refused["code"], set(refused["fields"])) == ("invalid", {"handling_conditions"})
    await author.send({**frame, "handling_code": "H2"})
    assert await author.frame() == {
        "type": "attachment.handling.ok",
        "group": world.group.slug,
        "token": token,
    }
    event = await other.frame()
    assert (event["event"], event["data"]["item"], event["data"]["ref"]) == (
        "handling.changed",
        "attachment",
        token,
    )
    stored = await database_sync_to_async(Attachment.objects.get)(token=token)
    assert stored.handling_code == "H2"
