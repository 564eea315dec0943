"""A group or operation that exists but is not yours answers exactly like one that does
not exist: the same status, the same body, and the same work (the same database
queries), so that not even the time of the answer tells them apart."""

import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import sign_in
from tests.test_authorization_matrix import ROWS, Matrix

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
MISSING = {
    "slug": "no-such-group",
    "code": "NO-SUCH-2026",
}


def rows_that_hide_from_outsiders():
    for row in ROWS:
        if row.expect["outsider"] == 404 and set(row.kwargs) & set(MISSING):
            yield pytest.param(row, id=f"{row.method.upper()} {row.name}")


def answer(client, row, matrix, kwargs):
    url = reverse(row.name, kwargs=kwargs)
    body = matrix.body(row)
    with CaptureQueriesContext(connection) as queries:
        if row.json_body:
            response = getattr(client, row.method)(
                url, data=json.dumps(body), content_type="application/json"
            )
        elif row.method == "get":
            response = client.get(url)
        else:
            response = getattr(client, row.method)(url, data=body or {})
    # Session bookkeeping (a save per request) is the same on both paths; what the
    # view reads is what must not differ.
    reads = [q["sql"] for q in queries.captured_queries if "django_session" not in q["sql"]]
    return response, reads


@pytest.mark.django_db(databases=["default", "cen"])
def test_hidden_and_missing_answer_alike_on_every_route(world, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    matrix = Matrix(world, make_user)
    client = sign_in(Client(), world.outsider)
    checked = 0
    for param in rows_that_hide_from_outsiders():
        row = param.values[0]
        real = {name: getattr(matrix, attribute) for name, attribute in row.kwargs.items()}
        missing = {name: MISSING.get(name, value) for name, value in real.items()}
        hidden_response, hidden_reads = answer(client, row, matrix, real)
        missing_response, missing_reads = answer(client, row, matrix, missing)
        assert hidden_response.status_code == missing_response.status_code == 404, row.name
        hidden_body = hidden_response.content.decode()
        missing_body = missing_response.content.decode()
        for name in real:
            hidden_body = hidden_body.replace(str(real[name]), "X")
            missing_body = missing_body.replace(str(missing[name]), "X")
        # The page's CSRF token is masked afresh on every answer: it differs, and says nothing.
        hidden_body, missing_body = (CSRF.sub("", body) for body in (hidden_body, missing_body))
        assert hidden_body == missing_body, row.name
        assert len(hidden_reads) == len(missing_reads), (row.name, hidden_reads, missing_reads)
        checked += 1
    assert checked > 20
