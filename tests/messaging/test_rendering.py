"""render_markdown's shortcut for one line of plain text gives what the parser gives."""

import itertools
import random

from messaging.rendering import _markdown, _plain_paragraph, render_markdown, sanitize_html

# Letters, digits and every character the shortcut lets through, with the ones that
# start lists, headings, quotes or thematic breaks at the beginning of a line.
TRICKY = list("a1 .)-+=|\"'!(:é9%/@$€")


def check(source: str) -> bool:
    """True when the shortcut took ``source``; fails when it differs from the parser."""
    shortcut = _plain_paragraph(source)
    if shortcut is None:
        return False
    assert shortcut == _markdown.render(source), source
    assert render_markdown(source) == sanitize_html(_markdown.render(source)), source
    return True


def test_every_short_line_renders_as_the_parser_renders_it():
    taken = sum(
        check("".join(chars))
        for length in range(1, 5)
        for chars in itertools.product(TRICKY, repeat=length)
    )
    assert taken > 10_000  # the shortcut is really exercised, not always declined


def test_longer_lines_render_as_the_parser_renders_them():
    rng = random.Random(20261125)
    words = ["Seizure", "12", "kg", "cocaine", "1.5", "t", "Rotterdam:", "(MSC", "vessel)", "n°"]
    taken = 0
    for _ in range(3000):
        pieces = [rng.choice(words + TRICKY) for _ in range(rng.randint(1, 12))]
        taken += check(rng.choice(["", " "]).join(pieces))
    assert taken > 500


def test_what_markdown_means_is_left_to_the_parser():
    for source in [
        "1. first",
        "1) first",
        "- item",
        "+ item",
        "# Heading",
        "> quoted",
        "**bold**",
        "a *b*",
        "a_b_",
        "`code`",
        "~~gone~~",
        "[link](http://example.org)",
        "<http://example.org>",
        "a &amp; b",
        "two\nlines",
        "   indented",
        "trailing  ",
        "a\\b",
        "tab\there",
        "",
    ]:
        assert _plain_paragraph(source) is None, source


def test_a_plain_alert_keeps_its_words():
    assert render_markdown('Seizure at Rotterdam: 120 kg (MSC "Anna") | 3 arrests') == (
        '<p>Seizure at Rotterdam: 120 kg (MSC "Anna") | 3 arrests</p>\n'
    )
