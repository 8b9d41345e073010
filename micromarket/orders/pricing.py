"""From a buyer's choices to priced order lines, checked against the offer as it is now.

An item is a dict, the same from the cart, the offer page and the API:

    {"offer": 12, ...}  plus, by kind of offer:
    service     "package": "basic" | "standard" | "premium", "extras": [extra ids]
    experience  "session": session id, "seats": n
    rental      "start": "2026-12-01", "end": "2026-12-04" (nights/days: end is the return
                date) — or, for hourly rentals, "start": ISO datetime and "hours": n
    task        "starts_at": ISO datetime, "hours": estimated hours, "address": text
    digital     (nothing)
    physical    "variation": variation id (when the offer has variations), "quantity": n

Nothing here writes; reservations (seats, dates, stock) are taken by ``services`` under locks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from micromarket.catalog import selectors as catalog_selectors
from micromarket.core.errors import Conflict, NotFound, ValidationFailed
from micromarket.ledger.arithmetic import share
from micromarket.messaging import selectors as messaging_selectors

MAX_QUANTITY = 99
BOOKING_HORIZON = timedelta(days=730)
MAX_ADDRESS = 500
GROUPED_KINDS = ("digital", "physical")  # one order per seller for these; one per booking else


@dataclass
class Line:
    offer: object
    kind: str
    description: str
    unit_price: int
    quantity: int
    amount: int
    package: object | None = None
    variation: object | None = None
    extras: list[dict] = field(default_factory=list)
    session: object | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    deposit: int = 0
    policy: str = ""
    instant: bool = False
    questions: list[dict] = field(default_factory=list)
    delivery_days: int | None = None
    revisions: int = 0
    hourly_rate: int | None = None
    minutes_booked: int | None = None
    address: str = ""
    custom_offer: int | None = None  # the messaging custom offer this line comes from

    @property
    def seller(self):
        return self.offer.seller


@dataclass
class Group:
    """The lines that become one order."""

    lines: list[Line]
    shipping: int = 0

    @property
    def first(self) -> Line:
        return self.lines[0]

    @property
    def subtotal(self) -> int:
        return sum(line.amount for line in self.lines) + self.shipping

    @property
    def deposit(self) -> int:
        return sum(line.deposit for line in self.lines)

    @property
    def title(self) -> str:
        first = self.first
        title = first.description if first.custom_offer is not None else first.offer.title
        if len(self.lines) > 1:
            title = f"{title} and {len(self.lines) - 1} more"
        return title[:200]


def _whole(value) -> bool:
    """Digits a person would type (ASCII, at most 9 of them: ids and counts, no overflow)."""
    text = str(value)
    return text.isascii() and text.isdigit() and len(text) <= 9


def _int(value, *, field: str, label: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not (isinstance(value, int) or _whole(value)):
        raise ValidationFailed(f"{label}: enter a whole number.", field=field)
    number = int(value)
    if not minimum <= number <= maximum:
        raise ValidationFailed(f"{label}: between {minimum} and {maximum}.", field=field)
    return number


def _hours(value, *, field: str, minimum: int, maximum: int = 24) -> int:
    """Hours (quarter hours allowed) → minutes."""
    try:
        hours = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationFailed("Enter a number of hours, e.g. 2.5.", field=field) from None
    if not hours.is_finite() or not minimum <= hours <= maximum or (hours * 4) % 1:
        raise ValidationFailed(
            f"Hours: from {minimum} to {maximum}, in quarter hours.", field=field
        )
    return int(hours * 60)


def _when(value, *, field: str, label: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = parse_datetime(str(value or ""))
        except ValueError:  # well-formed but impossible, e.g. 30 February
            moment = None
        if moment is None:
            raise ValidationFailed(f"{label}: enter a date and time.", field=field)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    _within_horizon(moment.date(), field=field)
    return moment


def _day(value, *, field: str, label: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        day = parse_date(str(value or ""))
    except ValueError:
        day = None
    if day is None:
        raise ValidationFailed(f"{label}: enter a date (YYYY-MM-DD).", field=field)
    _within_horizon(day, field=field)
    return day


def _within_horizon(day: date, *, field: str) -> None:
    """Bookings reach at most ``BOOKING_HORIZON`` ahead (which also keeps date arithmetic far
    from overflowing)."""
    if day > date.today() + BOOKING_HORIZON:
        raise ValidationFailed("Choose a date within the next two years.", field=field)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _service(offer, item: dict, line: Line) -> None:
    tier = str(item.get("package") or "basic")
    package = next((p for p in offer.packages.all() if p.tier == tier), None)
    if package is None:
        raise ValidationFailed("Choose one of the offer's packages.", field="package")
    chosen = item.get("extras") or []
    if not isinstance(chosen, list) or not all(_whole(x) for x in chosen):
        raise ValidationFailed("Choose extras from this offer.", field="extras")
    wanted = {int(x) for x in chosen}
    extras = [e for e in offer.extras.all() if e.pk in wanted]
    if len(extras) != len(wanted):
        raise ValidationFailed("Choose extras from this offer.", field="extras")
    line.package = package
    line.extras = [
        {"id": e.pk, "title": e.title, "price": e.price, "extra_days": e.extra_days} for e in extras
    ]
    line.unit_price = package.price + sum(e.price for e in extras)
    line.amount = line.unit_price
    line.delivery_days = max(1, package.delivery_days + sum(e.extra_days for e in extras))
    line.revisions = package.revisions
    line.questions = [
        {"question": q.question, "required": q.required} for q in offer.questions.all()
    ]
    names = ", ".join(e["title"] for e in line.extras)
    line.description = f"{offer.title} — {package.name}" + (f" + {names}" if names else "")


def _experience(offer, item: dict, line: Line, now: datetime) -> None:
    session_id = item.get("session")
    session = next((s for s in offer.sessions.all() if str(s.pk) == str(session_id)), None)
    if session is None or session.cancelled_at is not None:
        raise ValidationFailed("Choose one of the upcoming sessions.", field="session")
    if session.starts_at <= now:
        raise ValidationFailed("That session has already started.", field="session")
    seats = _int(
        item.get("seats", 1), field="seats", label="Seats", minimum=1, maximum=session.capacity
    )
    line.session = session
    line.quantity = seats
    line.unit_price = session.price_per_person
    line.amount = seats * session.price_per_person
    line.starts_at, line.ends_at = session.starts_at, session.ends_at
    line.policy = "experience"
    when = timezone.localtime(session.starts_at).strftime("%Y-%m-%d %H:%M")
    line.description = f"{offer.title} — {when}, {seats} seat{'s' if seats != 1 else ''}"


def _rental(offer, item: dict, line: Line, now: datetime) -> None:
    rental = offer.rental
    if rental.unit == "hour":
        starts = _when(item.get("start"), field="start", label="Start")
        minutes = _hours(item.get("hours"), field="hours", minimum=1, maximum=24 * 7)
        if minutes % 60:
            raise ValidationFailed("Hourly rentals are booked in whole hours.", field="hours")
        units = minutes // 60
        ends = starts + timedelta(minutes=minutes)
    else:
        start = _day(item.get("start"), field="start", label="Start")
        end = _day(item.get("end"), field="end", label="Return date")
        units = (end - start).days
        if units < 1:
            raise ValidationFailed("The return date comes after the start.", field="end")
        starts, ends = _midnight(start), _midnight(end)
    if starts < now - timedelta(hours=1) and rental.unit == "hour":
        raise ValidationFailed("Choose a start in the future.", field="start")
    if starts.date() < timezone.localdate(now) and rental.unit != "hour":
        raise ValidationFailed("Choose a start date from today on.", field="start")
    if not rental.min_units <= units <= rental.max_units:
        unit = rental.get_unit_display().removeprefix("per ")
        raise ValidationFailed(
            f"Book between {rental.min_units} and {rental.max_units} {unit}s.", field="end"
        )
    line.quantity = units
    line.unit_price = rental.price_per_unit
    line.amount = units * rental.price_per_unit
    line.starts_at, line.ends_at = starts, ends
    line.deposit = rental.security_deposit
    line.policy = rental.cancellation_policy
    line.instant = rental.instant_booking
    unit = rental.get_unit_display().removeprefix("per ")
    line.description = f"{offer.title} — {units} {unit}{'s' if units != 1 else ''}"


def _task(offer, item: dict, line: Line, now: datetime) -> None:
    task = offer.task
    starts = _when(item.get("starts_at"), field="starts_at", label="Date and time")
    if starts <= now:
        raise ValidationFailed("Choose a time in the future.", field="starts_at")
    minutes = _hours(item.get("hours"), field="hours", minimum=task.min_hours)
    address = str(item.get("address") or "").strip()
    if not address:
        raise ValidationFailed("Where is the task? Enter the address.", field="address")
    if len(address) > MAX_ADDRESS:
        raise ValidationFailed("That address is too long.", field="address")
    line.hourly_rate = task.hourly_rate
    line.minutes_booked = minutes
    line.unit_price = task.hourly_rate
    line.amount = share(task.hourly_rate, minutes, 60)
    line.starts_at, line.ends_at = starts, starts + timedelta(minutes=minutes)
    line.address = address
    line.policy = "task"
    line.description = f"{offer.title} — {Decimal(minutes) / 60:g} h estimated"


def _digital(offer, item: dict, line: Line) -> None:
    line.unit_price = line.amount = offer.digital.price
    line.description = offer.title


def _physical(offer, item: dict, line: Line) -> None:
    variations = list(offer.variations.all())
    quantity = _int(
        item.get("quantity", 1), field="quantity", label="Quantity", minimum=1, maximum=99
    )
    price = offer.physical.price
    description = offer.title
    if variations:
        variation = next((v for v in variations if str(v.pk) == str(item.get("variation"))), None)
        if variation is None:
            raise ValidationFailed("Choose an option.", field="variation")
        line.variation, price = variation, variation.price
        description = f"{offer.title} — {variation.name}"
    line.quantity = quantity
    line.unit_price = price
    line.amount = price * quantity
    line.delivery_days = offer.physical.processing_days
    line.description = f"{description} × {quantity}" if quantity > 1 else description


def _not_blocked(buyer, offer) -> None:
    if messaging_selectors.users_blocked(buyer.pk, offer.seller_id):
        raise Conflict("You cannot order from this seller.", code="blocked")


def _custom(buyer, item: dict, now: datetime) -> Line:
    """A custom offer from a conversation: a service gig on the terms the seller proposed
    (messaging checks it is this buyer's and still open)."""
    if not _whole(item.get("custom_offer")):
        raise ValidationFailed("Name the custom offer by its id.", field="custom_offer")
    custom = messaging_selectors.custom_offer_for_checkout(
        custom_offer_id=int(item["custom_offer"]), buyer=buyer, now=now
    )
    try:
        offer = catalog_selectors.offer_get_visible(offer_id=custom.offer_id, viewer=None)
    except NotFound:
        raise Conflict(
            "The gig this offer is based on is no longer available.", code="offer_closed"
        ) from None
    if offer.currency != custom.currency:
        raise Conflict(
            "The gig this offer is based on now sells in another currency; ask the seller for "
            "a new offer.",
            code="offer_closed",
        )
    return Line(
        offer=offer,
        kind="service",
        description=f"Custom offer: {custom.title}",
        unit_price=custom.price,
        quantity=1,
        amount=custom.price,
        delivery_days=custom.delivery_days,
        revisions=custom.revisions,
        questions=[{"question": q.question, "required": q.required} for q in offer.questions.all()],
        custom_offer=custom.pk,
    )


def line_for(*, buyer, item: dict, now: datetime | None = None) -> Line:
    """Price one item against the offer as it is now (raises ValidationFailed/NotFound)."""
    now = now or timezone.now()
    if not isinstance(item, dict):
        raise ValidationFailed("Each item is an object with an offer.", field="items")
    if "custom_offer" in item:
        return _custom(buyer, item, now)
    if not _whole(item.get("offer")):
        raise ValidationFailed("Each item names an offer.", field="offer")
    try:
        offer = catalog_selectors.offer_get_visible(offer_id=int(item.get("offer")), viewer=None)
    except NotFound:
        raise NotFound("That offer is not available.", field="offer") from None
    if offer.seller_id == buyer.pk:
        raise ValidationFailed("You cannot order your own offer.", code="self_dealing")
    _not_blocked(buyer, offer)
    line = Line(
        offer=offer, kind=offer.kind, description=offer.title, unit_price=0, quantity=1, amount=0
    )
    kind = offer.kind
    if kind == "service":
        _service(offer, item, line)
    elif kind == "experience":
        _experience(offer, item, line, now)
    elif kind == "rental":
        _rental(offer, item, line, now)
    elif kind == "task":
        _task(offer, item, line, now)
    elif kind == "digital":
        _digital(offer, item, line)
    else:
        _physical(offer, item, line)
    return line


def shipping_for(lines: list[Line], country: str) -> int:
    """Shipping of one seller's products to ``country``: each offer's rate for the country (or
    its "everywhere else" rate), free when that offer's items reach its free-shipping amount."""
    total = 0
    by_offer: dict[int, list[Line]] = {}
    for line in lines:
        by_offer.setdefault(line.offer.pk, []).append(line)
    for offer_lines in by_offer.values():
        offer = offer_lines[0].offer
        rates = {r.country: r for r in offer.shipping_rates.all()}
        rate = rates.get(country) or rates.get("*")
        if rate is None:
            raise ValidationFailed(
                f"“{offer.title}” does not ship to {country or 'that country'}.",
                field="country",
                code="no_shipping",
            )
        spent = sum(line.amount for line in offer_lines)
        if rate.free_over is None or spent < rate.free_over:
            total += rate.price
    return total


def lines_grouped(*, buyer, items: list[dict], country: str | None = "", now=None) -> list[Group]:
    """Price every item and group them into orders: a seller's products (and, apart, their
    digital products) make one order; every gig and booking is an order of its own.

    ``country`` None leaves shipping out (a cart shown before the buyer chose where to)."""
    if not isinstance(items, list) or not items:
        raise ValidationFailed("There is nothing to order.", field="items")
    if len(items) > 50:
        raise ValidationFailed("At most 50 items per checkout.", field="items")
    lines = [line_for(buyer=buyer, item=item, now=now) for item in items]
    currencies = {line.offer.currency for line in lines}
    if len(currencies) > 1:
        raise ValidationFailed(
            "These items are priced in different currencies; check out one currency at a time.",
            field="items",
            code="mixed_currencies",
        )
    groups: list[Group] = []
    grouped: dict[tuple[int, str], Group] = {}
    for line in lines:
        if line.kind in GROUPED_KINDS:
            key = (line.offer.seller_id, line.kind)
            if key in grouped:
                grouped[key].lines.append(line)
                continue
            grouped[key] = Group(lines=[line])
            groups.append(grouped[key])
        else:
            groups.append(Group(lines=[line]))
    for group in groups:
        if group.first.kind == "physical" and country is not None:
            if not country:
                raise ValidationFailed("Enter the shipping address.", field="country")
            group.shipping = shipping_for(group.lines, country)
    return groups
