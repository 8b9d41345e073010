"""Pages of payments: the seller's earnings and payouts, the buyer's payments and receipts, the
operator's finance pages, and the sandbox's confirmation step.

Views parse input, call one service (or read selectors) and render; a service's refusal is
shown on its form, success is a flash message after a redirect.
"""

from __future__ import annotations

from datetime import timedelta
from math import ceil

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from micromarket.catalog import selectors as catalog_selectors
from micromarket.core.errors import DomainError, NotFound
from micromarket.core.forms import form_add_domain_error
from micromarket.core.money import from_minor, money_format
from micromarket.ledger import selectors as ledger_selectors
from micromarket.payments import selectors, services
from micromarket.payments.forms import (
    AccountFilterForm,
    CategoryCommissionFormSet,
    FeeScheduleForm,
    PayoutForm,
    PayoutMethodForm,
    ReconciliationForm,
    SandboxControlForm,
    StripeConnectForm,
    new_idempotency_key,
    percent_text,
)
from micromarket.payments.providers.base import ProviderError

AccountKind = ledger_selectors.AccountKind
EARNING_KINDS = (AccountKind.AVAILABLE, AccountKind.PENDING)
PER_PAGE = 20
staff_required = staff_member_required(login_url="accounts:login")


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", 1)))
    except ValueError:
        return 1


def _statement(request, account, *, per_page: int = PER_PAGE, query: str = "") -> dict:
    """One page of an account's statement (newest first, with the running balance)."""
    page = _page_number(request)
    lines, count = ledger_selectors.account_statement(
        account, limit=per_page, offset=(page - 1) * per_page
    )
    pages = max(1, ceil(count / per_page))
    if page > pages:
        page = pages
        lines, count = ledger_selectors.account_statement(
            account, limit=per_page, offset=(page - 1) * per_page
        )
    return {
        "account": account,
        "lines": lines,
        "count": count,
        "page": page,
        "pages": pages,
        "previous": page - 1 if page > 1 else None,
        "next": page + 1 if page < pages else None,
        "query": query,  # kept in the pager's links, e.g. "account=3&"
    }


# --- sellers --------------------------------------------------------------------------------


def _payout_form(request, summary, methods, data=None) -> PayoutForm:
    available = {row.currency: row.available for row in summary}
    terms = {row.currency: row.terms for row in summary}
    if data is not None:
        return PayoutForm(data, available=available, methods=methods, terms=terms)
    currency = None
    if available:
        preferred = getattr(request.user, "preferred_currency", "")
        currency = (
            preferred
            if available.get(preferred)
            else max(available, key=lambda c: (available[c], c == preferred))
        )
    initial = {"idempotency_key": new_idempotency_key(), "currency": currency}
    if currency:
        initial["amount"] = from_minor(available[currency], currency)
    return PayoutForm(initial=initial, available=available, methods=methods, terms=terms)


@login_required
def earnings(request):
    """The seller's balances per currency, their history, payouts and the payout form."""
    user = request.user
    accounts = list(ledger_selectors.user_accounts(user, kinds=EARNING_KINDS))
    if "account" in request.GET:
        selected = ledger_selectors.user_account_get(user, request.GET["account"])
        if selected is None or selected.kind not in EARNING_KINDS:
            raise Http404("There is no such account.")
    else:
        selected = next((a for a in accounts if a.kind == AccountKind.AVAILABLE), None) or (
            accounts[0] if accounts else None
        )
    statement = _statement(request, selected, query=f"account={selected.pk}&") if selected else None
    if request.htmx and request.method == "GET":
        return render(
            request,
            "payments/earnings.html#statement",
            {"accounts": accounts, "statement": statement},
        )

    summary = selectors.earnings_summary(user=user)
    methods = list(selectors.payout_methods_for_owner(owner=user))
    status = 200
    if request.method == "POST":
        key = request.POST.get("idempotency_key", "")
        replayed = selectors.payout_for_key(owner=user, idempotency_key=key)
        if replayed is not None:  # the same page sent twice: one payout, already requested
            messages.info(request, "That payout was already requested; it is listed below.")
            return redirect("payments:earnings")
        form = _payout_form(request, summary, methods, data=request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                payout = services.payout_request(
                    owner=user,
                    amount=data["amount_minor"],
                    currency=data["currency"],
                    method_id=data["method"],
                    idempotency_key=data["idempotency_key"],
                )
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                fee = (
                    f" ({money_format(payout.net, payout.currency)} after the "
                    f"{money_format(payout.fee, payout.currency)} payout fee)"
                    if payout.fee
                    else ""
                )
                messages.success(
                    request,
                    f"Payout of {money_format(payout.amount, payout.currency)} requested{fee} "
                    f"to {payout.method.label}.",
                )
                return redirect("payments:earnings")
        status = 400
    else:
        form = _payout_form(request, summary, methods)
    payouts = Paginator(selectors.payouts_for_owner(owner=user), PER_PAGE).get_page(
        request.GET.get("payouts_page")
    )
    return render(
        request,
        "payments/earnings.html",
        {
            "summary": summary,
            "methods": methods,
            "form": form,
            "accounts": accounts,
            "statement": statement,
            "payouts": payouts,
        },
        status=status,
    )


@login_required
def payout_methods(request):
    form = PayoutMethodForm(request.POST or None, provider=settings.PAYMENTS_PROVIDER)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                method = services.payout_method_add(
                    owner=request.user,
                    destination=form.cleaned_data["destination"],
                    label=form.cleaned_data["label"],
                )
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(request, f"Payout method “{method.label}” added.")
                return redirect("payments:payout_methods")
        status = 400
    return render(
        request,
        "payments/payout_methods.html",
        {
            "form": form,
            "methods": selectors.payout_methods_for_owner(owner=request.user),
            "provider": settings.PAYMENTS_PROVIDER,
            "connect_form": StripeConnectForm(),
        },
        status=status,
    )


@login_required
@require_POST
def payout_method_stripe_connect(request):
    """Stripe: create (once) the seller's Connect account and send them to its onboarding."""
    form = StripeConnectForm(request.POST)
    if form.is_valid():
        try:
            _, url = services.payout_method_stripe_onboarding(
                owner=request.user,
                country=form.cleaned_data["country"],
                refresh_url=request.build_absolute_uri(reverse("payments:payout_methods")),
                return_url=request.build_absolute_uri(reverse("payments:earnings")),
            )
        except (DomainError, ProviderError) as exc:
            messages.error(request, getattr(exc, "message", None) or str(exc))
        else:
            return redirect(url)
    else:
        messages.error(request, "Choose the country of your bank.")
    return redirect("payments:payout_methods")


@login_required
@require_POST
def payout_method_remove(request, pk: int):
    try:
        services.payout_method_remove(owner=request.user, method_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from None
    messages.success(request, "Payout method removed.")
    return redirect("payments:payout_methods")


# --- buyers ---------------------------------------------------------------------------------


@login_required
def payments_list(request):
    return render(
        request,
        "payments/payments_list.html",
        {
            "payments": Paginator(
                selectors.payments_for_buyer(buyer=request.user), PER_PAGE
            ).get_page(request.GET.get("page")),
            "credits": ledger_selectors.user_accounts(request.user, kinds=(AccountKind.CREDIT,)),
        },
    )


@login_required
def receipt(request, pk: int):
    payment = selectors.payment_for_buyer(buyer=request.user, payment_id=pk)
    if payment is None:
        raise Http404("There is no such payment.")
    lines = list(payment.lines.all())
    refunds = [(line, refund) for line in lines for refund in line.refunds.all()]
    schedule = selectors.payment_fee_schedule(payment)
    fee_detail = selectors.fee_schedule_detail(schedule)
    terms = next(
        (row for row in fee_detail["currency_fees"] if row.currency == payment.currency), None
    )
    return render(
        request,
        "payments/receipt.html",
        {
            "payment": payment,
            "lines": lines,
            "subtotal": sum(line.subtotal for line in lines),
            "service_fee": sum(line.service_fee for line in lines),
            "refunds": refunds,
            "refunded": sum(refund.total for _, refund in refunds),
            "schedule": schedule,
            "fee_detail": fee_detail,
            "terms": terms,
            "tip_share": selectors.percent_label(payment.tip_platform_bps),
        },
    )


def sandbox_authenticate(request, reference: str):
    """The sandbox's stand-in for a bank's 3-D Secure page: confirm or refuse the payment."""
    payment = selectors.sandbox_charge_for_confirmation(reference=reference)
    if payment is None:
        raise Http404
    if request.method == "POST":
        approve = request.POST.get("answer") == "confirm"
        back = services.sandbox_authenticate(reference=reference, approve=approve)
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = "/"
        return redirect(back)
    return render(request, "payments/sandbox_authenticate.html", {"charge": payment})


# --- operators ------------------------------------------------------------------------------


@staff_required
def finance(request):
    """The books at a glance: the trial balance per currency, the ledger's self-checks, the
    sandbox's switches and the latest provider events."""
    rows, totals = ledger_selectors.trial_balance()
    problems = ledger_selectors.ledger_verify()
    books = [
        {"currency": c, "rows": [r for r in rows if r.currency == c], "total": totals[c]}
        for c in sorted(totals)
    ]
    control = selectors.sandbox_control()
    return render(
        request,
        "payments/finance.html",
        {
            "books": books,
            "problems": problems,
            "books_ok": not problems and not any(totals.values()),
            "sandbox": settings.PAYMENTS_PROVIDER == "sandbox",
            "sandbox_form": SandboxControlForm(
                initial={
                    "fail_charges": control.fail_charges,
                    "fail_refunds": control.fail_refunds,
                    "fail_payouts": control.fail_payouts,
                }
            ),
            "events": selectors.webhook_events_recent(),
            "section": "overview",
        },
    )


@staff_required
@require_POST
def finance_sandbox(request):
    form = SandboxControlForm(request.POST)
    if form.is_valid():
        control = services.sandbox_control_set(operator=request.user, **form.cleaned_data)
        on = [
            label
            for name, label in (
                ("fail_charges", "charges"),
                ("fail_refunds", "refunds"),
                ("fail_payouts", "payouts"),
            )
            if getattr(control, name)
        ]
        messages.success(
            request,
            f"The sandbox now fails: {', '.join(on)}." if on else "The sandbox works normally.",
        )
    return redirect(reverse("payments:finance") + "#sandbox-h")


@staff_required
def finance_accounts(request):
    form = AccountFilterForm(request.GET or None)
    kind = currency = None
    if form.is_valid():
        kind = form.cleaned_data["kind"] or None
        currency = form.cleaned_data["currency"] or None
    page = Paginator(ledger_selectors.accounts_list(kind=kind, currency=currency), 50).get_page(
        request.GET.get("page")
    )
    rows = [
        (account, ledger_selectors.shown_balance(account, account.posting_sum or 0))
        for account in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "payments/finance_accounts.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "section": "accounts",
        },
    )


@staff_required
def finance_account(request, pk: int):
    account = ledger_selectors.account_get(pk)
    if account is None:
        raise Http404("There is no such account.")
    return render(
        request,
        "payments/finance_account.html",
        {
            "account": account,
            "balance": ledger_selectors.account_balance(account),
            "statement": _statement(request, account, per_page=50),
            "section": "accounts",
        },
    )


@staff_required
def finance_reconciliation(request):
    yesterday = timezone.localdate() - timedelta(days=1)
    form = ReconciliationForm(request.POST or None, initial={"day": yesterday})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                run = services.reconciliation_run(day=form.cleaned_data["day"])
            except DomainError as exc:
                form_add_domain_error(form, exc)
            except ProviderError:
                form.add_error(None, "The payment provider could not be reached. Try again.")
            else:
                found = (
                    f"{run.differences} difference{'s' if run.differences != 1 else ''}"
                    if run.differences
                    else "no differences"
                )
                messages.success(
                    request,
                    f"Reconciliation of {run.day:%d %b %Y}: {run.matched} matched, {found}.",
                )
                return redirect("payments:finance_reconciliation_run", pk=run.pk)
        status = 400
    return render(
        request,
        "payments/finance_reconciliation.html",
        {"form": form, "runs": selectors.reconciliation_runs(), "section": "reconciliation"},
        status=status,
    )


@staff_required
def finance_reconciliation_run(request, pk: int):
    run = selectors.reconciliation_run_get(run_id=pk)
    if run is None:
        raise Http404("There is no such reconciliation run.")
    return render(
        request,
        "payments/finance_reconciliation_run.html",
        {"run": run, "differences": run.difference_rows.all(), "section": "reconciliation"},
    )


def _category_choices() -> list:
    return [
        (
            top.name,
            [(top.pk, f"{top.name} (whole category)")]
            + [(child.pk, child.name) for child in top.children.all()],
        )
        for top in catalog_selectors.categories_tree()
    ]


# The service names rate fields in basis points; the form asks for percentages.
_FEE_FIELD_FOR = {
    "commission_bps": "commission_percent",
    "buyer_fee_bps": "buyer_fee_percent",
    "tip_platform_bps": "tip_platform_percent",
}


@staff_required
def finance_fees(request):
    current = selectors.fee_schedule_detail(selectors.schedule_at())
    category_kwargs = {"category_choices": _category_choices()}
    status = 200
    if request.method == "POST":
        form = FeeScheduleForm(request.POST)
        formset = CategoryCommissionFormSet(
            request.POST, prefix="categories", form_kwargs=category_kwargs
        )
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            try:
                schedule = services.fee_schedule_create(
                    operator=request.user,
                    effective_from=data["effective_from"] or timezone.now(),
                    commission_bps=data["commission_bps"],
                    buyer_fee_bps=data["buyer_fee_bps"],
                    tip_platform_bps=data["tip_platform_bps"],
                    clearing_days=data["clearing_days"],
                    category_commissions=formset.rates(),
                    currency_fees=data["currency_fees"],
                    note=data["note"],
                )
            except DomainError as exc:
                field = _FEE_FIELD_FOR.get(exc.field, exc.field)
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                when = timezone.localtime(schedule.effective_from)
                messages.success(
                    request,
                    "New fees saved; they apply "
                    + ("now." if when <= timezone.now() else f"from {when:%d %b %Y %H:%M}."),
                )
                return redirect("payments:finance_fees")
        status = 400
    else:
        form = FeeScheduleForm(initial=FeeScheduleForm.initial_for(current))
        formset = CategoryCommissionFormSet(
            prefix="categories",
            initial=[
                {
                    "category": row.category_id,
                    "commission_percent": percent_text(row.commission_bps),
                }
                for row, _ in current["category_commissions"]
            ],
            form_kwargs=category_kwargs,
        )
    return render(
        request,
        "payments/finance_fees.html",
        {
            "current": current,
            "upcoming": [
                selectors.fee_schedule_detail(s) for s in selectors.fee_schedules_upcoming()
            ],
            "form": form,
            "formset": formset,
            "section": "fees",
        },
        status=status,
    )
