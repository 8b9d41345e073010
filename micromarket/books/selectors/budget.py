"""Reads of the budget area: envelope balances, their history and the "safe to spend" figure.

Balances are sums of movements per (envelope, currency). See docs/books/budget.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet, Sum

from micromarket.books.models import Envelope, EnvelopeMovement
from micromarket.core.errors import NotFound
from micromarket.core.money import money_format


def envelopes(owner) -> list[Envelope]:
    """The owner's active envelopes, in order (none until the first income or visit)."""
    return list(Envelope.objects.filter(owner=owner, archived_at__isnull=True))


def envelope_get(owner, pk) -> Envelope:
    """One of the owner's envelopes (archived ones too, for their history); anyone else's is
    NotFound."""
    try:
        return Envelope.objects.get(owner=owner, pk=int(pk))
    except (Envelope.DoesNotExist, TypeError, ValueError):
        raise NotFound("There is no such envelope.", code="envelope_not_found") from None


def _balances_by_envelope(owner) -> dict[int, dict[str, int]]:
    rows = (
        EnvelopeMovement.objects.filter(envelope__owner=owner)
        .values("envelope_id", "currency")
        .annotate(s=Sum("amount"))
        .order_by()
    )
    out: dict[int, dict[str, int]] = {}
    for row in rows:
        if row["s"]:
            out.setdefault(row["envelope_id"], {})[row["currency"]] = row["s"]
    return out


def envelope_balances(owner) -> list[tuple[Envelope, dict[str, int]]]:
    """Each active envelope with its balance per currency (currencies with a zero balance are
    left out). One grouped query."""
    by_envelope = _balances_by_envelope(owner)
    return [(e, by_envelope.get(e.pk, {})) for e in envelopes(owner)]


def envelope_balance(envelope: Envelope, currency: str) -> int:
    return (
        EnvelopeMovement.objects.filter(envelope=envelope, currency=currency).aggregate(
            s=Sum("amount")
        )["s"]
        or 0
    )


def _role_balance(owner, role: str, currency: str) -> int:
    return (
        EnvelopeMovement.objects.filter(
            envelope__owner=owner,
            envelope__role=role,
            envelope__archived_at__isnull=True,
            currency=currency,
        ).aggregate(s=Sum("amount"))["s"]
        or 0
    )


def emergency_balance(owner, currency: str) -> int:
    """What the emergency fund envelope(s) hold in ``currency``."""
    return _role_balance(owner, Envelope.Role.EMERGENCY, currency)


def taxes_balance(owner, currency: str) -> int:
    return _role_balance(owner, Envelope.Role.TAXES, currency)


def budget_currencies(owner) -> list[str]:
    """Currencies the envelopes have ever held, most movements first."""
    from django.db.models import Count

    rows = (
        EnvelopeMovement.objects.filter(envelope__owner=owner)
        .values("currency")
        .annotate(n=Count("id"))
        .order_by("-n", "currency")
    )
    return [r["currency"] for r in rows]


def movements(owner, *, envelope: Envelope | None = None, currency: str | None = None) -> QuerySet:
    """The history, newest first: allocations, moves, spending, income removed."""
    qs = EnvelopeMovement.objects.filter(envelope__owner=owner).select_related(
        "envelope", "counterpart", "entry"
    )
    if envelope is not None:
        qs = qs.filter(envelope=envelope)
    if currency:
        qs = qs.filter(currency=currency)
    return qs.order_by("-created_at", "-id")


# --- safe to spend ------------------------------------------------------------------------


@dataclass(frozen=True)
class SafeToSpend:
    """What the seller can spend on themselves now without touching money set aside.

    ``amount`` = owner pay balance − the part of the next tax payment the taxes envelope does
    not cover yet (never below zero). ``steps`` explain the figure in words."""

    currency: str
    amount: int
    owner_pay: int
    taxes_held: int
    tax_due: int | None
    tax_shortfall: int
    steps: list[str] = field(default_factory=list)


def _next_tax_payment(owner):
    """The tax area's next payment, or None while that area is missing or has nothing due."""
    try:
        from micromarket.books.selectors import tax as tax_selectors

        fn = getattr(tax_selectors, "next_payment", None)
        return fn(owner) if fn else None
    except Exception:
        return None


def safe_to_spend(owner, currency: str, *, next_payment=None, use_tax=True) -> SafeToSpend:
    """See ``SafeToSpend``. ``next_payment`` may be given (the dashboard already has it)."""
    owner_pay = _role_balance(owner, Envelope.Role.OWNER_PAY, currency)
    taxes_held = taxes_balance(owner, currency)
    fmt = lambda v: money_format(v, currency)  # noqa: E731
    steps = [f"Owner pay holds {fmt(owner_pay)}."]
    if next_payment is None and use_tax:
        next_payment = _next_tax_payment(owner)
    tax_due = None
    shortfall = 0
    payment_currency = getattr(next_payment, "currency", None)
    payment_amount = getattr(next_payment, "amount", None)
    if next_payment is not None and payment_currency == currency and payment_amount:
        tax_due = int(payment_amount)
        shortfall = max(0, tax_due - taxes_held)
        due = getattr(next_payment, "due_date", None)
        when = f" due {due.day} {due:%B %Y}" if due else ""
        if shortfall:
            steps.append(
                f"Your next tax payment{when} is {fmt(tax_due)}; the Taxes envelope holds "
                f"{fmt(taxes_held)}, so {fmt(shortfall)} of owner pay is kept for it."
            )
        else:
            steps.append(
                f"Your next tax payment{when} ({fmt(tax_due)}) is covered by the Taxes "
                f"envelope ({fmt(taxes_held)})."
            )
    amount = max(0, owner_pay - shortfall)
    steps.append(f"Safe to spend: {fmt(amount)}.")
    return SafeToSpend(
        currency=currency,
        amount=amount,
        owner_pay=owner_pay,
        taxes_held=taxes_held,
        tax_due=tax_due,
        tax_shortfall=shortfall,
        steps=steps,
    )
