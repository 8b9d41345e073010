"""Account pages: sign-up, sign-in (with 2FA), settings, becoming a seller, the shop page."""

from __future__ import annotations

import base64
import io
import json
import time

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token

from micromarket.accounts import selectors, services
from micromarket.accounts.forms import (
    CodeForm,
    DeleteAccountForm,
    LoginForm,
    PasswordConfirmForm,
    PasswordResetByTaskForm,
    ProfileForm,
    ShopForm,
    SignUpForm,
    TokenCreateForm,
)
from micromarket.core.errors import DomainError, NotFound
from micromarket.core.forms import form_add_domain_error

PENDING_2FA_KEY = "accounts.pending_2fa"
NEW_TOKEN_KEY = "accounts.new_token"  # noqa: S105 — a session key name


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# --- sign-up and verification ---------------------------------------------------------------


def signup(request):
    if request.user.is_authenticated:
        return redirect("core:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_sign_up(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                display_name=form.cleaned_data["display_name"],
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            login(request, user, backend="micromarket.accounts.backends.EmailBackend")
            messages.success(
                request,
                f"Welcome, {user.display_name}! We sent a link to {user.email} — "
                "open it to verify your address.",
            )
            return redirect("core:home")
    return render(request, "accounts/signup.html", {"form": form})


def verify_email(request, token: str):
    try:
        user = services.email_verify(token=token)
    except DomainError as exc:
        return render(request, "accounts/verify_failed.html", {"message": exc.message}, status=400)
    messages.success(request, f"Thanks — {user.email} is verified.")
    return redirect("core:home")


@login_required
@require_POST
def verify_email_resend(request):
    try:
        services.email_verification_send(user=request.user)
    except DomainError as exc:
        messages.info(request, exc.message)
    else:
        messages.success(request, f"We sent a new verification link to {request.user.email}.")
    return redirect(_safe_next(request, reverse("accounts:account")))


# --- sign-in with optional 2FA --------------------------------------------------------------


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if selectors.user_has_two_factor(user=user):
            self.request.session[PENDING_2FA_KEY] = {
                "user_id": user.pk,
                "backend": user.backend,
                "at": time.time(),
                "next": self.get_success_url(),
            }
            return redirect("accounts:login_code")
        return super().form_valid(form)


def login_code(request):
    """Second step of sign-in: a TOTP or backup code. Also re-verifies an operator's session."""
    pending = request.session.get(PENDING_2FA_KEY)
    user = None
    if request.user.is_authenticated:
        if request.user.is_verified() or not selectors.user_has_two_factor(user=request.user):
            return redirect(_safe_next(request, reverse("core:home")))
        user = request.user
    elif pending:
        age = time.time() - pending.get("at", 0)
        if age <= settings.TWO_FACTOR_PENDING_MAX_AGE.total_seconds():
            user = selectors.user_get_active(user_id=pending["user_id"])
    if user is None:
        request.session.pop(PENDING_2FA_KEY, None)
        messages.info(request, "Please sign in again.")
        return redirect("accounts:login")

    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["token"].replace(" ", ""))
        if device is None:
            form.add_error(
                "token", "That code is not valid. Use the newest code, or a backup code."
            )
        else:
            next_url = (pending or {}).get("next") or _safe_next(request, reverse("core:home"))
            if not request.user.is_authenticated:
                login(request, user, backend=pending["backend"])
            otp_login(request, device)
            request.session.pop(PENDING_2FA_KEY, None)
            return redirect(next_url)
    return render(request, "accounts/login_code.html", {"form": form})


# --- password reset (email through the worker) ----------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetByTaskForm
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_done")


# --- settings -------------------------------------------------------------------------------


@login_required
def profile_settings(request):
    user = request.user
    if request.method == "POST":
        form = ProfileForm(request.POST, request.FILES)
        if form.is_valid():
            data = dict(form.cleaned_data)
            avatar = data.pop("avatar") or None
            remove_avatar = data.pop("remove_avatar")
            try:
                services.profile_update(
                    user=user, avatar=avatar, remove_avatar=remove_avatar, **data
                )
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(request, "Your profile is saved.")
                return redirect("accounts:profile")
    else:
        form = ProfileForm(initial=ProfileForm.initial_for(user))
    return render(request, "accounts/settings_profile.html", {"form": form, "tab": "profile"})


@login_required
def account_settings(request):
    return render(
        request,
        "accounts/settings_account.html",
        {"delete_form": DeleteAccountForm(), "tab": "account"},
    )


@login_required
def account_export(request):
    data = selectors.user_personal_data(user=request.user)
    data["exported_at"] = timezone.now().isoformat()
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
    )
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="micromarket-my-data-{stamp}.json"'
    return response


@login_required
@require_POST
def account_delete(request):
    form = DeleteAccountForm(request.POST)
    if form.is_valid():
        try:
            services.account_delete(user=request.user, password=form.cleaned_data["password"])
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            logout(request)
            messages.success(request, "Your account is closed and your personal data erased.")
            return redirect("core:home")
    return render(
        request,
        "accounts/settings_account.html",
        {"delete_form": form, "tab": "account"},
        status=400,
    )


def _qr_data_uri(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buf = io.BytesIO()
    image.save(buf)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


@login_required
def security_settings(request):
    user = request.user
    context = {"tab": "security", "form": CodeForm(), "password_form": PasswordConfirmForm()}
    action = request.POST.get("action") if request.method == "POST" else None
    status = 200
    try:
        if action == "start":
            services.totp_device_start(user=user)
            return redirect("accounts:security")
        if action == "confirm":
            form = CodeForm(request.POST)
            context["form"] = form
            if form.is_valid():
                device, codes = services.totp_device_confirm(
                    user=user, token=form.cleaned_data["token"]
                )
                otp_login(request, device)
                messages.success(request, "Two-factor authentication is on.")
                return render(request, "accounts/backup_codes.html", {"codes": codes})
        elif action in {"disable", "backup_codes"}:
            form = PasswordConfirmForm(request.POST)
            context["password_form"] = form
            if form.is_valid():
                password = form.cleaned_data["password"]
                if action == "disable":
                    services.two_factor_disable(user=user, password=password)
                    messages.success(request, "Two-factor authentication is off.")
                    return redirect("accounts:security")
                codes = services.backup_codes_regenerate(user=user, password=password)
                return render(request, "accounts/backup_codes.html", {"codes": codes})
    except DomainError as exc:
        target = context["form"] if action == "confirm" else context["password_form"]
        form_add_domain_error(target, exc)
        status = 400
    if action and status == 200:
        status = 400  # a form was posted and did not validate

    pending = selectors.user_pending_totp_device(user=user)
    context.update(
        enabled=selectors.user_has_two_factor(user=user),
        backup_codes_left=selectors.user_backup_codes_left(user=user),
        required=user.is_staff,
    )
    if pending is not None and not context["enabled"]:
        context.update(
            pending=True,
            qr=_qr_data_uri(pending.config_url),
            secret=base64.b32encode(pending.bin_key).decode(),
        )
    return render(request, "accounts/settings_security.html", context, status=status)


@login_required
def token_settings(request):
    form = TokenCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = services.token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            request.session[NEW_TOKEN_KEY] = {"id": token.pk, "raw": raw}
            return redirect("accounts:tokens")
    new_token = request.session.pop(NEW_TOKEN_KEY, None)
    return render(
        request,
        "accounts/settings_tokens.html",
        {
            "form": form,
            "tokens": selectors.api_tokens_for_user(user=request.user),
            "new_token": new_token,
            "tab": "tokens",
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def token_revoke(request, token_id: int):
    try:
        token = services.token_revoke(user=request.user, token_id=token_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    messages.success(request, f"Token “{token.name}” is revoked.")
    return redirect("accounts:tokens")


# --- selling --------------------------------------------------------------------------------


@login_required
def become_seller(request):
    shop = selectors.shop_for_user(user=request.user)
    if shop is not None:
        return redirect("catalog:shop", slug=shop.slug)
    form = ShopForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            shop = services.shop_create(user=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, f"Your shop “{shop.name}” is open.")
            return redirect("catalog:shop", slug=shop.slug)
    return render(request, "accounts/become_seller.html", {"form": form})


@login_required
def shop_settings(request):
    shop = selectors.shop_for_user(user=request.user)
    if shop is None:
        return redirect("accounts:become_seller")
    if request.method == "POST":
        form = ShopForm(request.POST)
        if form.is_valid():
            try:
                shop = services.shop_update(user=request.user, **form.cleaned_data)
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(request, "Your shop is saved.")
                return redirect("catalog:shop", slug=shop.slug)
    else:
        form = ShopForm(
            initial={"name": shop.name, "tagline": shop.tagline, "description": shop.description}
        )
    return render(
        request, "accounts/settings_shop.html", {"form": form, "shop": shop, "tab": "shop"}
    )
