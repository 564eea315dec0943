"""Search across an operation's messages, attachments' names and seizures: the one
selector the search page and ``GET /api/v1/search/`` call, and the seizures' part of
the index (docs/search.md).

A search reads only the groups the searcher may read at that moment (groups/access.py),
in the same statement as the search itself: a member removed a moment ago finds
nothing of the group. A group named in the filters that the searcher may not read is
answered exactly like a group of theirs where nothing matches.
"""

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.errors import Invalid
from core.vocabularies import (
    CommodityCategory,
    Concealment,
    HandlingCode,
    LocationType,
    TransportMode,
)
from groups.access import searchable_groups
from groups.models import Administration
from messaging.models import Message, SearchEntry
from messaging.search import Filters, search_entries_find, search_entries_write
from messaging.search_text import Query, Snippet, query_parse, snippet

from .countries import country_name
from .models import Operation, Seizure

RESULTS_MAX = 50
GROUPS_MAX = 20


# ---- the seizures' part of the index ------------------------------------------------


def seizure_search_text(seizure: Seizure) -> str:
    """What a seizure is found by: its place, commodity, route and concealment, with
    the vocabularies' words and the countries' names in every interface language."""
    countries = [
        code
        for code in (
            seizure.departure_country,
            seizure.destination_country,
            *(seizure.transit_countries or []),
        )
        if code
    ]
    parts = [
        seizure.place,
        seizure.commodity_description,
        seizure.hs_code,
        seizure.concealment_details,
        " ".join(countries),
    ]
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            parts += [
                str(CommodityCategory(seizure.commodity_category).label),
                str(LocationType(seizure.location_type).label),
                str(TransportMode(seizure.transport_mode).label),
            ]
            if seizure.concealment:
                parts.append(str(Concealment(seizure.concealment).label))
            parts += [country_name(code) for code in countries]
    return "\n".join(dict.fromkeys(part for part in parts if part))


def seizures_search_index(seizures: Iterable[Seizure]) -> None:
    """Write the search entries of seizures' messages (after a report, a correction,
    an import), in the caller's transaction."""
    seizures = [seizure for seizure in seizures if seizure.message_id]
    search_entries_write(
        [seizure.message for seizure in seizures],
        extra_text={seizure.message_id: seizure_search_text(seizure) for seizure in seizures},
        administration_of={
            seizure.message_id: seizure.reporting_administration_id for seizure in seizures
        },
    )


def search_reindex(*, batch_size: int = 2000) -> int:
    """Rebuild every message's search entry (after an upgrade); the number written."""
    done, last = 0, 0
    while True:
        messages = list(
            Message.objects.filter(pk__gt=last, retracted_at__isnull=True).order_by("pk")[
                :batch_size
            ]
        )
        if not messages:
            return done
        last = messages[-1].pk
        search_entries_write(messages)
        seizures = Seizure.objects.filter(message__in=messages).select_related("message")
        seizures_search_index(seizures)
        done += len(messages)


# ---- asking -------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchRequest:
    """A search, checked: the query and the filters as the searcher gave them."""

    query: Query
    group_slugs: tuple[str, ...] = ()
    author: object = None
    administration: Administration | None = None
    kind: str | None = None
    handling_code: str | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


def _one(data: Mapping, name: str) -> str:
    values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
    values = [value for value in values if value not in (None, "")]
    if len(values) > 1:
        raise Invalid({name: _("Give this filter once.")})
    return values[0].strip() if values and isinstance(values[0], str) else (values or [""])[0]


def _date(data: Mapping, name: str, errors: dict) -> datetime.date | None:
    value = _one(data, name)
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        errors[name] = _("Enter a date as YYYY-MM-DD.")
        return None


def _groups(data: Mapping) -> tuple[str, ...]:
    values = data.getlist("group") if hasattr(data, "getlist") else data.get("group") or []
    if isinstance(values, str):
        values = [values]
    slugs = tuple(dict.fromkeys(v.strip() for v in values if isinstance(v, str) and v.strip()))
    if len(slugs) > GROUPS_MAX:
        raise Invalid({"group": _("Search at most %(max)d groups at once.") % {"max": GROUPS_MAX}})
    return slugs


def search_request_parse(data: Mapping) -> SearchRequest:
    """A search's parameters (a query string or a form) checked; every problem at once
    in one ``Invalid``, each under its parameter's name."""
    errors: dict[str, str] = {}
    query = None
    try:
        query = query_parse(_one(data, "q"))
    except Invalid as error:
        errors.update({name: messages[0] for name, messages in error.message_dict.items()})
    group_slugs = _groups(data)
    author = None
    if username := _one(data, "author"):
        author = get_user_model().objects.filter(username=username).first()
        if author is None:
            errors["author"] = _("There is no user with this username.")
    administration = None
    if country := _one(data, "administration"):
        administration = Administration.objects.filter(country=country.upper()).first()
        if administration is None:
            errors["administration"] = _("There is no administration with this country code.")
    kind = _one(data, "kind") or None
    if kind is not None and kind not in Message.Kind.values:
        errors["kind"] = _("Unknown message kind.")
    handling_code = _one(data, "handling_code").upper() or None
    if handling_code is not None and handling_code not in HandlingCode.values:
        errors["handling_code"] = _("Unknown handling code.")
    date_from, date_to = _date(data, "from", errors), _date(data, "to", errors)
    if date_from and date_to and date_from > date_to:
        errors["to"] = _("The end of the date range comes before its start.")
    if errors:
        raise Invalid(errors)
    return SearchRequest(
        query=query,
        group_slugs=group_slugs,
        author=author,
        administration=administration,
        kind=kind,
        handling_code=handling_code,
        date_from=date_from,
        date_to=date_to,
    )


# ---- answering ------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    entry: SearchEntry
    snippet: Snippet
    url: str
    operation_code: str | None = None
    seizure_url: str | None = None
    seizure_uuid: str | None = None

    @property
    def message(self) -> Message:
        return self.entry.message


@dataclass(frozen=True)
class SearchAnswer:
    results: list[SearchResult] = field(default_factory=list)
    # More matched than were returned: the newest RESULTS_MAX are.
    truncated: bool = False


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def search(*, user, request: SearchRequest, within=None) -> SearchAnswer:
    """The newest matches for ``request`` in the groups ``user`` may read now
    (``within``: one group already checked by the caller)."""
    groups = searchable_groups(user=user)
    if within is not None:
        groups = groups.filter(pk=within.pk)
    if request.group_slugs:
        groups = groups.filter(slug__in=request.group_slugs)
    filters = Filters(
        groups=groups.values("pk"),
        group_ids=tuple(groups.values_list("pk", flat=True)),
        author_id=request.author.pk if request.author else None,
        administration_id=request.administration.pk if request.administration else None,
        kind=request.kind,
        handling_code=request.handling_code,
        since=_day_start(request.date_from) if request.date_from else None,
        until=(
            _day_start(request.date_to + datetime.timedelta(days=1)) if request.date_to else None
        ),
    )
    entries = search_entries_find(query=request.query, filters=filters, limit=RESULTS_MAX + 1)
    seizures = {
        message_id: (str(client_uuid), code)
        for message_id, client_uuid, code in Seizure.objects.filter(
            message_id__in=[entry.message_id for entry in entries if entry.kind == "seizure"]
        ).values_list("message_id", "client_uuid", "operation__code")
    }
    operation_of = dict(
        Operation.objects.filter(group_id__in={entry.group_id for entry in entries}).values_list(
            "group_id", "code"
        )
    )
    results = []
    for entry in entries[:RESULTS_MAX]:
        seizure_uuid, code = seizures.get(entry.message_id, (None, None))
        results.append(
            SearchResult(
                entry=entry,
                snippet=snippet(entry.text, request.query),
                url=reverse("groups:group", kwargs={"slug": entry.group.slug})
                + f"#m-{entry.message.seq}",
                operation_code=operation_of.get(entry.group_id),
                seizure_uuid=seizure_uuid,
                seizure_url=(
                    reverse("operations:seizure", kwargs={"code": code, "uuid": seizure_uuid})
                    if seizure_uuid
                    else None
                ),
            )
        )
    return SearchAnswer(results=results, truncated=len(entries) > RESULTS_MAX)
