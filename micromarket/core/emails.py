"""Outgoing email: rendered from templates now, sent by a background task after commit.

``email_send_after_commit`` renders ``<template>.subject.txt``, ``<template>.txt`` and (if it
exists) ``<template>.html`` with the given context, then enqueues ``send_email`` once the
surrounding transaction commits — so a rolled-back sign-up never sends mail.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

from micromarket.core.tasks import send_email


def email_render(template: str, context: dict) -> tuple[str, str, str | None]:
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"{template}.subject.txt", context).split())
    body = render_to_string(f"{template}.txt", context)
    try:
        html = render_to_string(f"{template}.html", context)
    except TemplateDoesNotExist:
        html = None
    return subject, body, html


def email_send_after_commit(*, to: str, template: str, context: dict) -> None:
    subject, body, html = email_render(template, context)
    transaction.on_commit(
        lambda: send_email.enqueue(to=[to], subject=subject, body=body, html=html)
    )
