"""Offer descriptions: Markdown rendered by markdown-it (raw HTML off), then sanitised by nh3."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h2", "h3", "h4", "hr", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def markdown_render(text: str) -> str:
    """Safe HTML for ``text``: no scripts, styles, images or event handlers; links nofollow."""
    html = _md.render(text or "")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow ugc noopener noreferrer",
    )
