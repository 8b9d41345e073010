"""Pages of the budget area: envelopes with their balances and rules, moves, spending, the
history and the "safe to spend" figure. See docs/books/budget.md."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from micromarket.books.forms.budget import MoveForm, RulesForm, SpendForm
from micromarket.books.selectors import budget as selectors
from micromarket.books.selectors import insights as insights_selectors
from micromarket.books.services import budget as services
from micromarket.core.charts import share_bar
from micromarket.core.errors import DomainError, NotFound
from micromarket.core.forms import form_add_domain_error
from micromarket.core.money import money_format, to_minor


def page_currency(request, owner) -> str:
    """?currency=XXX when the seller has used it, else their main currency."""
    wanted = (request.GET.get("currency") or "").upper()
    if wanted and wanted in insights_selectors.currencies(owner):
        return wanted
    return insights_selectors.default_currency(owner)


def envelopes_chart(balances, currency: str):
    return share_bar(
        [(e.name, b.get(currency, 0)) for e, b in balances],
        title=f"What each envelope holds ({currency})",
        fmt=lambda v: money_format(v, currency),
    )


def _context(request, *, rules_form=None, move_form=None, spend_form=None) -> dict:
    owner = request.user
    envelopes = services.envelopes_ensure_default(owner=owner)
    currency = page_currency(request, owner)
    balances = selectors.envelope_balances(owner)
    history = Paginator(selectors.movements(owner), 25).get_page(request.GET.get("page"))
    return {
        "tab": "budget",
        "currency": currency,
        "currencies": insights_selectors.currencies(owner),
        "balances": [
            (e, b, b.get(currency, 0), services.percent_label(e.percent_bps)) for e, b in balances
        ],
        "total_bps": sum(e.percent_bps for e in envelopes),
        "chart": envelopes_chart(balances, currency),
        "safe": selectors.safe_to_spend(owner, currency),
        "rules_form": rules_form or RulesForm(envelopes=envelopes),
        "move_form": move_form or MoveForm(envelopes=envelopes, currency=currency),
        "spend_form": spend_form or SpendForm(envelopes=envelopes, currency=currency),
        "history": history,
        "can_move": len(envelopes) > 1,
    }


@login_required
def budget(request):
    return render(request, "books/budget/budget.html", _context(request))


def _invalid(request, **forms):
    return render(request, "books/budget/budget.html", _context(request, **forms), status=400)


@login_required
@require_POST
def budget_rules(request):
    envelopes = services.envelopes_ensure_default(owner=request.user)
    form = RulesForm(request.POST, envelopes=envelopes)
    if form.is_valid():
        try:
            services.allocation_rules_set(owner=request.user, rules=form.rules())
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Allocation rules saved. They apply to income from now on.")
            return redirect("books:budget")
    return _invalid(request, rules_form=form)


@login_required
@require_POST
def budget_reset(request):
    services.allocation_rules_reset(owner=request.user)
    messages.success(
        request,
        "Back to the default rules: taxes 25%, business expenses 15%, "
        "emergency fund 10%, owner pay 50%.",
    )
    return redirect("books:budget")


def _minor(form, currency):
    return to_minor(form.cleaned_data["amount"], currency)


@login_required
@require_POST
def budget_move(request):
    envelopes = services.envelopes_ensure_default(owner=request.user)
    form = MoveForm(request.POST, envelopes=envelopes)
    if form.is_valid():
        data = form.cleaned_data
        try:
            out, _ = services.envelope_move(
                owner=request.user,
                from_envelope_id=data["from_envelope"],
                to_envelope_id=data["to_envelope"],
                amount=_minor(form, data["currency"]),
                currency=data["currency"],
                note=data["note"],
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(
                request,
                f"Moved {money_format(-out.amount, out.currency)} from {out.envelope.name} to "
                f"{out.counterpart.name}.",
            )
            return redirect(f"{reverse('books:budget')}?currency={out.currency}")
    return _invalid(request, move_form=form)


@login_required
@require_POST
def budget_spend(request):
    envelopes = services.envelopes_ensure_default(owner=request.user)
    form = SpendForm(request.POST, envelopes=envelopes)
    if form.is_valid():
        data = form.cleaned_data
        try:
            movement = services.envelope_spend(
                owner=request.user,
                envelope_id=data["envelope"],
                amount=_minor(form, data["currency"]),
                currency=data["currency"],
                note=data["note"],
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(
                request,
                f"Recorded {money_format(-movement.amount, movement.currency)} spent from "
                f"{movement.envelope.name}.",
            )
            return redirect(f"{reverse('books:budget')}?currency={movement.currency}")
    return _invalid(request, spend_form=form)


@login_required
def envelope_detail(request, pk: int):
    try:
        envelope = selectors.envelope_get(request.user, pk)
    except NotFound:
        raise Http404("There is no such envelope.") from None
    movements = Paginator(selectors.movements(request.user, envelope=envelope), 50)
    balances = {
        c: selectors.envelope_balance(envelope, c)
        for c in selectors.budget_currencies(request.user)
    }
    return render(
        request,
        "books/budget/envelope.html",
        {
            "tab": "budget",
            "envelope": envelope,
            "percent": services.percent_label(envelope.percent_bps),
            "balances": {c: b for c, b in balances.items() if b},
            "history": movements.get_page(request.GET.get("page")),
        },
    )


urlpatterns = [
    path("books/budget/", budget, name="budget"),
    path("books/budget/rules/", budget_rules, name="budget_rules"),
    path("books/budget/reset/", budget_reset, name="budget_reset"),
    path("books/budget/move/", budget_move, name="budget_move"),
    path("books/budget/spend/", budget_spend, name="budget_spend"),
    path("books/budget/envelopes/<int:pk>/", envelope_detail, name="envelope"),
]
