"""The web shell: landing page, operator dashboard, health probes and error pages."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.db import connections
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django_tasks_db.models import DBTaskResult

from micromarket.accounts import selectors as accounts_selectors
from micromarket.core.models import PeriodicJob


def home(request):
    return render(
        request,
        "core/home.html",
        {
            "shops": accounts_selectors.shops_recent(limit=8),
            "figures": accounts_selectors.marketplace_figures(),
        },
    )


@staff_member_required(login_url="accounts:login")
def ops_dashboard(request):
    """Operators: the marketplace's health at a glance."""
    tasks = {
        status: DBTaskResult.objects.filter(status=status).count()
        for status in ("READY", "RUNNING", "FAILED")
    }
    return render(
        request,
        "core/ops_dashboard.html",
        {
            "figures": accounts_selectors.marketplace_figures(),
            "tasks": tasks,
            "jobs": PeriodicJob.objects.all(),
        },
    )


@never_cache
def healthz(request):
    """Liveness: the process answers. Touches nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    """Readiness: every configured database answers a query."""
    checks = {}
    for alias in connections:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
            checks[alias] = "ok"
        except Exception as exc:
            checks[alias] = f"error: {exc.__class__.__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "databases": checks},
        status=200 if ready else 503,
    )


def _error_page(request, status: int, title: str, message: str):
    if request.path.startswith("/api/"):
        from micromarket.core.api import problem_response

        code = {400: "bad_request", 403: "forbidden", 404: "not_found", 500: "server_error"}
        return problem_response(request, status=status, code=code[status], detail=message)
    return render(
        request, "error.html", {"status": status, "title": title, "message": message}, status=status
    )


def bad_request(request, exception=None):
    return _error_page(request, 400, "Bad request", "We could not understand that request.")


def permission_denied(request, exception=None):
    return _error_page(request, 403, "Not allowed", "You do not have permission to see or do this.")


def page_not_found(request, exception=None):
    return _error_page(
        request, 404, "Page not found", "There is nothing at this address. It may have moved."
    )


def server_error(request):
    # Rendered without the request context: the failure may be in a context processor.
    if request.path.startswith("/api/"):
        return _error_page(request, 500, "", "Something went wrong on our side.")
    return render(request, "500.html", status=500, using=None)


def csrf_failure(request, reason=""):
    return _error_page(
        request,
        403,
        "Form expired",
        "This form was open too long or your cookies are blocked. Go back, reload, try again.",
    )
