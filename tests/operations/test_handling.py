"""Handling codes of seizures and of the operation's default: chosen on every door,
shown on the seizure's pages and in its live events, changed by the reporter or a
coordinator, released by the reporting administration; and every export that leaves
the operation leaves out unreleased H2 items and prints the codes of the rest."""

import csv
import io
import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader
from rest_framework.test import APIClient

from core.errors import Forbidden, Invalid
from core.models import AuditEntry
from groups.models import GroupEvent
from messaging.models import Message
from messaging.services import message_post, message_release
from operations.handling import (
    operation_set_default_handling,
    seizure_release,
    seizure_set_handling,
)
from operations.models import Seizure
from operations.services import seizure_report, seizure_validate
from tests.conftest import api_token, sign_in
from tests.operations.conftest import new_uuid, seizure_data

pytestmark = pytest.mark.django_db


def report(world, reporter=None, **handling) -> Seizure:
    seizure, _created = seizure_report(
        reporter=reporter or world.officer_fr,
        operation=world.operation,
        data={**seizure_data(), **handling},
        client_uuid=new_uuid(),
    )
    return seizure


def last_event(group) -> GroupEvent:
    return GroupEvent.objects.filter(group=group).order_by("-seq").first()


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


# ---- reporting, changing, releasing ------------------------------------------------


def test_a_seizure_and_its_alert_carry_the_code_chosen_or_the_operations_default(active_world):
    world = active_world
    defaulted = report(world)
    assert (defaulted.handling_code, defaulted.message.handling_code) == ("H0", "H0")
    operation_set_default_handling(operation=world.operation, actor=world.ocu, code="H1")
    assert report(world).handling_code == "H1"
    chosen = report(world, handling_code="H3", handling_conditions="Court case pending")
    assert (chosen.handling_code, chosen.handling_conditions) == ("H3", "Court case pending")
    event = GroupEvent.objects.get(group=world.group, seq=chosen.message.seq)
    assert event.type == "seizure.reported"
    assert (event.data["handling_code"], event.data["seizure"]["handling_code"]) == ("H3", "H3")
    assert event.data["seizure"]["handling_conditions"] == "Court case pending"


@pytest.mark.parametrize(
    ("handling", "field"),
    [
        ({"handling_code": "H5"}, "handling_code"),
        ({"handling_code": "H3"}, "handling_conditions"),
        ({"handling_code": "H0", "handling_conditions": "no"}, "handling_conditions"),
    ],
)
def test_a_bad_code_is_refused_with_the_seizures_other_errors_and_nothing_is_stored(
    active_world, handling, field
):
    world = active_world
    count = (Seizure.objects.count(), Message.objects.count())
    with pytest.raises(Invalid) as refused:
        seizure_report(
            reporter=world.officer_fr,
            operation=world.operation,
            data={**seizure_data(quantity="-1"), **handling},
            client_uuid=new_uuid(),
        )
    assert {field, "quantity"} <= set(refused.value.message_dict)
    assert (Seizure.objects.count(), Message.objects.count()) == count


def test_the_reporter_or_a_coordinator_changes_a_code_and_the_group_hears_it(active_world):
    world = active_world
    seizure = report(world)
    with pytest.raises(Forbidden):
        seizure_set_handling(actor=world.officer_de, seizure=seizure, code="H2")
    seizure_set_handling(actor=world.officer_fr, seizure=seizure, code="H2")
    seizure.refresh_from_db()
    assert seizure.handling_code == "H2"
    assert Message.objects.get(pk=seizure.message_id).handling_code == "H2"
    event = last_event(world.group)
    assert (event.type, event.data["item"], event.data["ref"]) == (
        "handling.changed",
        "seizure",
        str(seizure.client_uuid),
    )
    assert (event.data["message_seq"], event.data["by"]) == (seizure.message.seq, "officer.fr")
    seizure_set_handling(actor=world.ocu, seizure=seizure, code="H3", conditions="Ask BE")
    seizure.refresh_from_db()
    assert (seizure.handling_code, seizure.handling_conditions) == ("H3", "Ask BE")
    with pytest.raises(Invalid):
        seizure_set_handling(actor=world.ocu, seizure=seizure, code="H3", conditions="")
    seizure.refresh_from_db()
    assert seizure.handling_conditions == "Ask BE"


def test_a_message_of_a_seizure_follows_the_seizure(active_world):
    from messaging.services import message_set_handling

    world = active_world
    seizure = report(world)
    with pytest.raises(Invalid):
        message_set_handling(
            actor=world.officer_fr, group=world.group, seq=seizure.message.seq, code="H2"
        )


def test_an_h2_seizure_is_released_by_its_administration_or_a_coordinator(active_world, make_user):
    from groups.models import Role
    from groups.services import membership_add

    world = active_world
    seizure = report(world, handling_code="H2")
    with pytest.raises(Forbidden):
        seizure_release(actor=world.officer_de, seizure=seizure)
    colleague = make_user("colleague.fr", country="FR")
    membership_add(group=world.group, user=colleague, role=Role.MEMBER, added_by=world.ocu)
    seizure_release(actor=colleague, seizure=seizure)
    seizure.refresh_from_db()
    assert seizure.released_by == colleague
    assert Message.objects.get(pk=seizure.message_id).released_at is not None
    event = last_event(world.group)
    assert (event.type, event.data["item"], event.data["administration"]) == (
        "handling.released",
        "seizure",
        "FR",
    )
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.ITEM_RELEASED, target=f"seizure {seizure.client_uuid}"
    ).exists()


def test_only_coordinators_set_the_operations_default(active_world):
    world = active_world
    with pytest.raises(Forbidden):
        operation_set_default_handling(operation=world.operation, actor=world.officer_fr, code="H2")
    with pytest.raises(Invalid):
        operation_set_default_handling(operation=world.operation, actor=world.ocu, code="H3")
    world.operation.refresh_from_db()
    assert world.operation.default_handling_code == "H0"


# ---- the pages ---------------------------------------------------------------------


def test_the_seizure_form_offers_the_codes_with_the_operations_default(active_world):
    world = active_world
    operation_set_default_handling(operation=world.operation, actor=world.ocu, code="H1")
    client = sign_in(Client(), world.officer_fr)
    profile = world.officer_fr.profile
    profile.language = "fr"
    profile.save()
    page = client.get(reverse("operations:seizure_new", kwargs={"code": world.operation.code}))
    html = page.content.decode()
    assert re.search(r'<option value="H1" selected>', html)
    answer = client.post(
        reverse("operations:seizure_submit", kwargs={"code": world.operation.code}),
        data={"client_uuid": new_uuid(), "data": {**seizure_data(), "handling_code": "H3"}},
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["fields"]["handling_conditions"] == [
        "Précisez les conditions d’un élément H3."
    ]


def test_the_seizure_page_shows_the_banner_and_lets_the_reporter_change_it(active_world):
    world = active_world
    seizure = report(world, handling_code="H3", handling_conditions="Not for the press")
    url = reverse(
        "operations:seizure", kwargs={"code": world.operation.code, "uuid": seizure.client_uuid}
    )
    reporter = sign_in(Client(), world.officer_fr)
    html = reporter.get(url).content.decode()
    assert 'class="handling-banner handling-H3"' in html
    assert "H3 — other conditions, stated: Not for the press" in html
    assert (
        'action="{}"'.format(
            reverse(
                "operations:seizure_handling",
                kwargs={"code": world.operation.code, "uuid": seizure.client_uuid},
            )
        )
        in html
    )
    other = sign_in(Client(), world.officer_de).get(url).content.decode()
    assert "handling-H3" in other and "Change the handling code" not in other
    reporter.post(
        reverse(
            "operations:seizure_handling",
            kwargs={"code": world.operation.code, "uuid": seizure.client_uuid},
        ),
        {"handling_code": "H2"},
    )
    seizure.refresh_from_db()
    assert seizure.handling_code == "H2"
    html = reporter.get(url).content.decode()
    assert "Release for outside the operation" in html


# ---- what leaves the operation -----------------------------------------------------


@pytest.fixture
def marked(active_world):
    """Four validated seizures: H0, H1, H2 kept in the operation, H2 released; and
    messages likewise."""
    world = active_world
    seizures = {
        "open": report(world, place="Open harbour"),
        "evidence": report(world, handling_code="H1", place="Evidence dock"),
        "kept": report(world, handling_code="H2", place="Kept quay"),
        "released": report(world, handling_code="H2", place="Released pier"),
    }
    for seizure in seizures.values():
        seizure_validate(seizure=seizure, actor=world.ocu)
    seizure_release(actor=world.ocu, seizure=seizures["released"])
    messages = {}
    for name, code in (("open", "H0"), ("kept", "H2"), ("released", "H2")):
        messages[name], _created = message_post(
            author=world.officer_fr,
            group=world.group,
            body=f"message {name}",
            client_id=uuid.uuid4(),
            handling={"handling_code": code},
        )
    message_release(actor=world.ocu, group=world.group, seq=messages["released"].seq)
    world.seizures, world.messages = seizures, messages
    return world


def test_the_spreadsheet_export_leaves_out_unreleased_h2_and_prints_the_codes(marked):
    client = sign_in(Client(), marked.officer_de)
    content = client.get(
        reverse("operations:seizures_export_csv", kwargs={"code": marked.operation.code})
    ).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    header, places = rows[0], {row[rows[0].index("place")]: row for row in rows[1:]}
    assert "handling_code" in header
    assert set(places) == {"Open harbour", "Evidence dock", "Released pier"}
    assert places["Released pier"][header.index("handling_code")] == "H2"
    assert places["Evidence dock"][header.index("handling_code")] == "H1"
    workbook = load_workbook(
        io.BytesIO(
            client.get(
                reverse("operations:seizures_export_xlsx", kwargs={"code": marked.operation.code})
            ).content
        )
    )
    cells = {cell for row in workbook.worksheets[0].iter_rows(values_only=True) for cell in row}
    assert "Released pier" in cells and "Kept quay" not in cells
    assert "Handling code" in cells and "H2" in cells


def test_the_pdf_report_leaves_out_unreleased_h2_and_prints_the_codes(marked):
    client = sign_in(Client(), marked.ocu)
    response = client.get(reverse("operations:report_pdf", kwargs={"code": marked.operation.code}))
    reader = PdfReader(io.BytesIO(response.content))
    text = re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in reader.pages))
    assert "Open harbour" in text and "Released pier" in text and "Evidence dock" in text
    assert "Kept quay" not in text
    assert "H2 (released)" in text
    assert "1 validated seizure marked H2 is left out" in text


def test_the_messages_export_leaves_out_unreleased_h2_and_prints_the_codes(marked):
    url = reverse("messaging:export", kwargs={"slug": marked.group.slug})
    assert sign_in(Client(), marked.officer_fr).get(url).status_code == 403
    response = sign_in(Client(), marked.ocu).get(url)
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    bodies = {row["body"]: row for row in rows}
    assert "message open" in bodies and "message released" in bodies
    assert "message kept" not in bodies
    assert bodies["message released"]["handling_code"] == "H2"
    assert bodies["message released"]["released"] == "yes"
    seizure_bodies = [row for row in rows if row["kind"] == "seizure"]
    assert len(seizure_bodies) == 3  # the kept H2 seizure's alert stays in the group
    assert AuditEntry.objects.filter(action=AuditEntry.Action.MESSAGES_EXPORTED).exists()


def test_a_national_systems_token_reads_no_unreleased_h2_seizure(marked):
    url = reverse("api-seizures", kwargs={"code": marked.operation.code})
    national = token_client(marked.officer_de).get(url).json()["results"]
    places = {row["place"]: row for row in national}
    assert set(places) == {"Open harbour", "Evidence dock", "Released pier"}
    assert (places["Released pier"]["handling_code"], places["Released pier"]["released"]) == (
        "H2",
        True,
    )
    kept = marked.seizures["kept"].client_uuid
    detail = reverse("api-seizure", kwargs={"code": marked.operation.code, "uuid": kept})
    assert token_client(marked.officer_de).get(detail).status_code == 404
    inside = APIClient()
    sign_in(inside, marked.officer_de)
    assert inside.get(detail).json()["handling_code"] == "H2"


def test_rest_reports_changes_and_releases_with_codes_and_clear_errors(active_world):
    world = active_world
    client = token_client(world.officer_fr)
    url = reverse("api-seizures", kwargs={"code": world.operation.code})
    created = client.post(
        url,
        {
            **seizure_data(offenders_count=1, estimated_value=None),
            "client_uuid": new_uuid(),
            "handling_code": "H2",
        },
        format="json",
    )
    assert created.status_code == 201 and created.json()["handling_code"] == "H2"
    count = Seizure.objects.count()
    refused = client.post(
        url,
        {
            **seizure_data(offenders_count=1, estimated_value=None),
            "client_uuid": new_uuid(),
            "handling_code": "H9",
        },
        format="json",
        HTTP_ACCEPT_LANGUAGE="pt",
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["handling_code"] == [
        "Código de tratamento desconhecido: escolha H0, H1, H2 ou H3."
    ]
    assert Seizure.objects.count() == count
    uuid_ = created.json()["uuid"]
    change = reverse("api-seizure-handling", kwargs={"code": world.operation.code, "uuid": uuid_})
    release = reverse("api-seizure-release", kwargs={"code": world.operation.code, "uuid": uuid_})
    assert (
        token_client(world.officer_de)
        .post(change, {"handling_code": "H0"}, format="json")
        .status_code
        == 403
    )
    assert token_client(world.officer_de).post(release).status_code == 403
    answer = client.post(release)
    assert answer.status_code == 200 and answer.json()["released"] is True
    operation = reverse("api-operation", kwargs={"code": world.operation.code})
    answer = token_client(world.ocu).patch(
        operation,
        {"default_handling_code": "H3", "default_handling_conditions": "Ask"},
        format="json",
    )
    assert answer.status_code == 200
    assert (answer.json()["default_handling_code"], answer.json()["send_to_cen_continuously"]) == (
        "H3",
        False,
    )


def test_a_correction_does_not_offer_the_code_which_is_changed_on_the_seizures_page(
    active_world,
):
    from operations.services import seizure_reject

    world = active_world
    seizure = report(world, handling_code="H1")
    seizure_reject(seizure=seizure, actor=world.ocu, reason="Unclear place")
    client = sign_in(Client(), world.officer_fr)
    html = client.get(
        reverse(
            "operations:seizure_correct",
            kwargs={"code": world.operation.code, "uuid": seizure.client_uuid},
        )
    ).content.decode()
    assert 'name="place"' in html and 'name="handling_code"' not in html
