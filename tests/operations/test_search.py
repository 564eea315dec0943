"""Search across an operation's messages, attachments' names and seizures: words in six
languages, filters, access, bad input — through the selector and both doors.

Every test here runs on PostgreSQL (the suite's database) and, through
``test_the_same_tests_pass_on_the_embedded_default``, once more on SQLite with FTS5.
"""

import datetime
import os
import subprocess
import sys
import uuid

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from core.errors import Invalid
from groups.models import Role
from groups.services import membership_add, membership_remove
from messaging.models import Attachment, SearchEntry
from messaging.search import search_entries_write
from messaging.services import message_post, message_retract
from operations.search import search, search_reindex, search_request_parse
from operations.services import operation_create, seizure_amend, seizure_report
from tests.conftest import sign_in
from tests.live import ROOT
from tests.operations.conftest import new_uuid, seizure_data

pytestmark = pytest.mark.django_db


def post(world, body, *, author=None, kind="text"):
    message, _created = message_post(
        author=author or world.officer_fr,
        group=world.group,
        body=body,
        client_id=uuid.uuid4(),
        kind=kind,
    )
    return message


def found(user, **params):
    answer = search(user=user, request=search_request_parse(params))
    return [result.entry.message.body for result in answer.results]


def test_french_plural_finds_the_singular_and_english_stems_too(world):
    post(world, "Nouvelle saisie de cocaïne à Roissy")
    post(world, "Two seizures of heroin at Rotterdam")
    post(world, "Rien à signaler")
    assert found(world.officer_de, q="saisies") == ["Nouvelle saisie de cocaïne à Roissy"]
    assert found(world.officer_de, q="seizure") == ["Two seizures of heroin at Rotterdam"]
    assert found(world.officer_de, q="cocaïne roissy") == ["Nouvelle saisie de cocaïne à Roissy"]


def test_spanish_and_portuguese_words_are_stemmed(world):
    post(world, "Incautaciones de tabaco en Algeciras")
    post(world, "Apreensões de medicamentos falsificados em Lisboa")
    assert found(world.officer_de, q="incautación tabaco") == [
        "Incautaciones de tabaco en Algeciras"
    ]
    assert found(world.officer_de, q="falsificado") == [
        "Apreensões de medicamentos falsificados em Lisboa"
    ]


def test_russian_words_are_found_in_other_cases(world):
    post(world, "Изъятие кокаина в аэропорту Шереметьево")
    post(world, "Груз табака задержан")
    assert found(world.officer_de, q="кокаин") == ["Изъятие кокаина в аэропорту Шереметьево"]
    assert found(world.officer_de, q="аэропорт") == ["Изъятие кокаина в аэропорту Шереметьево"]
    assert found(world.officer_de, q="табак") == ["Груз табака задержан"]


def test_arabic_words_are_found_with_or_without_the_article(world):
    post(world, "ضبط الكوكايين في المطار")
    post(world, "شحنة سجائر مهربة")
    assert found(world.officer_de, q="كوكايين") == ["ضبط الكوكايين في المطار"]
    assert found(world.officer_de, q="الكوكايين") == ["ضبط الكوكايين في المطار"]
    assert found(world.officer_de, q="مطار") == ["ضبط الكوكايين في المطار"]
    assert found(world.officer_de, q="سجائر") == ["شحنة سجائر مهربة"]
    assert found(world.officer_de, q="هيروين") == []


def test_words_left_out_and_alternatives(world):
    post(world, "Cocaine found in a container")
    post(world, "Cocaine and heroin in a truck")
    post(world, "Tobacco in a truck")
    assert found(world.officer_de, q="cocaine -heroin") == ["Cocaine found in a container"]
    assert sorted(found(world.officer_de, q="container or tobacco")) == [
        "Cocaine found in a container",
        "Tobacco in a truck",
    ]


def test_attachment_names_and_seizure_fields_are_found(active_world, tmp_path, settings):
    world = active_world
    settings.MEDIA_ROOT = tmp_path
    message = post(world, "Photos of the shipment")
    Attachment.objects.create(
        message=message,
        group=world.group,
        uploaded_by=world.officer_fr,
        token="t" * 43,
        file="attachments/x.pdf",
        original_name="manifeste-conteneur-MSCU123.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
    )
    search_reindex()
    seizure, _created = seizure_report(
        reporter=world.officer_fr,
        operation=world.operation,
        data=seizure_data(
            place="Port of Le Havre",
            commodity_description="Blocks hidden in bananas",
            concealment_details="false bottom in reefer",
        ),
        client_uuid=new_uuid(),
    )
    assert found(world.officer_de, q="manifeste") == ["Photos of the shipment"]
    answer = search(user=world.officer_de, request=search_request_parse({"q": "bananas havre"}))
    [result] = answer.results
    assert result.seizure_uuid == str(seizure.client_uuid)
    assert result.seizure_url == reverse(
        "operations:seizure", kwargs={"code": world.operation.code, "uuid": seizure.client_uuid}
    )
    # The route's countries by name in any language, the vocabularies' words too.
    for words in ("Colombie", "Колумбия", "Espagne", "reefer", "drogues", "aeropuerto"):
        assert found(world.officer_de, q=words) == [seizure.message.body], words


def test_a_corrected_seizure_is_found_by_its_new_words(active_world):
    world = active_world
    seizure, _created = seizure_report(
        reporter=world.officer_fr,
        operation=world.operation,
        data=seizure_data(commodity_description="Pills in a parcel"),
        client_uuid=new_uuid(),
    )
    seizure_amend(
        seizure=seizure,
        reporter=world.officer_fr,
        data=seizure_data(commodity_description="Tramadol tablets in a parcel"),
    )
    assert found(world.officer_de, q="tramadol") == [seizure.message.body]


def test_filters_narrow_the_results(world, make_user):
    old = post(world, "Cocaine at the port", author=world.officer_fr)
    SearchEntry.objects.filter(message=old).update(
        created_at=timezone.now() - datetime.timedelta(days=10)
    )
    post(world, "Cocaine on the road", author=world.officer_de, kind="alert")
    post(world, "Cocaine by mail", author=world.ocu, kind="request")
    everyone = found(world.observer, q="cocaine")
    assert len(everyone) == 3
    assert found(world.observer, q="cocaine", author="officer.de") == ["Cocaine on the road"]
    assert found(world.observer, q="cocaine", administration="fr") == ["Cocaine at the port"]
    assert found(world.observer, q="cocaine", kind="request") == ["Cocaine by mail"]
    today = timezone.localdate()
    assert sorted(found(world.observer, q="cocaine", **{"from": today.isoformat()})) == [
        "Cocaine by mail",
        "Cocaine on the road",
    ]
    ten_days_ago = (today - datetime.timedelta(days=10)).isoformat()
    assert found(world.observer, q="cocaine", to=ten_days_ago) == ["Cocaine at the port"]


def test_a_retracted_message_is_not_found(world):
    message = post(world, "Wrong container number MSCU999")
    assert found(world.officer_de, q="container") == ["Wrong container number MSCU999"]
    message_retract(author=world.officer_fr, group=world.group, seq=message.seq)
    assert found(world.officer_de, q="container") == []
    # Nor after the index is rebuilt.
    search_reindex()
    assert found(world.officer_de, q="container") == []


def test_a_member_removed_a_moment_ago_finds_nothing(world):
    post(world, "Heroin in a truck at Kapitan Andreevo")
    assert found(world.officer_de, q="heroin") == ["Heroin in a truck at Kapitan Andreevo"]
    membership_remove(group=world.group, user=world.officer_de, removed_by=world.ocu)
    assert found(world.officer_de, q="heroin") == []
    assert found(world.officer_de, q="heroin", group=world.group.slug) == []


def test_an_outsider_cannot_tell_a_hidden_group_from_an_empty_one(world, make_user):
    post(world, "Heroin in a truck")
    for group in (world.group.slug, "no-such-group"):
        assert found(world.outsider, q="heroin", group=group) == []
    client = Client()
    sign_in(client, world.outsider)
    answers = [
        client.get(reverse("api-search"), {"q": "heroin", "group": group})
        for group in (world.group.slug, "no-such-group")
    ]
    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[0].json() == answers[1].json() == {"results": [], "truncated": False}


def test_a_coordinator_searches_several_operations_together(world, make_user):
    other = operation_create(
        code="OTHER-2026",
        name="Other operation",
        commodity_focus="drugs",
        coordinating_administration=world.operation.coordinating_administration,
        planned_start=world.operation.planned_start,
        planned_end=world.operation.planned_end,
        created_by=world.ocu,
    )
    membership_add(group=other.group, user=world.officer_fr, role=Role.MEMBER, added_by=world.ocu)
    post(world, "Captagon pills in the first operation")
    message_post(
        author=world.officer_fr,
        group=other.group,
        body="Captagon pills in the second operation",
        client_id=uuid.uuid4(),
    )
    assert len(found(world.ocu, q="captagon")) == 2
    assert found(world.ocu, q="captagon", group=other.group.slug) == [
        "Captagon pills in the second operation"
    ]
    # A member of one of them only sees that one.
    assert found(world.officer_de, q="captagon") == ["Captagon pills in the first operation"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "-cocaine"}, "q"),
        ({"q": '"" - :*'}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": " ".join(["word"] * 13)}, "q"),
        ({"q": "cocaine", "kind": "gossip"}, "kind"),
        ({"q": "cocaine", "author": "nobody-of-that-name"}, "author"),
        ({"q": "cocaine", "administration": "ZZ"}, "administration"),
        ({"q": "cocaine", "from": "2026-13-01"}, "from"),
        ({"q": "cocaine", "from": "2026-06-10", "to": "2026-06-01"}, "to"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(world, params, field):
    with pytest.raises(Invalid) as refused:
        search_request_parse(params)
    assert field in refused.value.message_dict


def test_sql_and_fts_syntax_in_a_query_is_only_words(world):
    post(world, "Cocaine in a container")
    for query in (
        "cocaine'; DROP TABLE messaging_message; --",
        'cocaine" OR "x',
        "cocaine NEAR(container) *",
        "cocaine & | ! ( ) :*",
    ):
        assert found(world.officer_de, q=query) in ([], ["Cocaine in a container"]), query
    assert found(world.officer_de, q="cocaine") == ["Cocaine in a container"]


def test_the_snippet_highlights_the_matching_words(world):
    post(world, "Routine control. " * 30 + "Saisie de cocaïne dans un conteneur. " + "Fin. " * 40)
    answer = search(user=world.officer_de, request=search_request_parse({"q": "saisies"}))
    [result] = answer.results
    text, highlights = result.snippet.text, result.snippet.highlights
    assert text.startswith("… ") and text.endswith(" …")
    assert [text[start:end] for start, end in highlights] == ["Saisie"]


# ---- the doors -----------------------------------------------------------------------


def test_the_api_answers_results_with_links_and_snippets(world):
    message = post(world, "Cannabis resin in a lorry at Algeciras")
    client = Client()
    sign_in(client, world.officer_de)
    answer = client.get(reverse("api-search"), {"q": "lorry", "group": world.group.slug})
    assert answer.status_code == 200
    [result] = answer.json()["results"]
    assert result["group"] == world.group.slug
    assert result["seq"] == message.seq
    assert result["author"] == "officer.fr"
    assert result["administration"] == "FR"
    assert result["kind"] == "text"
    assert result["url"].endswith(f"/groups/{world.group.slug}/#m-{message.seq}")
    start, end = result["highlights"][0]
    assert result["snippet"][start:end] == "lorry"


def test_the_api_refuses_bad_input_in_the_users_language(world):
    world.officer_de.profile.language = "fr"
    world.officer_de.profile.save()
    client = Client()
    sign_in(client, world.officer_de)
    answer = client.get(
        reverse("api-search"), {"q": "cocaine", "from": "2026-06-10", "to": "2026-06-01"}
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid"
    with translation.override("fr"):
        expected = str(translation.gettext("The end of the date range comes before its start."))
    assert expected != "The end of the date range comes before its start."
    assert error["fields"]["to"] == [expected]


def test_the_page_shows_highlighted_results_and_form_errors(world):
    post(world, "Cannabis resin in a lorry at Algeciras")
    client = Client()
    sign_in(client, world.officer_de)
    page = client.get(reverse("search"), {"q": "lorry"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<mark>lorry</mark>" in html
    assert f"/groups/{world.group.slug}/#m-" in html
    in_group = client.get(reverse("group_search", kwargs={"slug": world.group.slug}), {"q": "x"})
    assert in_group.status_code == 200
    bad = client.get(reverse("search"), {"q": "lorry", "kind": "gossip"})
    assert bad.status_code == 200
    assert "Unknown message kind." in bad.content.decode()
    assert "<mark>" not in bad.content.decode()


def test_the_group_search_page_is_closed_to_outsiders(world):
    client = Client()
    sign_in(client, world.outsider)
    url = reverse("group_search", kwargs={"slug": world.group.slug})
    assert client.get(url, {"q": "x"}).status_code == 404
    missing = reverse("group_search", kwargs={"slug": "no-such-group"})
    assert client.get(missing, {"q": "x"}).status_code == 404


@pytest.mark.embedded
@pytest.mark.skipif(os.environ.get("CENCOMM_SEARCH_ON_SQLITE") == "1", reason="inside the run")
def test_the_same_tests_pass_on_the_embedded_default(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DATABASE")},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cencomm.sqlite3'}",
        "CEN_DATABASE_URL": f"sqlite:///{tmp_path / 'cen.sqlite3'}",
        "CENCOMM_SEARCH_ON_SQLITE": "1",
    }
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "failed" not in run.stdout


def test_search_reindex_adds_the_seizures_fields_to_entries_built_without_them(active_world):
    world = active_world
    seizure, _created = seizure_report(
        reporter=world.officer_fr,
        operation=world.operation,
        data=seizure_data(concealment_details="inside a spare tyre"),
        client_uuid=new_uuid(),
    )
    # The entry as the migration builds it for messages posted before search existed.
    search_entries_write([seizure.message])
    assert found(world.officer_de, q="tyre") == []
    call_command("search_reindex", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert found(world.officer_de, q="tyre") == [seizure.message.body]
