"""API shapes of the moderation area."""

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

Kind = Literal["offer", "user", "message", "review"]
Reason = Literal["spam", "prohibited", "off_platform", "harassment", "fake", "ip", "other"]


class ReportIn(Schema):
    target_kind: Kind = Field(description="offer, user (a profile), message or review.")
    target_id: int = Field(ge=1)
    reason: Reason
    details: str = Field("", max_length=3000, description="Only moderators read it.")


class ReportOut(Schema):
    id: int
    target_kind: str
    target_id: int
    reason: str
    details: str
    status: Literal["open", "dismissed", "actioned"] = Field(
        description="open; dismissed (nothing against the rules) or actioned (action taken)."
    )
    created_at: datetime
    handled_at: datetime | None


class OpsReportOut(ReportOut):
    reporter_id: int
    target_user_id: int | None = Field(description="Whose offer, profile, message or review.")
    action: str = Field(description="What the operator did, once handled.")
    handled_by_id: int | None
    open_on_target: int = Field(description="Open reports on the same target (all of them).")


class HandleIn(Schema):
    action: Literal["dismiss", "hide", "suspend", "remove_offer", "warn"]
    reason: str = Field(min_length=1, max_length=3000, description="Kept in the audit log.")
    message: str = Field("", max_length=900, description="For warn: what the owner reads.")


class OpsReportsQuery(Schema):
    status: Literal["open", "dismissed", "actioned"] | None = "open"
    target_kind: Kind | None = None


class AuditQuery(Schema):
    action: str | None = None
    actor_id: int | None = None
    target_kind: str | None = None
    target_id: int | None = None


class AuditOut(Schema):
    id: int
    actor_id: int
    action: str
    target_kind: str
    target_id: int
    target_user_id: int | None
    reason: str
    data: dict
    created_at: datetime
