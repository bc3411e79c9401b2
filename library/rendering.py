"""Markdown to sanitized HTML, once when an article is saved (page views show the stored HTML).

markdown-it-py parses CommonMark with raw HTML switched off (`<script>` stays text), and nh3
(the Ammonia sanitizer) then keeps only a short list of tags and attributes and only http(s)
and mailto links, whatever the parser let through: no event handlers, no `javascript:` or
`data:` URLs, no SVG, no styles.
"""

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def markdown_to_html(text: str) -> str:
    """The sanitized HTML of a Markdown text: safe to show as is."""
    return nh3.clean(
        _parser.render(text or ""),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )
