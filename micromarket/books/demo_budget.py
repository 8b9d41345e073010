"""Demo envelopes, through the budget services: priya (US) keeps the default rules, tops up her
emergency fund from owner pay and pays her first estimated tax from the Taxes envelope; sam (UK)
sets aside 30% for tax and saves 5% for a new laptop. The envelopes fill from the income the
entries demo records (run it first; with no income, only the rules are set). Idempotent: a
second run creates nothing new."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from micromarket.books.models import Envelope, EnvelopeMovement, TaxPayment
from micromarket.books.selectors import budget as selectors
from micromarket.books.services import budget as services
from micromarket.core.errors import DomainError

DOMAIN = "demo.micromarket.test"
TOP_UP_NOTE = "Top up the emergency fund"
LAPTOP = "New laptop"


def _user(email: str):
    return get_user_model().objects.filter(email=email).first()


def _by_role(owner) -> dict[str, Envelope]:
    out: dict[str, Envelope] = {}
    for e in selectors.envelopes(owner):
        out.setdefault(e.role, e)
    return out


def _done(owner, note: str) -> bool:
    return EnvelopeMovement.objects.filter(envelope__owner=owner, note=note).exists()


def _priya(priya, stdout) -> int:
    made = 0
    services.envelopes_ensure_default(owner=priya)
    env = _by_role(priya)
    owner_pay, emergency, taxes = env.get("owner_pay"), env.get("emergency"), env.get("taxes")
    if owner_pay and emergency and not _done(priya, TOP_UP_NOTE):
        amount = min(20000, selectors.envelope_balance(owner_pay, "USD") // 4)
        if amount > 0:
            services.envelope_move(
                owner=priya,
                from_envelope_id=owner_pay.pk,
                to_envelope_id=emergency.pk,
                amount=amount,
                currency="USD",
                note=TOP_UP_NOTE,
            )
            made += 1
    payment = TaxPayment.objects.filter(owner=priya, period="Q1").order_by("-tax_year").first()
    if payment is not None and taxes is not None:
        note = f"Q1 {payment.tax_year} estimated tax"
        amount = min(payment.amount, selectors.envelope_balance(taxes, payment.currency))
        if amount > 0 and not _done(priya, note):
            services.envelope_spend(
                owner=priya,
                envelope_id=taxes.pk,
                amount=amount,
                currency=payment.currency,
                note=note,
            )
            made += 1
    return made


def _sam(sam) -> int:
    envelopes = services.envelopes_ensure_default(owner=sam)
    if Envelope.objects.filter(owner=sam, name=LAPTOP).exists():
        return 0
    env = {e.role: e for e in envelopes}
    if "taxes" not in env or "owner_pay" not in env:
        return 0
    services.allocation_rules_set(
        owner=sam,
        rules=[
            services.Rule(env["taxes"].pk, env["taxes"].name, 3000),
            services.Rule(env["owner_pay"].pk, env["owner_pay"].name, 4000),
            services.Rule(None, LAPTOP, 500),
        ],
    )
    return 1


def build(*, stdout, create: bool = True) -> list[str]:
    priya = _user(f"priya@{DOMAIN}")
    sam = _user(f"sam@{DOMAIN}")
    if create:
        made = 0
        try:
            if priya is not None:
                made += _priya(priya, stdout)
            if sam is not None:
                made += _sam(sam)
        except DomainError as exc:
            stdout.write(f"  budget: skipped: {exc.message}\n")
        stdout.write(f"  budget: {made} change{'s' if made != 1 else ''}\n")
    if priya is None and sam is None:
        return []
    return [
        "Budget: priya@ and sam@ have envelopes (/books/budget/), income trends on "
        "/books/insights/ and the overview on /books/"
    ]
