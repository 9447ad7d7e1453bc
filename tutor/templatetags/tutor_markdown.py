"""Markdown for problem text: rendered on the server with raw HTML disabled, math left for KaTeX in the browser."""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

register = template.Library()

# "html": False makes markdown-it escape any raw HTML in the source instead of passing it through.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")
# $$...$$ first, then $...$ that does not start or end with a space (so "$5 and $6" stays prose).
_MATH = re.compile(r"\$\$(.+?)\$\$|\$(?!\s)([^$\n]+?)(?<!\s)\$", re.DOTALL)
# Private-use characters: markdown-it passes them through untouched and authors never type them.
_PLACEHOLDER = "\ue000{}\ue001"


@register.filter(name="markdown")
def render_markdown(text: str) -> SafeString:
    """Render Markdown; math spans are set aside first so Markdown cannot turn ``a*b*c`` into emphasis."""
    spans: list[str] = []

    def stash(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return _PLACEHOLDER.format(len(spans) - 1)

    html: str = _MARKDOWN.render(_MATH.sub(stash, text or ""))
    for index, span in enumerate(spans):
        html = html.replace(_PLACEHOLDER.format(index), escape(span))
    return mark_safe(html)  # noqa: S308 - every piece was escaped above or by markdown-it
