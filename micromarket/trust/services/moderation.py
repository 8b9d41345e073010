"""Writes of the moderation area: reports, operator actions on them, and the audit log that
every operator action in trust (and the operator actions trust performs on other apps) writes.
See docs/trust.md."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from micromarket.accounts import selectors as account_selectors
from micromarket.accounts import services as account_services
from micromarket.catalog import services as catalog_services
from micromarket.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from micromarket.messaging import services as messaging_services
from micromarket.trust.models import AuditEntry, Report
from micromarket.trust.selectors import moderation as moderation_selectors
from micromarket.trust.services import reviews as review_services

REPORTS_PER_DAY = 20  # per reporter, over a rolling 24 hours
RATE_WINDOW = timedelta(hours=24)
DETAILS_MAX = 3000
ACTIONS = ("dismiss", "hide", "suspend", "remove_offer", "warn")


def operator_required(actor) -> None:
    """Raise unless ``actor`` is an operator (staff); every operator-only service calls it."""
    if actor is None or not getattr(actor, "is_staff", False) or not actor.is_active:
        raise PermissionDenied("Only operators can do that.", code="operators_only")


def audit_record(
    *,
    actor,
    action: str,
    target_kind: str,
    target_id: int,
    reason: str,
    target_user=None,
    data: dict | None = None,
    now=None,
) -> AuditEntry:
    """Write one audit-log row for an operator action (inside the action's transaction, so the
    row exists exactly when the action happened). A reason is required: "why" is the point."""
    operator_required(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why (it is kept in the audit log).", field="reason")
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        target_kind=target_kind,
        target_id=int(target_id),
        target_user=target_user,
        reason=reason[:3000],
        data=data or {},
        created_at=now or timezone.now(),
    )


# --- reports ----------------------------------------------------------------------------------


@transaction.atomic
def report_create(
    *, reporter, target_kind: str, target_id: int, reason: str, details: str = "", now=None
) -> Report:
    """A user reports an offer, a profile, a message or a review they can see.

    One open report per reporter and target (a second is ``already_reported``), at most
    ``REPORTS_PER_DAY`` in 24 hours; operators are told in one folded notification.
    """
    now = now or timezone.now()
    target = moderation_selectors.report_target(
        kind=target_kind, target_id=target_id, reporter=reporter
    )
    if target.owner_id == reporter.pk:
        raise ValidationFailed(
            "You cannot report your own " + _KIND_WORDS[target.kind] + ".",
            field="target_id",
            code="own_target",
        )
    if reason not in Report.Reason.values:
        raise ValidationFailed("Choose a reason from the list.", field="reason")
    details = (details or "").strip()
    if len(details) > DETAILS_MAX:
        raise ValidationFailed(f"Use at most {DETAILS_MAX} characters.", field="details")
    if Report.objects.filter(
        reporter=reporter, target_kind=target.kind, target_id=target.id, status="open"
    ).exists():
        raise Conflict(
            "You have already reported this; our moderators will look at it.",
            code="already_reported",
        )
    recent = Report.objects.filter(reporter=reporter, created_at__gt=now - RATE_WINDOW).count()
    if recent >= REPORTS_PER_DAY:
        raise RateLimited(
            f"You have sent {REPORTS_PER_DAY} reports in the last 24 hours; "
            "please try again tomorrow.",
            code="rate_limited",
        )
    try:
        with transaction.atomic():
            report = Report.objects.create(
                reporter=reporter,
                target_kind=target.kind,
                target_id=target.id,
                target_user_id=target.owner_id,
                reason=reason,
                details=details,
                created_at=now,
            )
    except IntegrityError:  # the same report, sent twice at once
        raise Conflict(
            "You have already reported this; our moderators will look at it.",
            code="already_reported",
        ) from None
    messaging_services.notify_operators(
        category="moderation",
        title="New reports to review",
        body=f"{Report.Target(target.kind).label} reported: {report.get_reason_display()}.",
        url=reverse("trust:ops_reports"),
        group_key="reports",
    )
    return report


def _closing(*, kind: str, target_id: int) -> list[Report]:
    """Lock every open report on the target (oldest first, a fixed order)."""
    return list(
        Report.objects.select_for_update()
        .filter(status=Report.Status.OPEN, target_kind=kind, target_id=target_id)
        .order_by("id")
    )


def _close(reports: list[Report], *, actor, action: str, now) -> None:
    status = Report.Status.DISMISSED if action == "dismiss" else Report.Status.ACTIONED
    Report.objects.filter(pk__in=[r.pk for r in reports]).update(
        status=status, action=action, handled_by=actor, handled_at=now
    )
    for report in reports:  # the reporter hears what came of it (DSA art. 16(5))
        messaging_services.notification_send(
            user=report.reporter,
            category="account",
            title="Our moderators looked at your report",
            body=(
                "They found nothing against the rules this time. Thank you for telling us."
                if status == Report.Status.DISMISSED
                else "They took action. Thank you for telling us."
            ),
            url=reverse("trust:my_reports"),
            group_key=f"report-{report.pk}",
        )


def _audit_once(*, since_id: int, actor, action: str, kind: str, target_id: int, **fields):
    """One audit entry for the action: when a service we called already wrote one for this
    target (an area's own operator service, e.g. reviews' ``review_hide``), add our data to
    it instead of writing a second."""
    written = (
        AuditEntry.objects.select_for_update()
        .filter(pk__gt=since_id, actor=actor, target_kind=kind, target_id=target_id)
        .order_by("-id")
        .first()
    )
    if written is None:
        return audit_record(
            actor=actor, action=action, target_kind=kind, target_id=target_id, **fields
        )
    written.data = {**written.data, **(fields.get("data") or {})}
    written.save(update_fields=["data"])
    return written


def _last_audit_id() -> int:
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _warn(*, user, actor, message: str, about: str) -> None:
    message = (message or "").strip()
    if not message:
        raise ValidationFailed("Write the warning the person will read.", field="message")
    if user is None or not user.is_active:
        raise Conflict(
            "This account is closed or suspended; a warning would not reach it.",
            code="owner_inactive",
        )
    messaging_services.notification_send(
        user=user,
        category="account",
        title="A warning from the moderators",
        body=f"About {about}: {message}"[:1000],
    )


_KIND_WORDS = {"offer": "offer", "user": "profile", "message": "message", "review": "review"}
_AUDIT_ACTIONS = {
    "dismiss": "report_dismiss",
    "remove_offer": "offer_remove",
    "warn": "user_warn",
    "suspend": "user_suspend",
}


@transaction.atomic
def report_handle(
    *, actor, report_id: int, action: str, reason: str, message: str = "", now=None
) -> Report:
    """An operator acts on a report: ``dismiss``, ``hide`` (a review or a message),
    ``suspend`` (the target's owner), ``remove_offer`` or ``warn`` (``message`` is what the
    owner reads). Every open report on the same target closes with it, and one audit entry
    records who, why and which reports."""
    operator_required(actor)
    now = now or timezone.now()
    reason = (reason or "").strip()
    if action not in ACTIONS:
        raise ValidationFailed("Choose an action from the list.", field="action")
    if not reason:
        raise ValidationFailed("Say why (it is kept in the audit log).", field="reason")
    report = Report.objects.select_for_update().filter(pk=report_id).first()
    if report is None:
        raise NotFound("There is no such report.")
    if report.status != Report.Status.OPEN:
        raise Conflict("This report has already been handled.", code="already_handled")
    kind, target_id = report.target_kind, report.target_id
    allowed = {a for a, _ in moderation_selectors.actions_for(kind, has_owner=True)}
    if action not in allowed:
        raise ValidationFailed(
            f"“{action}” does not apply to a reported {_KIND_WORDS[kind]}.",
            field="action",
            code="action_not_applicable",
        )
    reports = _closing(kind=kind, target_id=target_id)
    owner = report.target_user
    since = _last_audit_id()
    audit_action = _AUDIT_ACTIONS.get(action, f"{kind}_hide")
    audit_kind, audit_id = kind, target_id
    if action == "hide" and kind == Report.Target.REVIEW:
        review_services.review_hide(review_id=target_id, actor=actor, reason=reason, now=now)
    elif action == "hide":
        messaging_services.message_hide(message_id=target_id, actor=actor, reason=reason)
    elif action == "remove_offer":
        catalog_services.offer_transition(
            offer_id=target_id, actor=actor, action="reject", reason=reason
        )
    elif action in ("warn", "suspend"):
        if owner is None:
            raise Conflict("Nobody owns this any more.", code="no_owner")
        if action == "warn":
            _warn(user=owner, actor=actor, message=message, about=f"your {_KIND_WORDS[kind]}")
        else:
            account_services.user_suspend(user_id=owner.pk, actor=actor, reason=reason)
            audit_kind, audit_id = "user", owner.pk
    _close(reports, actor=actor, action=action, now=now)
    _audit_once(
        since_id=since,
        actor=actor,
        action=audit_action,
        kind=audit_kind,
        target_id=audit_id,
        reason=reason,
        target_user=owner,
        data={
            "reports": [r.pk for r in reports],
            "report_target": {"kind": kind, "id": target_id},
            "reasons": sorted({r.reason for r in reports}),
            **({"message": message.strip()} if action == "warn" else {}),
        },
        now=now,
    )
    report.refresh_from_db()
    return report


USER_ACTIONS = ("suspend", "reinstate", "warn")


@transaction.atomic
def user_moderate(
    *, actor, user_id: int, action: str, reason: str, message: str = "", now=None
) -> AuditEntry:
    """An operator acts on a person directly (their page in /ops/trust/users/): ``suspend``,
    ``reinstate`` or ``warn``. Suspending or warning closes the open reports on their profile."""
    operator_required(actor)
    now = now or timezone.now()
    reason = (reason or "").strip()
    if action not in USER_ACTIONS:
        raise ValidationFailed("Choose an action from the list.", field="action")
    if not reason:
        raise ValidationFailed("Say why (it is kept in the audit log).", field="reason")
    person = account_selectors.user_for_operators(user_id=user_id)
    reports = [] if action == "reinstate" else _closing(kind="user", target_id=person.pk)
    if action == "suspend":
        person = account_services.user_suspend(user_id=person.pk, actor=actor, reason=reason)
    elif action == "reinstate":
        person = account_services.user_reinstate(user_id=person.pk, actor=actor, reason=reason)
    else:
        _warn(user=person, actor=actor, message=message, about="your account")
    if reports:
        _close(reports, actor=actor, action=action, now=now)
    return audit_record(
        actor=actor,
        action=f"user_{action}",
        target_kind="user",
        target_id=person.pk,
        target_user=person,
        reason=reason,
        data={
            "reports": [r.pk for r in reports],
            **({"message": message.strip()} if action == "warn" else {}),
        },
        now=now,
    )
