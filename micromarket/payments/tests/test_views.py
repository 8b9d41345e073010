"""Money pages, driven through the Django test client after real flows made with the services:
the seller's earnings and payouts, the buyer's payments and receipts, the operator's finance
pages, the fee breakdown on offer pages and the sandbox's confirmation step."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from micromarket.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from micromarket.catalog.tests.factories import make_offer
from micromarket.catalog.tests.factories import seller as make_seller
from micromarket.ledger import selectors as ledger_selectors
from micromarket.ledger import services as ledger
from micromarket.payments import services
from micromarket.payments.models import (
    FeeSchedule,
    PaymentStatus,
    Payout,
    PayoutMethod,
    PayoutStatus,
    ReconciliationRun,
    SandboxControl,
    SandboxObject,
)
from micromarket.payments.providers import sandbox
from micromarket.trust.tests.factories_verification import verified_seller

pytestmark = pytest.mark.django_db

BACKEND = "micromarket.accounts.backends.EmailBackend"
CARD = sandbox.CARD_SUCCEEDS


# --- helpers --------------------------------------------------------------------------------


def login(client: Client, user) -> Client:
    client.force_login(user, backend=BACKEND)
    return client


def operator_login(client: Client):
    """An operator signed in with password and TOTP code, as the 2FA middleware requires."""
    operator = UserFactory(operator=True)
    device = TOTPDevice.objects.create(user=operator, name="Phone", confirmed=True)
    client.post("/accounts/login/", {"username": operator.email, "password": DEFAULT_PASSWORD})
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    response = client.post("/accounts/login/code/", {"token": code})
    assert response.status_code == 302, "the operator could not complete 2FA"
    return operator


def text(response) -> str:
    """What a person reads on the page: tags removed, entities decoded, spaces collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def field_errors(response, field: str) -> str:
    match = re.search(
        rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', response.text, re.DOTALL
    )
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def hidden_key(response) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', response.text).group(1)


def balances(user, currency="USD"):
    return ledger_selectors.user_balances(user).get(
        currency, {"pending": 0, "available": 0, "credit": 0}
    )


def pay(buyer, seller, subtotal=10_000, ref="order:1", card=CARD, credit=0, return_url=None):
    return services.payment_start(
        buyer=buyer,
        currency="USD",
        orders=[
            services.OrderCharge(
                reference=ref, seller=seller, subtotal=subtotal, description=f"Logo design {ref}"
            )
        ],
        payment_method=card,
        idempotency_key=f"pay-{ref}",
        return_url=return_url or "http://testserver/payments/",
        credit=credit,
    )


def release_and_clear(ref: str) -> None:
    services.escrow_release(reference=ref, idempotency_key=f"release-{ref}", clearing_days=0)
    ledger.clearing_apply_due(now=timezone.now() + timedelta(seconds=1))


@pytest.fixture
def buyer():
    return UserFactory()


@pytest.fixture
def seller():
    return verified_seller(make_seller())


@pytest.fixture
def earning_seller(buyer, seller):
    """A seller with $90.00 available (a $100.00 order, 10% commission) and a bank account."""
    pay(buyer, seller)
    release_and_clear("order:1")
    method = services.payout_method_add(owner=seller, destination=sandbox.BANK_SUCCEEDS)
    return seller, method


# --- seller: earnings -----------------------------------------------------------------------


def test_earnings_show_available_pending_with_clearing_date_and_in_payout(
    client, buyer, earning_seller, django_capture_on_commit_callbacks
):
    seller, method = earning_seller
    pay(buyer, seller, subtotal=2_000, ref="order:2")
    services.escrow_release(reference="order:2", idempotency_key="release-2")  # 14 days
    with django_capture_on_commit_callbacks(execute=True):
        payout = services.payout_request(
            owner=seller, amount=5_000, currency="USD", method_id=method.pk, idempotency_key="k"
        )
    clears_on = timezone.localtime(ledger_selectors.pending_clearings(seller).get().available_at)

    page = text(login(client, seller).get("/earnings/"))

    assert "$40.00 available" in page
    assert "$18.00 pending" in page
    assert "$50.00 in payout" in page
    assert f"$18.00 on {clears_on:%-d %b %Y}" in page
    # The available balance's history, newest first, with the running balance.
    assert f"Payout requested payout:{payout.pk} -$50.00 $40.00" in page  # said once
    assert "+$90.00 $90.00" in page
    assert "$50.00 $0.00 $50.00 Account ending 6789 On its way" in page


def test_pending_history_tab_and_htmx_fragment(client, buyer, seller):
    pay(buyer, seller)
    services.escrow_release(reference="order:1", idempotency_key="release-1")
    pending = ledger_selectors.user_account(seller, kind="pending", currency="USD")
    login(client, seller)

    page = client.get(f"/earnings/?account={pending.pk}")
    fragment = client.get(f"/earnings/?account={pending.pk}", HTTP_HX_REQUEST="true")

    assert "Release from escrow order:1 +$90.00 $90.00" in text(page)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'id="statement"' in fragment.text
    assert "+$90.00 $90.00" in text(fragment)


def test_history_is_paginated_with_running_balances(client, buyer, seller):
    for n in range(21):
        services.tip_start(
            buyer=buyer,
            seller=seller,
            reference=f"order:{n}",
            amount=100 + n,
            currency="USD",
            payment_method=CARD,
            idempotency_key=f"tip-{n}",
            return_url="http://testserver/",
        )
    pending = ledger_selectors.user_account(seller, kind="pending", currency="USD")
    login(client, seller)

    first = text(client.get(f"/earnings/?account={pending.pk}"))
    last = text(client.get(f"/earnings/?account={pending.pk}&page=2"))

    assert "Page 1 of 2" in first
    assert "+$1.20 $23.10" in first  # the newest tip and the total after it
    assert "Page 2 of 2" in last
    assert "+$1.00 $1.00" in last  # the first tip, when the balance was just that


def test_payout_form_is_prefilled_and_pays_out(
    client, earning_seller, django_capture_on_commit_callbacks
):
    seller, method = earning_seller
    login(client, seller)
    form = client.get("/earnings/")
    assert 'name="amount" value="90.00"' in form.text

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/earnings/",
            {
                "amount": "90.00",
                "currency": "USD",
                "method": method.pk,
                "idempotency_key": hidden_key(form),
            },
        )

    assert response.status_code == 302
    payout = Payout.objects.get()
    assert (payout.amount, payout.status) == (9_000, PayoutStatus.IN_FLIGHT)
    assert balances(seller)["available"] == 0
    page = text(client.get("/earnings/"))
    assert "Payout of $90.00 requested to Account ending 6789." in page
    assert "$90.00 in payout" in page


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("0", "Enter an amount greater than zero."),
        ("-5", "Enter an amount greater than zero."),
        ("ten", "Enter an amount such as 12.50."),
        ("10.005", "USD amounts have at most 2 decimals."),
        ("90.01", "That is more than your available balance ($90.00)."),
        ("", "This field is required."),
    ],
)
def test_bad_payout_amounts_are_refused_and_write_nothing(client, earning_seller, amount, error):
    seller, method = earning_seller
    login(client, seller)
    key = hidden_key(client.get("/earnings/"))

    response = client.post(
        "/earnings/",
        {"amount": amount, "currency": "USD", "method": method.pk, "idempotency_key": key},
    )

    assert response.status_code == 400
    assert field_errors(response, "amount") == error
    assert not Payout.objects.exists()
    assert balances(seller) == {"pending": 0, "available": 9_000, "credit": 0}


def test_double_submit_with_the_same_key_pays_out_once(
    client, earning_seller, django_capture_on_commit_callbacks
):
    seller, method = earning_seller
    login(client, seller)
    data = {
        "amount": "30",
        "currency": "USD",
        "method": method.pk,
        "idempotency_key": hidden_key(client.get("/earnings/")),
    }

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post("/earnings/", data)
    second = client.post("/earnings/", data)

    assert first.status_code == second.status_code == 302
    assert Payout.objects.count() == 1
    assert balances(seller)["available"] == 6_000
    assert "That payout was already requested" in text(client.get("/earnings/"))


def test_payout_minimum_and_fee_are_shown_and_applied(
    client, earning_seller, django_capture_on_commit_callbacks
):
    seller, method = earning_seller
    services.fee_schedule_create(
        operator=UserFactory(operator=True),
        effective_from=timezone.now(),
        commission_bps=1000,
        buyer_fee_bps=500,
        currency_fees={"USD": {"payout_minimum": 2_000, "payout_fee": 100}},
    )
    login(client, seller)
    form = client.get("/earnings/")
    assert "Payouts in USD: minimum $20.00, fee $1.00." in text(form)
    # next to the amount field
    assert "Payouts in USD: minimum $20.00, fee $1.00. The fee is taken from" in text(form)

    small = client.post(
        "/earnings/",
        {
            "amount": "10",
            "currency": "USD",
            "method": method.pk,
            "idempotency_key": hidden_key(form),
        },
    )
    assert small.status_code == 400
    assert field_errors(small, "amount") == "The smallest payout is $20.00."
    assert not Payout.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/earnings/",
            {
                "amount": "50",
                "currency": "USD",
                "method": method.pk,
                "idempotency_key": hidden_key(form),
            },
        )
    payout = Payout.objects.get()
    assert (payout.amount, payout.fee, payout.net) == (5_000, 100, 4_900)
    assert "Payout of $50.00 requested ($49.00 after the $1.00 payout fee)" in text(
        client.get("/earnings/")
    )


def test_failed_payout_shows_why_and_the_money_is_back(
    client, earning_seller, django_capture_on_commit_callbacks
):
    seller, _ = earning_seller
    failing = services.payout_method_add(owner=seller, destination=sandbox.BANK_FAILS)
    login(client, seller)
    form = client.get("/earnings/")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/earnings/",
            {
                "amount": "90",
                "currency": "USD",
                "method": failing.pk,
                "idempotency_key": hidden_key(form),
            },
        )

    page = text(client.get("/earnings/"))
    assert "Failed — funds returned The bank account does not exist." in page
    assert "$90.00 available" in page


def test_earnings_statement_of_someone_else_is_not_found(client, earning_seller):
    seller, _ = earning_seller
    account = ledger_selectors.user_account(seller, kind="available", currency="USD")
    other = login(client, UserFactory())
    assert other.get(f"/earnings/?account={account.pk}").status_code == 404
    assert "$90.00" not in text(other.get("/earnings/"))


def test_earnings_need_login(client):
    response = client.get("/earnings/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- seller: payout methods -----------------------------------------------------------------


def test_add_and_remove_a_payout_method(client):
    seller = make_seller()  # adding payout methods needs no verified identity
    login(client, seller)
    page = client.get("/earnings/payout-methods/")
    assert "000123456789 is paid out" in text(page)  # sandbox test numbers as help

    bad = client.post("/earnings/payout-methods/", {"destination": "12-ab", "label": ""})
    assert bad.status_code == 400
    assert field_errors(bad, "destination") == "Enter a bank account number of 6 to 17 digits."
    assert not PayoutMethod.objects.exists()

    client.post("/earnings/payout-methods/", {"destination": "000123456789", "label": "Savings"})
    method = PayoutMethod.objects.get()
    assert "Savings Account ending 6789" in text(client.get("/earnings/payout-methods/"))

    response = client.post(f"/earnings/payout-methods/{method.pk}/remove/")
    assert response.status_code == 302
    method.refresh_from_db()
    assert method.removed_at is not None
    assert "None yet." in text(client.get("/earnings/payout-methods/"))


def test_someone_elses_payout_method_cannot_be_removed_or_used(client, earning_seller):
    _, method = earning_seller
    other = login(client, UserFactory())
    assert other.post(f"/earnings/payout-methods/{method.pk}/remove/").status_code == 404
    method.refresh_from_db()
    assert method.removed_at is None
    assert "Account ending 6789" not in text(other.get("/earnings/payout-methods/"))


# --- buyers ---------------------------------------------------------------------------------


def test_payments_list_and_receipt_with_refunds_and_credit(
    client, buyer, seller, django_capture_on_commit_callbacks
):
    payment = pay(buyer, seller)
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_create(
            reference="order:1",
            amount=3_000,
            to="card",
            reason="late",
            idempotency_key="r1",
            actor=seller,
        )
    services.refund_create(
        reference="order:1",
        amount=2_000,
        to="credit",
        reason="one logo less",
        idempotency_key="r2",
        actor=seller,
    )
    login(client, buyer)

    listing = text(client.get("/payments/"))
    assert "$21.00 USD credit" in listing  # $20.00 of the price + $1.00 of the fee
    assert "Logo design order:1 $105.00 Paid" in listing

    receipt = text(client.get(f"/payments/{payment.pk}/"))
    assert "Logo design order:1 from" in receipt
    assert "$100.00 $5.00 $105.00" in receipt  # price, service fee, total
    assert "Charged to the card ending 4242 $105.00" in receipt
    assert "Paid from buyer credit $0.00" in receipt
    assert "$30.00 $1.50 Card Refunded" in receipt
    assert "$20.00 $1.00 Buyer credit Refunded" in receipt
    assert "Refunded in total: $52.50" in receipt
    assert "default fees: a service fee of 5% of the price" in receipt
    assert "Sandbox (test payments, no real money) · card ending 4242" in receipt


def test_receipt_of_a_payment_made_with_credit_shows_the_split(client, buyer, seller):
    pay(buyer, seller)
    services.refund_create(
        reference="order:1",
        amount=10_000,
        to="credit",
        reason="cancelled",
        idempotency_key="r",
        actor=seller,
    )
    payment = pay(buyer, seller, subtotal=20_000, ref="order:2", credit=10_500)

    receipt = text(login(client, buyer).get(f"/payments/{payment.pk}/"))

    assert "Charged to the card ending 4242 $105.00" in receipt
    assert "Paid from buyer credit $105.00" in receipt
    assert "Total $210.00" in receipt


def test_receipt_names_the_fee_schedule_it_was_priced_with(client, buyer, seller):
    schedule = services.fee_schedule_create(
        operator=UserFactory(operator=True),
        effective_from=timezone.now(),
        commission_bps=1000,
        buyer_fee_bps=750,
        currency_fees={"USD": {"small_order_fee": 100, "small_order_threshold": 5_000}},
    )
    payment = pay(buyer, seller, subtotal=2_000)

    receipt = text(login(client, buyer).get(f"/payments/{payment.pk}/"))

    when = timezone.localtime(schedule.effective_from)
    assert f"in effect from {when:%-d %b %Y, %H:%M}" in receipt
    assert "a service fee of 7.5% of the price, plus $1.00 on orders under $50.00" in receipt
    assert "$20.00 $2.50 $22.50" in receipt


def test_someone_elses_receipt_is_not_found(client, buyer, seller):
    payment = pay(buyer, seller)
    assert login(client, UserFactory()).get(f"/payments/{payment.pk}/").status_code == 404
    assert login(Client(), seller).get(f"/payments/{payment.pk}/").status_code == 404


def test_payment_waiting_for_confirmation_links_to_the_sandbox_page_which_completes_it(
    client, buyer, seller
):
    payment = pay(
        buyer, seller, card=sandbox.CARD_REQUIRES_ACTION, return_url="http://testserver/payments/"
    )
    login(client, buyer)
    receipt = client.get(f"/payments/{payment.pk}/")
    assert f'href="{payment.action_url}"' in receipt.text
    assert "Confirm payment" in text(receipt)
    assert "Confirm payment" in text(client.get("/payments/"))

    confirm_path = urlparse(payment.action_url).path
    page = text(client.get(confirm_path))
    assert "Pay $105.00 with the card ending 3184?" in page

    response = client.post(confirm_path, {"answer": "confirm"})
    assert response["Location"] == "http://testserver/payments/"  # back to the shop's page
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert ledger_selectors.escrow_for_reference("order:1").account.balance == 10_500
    assert "Confirm payment" not in text(client.get(f"/payments/{payment.pk}/"))
    assert client.get(confirm_path).status_code == 404  # answered once


def test_refusing_on_the_sandbox_page_declines_the_payment(client, buyer, seller):
    payment = pay(buyer, seller, card=sandbox.CARD_REQUIRES_ACTION)
    path = urlparse(payment.action_url).path
    login(client, buyer).post(path, {"answer": "refuse"})
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.DECLINED
    assert "You did not confirm the payment." in text(client.get(f"/payments/{payment.pk}/"))


# --- navigation -----------------------------------------------------------------------------


def test_navigation_shows_money_pages_by_role(client, seller):
    assert 'href="/earnings/"' in login(client, seller).get("/payments/").text
    buyer_page = login(Client(), UserFactory()).get("/payments/")
    assert 'href="/payments/"' in buyer_page.text
    assert 'href="/earnings/"' not in buyer_page.text
    ops = Client()
    operator_login(ops)
    assert 'href="/ops/finance/"' in ops.get("/ops/").text


# --- operators ------------------------------------------------------------------------------

FINANCE_PAGES = [
    "/ops/finance/",
    "/ops/finance/accounts/",
    "/ops/finance/accounts/1/",
    "/ops/finance/reconciliation/",
    "/ops/finance/reconciliation/1/",
    "/ops/finance/fees/",
]


@pytest.mark.parametrize("path", FINANCE_PAGES)
def test_finance_pages_are_for_operators_only(client, path):
    assert "/accounts/login/" in client.get(path)["Location"]
    login(client, UserFactory())
    response = client.get(path)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_non_operators_change_nothing_in_finance(client):
    login(client, UserFactory())
    client.post("/ops/finance/sandbox/", {"fail_charges": "on"})
    client.post(
        "/ops/finance/fees/",
        {
            "commission_percent": "50",
            "buyer_fee_percent": "50",
            "tip_platform_percent": "0",
            "clearing_days": "1",
            "categories-TOTAL_FORMS": "0",
            "categories-INITIAL_FORMS": "0",
        },
    )
    client.post("/ops/finance/reconciliation/", {"day": timezone.localdate().isoformat()})
    assert not SandboxControl.objects.filter(fail_charges=True).exists()
    assert not FeeSchedule.objects.exists()
    assert not ReconciliationRun.objects.exists()


def test_trial_balance_is_ok_after_real_flows(client, buyer, earning_seller):
    pay(buyer, earning_seller[0], ref="order:2")
    operator_login(client)

    page = text(client.get("/ops/finance/"))

    assert "OK — the books balance." in page
    assert "Order escrow credit balance $105.00" in page  # order:2 still held
    assert "Available balance credit balance $90.00" in page
    assert "Platform revenue credit balance $15.00" in page  # 5% fee + 10% commission of order:1
    assert "Sum of all postings 0 · OK" in page


def test_trial_balance_shows_a_problem_when_a_balance_drifts(client, buyer, seller):
    pay(buyer, seller)
    escrow = ledger_selectors.escrow_for_reference("order:1").account
    type(escrow).objects.filter(pk=escrow.pk).update(balance=F("balance") + 1)  # a bug's drift
    operator_login(client)

    page = text(client.get("/ops/finance/"))

    assert "Problem — the books do not add up." in page
    assert "balance drift: Escrow order:1 (USD): balance 10501, postings say 10500" in page


def test_accounts_list_filters_and_statement_shows_transactions(client, buyer, seller):
    payment = pay(buyer, seller)
    pay(buyer, seller, subtotal=2_000, ref="order:2")
    operator_login(client)

    listing = text(client.get("/ops/finance/accounts/?kind=escrow&currency=usd"))
    assert "2 accounts" in listing
    assert "Escrow order:1 (USD) — 1 $105.00" in listing  # one posting: the charge
    assert "Provider clearing (USD)" not in listing
    assert "Provider clearing (USD)" in text(client.get("/ops/finance/accounts/"))
    escrow = ledger_selectors.escrow_for_reference("order:1").account

    statement = text(client.get(f"/ops/finance/accounts/{escrow.pk}/"))
    assert f"Payment {payment.pk}: Logo design order:1" in statement
    assert f"payment:{payment.pk} +$105.00 $105.00" in statement
    assert client.get("/ops/finance/accounts/999999/").status_code == 404


def test_reconciliation_from_the_page_finds_differences(client, buyer, seller):
    payment = pay(buyer, seller)
    operator_login(client)
    today = timezone.localdate().isoformat()

    future = client.post(
        "/ops/finance/reconciliation/",
        {"day": (timezone.localdate() + timedelta(days=1)).isoformat()},
    )
    assert future.status_code == 400
    assert field_errors(future, "day") == "Choose today or a day in the past."
    assert not ReconciliationRun.objects.exists()

    response = client.post("/ops/finance/reconciliation/", {"day": today}, follow=True)
    assert "1 matched, no differences" in text(response)
    assert "OK: all 1 record match" in text(response)

    SandboxObject.objects.filter(reference=payment.provider_reference).update(amount=9_999)
    response = client.post("/ops/finance/reconciliation/", {"day": today}, follow=True)
    page = text(response)
    assert "Problem: 1 difference with the provider" in page
    assert f"Amounts differ charge {payment.provider_reference} $105.00 $99.99" in page
    assert ReconciliationRun.objects.count() == 1  # the day's run was replaced
    runs = text(client.get("/ops/finance/reconciliation/"))
    assert "sandbox 0 1 OK" in runs  # matched, differences, ledger checks


def test_sandbox_switches_make_payouts_fail(
    client, earning_seller, django_capture_on_commit_callbacks
):
    seller, method = earning_seller
    operator_login(client)
    response = client.post("/ops/finance/sandbox/", {"fail_payouts": "on"}, follow=True)
    assert "The sandbox now fails: payouts." in text(response)
    assert re.search(r'name="fail_payouts"[^>]*checked', response.text)

    with django_capture_on_commit_callbacks(execute=True):
        services.payout_request(
            owner=seller, amount=9_000, currency="USD", method_id=method.pk, idempotency_key="k"
        )
    assert Payout.objects.get().status == PayoutStatus.FAILED
    assert balances(seller)["available"] == 9_000


def _fee_form(**overrides):
    data = {
        "effective_from": "",
        "commission_percent": "12",
        "buyer_fee_percent": "8",
        "tip_platform_percent": "0",
        "clearing_days": "7",
        "usd_small_order_fee": "1.00",
        "usd_small_order_threshold": "60",
        "usd_payout_minimum": "",
        "usd_payout_fee": "0.25",
        "note": "Spring pricing",
        "categories-TOTAL_FORMS": "1",
        "categories-INITIAL_FORMS": "0",
        "categories-0-category": "",
        "categories-0-commission_percent": "",
    }
    data.update(overrides)
    return data


def test_operator_sets_new_fees_and_the_offer_page_shows_them(client):
    offer = make_offer(kind="service", publish=True)  # packages $50, $90, $150
    before = text(Client().get(f"/offers/{offer.pk}/"))
    assert "Price $50.00 · Service fee $2.50 (5%) · You pay $52.50" in before

    operator_login(client)
    form = client.get("/ops/finance/fees/")
    assert 'name="buyer_fee_percent" value="5"' in form.text  # starts from the fees in effect
    response = client.post(
        "/ops/finance/fees/",
        _fee_form(
            **{
                "categories-0-category": str(offer.category_id),
                "categories-0-commission_percent": "5.5",
            }
        ),
        follow=True,
    )
    assert "New fees saved; they apply now." in text(response)
    schedule = FeeSchedule.objects.get()
    assert (schedule.commission_bps, schedule.buyer_fee_bps, schedule.clearing_days) == (
        1200,
        800,
        7,
    )
    usd = schedule.currency_fees.get(currency="USD")
    assert (usd.small_order_fee, usd.small_order_threshold, usd.payout_fee) == (100, 6_000, 25)
    assert schedule.category_commissions.get().commission_bps == 550
    page = text(response)
    assert "Buyer service fee 8%" in page
    assert f"{offer.category.parent.name} › {offer.category.name}: 5.5%" in page

    after = text(Client().get(f"/offers/{offer.pk}/"))
    assert "Price $50.00 · Service fee $5.00 (8% + $1.00 under $60.00) · You pay $55.00" in after
    assert "Price $90.00 · Service fee $7.20 (8%) · You pay $97.20" in after


def test_fees_starting_later_are_listed_as_upcoming(client):
    operator_login(client)
    later = timezone.localtime() + timedelta(days=10)
    client.post(
        "/ops/finance/fees/",
        _fee_form(effective_from=later.strftime("%Y-%m-%dT%H:%M"), buyer_fee_percent="6"),
    )
    page = text(client.get("/ops/finance/fees/"))
    assert "Fees in effect now Effective from Defaults (no schedule set yet)" in page
    assert f"Coming up Effective from {later:%-d %b %Y, %H:%M}" in page
    assert "Buyer service fee 6%" in page


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("buyer_fee_percent", "abc", "Enter a percentage such as 10 or 5.5."),
        ("buyer_fee_percent", "-1", "A rate is between 0 and 100%."),
        ("commission_percent", "101", "A rate is between 0 and 100%."),
        ("commission_percent", "5.555", "Use at most two decimals, e.g. 12.25."),
        ("usd_payout_fee", "-1", "Enter zero or more."),
        ("usd_payout_fee", "abc", "Enter an amount such as 12.50."),
        ("usd_small_order_fee", "1.234", "USD amounts have at most 2 decimals."),
        ("clearing_days", "91", "Ensure this value is less than or equal to 90."),
        ("effective_from", "2020-01-01T10:00", "A fee schedule cannot start in the past."),
        ("categories-0-category", "", ""),  # a rate without its category, below
    ],
)
def test_bad_fee_input_is_refused_and_writes_nothing(client, field, value, error):
    operator_login(client)
    data = _fee_form(**{field: value})
    if field == "categories-0-category":
        data["categories-0-commission_percent"] = "3"
        field, error = "categories-0-category", "Choose the category this rate is for."

    response = client.post("/ops/finance/fees/", data)

    assert response.status_code == 400
    assert field_errors(response, field) == error
    assert not FeeSchedule.objects.exists()


def test_finance_overview_lists_recent_provider_events(client):
    from micromarket.payments.models import WebhookEvent

    WebhookEvent.objects.create(
        provider="stripe",
        event_id="evt_1",
        kind="charge.succeeded",
        raw_type="payment_intent.succeeded",
        reference="pi_1",
        outcome="payment 3 succeeded",
    )
    operator_login(client)
    page = text(client.get("/ops/finance/"))
    assert "stripe payment_intent.succeeded pi_1 payment 3 succeeded" in page


def test_offer_without_packages_shows_the_breakdown_for_its_price(client):
    offer = make_offer(kind="digital", publish=True)  # $15.00
    page = text(client.get(f"/offers/{offer.pk}/"))
    assert "From $15.00 Price $15.00 · Service fee $0.75 (5%) · You pay $15.75" in page


def test_tip_receipt_says_tips_carry_no_service_fee(client, buyer, seller):
    tip = services.tip_start(
        buyer=buyer,
        seller=seller,
        reference="order:1",
        amount=500,
        currency="USD",
        payment_method=CARD,
        idempotency_key="tip",
        return_url="http://testserver/",
    )
    receipt = text(login(client, buyer).get(f"/payments/{tip.pk}/"))
    assert f"Tip for order:1 — to {seller.display_name}: $5.00" in receipt
    assert "Tips carry no service fee." in receipt
