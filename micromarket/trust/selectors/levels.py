"""Reads of the levels area: the published thresholds, a seller's figures, the evaluation of
figures against thresholds (pure, so its boundaries are tested without building histories),
standings, clearing days by level, reputation for the search index, and appeals.

Rules (docs/trust.md#seller-levels):

- A seller holds the highest level whose every criterion they meet; a level's own thresholds
  are all that count for it (operators keep them cumulative).
- Counts, earnings and rates are measured over the level's ``window_days`` (365 by default)
  before the computation; the response rate is messaging's own (its last 90 days).
- Earnings are the seller's net (price − refunds − commission) of completed orders in the
  level's ``earnings_currency``; orders in other currencies do not count toward earnings.
- The rating is the plain average of the public reviews received in the window, compared at
  two decimals (as shown); no rating yet fails a ``min_rating`` above 0.
- A rate with no data (no inquiries, no orders with a delivery date, none completed or
  cancelled, none placed) is met only when the level needs no completed orders; for any other
  level it is **not met**. Its threshold at 0 % (or 100 % for the dispute rate) is met always.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from micromarket.core.errors import NotFound
from micromarket.core.money import money_format
from micromarket.trust.models import Level, LevelAppeal, LevelThreshold, SellerStanding

LEVEL_LABELS = dict(Level.choices)
LEVEL_RANKS = {Level.NEW: 0, Level.LEVEL1: 1, Level.LEVEL2: 2, Level.TOP: 3}

# The published defaults; migration 0002 writes exactly these rows (a test compares them), and
# thresholds() falls back to them for any level whose row is missing.
DEFAULT_THRESHOLDS: tuple[dict[str, Any], ...] = (
    {
        "level": "level1",
        "rank": 1,
        "window_days": 365,
        "min_completed_orders": 10,
        "min_earnings": 40_000,
        "earnings_currency": "USD",
        "min_unique_buyers": 5,
        "min_rating": Decimal("4.40"),
        "min_response_rate": 80,
        "min_on_time_rate": 85,
        "min_completion_rate": 85,
        "max_dispute_rate": 5,
        "min_account_age_days": 60,
        "clearing_days": None,
    },
    {
        "level": "level2",
        "rank": 2,
        "window_days": 365,
        "min_completed_orders": 25,
        "min_earnings": 200_000,
        "earnings_currency": "USD",
        "min_unique_buyers": 10,
        "min_rating": Decimal("4.60"),
        "min_response_rate": 90,
        "min_on_time_rate": 90,
        "min_completion_rate": 90,
        "max_dispute_rate": 3,
        "min_account_age_days": 120,
        "clearing_days": 10,
    },
    {
        "level": "top",
        "rank": 3,
        "window_days": 365,
        "min_completed_orders": 100,
        "min_earnings": 2_000_000,
        "earnings_currency": "USD",
        "min_unique_buyers": 40,
        "min_rating": Decimal("4.80"),
        "min_response_rate": 90,
        "min_on_time_rate": 95,
        "min_completion_rate": 95,
        "max_dispute_rate": 2,
        "min_account_age_days": 180,
        "clearing_days": 7,
    },
)

THRESHOLD_FIELDS = tuple(k for k in DEFAULT_THRESHOLDS[0] if k not in ("level", "rank"))


# --- thresholds -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    level: str
    rank: int
    window_days: int
    min_completed_orders: int
    min_earnings: int
    earnings_currency: str
    min_unique_buyers: int
    min_rating: Decimal
    min_response_rate: int
    min_on_time_rate: int
    min_completion_rate: int
    max_dispute_rate: int
    min_account_age_days: int
    clearing_days: int | None = None

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.level]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["min_rating"] = str(self.min_rating)
        return data


def _from_row(row: LevelThreshold) -> Thresholds:
    return Thresholds(
        level=row.level,
        rank=row.rank,
        **{name: getattr(row, name) for name in THRESHOLD_FIELDS},
    )


def thresholds() -> list[Thresholds]:
    """The three levels' thresholds, lowest first: the operators' rows, the published defaults
    for any level without one."""
    rows = {row.level: row for row in LevelThreshold.objects.all()}
    result = []
    for default in DEFAULT_THRESHOLDS:
        row = rows.get(default["level"])
        result.append(_from_row(row) if row is not None else Thresholds(**default))
    return sorted(result, key=lambda t: t.rank)


def threshold_rows() -> list[LevelThreshold]:
    """The rows the operators' page edits (missing ones as unsaved defaults)."""
    rows = {row.level: row for row in LevelThreshold.objects.select_related("updated_by")}
    return [rows.get(d["level"]) or LevelThreshold(**d) for d in DEFAULT_THRESHOLDS]


# --- figures ----------------------------------------------------------------------------------


@dataclass
class Figures:
    """What a seller's level is computed from (stored as JSON on the standing)."""

    window_days: int = 365
    earnings_currency: str = "USD"
    completed_orders: int = 0
    earnings: int = 0  # minor units of earnings_currency
    unique_buyers: int = 0
    rating: float | None = None  # plain average of the public reviews received in the window
    rating_count: int = 0
    inquiries: int = 0  # response rate: conversations others started, messaging's 90 days
    answered_in_time: int = 0
    with_due_date: int = 0  # completed orders that had a delivery date
    on_time: int = 0
    cancelled: int = 0  # cancelled after being placed
    placed: int = 0  # orders placed in the window: the base of the dispute rate
    disputes: int = 0
    account_age_days: int = 0

    @staticmethod
    def _percent(part: int, whole: int) -> int | None:
        return None if whole == 0 else round(100 * part / whole)

    @property
    def response_rate(self) -> int | None:
        return self._percent(self.answered_in_time, self.inquiries)

    @property
    def on_time_rate(self) -> int | None:
        return self._percent(self.on_time, self.with_due_date)

    @property
    def completion_rate(self) -> int | None:
        return self._percent(self.completed_orders, self.completed_orders + self.cancelled)

    @property
    def dispute_rate(self) -> int | None:
        return self._percent(self.disputes, self.placed)

    @property
    def rating_shown(self) -> Decimal | None:
        """The rating at two decimals, as shown and as compared with ``min_rating``."""
        if self.rating is None:
            return None
        return Decimal(str(self.rating)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Figures:
        known = {k: v for k, v in (data or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)


def _rating_since(seller_id: int, since: datetime) -> tuple[float | None, int]:
    from micromarket.trust.selectors import reviews as review_selectors

    rating_since = getattr(review_selectors, "rating_since", None)
    if rating_since is not None:
        return rating_since(seller_id=seller_id, since=since)
    # Until the reviews area lands its selector: the same rule, read here.
    from django.db.models import Avg, Count

    from micromarket.trust.models import Review

    row = Review.objects.filter(
        subject_id=seller_id,
        role=Review.Role.BUYER,
        revealed_at__isnull=False,
        hidden_at__isnull=True,
        created_at__gte=since,
    ).aggregate(avg=Avg("rating"), n=Count("pk"))
    return (float(row["avg"]) if row["avg"] is not None else None), row["n"]


def _disputes_since(seller_id: int, since: datetime) -> int:
    from micromarket.trust.selectors import disputes as dispute_selectors

    dispute_counts = getattr(dispute_selectors, "dispute_counts", None)
    if dispute_counts is not None:
        return dispute_counts(seller_id=seller_id, since=since)[0]
    # Until the disputes area lands its selector: disputes on the seller's orders placed since.
    from micromarket.trust.models import Dispute

    return Dispute.objects.filter(order__seller_id=seller_id, order__placed_at__gte=since).count()


def figures_compute(
    *, seller, now: datetime | None = None, window_days: int = 365, currency: str = "USD"
) -> Figures:
    """The seller's figures over the ``window_days`` before ``now``."""
    from micromarket.messaging import selectors as messaging_selectors
    from micromarket.orders import selectors as order_selectors

    now = now or timezone.now()
    since = now - timedelta(days=window_days)
    orders = order_selectors.seller_delivery_stats(seller_id=seller.pk, since=since)
    rating, rating_count = _rating_since(seller.pk, since)
    response = messaging_selectors.seller_response_stats(seller_id=seller.pk, now=now)
    return Figures(
        window_days=window_days,
        earnings_currency=currency,
        completed_orders=orders.completed,
        earnings=(orders.earnings or {}).get(currency, 0),
        unique_buyers=orders.unique_buyers,
        rating=None if rating is None else round(float(rating), 4),
        rating_count=rating_count,
        inquiries=response.inquiries,
        answered_in_time=response.answered_in_time,
        with_due_date=orders.with_due_date,
        on_time=orders.on_time,
        cancelled=orders.cancelled,
        placed=orders.placed,
        disputes=_disputes_since(seller.pk, since),
        account_age_days=max(0, (now - seller.date_joined).days),
    )


def figures_for_thresholds(
    *, seller, levels: list[Thresholds], now: datetime | None = None
) -> dict[tuple[int, str], Figures]:
    """Figures for every (window, currency) the levels use — one computation when, as by
    default, they all share one."""
    now = now or timezone.now()
    keys = dict.fromkeys((t.window_days, t.earnings_currency) for t in levels)
    return {
        key: figures_compute(seller=seller, now=now, window_days=key[0], currency=key[1])
        for key in keys
    }


# --- evaluation -------------------------------------------------------------------------------


@dataclass
class Check:
    key: str
    label: str
    figure: str  # the seller's figure, as shown
    threshold: str  # the level's requirement, as shown
    met: bool
    missing: str = ""  # what is missing, in words ("3 more completed orders")


@dataclass
class LevelCheck:
    level: str
    label: str
    met: bool
    checks: list[Check] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [c.missing for c in self.checks if not c.met]


@dataclass
class Evaluation:
    level: str
    levels: list[LevelCheck]

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.level]

    @property
    def rows(self) -> list[tuple[str, str, list[tuple[str, str, bool]]]]:
        """Criterion by criterion: (label, the seller's figure, [(level, threshold, met)])."""
        if not self.levels:
            return []
        result = []
        for i, check in enumerate(self.levels[0].checks):
            cells = [(lc.label, lc.checks[i].threshold, lc.checks[i].met) for lc in self.levels]
            result.append((check.label, check.figure, cells))
        return result

    @property
    def next_level(self) -> LevelCheck | None:
        rank = LEVEL_RANKS[self.level]
        higher = [lc for lc in self.levels if LEVEL_RANKS[lc.level] > rank]
        return higher[0] if higher else None


def _plural(n: int, word: str) -> str:
    return f"{n} more {word}{'' if n == 1 else 's'}"


def _rate_check(
    key: str,
    label: str,
    *,
    part: int,
    whole: int,
    minimum: int | None = None,
    maximum: int | None = None,
    needs_orders: bool,
    unit: str,
) -> Check:
    """A percentage criterion, compared exactly (part·100 against the threshold·whole). The
    rate shown is rounded towards failing (down for a minimum, up for a maximum), so a figure
    shown as reaching its threshold always meets it."""
    if whole == 0:
        rate = None
    elif minimum is not None:
        rate = (100 * part) // whole
    else:
        rate = -((-100 * part) // whole)
    figure = "no data yet" if rate is None else f"{rate}% of {whole} {unit}"
    bound = minimum if minimum is not None else maximum
    threshold = f"at least {minimum}%" if minimum is not None else f"at most {maximum}%"
    if (minimum is not None and minimum == 0) or (maximum is not None and maximum >= 100):
        return Check(key, label, figure, threshold, True)
    if whole == 0:
        met = not needs_orders
        return Check(key, label, figure, threshold, met, "" if met else f"{label}: no data yet")
    met = 100 * part >= minimum * whole if minimum is not None else 100 * part <= maximum * whole
    missing = "" if met else f"{label.lower()} {rate}% → {bound}%"
    return Check(key, label, figure, threshold, met, missing)


def level_check(figures: Figures, t: Thresholds) -> LevelCheck:
    """Every criterion of one level against the figures."""
    f = figures
    needs_orders = t.min_completed_orders > 0
    checks = []

    def count(key: str, label: str, value: int, minimum: int, word: str) -> None:
        met = value >= minimum
        missing = "" if met else _plural(minimum - value, word)
        checks.append(Check(key, label, str(value), f"at least {minimum}", met, missing))

    count(
        "completed_orders",
        "Completed orders",
        f.completed_orders,
        t.min_completed_orders,
        "completed order",
    )
    met = f.earnings >= t.min_earnings
    checks.append(
        Check(
            "earnings",
            "Earnings",
            money_format(f.earnings, t.earnings_currency),
            f"at least {money_format(t.min_earnings, t.earnings_currency)}",
            met,
            ""
            if met
            else f"{money_format(t.min_earnings - f.earnings, t.earnings_currency)} more earnings",
        )
    )
    count("unique_buyers", "Different buyers", f.unique_buyers, t.min_unique_buyers, "buyer")
    shown = f.rating_shown
    minimum = Decimal(t.min_rating).quantize(Decimal("0.01"))
    met = minimum <= 0 or (shown is not None and shown >= minimum)
    figure = "no reviews yet" if shown is None else f"{shown} ({f.rating_count} reviews)"
    missing = (
        ""
        if met
        else (
            f"a first rating of {minimum} or more"
            if shown is None
            else f"rating {shown} → {minimum}"
        )
    )
    checks.append(
        Check(
            "rating",
            "Rating",
            figure,
            "any" if minimum <= 0 else f"at least {minimum}",
            met,
            missing,
        )
    )
    checks.append(
        _rate_check(
            "response_rate",
            "Response rate",
            part=f.answered_in_time,
            whole=f.inquiries,
            minimum=t.min_response_rate,
            needs_orders=needs_orders,
            unit="inquiries",
        )
    )
    checks.append(
        _rate_check(
            "on_time_rate",
            "On-time delivery",
            part=f.on_time,
            whole=f.with_due_date,
            minimum=t.min_on_time_rate,
            needs_orders=needs_orders,
            unit="orders with a delivery date",
        )
    )
    checks.append(
        _rate_check(
            "completion_rate",
            "Completion rate",
            part=f.completed_orders,
            whole=f.completed_orders + f.cancelled,
            minimum=t.min_completion_rate,
            needs_orders=needs_orders,
            unit="closed orders",
        )
    )
    checks.append(
        _rate_check(
            "dispute_rate",
            "Dispute rate",
            part=f.disputes,
            whole=f.placed,
            maximum=t.max_dispute_rate,
            needs_orders=needs_orders,
            unit="orders placed",
        )
    )
    met = f.account_age_days >= t.min_account_age_days
    checks.append(
        Check(
            "account_age",
            "Account age",
            f"{f.account_age_days} days",
            f"at least {t.min_account_age_days} days",
            met,
            "" if met else f"{t.min_account_age_days - f.account_age_days} more days on the site",
        )
    )
    return LevelCheck(t.level, t.label, all(c.met for c in checks), checks)


def level_evaluate(
    figures: Figures | dict[tuple[int, str], Figures], thresholds: list[Thresholds]
) -> Evaluation:
    """The level the figures earn: the highest whose every criterion is met. ``figures`` is
    one set for every level, or one per (window_days, earnings_currency) the levels use."""
    levels = []
    level = Level.NEW.value
    for t in sorted(thresholds, key=lambda t: t.rank):
        f = (
            figures
            if isinstance(figures, Figures)
            else figures[(t.window_days, t.earnings_currency)]
        )
        check = level_check(f, t)
        levels.append(check)
        if check.met:
            level = t.level
    return Evaluation(level=level, levels=levels)


# --- standings --------------------------------------------------------------------------------


@dataclass
class Standing:
    level: str
    label: str
    figures: dict[str, Any]
    computed_at: datetime | None
    level_since: datetime | None = None

    @property
    def rank(self) -> int:
        return LEVEL_RANKS[self.level]


def standing_for(*, seller_id: int) -> Standing:
    """The seller's level as last computed ("new", no figures, before the first run)."""
    row = SellerStanding.objects.filter(seller_id=seller_id).first()
    if row is None:
        return Standing(Level.NEW.value, LEVEL_LABELS[Level.NEW], {}, None)
    return Standing(
        row.level, LEVEL_LABELS[row.level], row.figures, row.computed_at, row.level_since
    )


def standing_row(*, seller_id: int) -> SellerStanding | None:
    return SellerStanding.objects.filter(seller_id=seller_id).first()


@dataclass
class Progress:
    """What the seller's levels page shows."""

    standing: Standing
    evaluation: Evaluation
    figures: Figures
    computed_at: datetime
    live: bool  # computed for this page (no daily run yet)


def progress_for(*, seller, now: datetime | None = None) -> Progress:
    """The seller's stored figures against today's thresholds (or live figures before the
    first daily run), with what is missing for each level."""
    now = now or timezone.now()
    levels = thresholds()
    standing = standing_for(seller_id=seller.pk)
    stored = standing.figures.get("by_window") if standing.figures else None
    if stored:
        figures = {(f["window_days"], f["earnings_currency"]): Figures.from_dict(f) for f in stored}
        if all((t.window_days, t.earnings_currency) in figures for t in levels):
            evaluation = level_evaluate(figures, levels)
            main = figures[(levels[0].window_days, levels[0].earnings_currency)]
            return Progress(standing, evaluation, main, standing.computed_at, live=False)
    figures = figures_for_thresholds(seller=seller, levels=levels, now=now)
    evaluation = level_evaluate(figures, levels)
    main = figures[(levels[0].window_days, levels[0].earnings_currency)]
    return Progress(standing, evaluation, main, now, live=True)


# --- clearing and search ----------------------------------------------------------------------


def clearing_days_for_seller(seller_id: int) -> int | None:
    """The seller's level's clearing period when it is shorter than the fee schedule's; None
    (the schedule's) otherwise."""
    from micromarket.payments import selectors as payment_selectors

    standing = SellerStanding.objects.filter(seller_id=seller_id).values_list("level", flat=True)
    level = standing.first()
    if level is None or level == Level.NEW:
        return None
    days = next((t.clearing_days for t in thresholds() if t.level == level), None)
    if days is None:
        return None
    schedule_days = payment_selectors.schedule_at().clearing_days
    return days if days < schedule_days else None


def search_reputation(offer_ids) -> dict[int, dict[str, Any]]:
    """Reputation of offers for catalog's search index: the offer's rating (from reviews) and
    its seller's level and completed orders (from the standing) — one query for the sellers'
    standings, one for the ratings, as the index sync runs inside every offer write."""
    from micromarket.trust.selectors import reviews as review_selectors

    offer_ids = [int(i) for i in offer_ids]
    if not offer_ids:
        return {}
    offer_ratings = getattr(review_selectors, "offer_ratings", None)
    ratings = offer_ratings(offer_ids) if offer_ratings is not None else {}
    rows = (
        get_user_model()
        .objects.filter(offers__pk__in=offer_ids)
        .values_list("offers__pk", "standing__level", "standing__figures")
    )
    result = {}
    for offer_id, level, figures in rows:
        rating, count = ratings.get(offer_id, (None, 0))
        result[offer_id] = {
            "rating": rating,
            "rating_count": count,
            "seller_level": level or Level.NEW.value,
            "completed_orders": int((figures or {}).get("completed_orders", 0)),
        }
    return result


# --- sellers and appeals ----------------------------------------------------------------------


def sellers_to_compute():
    """Every active account with a shop, in id order."""
    return (
        get_user_model()
        .objects.filter(shop__isnull=False, is_active=True, deleted_at__isnull=True)
        .order_by("pk")
    )


def is_seller(user) -> bool:
    from micromarket.accounts import selectors as accounts_selectors

    return accounts_selectors.shop_for_user(user=user) is not None


def appeals_for_seller(*, seller):
    return LevelAppeal.objects.filter(seller=seller)


def appeal_for_user(*, appeal_id: int, user) -> LevelAppeal:
    """The appeal for its seller or an operator; NotFound for anyone else."""
    appeal = (
        LevelAppeal.objects.select_related("seller", "answered_by").filter(pk=appeal_id).first()
    )
    if appeal is None or not (
        getattr(user, "is_staff", False) or appeal.seller_id == getattr(user, "pk", None)
    ):
        raise NotFound("There is no such appeal.")
    return appeal


def appeals_queue(*, status: str = LevelAppeal.Status.OPEN):
    return (
        LevelAppeal.objects.filter(status=status)
        .select_related("seller", "answered_by")
        .order_by("created_at", "id")
    )


def seller_get_public(*, seller_id: int):
    """An active seller (a user with a shop) the public may see; NotFound otherwise."""
    seller = (
        sellers_to_compute().filter(pk=seller_id, shop__is_active=True).first()
        if isinstance(seller_id, int)
        else None
    )
    if seller is None:
        raise NotFound("There is no such seller.")
    return seller
