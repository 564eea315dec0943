"""Handling codes and grading of messages and attachments: chosen by the author,
changed by the author or a coordinator, released by the author's administration;
every door (services, REST, the websocket, the page) and every refusal."""

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from core.errors import Forbidden, Invalid
from core.models import AuditEntry
from groups.models import GroupEvent, Role
from groups.services import membership_add
from messaging.models import Attachment, Message
from messaging.services import (
    attachment_set_handling,
    message_post,
    message_release,
    message_set_handling,
)
from operations.handling import operation_set_default_handling
from tests.conftest import api_token, sign_in


def post(author, group, body="hello", **handling):
    message, _created = message_post(
        author=author, group=group, body=body, client_id=uuid.uuid4(), handling=handling
    )
    return message


def last_event(group) -> GroupEvent:
    return GroupEvent.objects.filter(group=group).order_by("-seq").first()


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


def session_client(user) -> APIClient:
    client = APIClient()
    sign_in(client, user)
    return client


def png() -> SimpleUploadedFile:
    data = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(data, "PNG")
    return SimpleUploadedFile("seal.png", data.getvalue(), content_type="image/png")


# ---- the services ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_message_carries_the_operations_default_unless_its_author_chooses(world):
    assert post(world.officer_fr, world.group).handling_code == "H0"
    operation_set_default_handling(
        operation=world.operation, actor=world.ocu, code="H3", conditions="Ask the OCU first"
    )
    event = last_event(world.group)
    assert (event.type, event.data["default_handling_code"]) == ("operation.settings", "H3")
    defaulted = post(world.officer_fr, world.group)
    assert (defaulted.handling_code, defaulted.handling_conditions) == ("H3", "Ask the OCU first")
    chosen = post(
        world.officer_fr,
        world.group,
        handling_code="H1",
        source_grading="B",
        information_grading="2",
    )
    assert (chosen.handling_code, chosen.handling_conditions) == ("H1", "")
    event = GroupEvent.objects.get(group=world.group, seq=chosen.seq)
    assert {key: event.data[key] for key in ("handling_code", "source_grading")} == {
        "handling_code": "H1",
        "source_grading": "B",
    }
    assert (event.data["information_grading"], event.data["released"]) == ("2", False)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("handling", "field"),
    [
        ({"handling_code": "H9"}, "handling_code"),
        ({"handling_code": "h2"}, "handling_code"),
        ({"handling_code": "H3"}, "handling_conditions"),
        ({"handling_code": "H3", "handling_conditions": "   "}, "handling_conditions"),
        ({"handling_code": "H1", "handling_conditions": "only for H3"}, "handling_conditions"),
        ({"handling_code": "H3", "handling_conditions": "x" * 201}, "handling_conditions"),
        ({"source_grading": "D"}, "source_grading"),
        ({"information_grading": "5"}, "information_grading"),
        ({"information_grading": ["1"]}, "information_grading"),
    ],
)
def test_bad_handling_is_refused_by_its_field_and_nothing_is_stored(world, handling, field):
    before = (Message.objects.count(), world.group.last_seq)
    with pytest.raises(Invalid) as refused:
        post(world.officer_fr, world.group, **handling)
    assert field in refused.value.message_dict
    world.group.refresh_from_db()
    assert (Message.objects.count(), world.group.last_seq) == before


@pytest.mark.django_db
def test_the_refusal_speaks_the_users_language(world):
    from django.utils import translation

    with translation.override("fr"), pytest.raises(Invalid) as refused:
        post(world.officer_fr, world.group, handling_code="H3")
    assert refused.value.message_dict["handling_conditions"] == [
        "Précisez les conditions d’un élément H3."
    ]


@pytest.mark.django_db
def test_the_author_or_a_coordinator_changes_a_code_and_the_group_hears_it(world):
    message = post(world.officer_fr, world.group)
    with pytest.raises(Forbidden):
        message_set_handling(actor=world.officer_de, group=world.group, seq=message.seq, code="H2")
    assert Message.objects.get(pk=message.pk).handling_code == "H0"
    message_set_handling(
        actor=world.officer_fr, group=world.group, seq=message.seq, code="H2", source="C"
    )
    event = last_event(world.group)
    assert event.type == "handling.changed"
    assert event.data == {
        "item": "message",
        "ref": message.seq,
        "message_seq": message.seq,
        "by": "officer.fr",
        "handling_code": "H2",
        "handling_conditions": "",
        "source_grading": "C",
        "information_grading": "",
    }
    message_set_handling(
        actor=world.ocu, group=world.group, seq=message.seq, code="H3", conditions="Not the press"
    )
    stored = Message.objects.get(pk=message.pk)
    assert (stored.handling_code, stored.handling_conditions, stored.source_grading) == (
        "H3",
        "Not the press",
        "C",
    )
    assert (
        AuditEntry.objects.filter(
            action=AuditEntry.Action.HANDLING_CHANGED, target=f"#{message.seq}"
        ).count()
        == 2
    )


@pytest.mark.django_db
def test_a_bad_change_changes_nothing(world):
    message = post(world.officer_fr, world.group, handling_code="H1")
    seq = world.group.last_seq
    with pytest.raises(Invalid):
        message_set_handling(actor=world.officer_fr, group=world.group, seq=message.seq, code="H3")
    world.group.refresh_from_db()
    assert world.group.last_seq == seq
    assert Message.objects.get(pk=message.pk).handling_code == "H1"


@pytest.mark.django_db
def test_an_h2_message_is_released_by_the_authors_administration_or_a_coordinator(world, make_user):
    colleague = make_user("colleague.fr", country="FR")
    membership_add(group=world.group, user=colleague, role=Role.MEMBER, added_by=world.ocu)
    message = post(world.officer_fr, world.group, handling_code="H2")
    with pytest.raises(Forbidden):
        message_release(actor=world.officer_de, group=world.group, seq=message.seq)
    assert Message.objects.get(pk=message.pk).released_at is None
    message_release(actor=colleague, group=world.group, seq=message.seq)
    stored = Message.objects.get(pk=message.pk)
    assert stored.released_by == colleague and stored.released_at is not None
    event = last_event(world.group)
    assert (event.type, event.data) == (
        "handling.released",
        {
            "item": "message",
            "ref": message.seq,
            "message_seq": message.seq,
            "by": "colleague.fr",
            "administration": "FR",
        },
    )
    assert AuditEntry.objects.filter(action=AuditEntry.Action.ITEM_RELEASED).count() == 1
    other = post(world.officer_de, world.group, handling_code="H2")
    message_release(actor=world.ocu, group=world.group, seq=other.seq)
    assert Message.objects.get(pk=other.pk).released_at is not None
    with pytest.raises(Invalid):
        message_release(
            actor=world.ocu, group=world.group, seq=post(world.officer_fr, world.group).seq
        )


@pytest.mark.django_db
def test_an_attachment_carries_its_own_code_changed_by_its_uploader(world):
    from messaging.attachments import attachment_upload

    attachment = attachment_upload(
        user=world.officer_fr, group=world.group, uploaded_file=png(), handling_code="H2"
    )
    assert attachment.handling_code == "H2"
    with pytest.raises(Invalid):
        attachment_upload(
            user=world.officer_fr, group=world.group, uploaded_file=png(), handling_code="H3"
        )
    message, _created = message_post(
        author=world.officer_fr,
        group=world.group,
        body="seal",
        client_id=uuid.uuid4(),
        attachment_tokens=[attachment.token],
    )
    event = GroupEvent.objects.get(group=world.group, seq=message.seq)
    assert event.data["attachments"][0]["handling_code"] == "H2"
    with pytest.raises(Forbidden):
        attachment_set_handling(
            actor=world.officer_de, group=world.group, token=attachment.token, code="H0"
        )
    attachment_set_handling(
        actor=world.officer_fr, group=world.group, token=attachment.token, code="H1"
    )
    assert Attachment.objects.get(pk=attachment.pk).handling_code == "H1"
    event = last_event(world.group)
    assert (event.type, event.data["item"], event.data["message_seq"]) == (
        "handling.changed",
        "attachment",
        message.seq,
    )


# ---- REST ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_rest_posts_and_shows_codes_and_refuses_bad_ones_in_the_users_language(world):
    client = token_client(world.officer_fr)
    url = reverse("api-messages", kwargs={"slug": world.group.slug})
    answer = client.post(
        url,
        {
            "client_id": str(uuid.uuid4()),
            "body": "Truck AB-123",
            "handling_code": "H3",
            "handling_conditions": "Not before the arrest",
            "source_grading": "A",
            "information_grading": "1",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["handling_code"], body["handling_conditions"]) == ("H3", "Not before the arrest")
    assert (body["source_grading"], body["information_grading"]) == ("A", "1")
    count = Message.objects.count()
    refused = client.post(
        url,
        {"client_id": str(uuid.uuid4()), "body": "x", "handling_code": "H3"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["handling_conditions"] == [
        "Indique las condiciones de un elemento H3."
    ]
    assert Message.objects.count() == count


@pytest.mark.django_db
def test_rest_changes_and_releases_a_message(world):
    message = post(world.officer_fr, world.group)
    url = reverse("api-message-handling", kwargs={"slug": world.group.slug, "seq": message.seq})
    denied = token_client(world.officer_de).post(url, {"handling_code": "H2"}, format="json")
    assert denied.status_code == 403
    answer = token_client(world.officer_fr).post(url, {"handling_code": "H2"}, format="json")
    assert answer.status_code == 200 and answer.json()["handling_code"] == "H2"
    bad = token_client(world.officer_fr).post(url, {"information_grading": "9"}, format="json")
    assert bad.status_code == 400 and "information_grading" in bad.json()["error"]["fields"]
    release = reverse("api-message-release", kwargs={"slug": world.group.slug, "seq": message.seq})
    assert token_client(world.officer_de).post(release).status_code == 403
    answer = session_client(world.ocu).post(release)
    assert answer.status_code == 200 and answer.json()["released"] is True
    outsider = token_client(world.outsider).post(release)
    assert outsider.status_code == 404


@pytest.mark.django_db
def test_a_national_systems_token_reads_no_unreleased_h2_message(world):
    from messaging.attachments import attachment_upload

    open_one = post(world.officer_fr, world.group, "open")
    kept = post(world.officer_fr, world.group, "kept in the operation", handling_code="H2")
    released = post(world.officer_fr, world.group, "released", handling_code="H2")
    message_release(actor=world.ocu, group=world.group, seq=released.seq)
    attachment = attachment_upload(
        user=world.officer_fr, group=world.group, uploaded_file=png(), handling_code="H2"
    )
    with_file, _created = message_post(
        author=world.officer_fr,
        group=world.group,
        body="with a restricted photo",
        client_id=uuid.uuid4(),
        attachment_tokens=[attachment.token],
    )
    url = reverse("api-messages", kwargs={"slug": world.group.slug})
    national = token_client(world.officer_de).get(url).json()["messages"]
    by_seq = {m["seq"]: m for m in national}
    assert open_one.seq in by_seq and released.seq in by_seq
    assert kept.seq not in by_seq
    assert by_seq[released.seq]["handling_code"] == "H2"
    assert by_seq[released.seq]["released"] is True
    assert by_seq[with_file.seq]["attachments"] == []
    # Inside the group, on the page's session, everything shows with its code.
    inside = session_client(world.officer_de).get(url).json()["messages"]
    by_seq = {m["seq"]: m for m in inside}
    assert by_seq[kept.seq]["handling_code"] == "H2"
    assert by_seq[with_file.seq]["attachments"][0]["handling_code"] == "H2"


# ---- the page ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_group_page_carries_each_messages_code_and_grading(world):
    post(world.officer_fr, world.group, "graded", handling_code="H1", source_grading="X")
    client = sign_in(Client(), world.officer_de)
    page = client.get(reverse("groups:group", kwargs={"slug": world.group.slug}))
    html = page.content.decode()
    assert '"handling_code": "H1"' in html and '"source_grading": "X"' in html
    # The composer offers every code, the operation's default chosen.
    assert 'id="composer-handling"' in html
    assert '<option value="H0" selected>' in html


@pytest.mark.django_db
def test_the_page_form_posts_with_a_code_and_refuses_a_bad_one(world):
    client = sign_in(Client(), world.officer_fr)
    url = reverse("messaging:post", kwargs={"slug": world.group.slug})
    client.post(
        url, {"body": "from the form", "client_id": str(uuid.uuid4()), "handling_code": "H2"}
    )
    assert Message.objects.get(body="from the form").handling_code == "H2"
    count = Message.objects.count()
    answer = client.post(
        url,
        {"body": "bad", "client_id": str(uuid.uuid4()), "handling_code": "H7"},
        follow=True,
    )
    assert Message.objects.count() == count
    assert "Unknown handling code" in answer.content.decode()
