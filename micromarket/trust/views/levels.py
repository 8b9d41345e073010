"""Pages of the levels area: the seller's level and what is missing for the next one (with the
appeal form), and the operators' thresholds, recompute and appeals queue (404 for anyone else,
like every /ops/ page that is not for them). See docs/trust.md#seller-levels."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from micromarket.core.errors import DomainError, NotFound
from micromarket.core.forms import form_add_domain_error
from micromarket.trust.forms.levels import AnswerForm, AppealForm, RecomputeForm, ThresholdsForm
from micromarket.trust.models import LevelAppeal
from micromarket.trust.selectors import levels as selectors
from micromarket.trust.services import levels as services


def operator_page(view):
    """Signed-in operators only; everyone else gets 404 (the page's existence is not news)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise Http404("There is no such page.")
        return view(request, *args, **kwargs)

    return wrapper


# --- the seller's page ------------------------------------------------------------------------


def _mine_context(request, form: AppealForm | None = None) -> dict:
    progress = selectors.progress_for(seller=request.user)
    appeals = list(selectors.appeals_for_seller(seller=request.user)[:10])
    open_appeal = next((a for a in appeals if a.status == LevelAppeal.Status.OPEN), None)
    return {
        "progress": progress,
        "evaluation": progress.evaluation,
        "next_level": progress.evaluation.next_level,
        "thresholds": selectors.thresholds(),
        "appeals": appeals,
        "open_appeal": open_appeal,
        "form": form or AppealForm(),
    }


@login_required
def levels_mine(request):
    if not selectors.is_seller(request.user):
        return render(request, "trust/levels/not_seller.html", status=200)
    if request.method == "POST":
        form = AppealForm(request.POST)
        if form.is_valid():
            try:
                services.level_appeal_create(
                    seller=request.user, message=form.cleaned_data["message"]
                )
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(request, "Your appeal was sent to the operators.")
                return redirect("trust:levels_mine")
        return render(request, "trust/levels/mine.html", _mine_context(request, form), status=400)
    return render(request, "trust/levels/mine.html", _mine_context(request))


# --- operators --------------------------------------------------------------------------------


def _ops_context(forms: dict | None = None, recompute: RecomputeForm | None = None) -> dict:
    forms = forms or {}
    rows = selectors.threshold_rows()
    return {
        "levels": [(row, forms.get(row.level) or ThresholdsForm.for_row(row)) for row in rows],
        "recompute_form": recompute or RecomputeForm(),
    }


@operator_page
def levels_ops(request):
    if request.method == "POST":
        level = request.POST.get("level", "")
        row = next((r for r in selectors.threshold_rows() if r.level == level), None)
        if row is None:
            raise Http404("There is no such level.")
        form = ThresholdsForm.for_row(row, data=request.POST)
        if form.is_valid():
            try:
                services.level_thresholds_update(
                    actor=request.user,
                    level=level,
                    values=form.values(),
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    f"{row.get_level_display()} thresholds saved. Sellers' levels follow at the "
                    "next daily run.",
                )
                return redirect("trust:levels_ops")
        return render(
            request, "trust/levels/ops_levels.html", _ops_context({level: form}), status=400
        )
    return render(request, "trust/levels/ops_levels.html", _ops_context())


@operator_page
@require_POST
def levels_ops_recompute(request):
    form = RecomputeForm(request.POST)
    if form.is_valid():
        try:
            standing = services.level_recompute(
                seller_id=form.cleaned_data["seller_id"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(
                request,
                f"{standing.seller.display_name} is now {standing.get_level_display()}.",
            )
            return redirect("trust:levels_ops")
    return render(request, "trust/levels/ops_levels.html", _ops_context(recompute=form), status=400)


@operator_page
def levels_ops_appeals(request):
    answered = selectors.appeals_queue(status=LevelAppeal.Status.ANSWERED).order_by("-answered_at")[
        :20
    ]
    return render(
        request,
        "trust/levels/ops_appeals.html",
        {
            "appeals": [(a, AnswerForm(prefix=f"a{a.pk}")) for a in selectors.appeals_queue()],
            "answered": answered,
        },
    )


@operator_page
@require_POST
def levels_ops_appeal_answer(request, appeal_id: int):
    try:
        appeal = selectors.appeal_for_user(appeal_id=appeal_id, user=request.user)
    except NotFound as exc:
        raise Http404(exc.message) from None
    form = AnswerForm(request.POST, prefix=f"a{appeal.pk}")
    if form.is_valid():
        try:
            services.level_appeal_answer(
                appeal_id=appeal.pk, actor=request.user, answer=form.cleaned_data["answer"]
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, f"Answer sent to {appeal.seller.display_name}.")
            return redirect("trust:levels_ops_appeals")
    appeals = [
        (a, form if a.pk == appeal.pk else AnswerForm(prefix=f"a{a.pk}"))
        for a in selectors.appeals_queue()
    ]
    return render(
        request,
        "trust/levels/ops_appeals.html",
        {"appeals": appeals, "answered": [], "errors": form.non_field_errors()},
        status=400,
    )


urlpatterns = [
    path("seller/level/", levels_mine, name="levels_mine"),
    path("ops/trust/levels/", levels_ops, name="levels_ops"),
    path("ops/trust/levels/recompute/", levels_ops_recompute, name="levels_ops_recompute"),
    path("ops/trust/appeals/", levels_ops_appeals, name="levels_ops_appeals"),
    path(
        "ops/trust/appeals/<int:appeal_id>/answer/",
        levels_ops_appeal_answer,
        name="levels_ops_appeal_answer",
    ),
]
