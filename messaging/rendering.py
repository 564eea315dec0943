"""Markdown to safe HTML, once, on write.

markdown-it-py's ``js-default`` preset already refuses raw HTML and unsafe link
schemes; nh3 then keeps only a tight allow-list of tags and attributes, so that
what is stored is inert whatever a future renderer bug lets through.
"""

import nh3
from markdown_it import MarkdownIt

# Bump when the rendering changes; stored messages carry the version they were made with.
RENDER_VERSION = 1

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "s",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}

_markdown = MarkdownIt("js-default").enable("table").enable("strikethrough")


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


# Characters that never mean anything to Markdown inside one line of text. A body of
# one such line (see _plain_paragraph) renders as one paragraph of itself; most alerts
# are like that, and parsing them cost a fifth of a post's CPU (docs/performance.md).
_PLAIN_PUNCTUATION = frozenset(" ,.;:?!%/@$€£'\"()|+-=")


def _plain_paragraph(source: str) -> str | None:
    """What markdown-it makes of ``source`` when it is one line of plain text, else None."""
    if not source or not source[0].isalnum() or source[-1] == " ":
        return None
    for char in source:
        if not (char.isalnum() or char in _PLAIN_PUNCTUATION):
            return None
    if source[0].isdigit():
        # "1. " or "1) " starts a list: leave anything that starts with a number and one
        # of those to the parser.
        rest = source.lstrip("0123456789")
        if rest[:1] in (".", ")"):
            return None
    return "<p>" + source.replace('"', "&quot;") + "</p>\n"


def render_markdown(source: str) -> str:
    html = _plain_paragraph(source)
    return sanitize_html(_markdown.render(source) if html is None else html)
