"""The RILO page: its region's administrations only, their data input, refusals."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from groups.models import Administration, Region, RiloAssignment, Role
from groups.services import membership_add
from operations.cen.rilo_selectors import RiloRefused, rilo_data_input, rilo_scope
from operations.models import Operation, Seizure
from operations.services import (
    operation_set_status,
    seizure_reject,
    seizure_report,
    seizure_validate,
)
from tests.conftest import sign_in
from tests.operations.conftest import new_uuid, seizure_data

from .conftest import cen_record

pytestmark = pytest.mark.django_db(databases=["default", "cen"])


def _report(world, reporter, *, days_before: int, reported_days_ago: int = 0, **fields):
    seizure, _created = seizure_report(
        reporter=reporter,
        operation=world.operation,
        data=seizure_data(**fields),
        client_uuid=new_uuid(),
    )
    now = timezone.now()
    reported = now - datetime.timedelta(days=reported_days_ago)
    Seizure.objects.filter(pk=seizure.pk).update(
        created_at=reported,
        seizure_date=reported.date() - datetime.timedelta(days=days_before),
    )
    seizure.refresh_from_db()
    return seizure


@pytest.fixture
def region_world(world, make_user):
    """Europe: FR (four seizures), DE (one), NL (none); Morocco (MENA) reports too."""
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    world.operation.refresh_from_db()
    Administration.objects.filter(country="MA").update(region=Region.MIDDLE_EAST_NORTH_AFRICA)
    make_user("officer.nl", country="NL")
    officer_ma = make_user("officer.ma", country="MA")
    membership_add(group=world.group, user=officer_ma, role=Role.MEMBER, added_by=world.ocu)

    fr = [
        _report(world, world.officer_fr, days_before=1, hs_code="1211"),
        _report(world, world.officer_fr, days_before=3, hs_code="1211"),
        _report(world, world.officer_fr, days_before=10),
        _report(world, world.officer_fr, days_before=2),
    ]
    seizure_validate(seizure=fr[0], actor=world.ocu)
    seizure_validate(seizure=fr[1], actor=world.ocu)
    seizure_reject(seizure=fr[2], actor=world.ocu, reason="unclear")
    # Reported two years ago: outside any period but the longest.
    _report(world, world.officer_fr, days_before=40, reported_days_ago=730)
    de = _report(world, world.officer_de, days_before=0, reporting_country="DE")
    seizure_validate(seizure=de, actor=world.ocu)
    _report(world, officer_ma, days_before=5, reporting_country="MA")

    today = timezone.localdate()
    for _n in range(3):
        cen_record(reporting_country="FR", seizure_date=today - datetime.timedelta(days=20))
    cen_record(reporting_country="FR", seizure_date=today - datetime.timedelta(days=1500))
    cen_record(reporting_country="MA", seizure_date=today)
    cen_record(reporting_country="MA", seizure_date=today)

    rilo = make_user("rilo.weu", country="BE")
    RiloAssignment.objects.create(user=rilo, region=Region.EUROPE)
    world.rilo = rilo
    return world


def test_a_rilo_sees_only_the_administrations_of_its_region(region_world):
    scope = rilo_scope(user=region_world.rilo, params={})
    data = rilo_data_input(scope=scope)
    countries = [row["country"] for row in data["administrations"]]
    assert scope.region == Region.EUROPE
    assert "MA" not in countries
    assert {"BE", "DE", "ES", "FR", "NL"} <= set(countries)


def test_data_input_counts_share_validated_completeness_and_days_to_report(region_world):
    data = rilo_data_input(scope=rilo_scope(user=region_world.rilo, params={}))
    rows = {row["country"]: row for row in data["administrations"]}
    fr = rows["FR"]
    assert (fr["reported"], fr["validated"], fr["rejected"], fr["submitted"]) == (4, 2, 1, 1)
    assert fr["share_validated"] == 50.0
    assert fr["completeness"]["hs_code"] == 50.0
    assert fr["completeness"]["estimated_value"] == 0.0
    assert fr["completeness"]["concealment"] == 100.0
    # (50 + 0 + 100 + 100 + 100 + 100) / 6 optional fields
    assert fr["completeness_overall"] == 75.0
    assert (fr["days_median"], fr["days_mean"], fr["days_max"]) == (2.5, 4.0, 10)
    assert fr["operations"] == 1
    assert fr["cen_records"] == 3  # the fourth is older than the period
    assert rows["DE"]["share_validated"] == 100.0
    assert rows["DE"]["days_median"] == 0
    assert rows["NL"]["reported"] == 0
    assert rows["NL"]["share_validated"] is None
    assert rows["NL"]["days_median"] is None
    this_month = data["by_month"][-1]
    assert this_month == {"key": f"{timezone.localdate():%Y-%m}", "total": 5, "validated": 3}
    assert len(data["by_month"]) == 12
    assert sum(row["total"] for row in data["cen_by_month"]) == 3


def test_a_longer_period_counts_older_reports(region_world):
    data = rilo_data_input(scope=rilo_scope(user=region_world.rilo, params={"months": "36"}))
    rows = {row["country"]: row for row in data["administrations"]}
    assert rows["FR"]["reported"] == 5
    assert rows["FR"]["cen_records"] == 3
    assert len(data["by_month"]) == 36


def test_narrowed_to_one_administration(region_world):
    scope = rilo_scope(user=region_world.rilo, params={"administration": "de"})
    data = rilo_data_input(scope=scope)
    assert [row["country"] for row in data["administrations"]] == ["DE"]
    assert data["by_month"][-1]["total"] == 1


def test_another_regions_administration_is_refused(region_world):
    with pytest.raises(RiloRefused, match="Customs MA belongs to"):
        rilo_scope(user=region_world.rilo, params={"administration": "MA"})
    with pytest.raises(RiloRefused):
        rilo_scope(user=region_world.rilo, params={"region": "MENA"})


def test_a_user_with_no_assignment_is_refused(region_world):
    with pytest.raises(RiloRefused):
        rilo_scope(user=region_world.officer_fr, params={})


def test_staff_choose_any_region(region_world):
    scope = rilo_scope(user=region_world.staff, params={"region": "MENA"})
    assert scope.regions == list(Region.values)
    data = rilo_data_input(scope=scope)
    rows = {row["country"]: row for row in data["administrations"]}
    assert set(rows) == {"MA"}
    assert rows["MA"]["reported"] == 1
    assert rows["MA"]["cen_records"] == 2


def test_badly_written_values_are_errors_not_refusals(region_world):
    scope = rilo_scope(
        user=region_world.rilo, params={"months": "7", "administration": "ZZ", "region": "XX"}
    )
    assert set(scope.errors) == {"months", "administration", "region"}
    assert scope.months == 12 and scope.administration is None


def test_the_rilo_page_shows_the_region_and_refuses_another(region_world):
    client = sign_in(Client(), region_world.rilo)
    page = client.get(reverse("cen_rilo"))
    assert page.status_code == 200
    content = page.content.decode()
    assert 'data-country="FR"' in content and 'data-country="NL"' in content
    assert 'data-country="MA"' not in content
    assert 'id="rilo-data"' in content

    refused = client.get(reverse("cen_rilo"), {"administration": "MA"})
    assert refused.status_code == 403
    assert "a region you do not monitor" in refused.content.decode()
    assert "rilo-data" not in refused.content.decode()

    assert client.get(reverse("cen_rilo"), {"months": "7"}).status_code == 400


def test_the_rilo_page_is_refused_to_users_without_a_region(region_world):
    client = sign_in(Client(), region_world.officer_fr)
    response = client.get(reverse("cen_rilo"))
    assert response.status_code == 403
    assert "Regional Intelligence Liaison Offices" in response.content.decode()


def test_staff_see_the_region_selector(region_world):
    client = sign_in(Client(), region_world.staff)
    response = client.get(reverse("cen_rilo"), {"region": "MENA"})
    assert response.status_code == 200
    assert 'id="rilo-region"' in response.content.decode()
    assert 'data-country="MA"' in response.content.decode()
