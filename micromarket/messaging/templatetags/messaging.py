"""Showing messages safely: text is always escaped, links are marked and not followed by
crawlers; the off-platform warning; a seller's response figures."""

from __future__ import annotations

import math
import re

from django import template
from django.utils.html import linebreaks, urlize
from django.utils.safestring import mark_safe

from micromarket.messaging import contact_details

register = template.Library()

LINK_REL = "nofollow ugc noopener noreferrer"
_ANCHOR = re.compile(r'<a href="([^"]*)"( rel="nofollow")?>(.*?)</a>', re.S)


def _mark_link(match: re.Match) -> str:
    href, _, label = match.groups()
    return (
        f'<a class="ext-link" href="{href}" rel="{LINK_REL}">{label}'
        '<span class="ext-mark" aria-hidden="true">↗</span>'
        '<span class="visually-hidden"> (link to another site)</span></a>'
    )


@register.filter(is_safe=True)
def message_text(value) -> str:
    """A message's text as HTML: escaped, paragraphs and line breaks kept, web addresses as
    links marked as leading elsewhere (rel="nofollow ugc noopener noreferrer")."""
    text = str(value or "")
    linked = urlize(text, trim_url_limit=60, nofollow=False, autoescape=True)
    # urlize escaped everything that is not a link, so every <a …> here is its own.
    linked = _ANCHOR.sub(_mark_link, linked)
    return mark_safe(linebreaks(linked, autoescape=False))  # noqa: S308 (escaped above)


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


@register.filter
def warning_text(kinds) -> str:
    """["email", "phone"] → "This message contains an email address and a phone number."."""
    labels = [contact_details.KIND_LABELS.get(kind, kind) for kind in kinds or []]
    if not labels:
        return ""
    return f"This message contains {_join(labels)}."


@register.filter
def warning_kinds(kinds) -> str:
    """For operators: ["email", "iban"] → "email address, bank account number (IBAN)"."""
    if isinstance(kinds, str):
        kinds = [kinds]
    labels = []
    for kind in kinds or []:
        label = contact_details.KIND_LABELS.get(kind, kind)
        for article in ("an ", "a "):
            if label.startswith(article):
                label = label[len(article) :]
                break
        labels.append(label)
    return ", ".join(labels)


@register.filter
def response_summary(stats) -> str:
    """A seller's response figures in words: "Usually responds within 3 hours · 95 % response
    rate"; empty without inquiries (nothing to tell yet)."""
    if stats is None or not getattr(stats, "inquiries", 0):
        return ""
    parts = []
    median = stats.median_response
    if median is not None:
        hours = median.total_seconds() / 3600
        if hours <= 1:
            parts.append("Usually responds within an hour")
        elif hours <= 48:
            n = math.ceil(hours)
            parts.append(f"Usually responds within {n} hours")
        else:
            n = math.ceil(hours / 24)
            parts.append(f"Usually responds within {n} days")
    parts.append(f"{stats.rate_percent} % response rate")
    return " · ".join(parts)


@register.simple_tag
def other_person(conversation, user):
    """The person ``user`` talks to in ``conversation``."""
    return conversation.user_high if conversation.user_low_id == user.pk else conversation.user_low


@register.filter
def plain_excerpt(value, limit: int = 100) -> str:
    """One line of a message for lists (escaped by the template as usual)."""
    text = " ".join(str(value or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@register.simple_tag
def message_max_length() -> int:
    from micromarket.messaging.models import MAX_BODY

    return MAX_BODY


@register.simple_tag
def attachment_accept() -> str:
    """A hint for the file picker only: the server judges files by their content."""
    from micromarket.messaging.forms import ACCEPT

    return ACCEPT


@register.simple_tag
def attachment_help() -> str:
    from micromarket.messaging.forms import MessageForm

    return MessageForm.base_fields["files"].help_text
