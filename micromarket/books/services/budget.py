"""Writes of the budget area: envelopes and their allocation rules, the share of every income
each envelope receives, moves between envelopes and spending from one.

Rules (docs/books/budget.md):
- A seller's active envelopes' percentages (basis points, 2500 = 25%) total exactly 10000.
  New sellers get the defaults: taxes 25%, business expenses 15%, emergency fund 10%, owner
  pay 50%.
- Every income is split by the rules with largest-remainder rounding (``allocation_split``), so
  the allocated cents always sum exactly to the income. An income is allocated once.
- Balances are sums of movements per (envelope, currency) and never go below zero: moves and
  spending are checked under the envelopes' row locks; removing an income takes back what is
  left of it (from its own envelopes first, then from the others, taxes last) and never more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from micromarket.books.models import Entry, Envelope, EnvelopeMovement
from micromarket.core.errors import NotFound, ValidationFailed
from micromarket.core.money import currency_check

TOTAL_BPS = 10000

# (role, name, percent in basis points), in display order.
DEFAULT_RULES: tuple[tuple[str, str, int], ...] = (
    (Envelope.Role.TAXES, "Taxes", 2500),
    (Envelope.Role.EXPENSES, "Business expenses", 1500),
    (Envelope.Role.EMERGENCY, "Emergency fund", 1000),
    (Envelope.Role.OWNER_PAY, "Owner pay", 5000),
)

# When an income is removed and its own envelopes no longer hold its share (it was spent or
# moved), the rest is taken back from the other envelopes in this order: tax money is touched
# last.
_TAKE_BACK_ORDER = {
    Envelope.Role.OWNER_PAY: 0,
    Envelope.Role.OTHER: 1,
    Envelope.Role.EXPENSES: 2,
    Envelope.Role.EMERGENCY: 3,
    Envelope.Role.TAXES: 4,
}

MAX_ENVELOPES = 12


# --- the arithmetic -----------------------------------------------------------------------


def allocation_split(amount: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount`` minor units by ``weights`` (basis points totalling 10000) with the
    largest-remainder method: everyone gets the floor of their exact share, then the cents left
    over go one each to the largest fractional remainders (ties: the earlier envelope). The
    parts always sum exactly to ``amount`` and each is within one cent of its exact share."""
    if amount < 0:
        raise ValueError("amount must not be negative")
    total = sum(weights)
    if total != TOTAL_BPS or any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative and total 10000")
    floors = [amount * w // TOTAL_BPS for w in weights]
    remainders = [amount * w % TOTAL_BPS for w in weights]
    left = amount - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    return floors


# --- envelopes and rules ------------------------------------------------------------------


def _lock_owner(owner) -> None:
    """Serialise the first creation of a seller's envelopes (two incomes at once)."""
    list(get_user_model().objects.select_for_update().filter(pk=owner.pk).values_list("pk"))


def envelopes_ensure_default(*, owner) -> list[Envelope]:
    """The owner's active envelopes, creating the default four the first time."""
    with transaction.atomic():
        envelopes = list(Envelope.objects.filter(owner=owner, archived_at__isnull=True))
        if envelopes:
            return envelopes
        _lock_owner(owner)
        if Envelope.objects.filter(owner=owner).exists():  # created meanwhile, or all archived
            envelopes = list(Envelope.objects.filter(owner=owner, archived_at__isnull=True))
            if envelopes:
                return envelopes
        return [
            Envelope.objects.create(
                owner=owner, name=name, role=role, percent_bps=bps, position=position
            )
            for position, (role, name, bps) in enumerate(DEFAULT_RULES)
        ]


def _envelope_for(owner, envelope_id, *, field: str, lock: bool = False) -> Envelope:
    qs = Envelope.objects.filter(owner=owner, archived_at__isnull=True)
    if lock:
        qs = qs.select_for_update()
    try:
        return qs.get(pk=int(envelope_id))
    except (Envelope.DoesNotExist, TypeError, ValueError):
        raise NotFound(
            "There is no such envelope.", code="envelope_not_found", field=field
        ) from None


def _balance(envelope: Envelope, currency: str) -> int:
    return (
        EnvelopeMovement.objects.filter(envelope=envelope, currency=currency).aggregate(
            s=Sum("amount")
        )["s"]
        or 0
    )


def _balances(envelope: Envelope) -> dict[str, int]:
    rows = (
        EnvelopeMovement.objects.filter(envelope=envelope)
        .values("currency")
        .annotate(s=Sum("amount"))
        .order_by()
    )
    return {r["currency"]: r["s"] for r in rows if r["s"]}


@dataclass(frozen=True)
class Rule:
    """One line of the allocation rules as the seller edits them. ``envelope_id`` None adds an
    envelope; ``archive`` removes one (its percentage must be 0 and its balance empty)."""

    envelope_id: int | None
    name: str
    percent_bps: int
    archive: bool = False


def allocation_rules_set(*, owner, rules: Sequence[Rule]) -> list[Envelope]:
    """Rename, re-weigh, add and archive envelopes in one go. The active envelopes must total
    exactly 100%; envelopes not named keep their name and percentage. Only future incomes
    follow the new rules (past allocations stay as they were)."""
    with transaction.atomic():
        envelopes_ensure_default(owner=owner)
        current = {
            e.pk: e
            for e in Envelope.objects.select_for_update().filter(
                owner=owner, archived_at__isnull=True
            )
        }
        seen: set[int] = set()
        changes: list[tuple[Envelope | None, Rule]] = []
        for i, rule in enumerate(rules):
            field = f"rules.{i}"
            if rule.envelope_id is not None:
                envelope = current.get(rule.envelope_id)
                if envelope is None:
                    raise NotFound(
                        "There is no such envelope.", code="envelope_not_found", field=field
                    )
                if envelope.pk in seen:
                    raise ValidationFailed(
                        "An envelope is listed twice.", code="duplicate_envelope", field=field
                    )
                seen.add(envelope.pk)
            else:
                envelope = None
                if rule.archive:
                    continue  # a new line the seller removed again
            name = (rule.name or "").strip()
            if not name and not rule.archive:
                raise ValidationFailed(
                    "Give the envelope a name.", code="name_required", field=f"{field}.name"
                )
            if len(name) > 60:
                raise ValidationFailed(
                    "Keep the name under 60 characters.", code="name_long", field=f"{field}.name"
                )
            if not 0 <= rule.percent_bps <= TOTAL_BPS:
                raise ValidationFailed(
                    "A percentage is between 0% and 100%.",
                    code="percent_range",
                    field=f"{field}.percent",
                )
            changes.append((envelope, rule))

        result: dict[int | None, tuple[str, int, bool]] = {
            pk: (e.name, e.percent_bps, False) for pk, e in current.items()
        }
        new_rules: list[Rule] = []
        for envelope, rule in changes:
            if envelope is None:
                new_rules.append(rule)
            else:
                result[envelope.pk] = (
                    rule.name.strip() or envelope.name,
                    rule.percent_bps,
                    rule.archive,
                )
        active = [(pk, v) for pk, v in result.items() if not v[2]]
        active_names = [v[0].casefold() for _, v in active] + [
            r.name.strip().casefold() for r in new_rules
        ]
        if len(set(active_names)) != len(active_names):
            raise ValidationFailed(
                "Two envelopes have the same name.", code="duplicate_name", field="rules"
            )
        if not active_names:
            raise ValidationFailed(
                "Keep at least one envelope.", code="no_envelopes", field="rules"
            )
        if len(active_names) > MAX_ENVELOPES:
            raise ValidationFailed(
                f"Use at most {MAX_ENVELOPES} envelopes.", code="too_many", field="rules"
            )
        total = sum(v[1] for _, v in active) + sum(r.percent_bps for r in new_rules)
        if total != TOTAL_BPS:
            raise ValidationFailed(
                f"The percentages add up to {percent_label(total)}; they must total exactly 100%.",
                code="total_not_100",
                field="rules",
            )
        for envelope, rule in changes:
            if envelope is None or not rule.archive:
                continue
            if rule.percent_bps:
                raise ValidationFailed(
                    f"Set {envelope.name} to 0% before removing it.",
                    code="archive_percent",
                    field="rules",
                )
            if any(v for v in _balances(envelope).values()):
                raise ValidationFailed(
                    f"{envelope.name} still holds money: move it to another envelope first.",
                    code="archive_not_empty",
                    field="rules",
                )
            if envelope.role in (Envelope.Role.TAXES, Envelope.Role.EMERGENCY):
                raise ValidationFailed(
                    f"{envelope.name} is used for the tax and runway figures; set it to 0% "
                    "instead of removing it.",
                    code="archive_reserved",
                    field="rules",
                )
        now = timezone.now()
        for envelope, rule in changes:
            if envelope is None:
                continue
            if rule.archive:
                envelope.archived_at = now
                envelope.percent_bps = 0
            else:
                envelope.name = rule.name.strip() or envelope.name
                envelope.percent_bps = rule.percent_bps
            envelope.save(update_fields=["name", "percent_bps", "archived_at"])
        position = max((e.position for e in current.values()), default=-1) + 1
        for rule in new_rules:
            Envelope.objects.create(
                owner=owner,
                name=rule.name.strip(),
                role=Envelope.Role.OTHER,
                percent_bps=rule.percent_bps,
                position=position,
            )
            position += 1
        return list(Envelope.objects.filter(owner=owner, archived_at__isnull=True))


def percent_label(bps: int) -> str:
    whole, frac = divmod(bps, 100)
    return f"{whole}%" if not frac else f"{whole}.{frac:02d}".rstrip("0") + "%"


def allocation_rules_reset(*, owner) -> list[Envelope]:
    """Back to the default percentages (envelopes the seller added go to 0%)."""
    with transaction.atomic():
        envelopes = envelopes_ensure_default(owner=owner)
        defaults = {role: bps for role, _, bps in DEFAULT_RULES}
        used: set[str] = set()
        for envelope in Envelope.objects.select_for_update().filter(
            pk__in=[e.pk for e in envelopes]
        ):
            bps = 0
            if envelope.role in defaults and envelope.role not in used:
                bps = defaults[envelope.role]
                used.add(envelope.role)
            envelope.percent_bps = bps
            envelope.save(update_fields=["percent_bps"])
        missing = [(r, n, b) for r, n, b in DEFAULT_RULES if r not in used]
        position = max((e.position for e in envelopes), default=-1) + 1
        for role, name, bps in missing:
            Envelope.objects.create(
                owner=owner, name=name, role=role, percent_bps=bps, position=position
            )
            position += 1
        return list(Envelope.objects.filter(owner=owner, archived_at__isnull=True))


# --- income -------------------------------------------------------------------------------


def income_allocate(*, entry: Entry, amount: int | None = None) -> list[EnvelopeMovement]:
    """Give each envelope its share of an income (``amount``, default the entry's amount; the
    platform's earnings allocate the net after its commission). Once per entry: a second call
    returns the first allocation. An amount of 0 allocates nothing."""
    if entry.kind != Entry.Kind.INCOME:
        raise ValidationFailed(
            "Only income is shared between envelopes.", code="not_income", field="entry"
        )
    amount = entry.amount if amount is None else int(amount)
    if amount < 0:
        raise ValidationFailed(
            "An amount to allocate cannot be negative.", code="amount_negative", field="amount"
        )
    with transaction.atomic():
        existing = list(
            EnvelopeMovement.objects.filter(
                entry=entry, kind=EnvelopeMovement.Kind.ALLOCATION
            ).select_related("envelope")
        )
        if existing:
            return existing
        if amount == 0:
            return []
        envelopes = envelopes_ensure_default(owner=entry.owner)
        weights = [e.percent_bps for e in envelopes]
        if sum(weights) != TOTAL_BPS:  # never by the services; guard against hand edits
            raise ValidationFailed(
                "Your allocation rules do not total 100%; fix them on the Budget page.",
                code="rules_not_100",
                field="rules",
            )
        parts = allocation_split(amount, weights)
        label = entry.payee or entry.get_kind_display()
        return [
            EnvelopeMovement.objects.create(
                envelope=envelope,
                kind=EnvelopeMovement.Kind.ALLOCATION,
                amount=part,
                currency=entry.currency,
                entry=entry,
                note=f"{envelope.percent_bps / 100:g}% of {label} on {entry.date:%Y-%m-%d}"[:300],
            )
            for envelope, part in zip(envelopes, parts, strict=True)
            if part
        ]


def _split_weighted(amount: int, weights: Sequence[int]) -> list[int]:
    """``allocation_split`` for any positive weights (not only basis points totalling 100%)."""
    total = sum(weights)
    if total <= 0:
        return [0 for _ in weights]
    floors = [amount * w // total for w in weights]
    remainders = [amount * w % total for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[: amount - sum(floors)]:
        floors[i] += 1
    return floors


def _locked_envelopes(owner) -> dict[int, Envelope]:
    return {
        e.pk: e for e in Envelope.objects.select_for_update().filter(owner=owner).order_by("pk")
    }


def _take_back(*, entry: Entry, amount: int, currency: str, note: str) -> int:
    """Take ``amount`` of an income back out of the envelopes; returns what could not be taken
    back because it was already spent (the shortfall).

    The amount is split like the income's own shares (its allocation lines, else the current
    rules) and each envelope gives back its part, never more than it holds; what its envelope
    no longer holds is taken from the other envelopes (owner pay first, taxes last). What is
    still missing after that was spent for real: it is not taken back, and the lines say so."""
    if amount <= 0:
        return 0
    envelopes = _locked_envelopes(entry.owner)
    balances = {pk: _balance(e, currency) for pk, e in envelopes.items()}
    shares = {
        m.envelope_id: m.amount
        for m in EnvelopeMovement.objects.filter(
            entry=entry, kind=EnvelopeMovement.Kind.ALLOCATION, currency=currency
        )
        if m.amount > 0 and m.envelope_id in envelopes
    }
    if not shares:
        shares = {pk: e.percent_bps for pk, e in envelopes.items() if e.archived_at is None}
    ids = sorted(shares)
    own: dict[int, int] = {}
    shortfall = 0
    for pk, part in zip(ids, _split_weighted(amount, [shares[pk] for pk in ids]), strict=True):
        take = min(part, max(0, balances[pk]))
        shortfall += part - take
        if take:
            own[pk] = take
            balances[pk] -= take
    others: dict[int, int] = {}
    order = sorted(
        envelopes.values(), key=lambda e: (_TAKE_BACK_ORDER.get(e.role, 1), e.position, e.pk)
    )
    for envelope in order:
        if not shortfall:
            break
        take = min(shortfall, max(0, balances[envelope.pk]))
        if take:
            others[envelope.pk] = take
            balances[envelope.pk] -= take
            shortfall -= take
    unrecovered = (
        f"; {_fmt(shortfall, currency)} of it was already spent and could not be taken back"
        if shortfall
        else ""
    )
    for pk, take in own.items():
        EnvelopeMovement.objects.create(
            envelope_id=pk,
            kind=EnvelopeMovement.Kind.REVERSAL,
            amount=-take,
            currency=currency,
            entry=entry,
            note=f"{note}{unrecovered}"[:300],
        )
    for pk, take in others.items():
        EnvelopeMovement.objects.create(
            envelope_id=pk,
            kind=EnvelopeMovement.Kind.REVERSAL,
            amount=-take,
            currency=currency,
            entry=entry,
            note=f"{note} (its own share was already spent){unrecovered}"[:300],
        )
    return shortfall


def income_unallocate(
    *, entry: Entry, amount: int | None = None, currency: str | None = None
) -> int:
    """Take an income back out of the envelopes (the income is deleted, becomes an expense or
    changes currency); returns the shortfall: what was already spent and could not be taken
    back (0 when everything came back).

    ``amount``/``currency``: what the income had allocated (default: its allocation lines, i.e.
    the amount of an income never edited). Each envelope gives back its share, but never more
    than it holds; the rest comes from the seller's other envelopes (owner pay first, taxes
    last); what is left after that was spent for real, is not taken back and is written on the
    lines. The allocation lines stay in the history (detached from the entry, so the entry can
    be allocated again) next to the "Income removed" lines."""
    with transaction.atomic():
        allocations = list(
            EnvelopeMovement.objects.filter(entry=entry, kind=EnvelopeMovement.Kind.ALLOCATION)
        )
        if amount is None or not EnvelopeMovement.objects.filter(entry=entry).exists():
            amount = sum(m.amount for m in allocations)  # never shared out: nothing to take
        if currency is None:
            currency = allocations[0].currency if allocations else entry.currency
        label = entry.payee or entry.get_kind_display()
        note = f"Income of {entry.date:%Y-%m-%d} ({label}) changed or removed"
        shortfall = _take_back(entry=entry, amount=amount, currency=currency, note=note)
        detached = f"Share of income #{entry.pk} of {entry.date:%Y-%m-%d} (since changed)"
        if shortfall:
            detached += f"; {_fmt(shortfall, currency)} already spent, not taken back"
        EnvelopeMovement.objects.filter(pk__in=[m.pk for m in allocations]).update(
            entry=None, note=detached[:300]
        )
        return shortfall


def income_reallocate(*, entry: Entry, old_kind: str, old_amount: int, old_currency: str) -> int:
    """Bring the envelopes in line after an income was edited (``entry`` already holds the new
    kind, amount and currency); returns the shortfall (see ``income_unallocate``).

    The envelopes always hold the incomes allocated minus what was spent from them:
    - same currency, amount raised: only the difference is shared out by the current rules
      (largest remainder on the difference), so money already spent stays spent;
    - same currency, amount lowered: the difference is taken back, never more than the
      envelopes hold;
    - currency changed or no longer income: the old amount is taken back and the new one, if
      still income, is shared out in full."""
    # An income never shared out (recorded before the budget existed) has nothing to adjust.
    was_income = (
        old_kind == Entry.Kind.INCOME and EnvelopeMovement.objects.filter(entry=entry).exists()
    )
    is_income = entry.kind == Entry.Kind.INCOME
    with transaction.atomic():
        if not was_income:
            if is_income:
                income_allocate(entry=entry, amount=entry.amount)
            return 0
        if not is_income or old_currency != entry.currency:
            shortfall = income_unallocate(entry=entry, amount=old_amount, currency=old_currency)
            if is_income:
                income_allocate(entry=entry, amount=entry.amount)
            return shortfall
        label = entry.payee or entry.get_kind_display()
        change = (
            f"Income of {entry.date:%Y-%m-%d} ({label}) changed from "
            f"{_fmt(old_amount, old_currency)} to {_fmt(entry.amount, entry.currency)}"
        )
        difference = entry.amount - old_amount
        if difference < 0:
            return _take_back(entry=entry, amount=-difference, currency=entry.currency, note=change)
        if difference > 0:
            _allocate_difference(entry=entry, amount=difference, note=change)
        return 0


def _allocate_difference(*, entry: Entry, amount: int, note: str) -> None:
    envelopes = envelopes_ensure_default(owner=entry.owner)
    weights = [e.percent_bps for e in envelopes]
    if sum(weights) != TOTAL_BPS:
        raise ValidationFailed(
            "Your allocation rules do not total 100%; fix them on the Budget page.",
            code="rules_not_100",
            field="rules",
        )
    # One allocation line per envelope and entry: the earlier ones stay in the history.
    EnvelopeMovement.objects.filter(entry=entry, kind=EnvelopeMovement.Kind.ALLOCATION).update(
        entry=None
    )
    for envelope, part in zip(envelopes, allocation_split(amount, weights), strict=True):
        if part:
            EnvelopeMovement.objects.create(
                envelope=envelope,
                kind=EnvelopeMovement.Kind.ALLOCATION,
                amount=part,
                currency=entry.currency,
                entry=entry,
                note=f"{note}: {envelope.percent_bps / 100:g}% of the difference"[:300],
            )


# --- moves and spending -------------------------------------------------------------------


def _amount_check(amount, *, field: str = "amount") -> int:
    try:
        value = int(amount)
    except (TypeError, ValueError):
        raise ValidationFailed("Enter an amount.", code="amount_invalid", field=field) from None
    if value <= 0:
        raise ValidationFailed(
            "Enter an amount greater than zero.", code="amount_not_positive", field=field
        )
    return value


def envelope_move(
    *, owner, from_envelope_id, to_envelope_id, amount, currency: str, note: str = ""
) -> tuple[EnvelopeMovement, EnvelopeMovement]:
    """Move money from one envelope to another (both the owner's), never more than the first
    holds in that currency."""
    amount = _amount_check(amount)
    currency = currency_check(currency)
    note = (note or "").strip()[:300]
    with transaction.atomic():
        source = _envelope_for(owner, from_envelope_id, field="from_envelope", lock=False)
        target = _envelope_for(owner, to_envelope_id, field="to_envelope", lock=False)
        if source.pk == target.pk:
            raise ValidationFailed(
                "Choose two different envelopes.", code="same_envelope", field="to_envelope"
            )
        # Lock both in id order (no deadlock with a move the other way).
        list(
            Envelope.objects.select_for_update()
            .filter(pk__in=[source.pk, target.pk])
            .order_by("pk")
        )
        held = _balance(source, currency)
        if amount > held:
            raise ValidationFailed(
                f"{source.name} holds only {_fmt(held, currency)}.",
                code="insufficient_balance",
                field="amount",
            )
        now = timezone.now()
        out = EnvelopeMovement.objects.create(
            envelope=source,
            kind=EnvelopeMovement.Kind.MOVE_OUT,
            amount=-amount,
            currency=currency,
            counterpart=target,
            note=note,
            created_at=now,
        )
        in_ = EnvelopeMovement.objects.create(
            envelope=target,
            kind=EnvelopeMovement.Kind.MOVE_IN,
            amount=amount,
            currency=currency,
            counterpart=source,
            note=note,
            created_at=now,
        )
        return out, in_


def envelope_spend(
    *, owner, envelope_id, amount, currency: str, note: str = ""
) -> EnvelopeMovement:
    """Record money taken out of an envelope (a tax payment, a purchase, paying yourself)."""
    amount = _amount_check(amount)
    currency = currency_check(currency)
    note = (note or "").strip()[:300]
    with transaction.atomic():
        envelope = _envelope_for(owner, envelope_id, field="envelope", lock=True)
        held = _balance(envelope, currency)
        if amount > held:
            raise ValidationFailed(
                f"{envelope.name} holds only {_fmt(held, currency)}.",
                code="insufficient_balance",
                field="amount",
            )
        return EnvelopeMovement.objects.create(
            envelope=envelope,
            kind=EnvelopeMovement.Kind.SPEND,
            amount=-amount,
            currency=currency,
            note=note,
        )


def _fmt(minor: int, currency: str) -> str:
    from micromarket.core.money import money_format

    return money_format(minor, currency)
