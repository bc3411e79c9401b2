"""Markdown becomes sanitized HTML: known XSS payloads never survive."""

from html.parser import HTMLParser

import pytest

from library.rendering import markdown_to_html

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](javascript&colon;alert(1))",
    "[click](  javascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    '![x" onerror="alert(1)](http://example.com/a.png)',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="https://evil.example"></iframe>',
    "<div style=\"background:url('javascript:alert(1)')\">x</div>",
    '<body onload="alert(1)">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<a href="vbscript:msgbox(1)">x</a>',
    "[x](vbscript:msgbox(1))",
    '<object data="data:text/html,<script>alert(1)</script>"></object>',
    "<details open ontoggle=alert(1)>",
    "[a](<javascript:alert(1)>)",
    '[a](https://ok.example "title" onmouseover=alert(1))',
    "<<script>script>alert(1)<</script>/script>",
]
SAFE_TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
             "a", "table", "thead", "tbody", "tr", "th", "td"}  # fmt: skip


class Elements(HTMLParser):
    """Every live tag and attribute of an HTML text (escaped text is not a tag)."""

    def __init__(self):
        super().__init__()
        self.tags, self.attributes = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(attrs)


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payloads_never_survive(payload):
    html = markdown_to_html(f"Before\n\n{payload}\n\nAfter {payload}\n\n> {payload}\n\n- {payload}")
    elements = Elements()
    elements.feed(html)
    assert set(elements.tags) <= SAFE_TAGS, html
    for name, value in elements.attributes:
        assert name in {"href", "title", "rel", "align"}, html
        if name == "href":
            assert value.split(":")[0].lower() in {"http", "https", "mailto"}, html
    assert "<script" not in html.lower()


def test_markdown_keeps_its_formatting_and_safe_links():
    html = markdown_to_html("## Plan\n\n**Save** _first_, then [read](https://example.com).\n\n- one\n- two")
    assert "<h2>Plan</h2>" in html
    assert "<strong>Save</strong>" in html and "<em>first</em>" in html
    assert '<a href="https://example.com" rel="nofollow noopener noreferrer">read</a>' in html
    assert "<li>one</li>" in html
