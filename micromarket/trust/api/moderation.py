"""API of the moderation area (see docs/trust.md).

- ``POST /reports`` reports an offer, a profile (``user``), a message or a review the caller
  can see; ``GET /reports`` and ``/reports/{id}`` are the caller's own reports (anyone else's
  are 404).
- ``/ops/reports`` and ``/ops/audit`` are for operators (403 ``operators_only`` for anyone
  else); handling a report closes every open report on its target and writes the audit log.
"""

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import paginate

from micromarket.core.api import PROBLEM_RESPONSES, LimitOffsetPage, Problem
from micromarket.trust.models import Report
from micromarket.trust.schemas.moderation import (
    AuditOut,
    AuditQuery,
    HandleIn,
    OpsReportOut,
    OpsReportsQuery,
    ReportIn,
    ReportOut,
)
from micromarket.trust.selectors import moderation as selectors
from micromarket.trust.services import moderation as services

router = Router(tags=["trust"])
PROBLEMS = {**PROBLEM_RESPONSES, 429: Problem}


def _ops_report(report: Report) -> dict:
    return {
        **{f: getattr(report, f) for f in ReportOut.model_fields},
        "reporter_id": report.reporter_id,
        "target_user_id": report.target_user_id,
        "action": report.action,
        "handled_by_id": report.handled_by_id,
        "open_on_target": selectors.open_count(kind=report.target_kind, target_id=report.target_id),
    }


@router.post(
    "/reports",
    response={201: ReportOut, **PROBLEMS},
    summary="Report an offer, a profile, a message or a review to the moderators",
    description=(
        "- **404** — nothing you can see has this kind and id (including messages of other "
        "people's conversations and reviews that are not public).\n"
        "- **422** `own_target` — it is yours.\n"
        "- **409** `already_reported` — your earlier report on it is still open.\n"
        f"- **429** `rate_limited` — more than {services.REPORTS_PER_DAY} reports in 24 hours."
    ),
)
def report_create(request: HttpRequest, payload: ReportIn):
    report = services.report_create(
        reporter=request.auth,
        target_kind=payload.target_kind,
        target_id=payload.target_id,
        reason=payload.reason,
        details=payload.details,
    )
    return Status(201, report)


@router.get("/reports", response=list[ReportOut], summary="Your reports, newest first")
@paginate(LimitOffsetPage)
def reports_list(request: HttpRequest):
    return selectors.reports_for_user(user=request.auth)


@router.get(
    "/reports/{report_id}",
    response={200: ReportOut, **PROBLEM_RESPONSES},
    summary="One of your reports and its status",
)
def report_get(request: HttpRequest, report_id: int):
    return selectors.report_for_user(report_id=report_id, user=request.auth)


# --- operators --------------------------------------------------------------------------------


@router.get(
    "/ops/reports",
    response=list[OpsReportOut],
    summary="Operators: reports (open ones by default), oldest first",
)
@paginate(LimitOffsetPage)
def ops_reports(request: HttpRequest, filters: Query[OpsReportsQuery]):
    services.operator_required(request.auth)
    rows = selectors.reports_for_operators(status=filters.status, kind=filters.target_kind)
    return _OpsReports(rows)


class _OpsReports:
    """Serialises only the page ninja slices (the open count is one query per report shown)."""

    def __init__(self, rows):
        self.rows = rows

    def __len__(self) -> int:
        return self.rows.count()

    def __getitem__(self, index):
        return [_ops_report(r) for r in self.rows[index]]


@router.post(
    "/ops/reports/{report_id}/handle",
    response={200: OpsReportOut, **PROBLEM_RESPONSES},
    summary="Operators: act on a report (closes every open report on its target)",
    description=(
        "Actions: `dismiss`; `hide` (a review or a message); `suspend` (the owner's account); "
        "`remove_offer`; `warn` (`message` is what the owner reads). One audit entry is "
        "written with `reason`.\n\n- **409** `already_handled` — the report is closed."
    ),
)
def ops_report_handle(request: HttpRequest, report_id: int, payload: HandleIn):
    report = services.report_handle(
        actor=request.auth,
        report_id=report_id,
        action=payload.action,
        reason=payload.reason,
        message=payload.message,
    )
    return _ops_report(report)


@router.get(
    "/ops/audit",
    response=list[AuditOut],
    summary="Operators: the audit log of every operator action, newest first",
)
@paginate(LimitOffsetPage)
def ops_audit(request: HttpRequest, filters: Query[AuditQuery]):
    services.operator_required(request.auth)
    return selectors.audit_entries(
        action=filters.action or "",
        actor_id=filters.actor_id,
        target_kind=filters.target_kind or "",
        target_id=filters.target_id,
    )
