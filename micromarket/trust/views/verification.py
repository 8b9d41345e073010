"""Pages of the verification area: the person's verification settings (phone, identity and
trader details) and the operators' review queue with its document view. See docs/trust.md."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from micromarket.accounts import selectors as accounts_selectors
from micromarket.core.errors import DomainError, NotFound
from micromarket.core.forms import form_add_domain_error
from micromarket.payments import selectors as payments_selectors
from micromarket.trust.forms.verification import (
    PhoneConfirmForm,
    PhoneStartForm,
    ReviewForm,
    TraderForm,
)
from micromarket.trust.selectors import verification as selectors
from micromarket.trust.services import verification as services


def operator_page(view):
    """Operators only; anyone else signed in gets 404, like the other /ops/ pages' contents."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapped


def _status(exc: DomainError) -> int:
    return exc.status if exc.status in (403, 404, 409, 429) else 400


# --- the person's settings --------------------------------------------------------------------


def _settings_page(request, *, status=200, **forms):
    user = request.user
    shop = accounts_selectors.shop_for_user(user=user)
    methods = list(payments_selectors.payout_methods_for_owner(owner=user)) if shop else []
    latest = selectors.trader_latest(user=user)
    pending_phone = selectors.phone_pending(user=user)
    context = {
        "tab": "verification",
        "badges": selectors.badges(user=user),
        "phone": selectors.phone_for(user=user),
        "pending_phone": pending_phone,
        "phone_form": forms.get("phone_form") or PhoneStartForm(),
        "confirm_form": forms.get("confirm_form") or PhoneConfirmForm(),
        "shop": shop,
        "methods": methods,
        "trader": latest,
        "trader_details": selectors.trader_details(user=user),
        "payouts_allowed": selectors.payouts_allowed(user=user),
        "trader_form": forms.get("trader_form")
        or TraderForm(
            methods=methods,
            initial=(
                {
                    f: getattr(latest, f)
                    for f in (
                        "legal_name",
                        "address_line",
                        "city",
                        "postal_code",
                        "country",
                        "trade_register_number",
                    )
                }
                if latest
                else {}
            ),
        ),
    }
    return render(request, "trust/verification/settings.html", context, status=status)


@login_required
def verification_settings(request):
    return _settings_page(request)


@login_required
@require_POST
def phone_start(request):
    form = PhoneStartForm(request.POST)
    if form.is_valid():
        try:
            row = services.phone_start(user=request.user, phone=form.cleaned_data["phone"])
        except DomainError as exc:
            form_add_domain_error(form, exc)
            return _settings_page(request, phone_form=form, status=_status(exc))
        messages.success(request, f"We sent a code to {row.phone}. Enter it below.")
        return redirect("trust:verification")
    return _settings_page(request, phone_form=form, status=400)


@login_required
@require_POST
def phone_confirm(request):
    form = PhoneConfirmForm(request.POST)
    if form.is_valid():
        try:
            row = services.phone_confirm(user=request.user, code=form.cleaned_data["code"])
        except DomainError as exc:
            form_add_domain_error(form, exc)
            return _settings_page(request, confirm_form=form, status=_status(exc))
        messages.success(request, f"Your phone number {row.phone} is verified.")
        return redirect("trust:verification")
    return _settings_page(request, confirm_form=form, status=400)


@login_required
@require_POST
def trader_submit(request):
    methods = list(payments_selectors.payout_methods_for_owner(owner=request.user))
    form = TraderForm(request.POST, request.FILES, methods=methods)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.trader_submit(
                user=request.user,
                legal_name=data["legal_name"],
                address_line=data["address_line"],
                city=data["city"],
                postal_code=data["postal_code"],
                country=data["country"],
                trade_register_number=data["trade_register_number"],
                payout_method_id=data["payout_method"],
                document=data["document"],
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
            return _settings_page(request, trader_form=form, status=_status(exc))
        messages.success(
            request, "Thank you. An operator will review your details, usually within a day."
        )
        return redirect("trust:verification")
    return _settings_page(request, trader_form=form, status=400)


# --- operators --------------------------------------------------------------------------------


@operator_page
def ops_queue(request):
    return render(
        request,
        "trust/verification/ops_queue.html",
        {
            "queue": selectors.trader_queue(),
            "reviewed": selectors.trader_recent_reviewed(),
        },
    )


def _submission_or_404(verification_id: int):
    try:
        return selectors.trader_get(verification_id=verification_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


@operator_page
def ops_detail(request, pk: int):
    row = _submission_or_404(pk)
    status = 200
    if request.method == "POST":
        form = ReviewForm(request.POST)
        if form.is_valid():
            approve = form.cleaned_data["decision"] == "approve"
            try:
                services.trader_review(
                    actor=request.user,
                    verification_id=row.pk,
                    approve=approve,
                    note=form.cleaned_data["note"],
                )
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = _status(exc)
            else:
                messages.success(
                    request,
                    f"{row.user.display_name}'s details were "
                    f"{'approved' if approve else 'rejected'}.",
                )
                return redirect("trust:verification_ops")
        else:
            status = 400
    else:
        form = ReviewForm()
    return render(
        request,
        "trust/verification/ops_detail.html",
        {
            "row": row,
            "form": form,
            "country_name": selectors.country_name(row.country),
            "history": [h for h in selectors.trader_history(user=row.user) if h.pk != row.pk],
            "badges": selectors.badges(user=row.user),
        },
        status=status,
    )


@operator_page
def ops_document(request, pk: int):
    """The ID document, to operators only, never cached by a browser or a proxy."""
    row = _submission_or_404(pk)
    response = FileResponse(row.document.open("rb"), content_type="image/webp")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'inline; filename="identity-{row.pk}.webp"'
    return response


urlpatterns = [
    path("settings/verification/", verification_settings, name="verification"),
    path("settings/verification/phone/", phone_start, name="verification_phone"),
    path("settings/verification/phone/confirm/", phone_confirm, name="verification_phone_confirm"),
    path("settings/verification/trader/", trader_submit, name="verification_trader"),
    path("ops/trust/verifications/", ops_queue, name="verification_ops"),
    path("ops/trust/verifications/<int:pk>/", ops_detail, name="verification_ops_detail"),
    path(
        "ops/trust/verifications/<int:pk>/document/",
        ops_document,
        name="verification_ops_document",
    ),
]
