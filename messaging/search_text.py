"""The words of search: how a text and a query are cut into words, and which forms of a
word match, in the six languages of the platform. Pure functions, no database.

A group's messages are written in many languages, and the author's interface language
says nothing about the language of one message, so a word is matched in every language
at once: its Snowball stem in English, French, Spanish and Portuguese (Latin script),
Russian (Cyrillic) and Arabic, the word itself, and the word as a prefix. Arabic joins
the article and some prepositions to the word (``الكوكايين``, "the cocaine"), which the
Arabic stemmer does not always take off the same way, so an Arabic word also matches
without them.

The embedded default's FTS5 table holds these forms (``index_terms``) and is queried
with ``fts5_query``; PostgreSQL stems with its own dictionaries (messaging/search.py)
and uses ``fallback_words`` for Arabic and Cyrillic words. Both highlight with
``snippet``.
"""

import functools
import re
import threading
import unicodedata
from dataclasses import dataclass

import snowballstemmer
from django.utils.translation import gettext as _

from core.errors import Invalid

QUERY_MAX_LENGTH = 200
QUERY_MAX_WORDS = 12

WORD = re.compile(r"\w+")
# A word as written, its Arabic vowel marks included: where the snippet highlights.
WRITTEN_WORD = re.compile(r"[\w\u064b-\u065f\u0670\u0640]+")
ARABIC_LETTER = re.compile(r"[\u0600-\u06ff]")
CYRILLIC_LETTER = re.compile(r"[\u0400-\u04ff]")
# Vowel marks and the elongation stroke: written or not, the word is the same.
ARABIC_MARKS = re.compile(r"[\u064b-\u065f\u0670\u0640]")
ARABIC_LETTER_FORMS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي"})
# Longest first: "and the", "with the", "as the", "so the", "for the", "the", then the
# one-letter conjunction and prepositions.
ARABIC_PROCLITICS = ("وال", "بال", "كال", "فال", "لل", "ال", "و", "ف", "ب", "ل", "ك")
LATIN_LANGUAGES = ("english", "french", "spanish", "portuguese")
# Words shorter than this are matched whole, never as a prefix or inside another word.
PREFIX_MIN_LENGTH = 3

_local = threading.local()


@functools.lru_cache(maxsize=200_000)
def _stem(language: str, word: str) -> str:
    # A Snowball stemmer keeps state while it works: one per thread.
    stemmers = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {}
    if language not in stemmers:
        stemmers[language] = snowballstemmer.stemmer(language)
    return stemmers[language].stemWord(word)


def normalise(text: str) -> str:
    """One spelling for what is written several ways (composed accents, Arabic marks)."""
    return ARABIC_MARKS.sub("", unicodedata.normalize("NFC", text)).translate(ARABIC_LETTER_FORMS)


def words(text: str) -> list[str]:
    return WORD.findall(normalise(text).casefold())


def arabic_bare(word: str) -> str:
    """An Arabic word without its joined article or preposition (if enough is left)."""
    for proclitic in ARABIC_PROCLITICS:
        if word.startswith(proclitic) and len(word) - len(proclitic) >= PREFIX_MIN_LENGTH:
            return word[len(proclitic) :]
    return word


@functools.lru_cache(maxsize=200_000)
def word_forms(word: str) -> frozenset[str]:
    """Every form under which ``word`` (normalised, case-folded) is indexed and matched."""
    forms = {word}
    if ARABIC_LETTER.search(word):
        bare = arabic_bare(word)
        forms |= {bare, _stem("arabic", word), _stem("arabic", bare)}
    elif CYRILLIC_LETTER.search(word):
        forms.add(_stem("russian", word))
    else:
        forms |= {_stem(language, word) for language in LATIN_LANGUAGES}
    return frozenset(form for form in forms if form)


def index_terms(text: str) -> str:
    """What the FTS5 table holds for a text: each form of each word, once."""
    terms: set[str] = set()
    for word in words(text):
        terms |= word_forms(word)
        if ARABIC_LETTER.search(word):
            # Indexed bare too, so that a search for the bare word finds it as a prefix.
            terms.add(arabic_bare(word))
    return " ".join(sorted(terms))


@dataclass(frozen=True)
class Clause:
    """Words that must all be there, and words that must not."""

    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Query:
    """A search as typed, and its meaning: clauses joined by "or", each of words that
    must all be there ("-word" excludes a word; a "quoted phrase" is its words)."""

    text: str
    clauses: tuple[Clause, ...]

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(word for clause in self.clauses for word in clause.include))


QUERY_CHUNK = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')


def query_parse(text) -> Query:
    """The query typed in a search box, checked; ``Invalid`` on the ``q`` field."""
    if not isinstance(text, str) or not text.strip():
        raise Invalid({"q": _("Type at least one word to search for.")})
    text = text.strip()
    if len(text) > QUERY_MAX_LENGTH or "\x00" in text:
        raise Invalid(
            {"q": _("A search is at most %(max)d characters long.") % {"max": QUERY_MAX_LENGTH}}
        )
    clauses: list[Clause] = []
    include: list[str] = []
    exclude: list[str] = []
    for match in QUERY_CHUNK.finditer(text):
        negated = bool(match.group(1) or match.group(3))
        chunk = match.group(2) if match.group(2) is not None else match.group(4)
        if not negated and match.group(4) is not None and chunk.casefold() == "or":
            clauses.append(Clause(tuple(include), tuple(exclude)))
            include, exclude = [], []
            continue
        (exclude if negated else include).extend(words(chunk))
    clauses.append(Clause(tuple(include), tuple(exclude)))
    clauses = [clause for clause in clauses if clause.include]
    if not clauses:
        raise Invalid(
            {"q": _("Type at least one word to search for, not only words to leave out.")}
        )
    count = sum(len(clause.include) + len(clause.exclude) for clause in clauses)
    if count > QUERY_MAX_WORDS:
        raise Invalid({"q": _("A search has at most %(max)d words.") % {"max": QUERY_MAX_WORDS}})
    return Query(text=text, clauses=tuple(clauses))


def _fts5_string(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _fts5_word(word: str) -> str:
    alternatives = [_fts5_string(form) for form in sorted(word_forms(word))]
    if len(word) >= PREFIX_MIN_LENGTH:
        alternatives.append(_fts5_string(word) + "*")
        if ARABIC_LETTER.search(word):
            alternatives.append(_fts5_string(arabic_bare(word)) + "*")
    return "(" + " OR ".join(alternatives) + ")"


def fts5_query(query: Query) -> str:
    """The FTS5 MATCH expression of a query: built only from quoted terms, so nothing
    typed is read as FTS5 syntax."""
    clauses = []
    for clause in query.clauses:
        expression = " AND ".join(_fts5_word(word) for word in clause.include)
        for word in clause.exclude:
            expression += " NOT " + _fts5_word(word)
        clauses.append("(" + expression + ")")
    return " OR ".join(clauses)


def fallback_words(clause: Clause) -> tuple[str, ...] | None:
    """The words PostgreSQL looks for inside the text, when its stemming may miss them:
    for a clause with an Arabic or Cyrillic word, each word as typed (an Arabic one
    without its article); ``None`` for other clauses."""
    if not any(ARABIC_LETTER.search(w) or CYRILLIC_LETTER.search(w) for w in clause.include):
        return None
    return tuple(arabic_bare(word) for word in clause.include)


def _matches(token: str, query_words: tuple[str, ...], query_forms: set[str]) -> bool:
    if word_forms(token) & query_forms:
        return True
    bare = arabic_bare(token)
    return any(
        len(word) >= PREFIX_MIN_LENGTH
        and (token.startswith(word) or bare.startswith(arabic_bare(word)))
        for word in query_words
    )


SNIPPET_LENGTH = 220


@dataclass(frozen=True)
class Snippet:
    """A short piece of the text around the first match, with the matching words'
    places in it (``(start, end)`` character offsets)."""

    text: str
    highlights: tuple[tuple[int, int], ...]


def snippet(text: str, query: Query) -> Snippet:
    """The piece of ``text`` to show for ``query``, its matching words highlighted."""
    query_forms: set[str] = set()
    for word in query.words:
        query_forms |= word_forms(word)
    plain = " ".join(unicodedata.normalize("NFC", text).split())
    hits = [
        (match.start(), match.end())
        for match in WRITTEN_WORD.finditer(plain)
        if _matches(normalise(match.group()).casefold(), query.words, query_forms)
    ]
    start = 0
    if hits and hits[0][0] > SNIPPET_LENGTH // 3:
        start = plain.rfind(" ", 0, hits[0][0] - SNIPPET_LENGTH // 3) + 1
    end = len(plain)
    if end - start > SNIPPET_LENGTH:
        end = plain.rfind(" ", start, start + SNIPPET_LENGTH)
        end = end if end > start else start + SNIPPET_LENGTH
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(plain) else ""
    shift = len(prefix) - start
    highlights = tuple(
        (hit_start + shift, hit_end + shift)
        for hit_start, hit_end in hits
        if hit_start >= start and hit_end <= end
    )
    return Snippet(text=prefix + plain[start:end] + suffix, highlights=highlights)
