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


def render_markdown(source: str) -> str:
    return sanitize_html(_markdown.render(source))
