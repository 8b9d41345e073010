"""Pages of the moderation area: the report form, a user's own reports, the operators' report
queue, a person's moderation page and the audit log (see docs/trust.md).

Operator pages answer 404 to signed-in people who are not operators (and send visitors to
sign in), so nothing about the queue leaks; the services check again.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from micromarket.accounts import selectors as account_selectors
from micromarket.core.errors import DomainError, NotFound
from micromarket.core.forms import form_add_domain_error
from micromarket.trust.forms.moderation import (
    AuditFilterForm,
    HandleForm,
    ReportForm,
    UserActionForm,
)
from micromarket.trust.models import Report
from micromarket.trust.selectors import moderation as selectors
from micromarket.trust.services import moderation as services

AUDIT_PER_PAGE = 50


def operator_page(view):
    """Operators only: visitors are asked to sign in, anyone else gets 404."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("accounts:login"))
        if not request.user.is_staff:
            raise Http404("There is no such page.")
        return view(request, *args, **kwargs)

    return wrapper


def _status(exc: DomainError) -> int:
    return exc.status if exc.status in (403, 404, 409, 429) else 400


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- reporting --------------------------------------------------------------------------------


@login_required
def report(request, kind: str, target_id: int):
    """Report something: choose a reason, add details; then a thank-you page."""
    try:
        target = selectors.report_target(kind=kind, target_id=target_id, reporter=request.user)
    except NotFound as exc:
        raise Http404(exc.message) from None
    back = _safe_next(request, target.url)
    status = 200
    if request.method == "POST":
        form = ReportForm(request.POST)
        if form.is_valid():
            try:
                services.report_create(
                    reporter=request.user,
                    target_kind=kind,
                    target_id=target_id,
                    reason=form.cleaned_data["reason"],
                    details=form.cleaned_data["details"],
                )
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = _status(exc)
            else:
                return redirect(f"{reverse('trust:report_sent')}?{urlencode({'next': back})}")
        else:
            status = 400
    else:
        form = ReportForm()
    return render(
        request,
        "trust/moderation/report.html",
        {"form": form, "target": target, "back": back},
        status=status,
    )


@login_required
def report_sent(request):
    return render(request, "trust/moderation/report_sent.html", {"back": _safe_next(request, "/")})


@login_required
def my_reports(request):
    page = Paginator(selectors.reports_for_user(user=request.user), 30).get_page(
        request.GET.get("page")
    )
    return render(request, "trust/moderation/my_reports.html", {"page": page})


# --- the operators' queue -----------------------------------------------------------------------


def _queue(request, *, failed: tuple[int, HandleForm] | None = None, status: int = 200):
    kind = request.GET.get("kind") or ""
    kind = kind if kind in selectors.KINDS else ""
    queue = selectors.report_queue(kind=kind or None)
    for item in queue:
        if failed and failed[0] == item.oldest.pk:
            item.form = failed[1]
        else:
            item.form = HandleForm(actions=item.actions, auto_id=f"r{item.oldest.pk}_%s")
    return render(
        request,
        "trust/moderation/ops_reports.html",
        {"queue": queue, "kind": kind, "kinds": Report.Target.choices},
        status=status,
    )


@operator_page
def ops_reports(request):
    """Open reports, the target reported longest ago first, one card per target."""
    return _queue(request)


@operator_page
@require_POST
def ops_report_handle(request, report_id: int):
    try:
        report = selectors.report_for_operator(report_id=report_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    actions = selectors.actions_for(report.target_kind, has_owner=report.target_user_id is not None)
    form = HandleForm(request.POST, actions=actions, auto_id=f"r{report_id}_%s")
    if form.is_valid():
        try:
            services.report_handle(
                actor=request.user,
                report_id=report_id,
                action=form.cleaned_data["action"],
                reason=form.cleaned_data["reason"],
                message=form.cleaned_data["message"],
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
            return _queue(request, failed=(report_id, form), status=_status(exc))
        messages.success(request, "Done: the reports on it are closed and the action is logged.")
        return redirect(_safe_next(request, reverse("trust:ops_reports")))
    return _queue(request, failed=(report_id, form), status=400)


# --- a person ---------------------------------------------------------------------------------


@operator_page
def ops_user(request, user_id: int):
    """A person's reports and audit history, with suspend / reinstate / warn."""
    try:
        person = account_selectors.user_for_operators(user_id=user_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    status = 200
    if request.method == "POST":
        form = UserActionForm(request.POST, suspended=person.suspended_at is not None)
        if form.is_valid():
            try:
                services.user_moderate(
                    actor=request.user,
                    user_id=person.pk,
                    action=form.cleaned_data["action"],
                    reason=form.cleaned_data["reason"],
                    message=form.cleaned_data["message"],
                )
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = _status(exc)
            else:
                messages.success(request, "Done, and written to the audit log.")
                return redirect("trust:ops_user", user_id=person.pk)
        else:
            status = 400
    else:
        form = UserActionForm(suspended=person.suspended_at is not None)
    return render(
        request,
        "trust/moderation/ops_user.html",
        {
            "person": person,
            "shop": account_selectors.shop_for_user(user=person),
            "form": form,
            "reports": selectors.reports_about_user(user_id=person.pk)[:100],
            "audit": selectors.audit_for_user(user_id=person.pk)[:100],
            "standing": selectors.standing_for(user_id=person.pk),
        },
        status=status,
    )


# --- the audit log ----------------------------------------------------------------------------


@operator_page
def ops_audit(request):
    """Every operator action of every area, newest first; filter and page through it."""
    form = AuditFilterForm(request.GET or None, actions=selectors.audit_actions())
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    rows = selectors.audit_entries(
        action=filters.get("action") or "",
        actor_id=filters.get("actor"),
        target_kind=filters.get("target_kind") or "",
        target_id=filters.get("target_id"),
    )
    page = Paginator(rows, AUDIT_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "trust/moderation/ops_audit.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


urlpatterns = [
    path("report/mine/", my_reports, name="my_reports"),
    path("report/sent/", report_sent, name="report_sent"),
    path("report/<str:kind>/<int:target_id>/", report, name="report"),
    path("ops/trust/reports/", ops_reports, name="ops_reports"),
    path(
        "ops/trust/reports/<int:report_id>/handle/",
        ops_report_handle,
        name="ops_report_handle",
    ),
    path("ops/trust/users/<int:user_id>/", ops_user, name="ops_user"),
    path("ops/trust/audit/", ops_audit, name="ops_audit"),
]
