"""Writes of the levels area: the daily computation of every seller's level (standing, history,
notification, search index), an operator's recompute of one seller, the operators' thresholds,
and sellers' appeals. See docs/trust.md#seller-levels and ``selectors.levels`` for the rules."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from micromarket.accounts import selectors as accounts_selectors
from micromarket.catalog import services as catalog_services
from micromarket.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from micromarket.messaging import services as messaging_services
from micromarket.trust.models import Level, LevelAppeal, LevelChange, LevelThreshold, SellerStanding
from micromarket.trust.selectors import levels as selectors
from micromarket.trust.services import moderation

log = logging.getLogger(__name__)


# --- computation ------------------------------------------------------------------------------


def _notify_change(seller, old: str, new: str, evaluation) -> None:
    up = selectors.LEVEL_RANKS[new] > selectors.LEVEL_RANKS[old]
    old_label, new_label = selectors.LEVEL_LABELS[old], selectors.LEVEL_LABELS[new]
    if up:
        title = f"You are now {new_label}"
        body = f"Congratulations: you moved up from {old_label} to {new_label}."
    else:
        title = f"Your seller level is now {new_label}"
        missing = next((lc.missing for lc in evaluation.levels if lc.level == old), [])
        body = f"You moved from {old_label} to {new_label}."
        if missing:
            body += " To get back: " + "; ".join(missing) + "."
    messaging_services.notification_send(
        user=seller,
        category="account",
        title=title,
        body=body,
        url=reverse("trust:levels_mine"),
        group_key=f"level:{seller.pk}",
    )


def _compute(seller, now: datetime) -> tuple[SellerStanding, LevelChange | None]:
    levels = selectors.thresholds()
    by_window = selectors.figures_for_thresholds(seller=seller, levels=levels, now=now)
    evaluation = selectors.level_evaluate(by_window, levels)
    main = by_window[(levels[0].window_days, levels[0].earnings_currency)]
    stored = {**main.as_dict(), "by_window": [f.as_dict() for f in by_window.values()]}
    standing = SellerStanding.objects.select_for_update().filter(seller=seller).first()
    old = standing.level if standing else Level.NEW.value
    new = evaluation.level
    change = None
    if standing is None:
        standing = SellerStanding(seller=seller, level=new, level_since=now)
    elif new != old:
        standing.level_since = now
    standing.level = new
    standing.figures = stored
    standing.computed_at = now
    standing.save()
    if new != old:
        change = LevelChange.objects.create(
            seller=seller, from_level=old, to_level=new, figures=stored, created_at=now
        )
        _notify_change(seller, old, new, evaluation)
    shop = accounts_selectors.shop_for_user(user=seller)
    if shop is not None:
        catalog_services.shop_reputation_set(
            shop_id=shop.pk, seller_level=new, completed_orders=main.completed_orders
        )
    return standing, change


def level_compute(*, seller_id: int, now: datetime | None = None) -> SellerStanding:
    """Recompute one seller's level now (the daily job's step for one seller)."""
    now = now or timezone.now()
    seller = get_user_model().objects.filter(pk=seller_id).first()
    if seller is None:
        raise NotFound("There is no such seller.")
    with transaction.atomic():
        standing, _ = _compute(seller, now)
    return standing


def levels_compute_all(*, now: datetime | None = None) -> int:
    """Every seller's level from the published criteria (the daily job). Each seller in their
    own transaction, so one failure does not hold back the others; returns how many sellers
    were computed."""
    now = now or timezone.now()
    done = 0
    for seller_id in selectors.sellers_to_compute().values_list("pk", flat=True).iterator():
        try:
            level_compute(seller_id=seller_id, now=now)
        except Exception:  # one seller's failure is logged, the others are still computed
            log.exception("seller level of %s not computed", seller_id)
            continue
        done += 1
    return done


def level_recompute(
    *, seller_id: int, actor, reason: str, now: datetime | None = None
) -> SellerStanding:
    """An operator recomputes one seller's level now (e.g. after answering an appeal)."""
    moderation.operator_required(actor)
    now = now or timezone.now()
    seller = get_user_model().objects.filter(pk=seller_id).first()
    if seller is None or not selectors.is_seller(seller):
        raise NotFound("There is no such seller.")
    with transaction.atomic():
        before = selectors.standing_for(seller_id=seller.pk).level
        standing, _ = _compute(seller, now)
        moderation.audit_record(
            actor=actor,
            action="level_recompute",
            target_kind="user",
            target_id=seller.pk,
            target_user=seller,
            reason=reason,
            data={"from": before, "to": standing.level},
            now=now,
        )
    return standing


# --- thresholds -------------------------------------------------------------------------------

_LIMITS = {
    "window_days": (30, 730),
    "min_completed_orders": (0, 100_000),
    "min_earnings": (0, 10**12),
    "min_unique_buyers": (0, 100_000),
    "min_response_rate": (0, 100),
    "min_on_time_rate": (0, 100),
    "min_completion_rate": (0, 100),
    "max_dispute_rate": (0, 100),
    "min_account_age_days": (0, 3650),
    "clearing_days": (0, 90),
}


def _clean_thresholds(values: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name in selectors.THRESHOLD_FIELDS:
        if name not in values:
            raise ValidationFailed("Fill in every threshold.", field=name)
        value = values[name]
        if name == "earnings_currency":
            code = str(value or "").strip().upper()
            if len(code) != 3 or not code.isalpha():
                raise ValidationFailed("A three-letter currency code.", field=name)
            clean[name] = code
        elif name == "min_rating":
            try:
                rating = Decimal(str(value)).quantize(Decimal("0.01"))
            except (InvalidOperation, ValueError):
                raise ValidationFailed("A rating from 0 to 5.", field=name) from None
            if not Decimal(0) <= rating <= Decimal(5):
                raise ValidationFailed("A rating from 0 to 5.", field=name)
            clean[name] = rating
        elif name == "clearing_days" and value in (None, ""):
            clean[name] = None
        else:
            low, high = _LIMITS[name]
            if isinstance(value, bool):
                raise ValidationFailed("A whole number.", field=name)
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise ValidationFailed("A whole number.", field=name) from None
            if number != value and str(number) != str(value).strip():
                raise ValidationFailed("A whole number.", field=name)
            if not low <= number <= high:
                raise ValidationFailed(f"From {low} to {high}.", field=name)
            clean[name] = number
    return clean


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()}


def level_thresholds_update(
    *, actor, level: str, values: dict[str, Any], reason: str, now: datetime | None = None
) -> LevelThreshold:
    """An operator changes one level's thresholds; the audit log keeps the old and new values.
    Sellers' levels follow at the next daily run (or an operator's recompute)."""
    moderation.operator_required(actor)
    now = now or timezone.now()
    default = next((d for d in selectors.DEFAULT_THRESHOLDS if d["level"] == level), None)
    if default is None:
        raise NotFound("There is no such level.")
    clean = _clean_thresholds(values)
    with transaction.atomic():
        row = LevelThreshold.objects.select_for_update().filter(level=level).first()
        if row is None:
            row = LevelThreshold(**default)
        old = {name: getattr(row, name) for name in selectors.THRESHOLD_FIELDS}
        old["min_rating"] = Decimal(old["min_rating"]).quantize(Decimal("0.01"))
        changed = {k: v for k, v in clean.items() if old[k] != v}
        if not changed:
            raise ValidationFailed("Nothing changed.", code="unchanged")
        for name, value in clean.items():
            setattr(row, name, value)
        row.updated_at = now
        row.updated_by = actor
        row.save()
        moderation.audit_record(
            actor=actor,
            action="level_thresholds_update",
            target_kind="level",
            target_id=row.rank,
            reason=reason,
            data={
                "level": level,
                "old": _jsonable({k: old[k] for k in changed}),
                "new": _jsonable(changed),
            },
            now=now,
        )
    return row


# --- appeals ----------------------------------------------------------------------------------


def level_appeal_create(*, seller, message: str, now: datetime | None = None) -> LevelAppeal:
    """A seller asks the operators to look at their level (one open appeal at a time)."""
    now = now or timezone.now()
    if not getattr(seller, "is_authenticated", False) or not selectors.is_seller(seller):
        raise PermissionDenied("Only sellers have a level to appeal.", code="not_a_seller")
    message = (message or "").strip()
    if len(message) < 20:
        raise ValidationFailed(
            "Tell the operators what you think is wrong (at least 20 characters).",
            field="message",
        )
    if len(message) > 3000:
        raise ValidationFailed("At most 3000 characters.", field="message")
    level = selectors.standing_for(seller_id=seller.pk).level
    try:
        with transaction.atomic():
            if LevelAppeal.objects.filter(seller=seller, status=LevelAppeal.Status.OPEN).exists():
                raise Conflict(
                    "You already have an appeal waiting for an operator.", code="appeal_open"
                )
            appeal = LevelAppeal.objects.create(
                seller=seller, level=level, message=message, created_at=now
            )
            messaging_services.notify_operators(
                category="trust_queue",
                title=f"Level appeal from {seller.display_name}",
                body=message[:300],
                url=reverse("trust:levels_ops_appeals"),
                group_key="level_appeals",
            )
    except IntegrityError:  # a concurrent appeal won the unique constraint
        raise Conflict(
            "You already have an appeal waiting for an operator.", code="appeal_open"
        ) from None
    return appeal


def level_appeal_answer(
    *, appeal_id: int, actor, answer: str, now: datetime | None = None
) -> LevelAppeal:
    """An operator answers an appeal; the seller is told. To change the level, the operator
    recomputes it or changes the thresholds (both audit-logged too)."""
    moderation.operator_required(actor)
    now = now or timezone.now()
    answer = (answer or "").strip()
    if not answer:
        raise ValidationFailed("Write an answer for the seller.", field="answer")
    if len(answer) > 3000:
        raise ValidationFailed("At most 3000 characters.", field="answer")
    with transaction.atomic():
        appeal = (
            LevelAppeal.objects.select_for_update()
            .select_related("seller")
            .filter(pk=appeal_id)
            .first()
        )
        if appeal is None:
            raise NotFound("There is no such appeal.")
        if appeal.status != LevelAppeal.Status.OPEN:
            raise Conflict("This appeal has already been answered.", code="appeal_answered")
        appeal.status = LevelAppeal.Status.ANSWERED
        appeal.answer = answer
        appeal.answered_by = actor
        appeal.answered_at = now
        appeal.save(update_fields=["status", "answer", "answered_by", "answered_at"])
        moderation.audit_record(
            actor=actor,
            action="level_appeal_answer",
            target_kind="level_appeal",
            target_id=appeal.pk,
            target_user=appeal.seller,
            reason=answer,
            data={"level": appeal.level},
            now=now,
        )
        messaging_services.notification_send(
            user=appeal.seller,
            category="account",
            title="An operator answered your level appeal",
            body=answer[:300],
            url=reverse("trust:levels_mine"),
        )
    return appeal
