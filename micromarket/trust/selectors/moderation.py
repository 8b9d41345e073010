"""Reads of the moderation area: what a user may report, their own reports, the operators'
queue grouped by target, and the audit log (see docs/trust.md)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q, QuerySet
from django.urls import reverse

from micromarket.accounts import selectors as account_selectors
from micromarket.catalog import selectors as catalog_selectors
from micromarket.core.errors import NotFound
from micromarket.messaging import selectors as messaging_selectors
from micromarket.trust.models import AuditEntry, Report, Review
from micromarket.trust.selectors import levels as level_selectors

KINDS = tuple(Report.Target.values)  # offer, user, message, review
REASON_LABELS = dict(Report.Reason.choices)
QUEUE_LIMIT = 500  # open reports read per queue page (oldest first)


@dataclass(frozen=True)
class ReportTarget:
    """What a report is about, as the reporter is allowed to see it."""

    kind: str
    id: int
    owner_id: int | None  # whose offer, profile, message or review it is
    label: str  # "the offer “Logo design”", shown on the report form
    url: str  # where the reporter saw it (back link)


def _pk(value) -> int:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise NotFound("There is nothing to report here.") from None
    if pk <= 0:
        raise NotFound("There is nothing to report here.")
    return pk


def review_public(review_id: int) -> Review | None:
    """A review everyone may read (revealed and not hidden), or None."""
    return (
        Review.objects.select_related("author", "subject", "offer")
        .filter(pk=review_id, revealed_at__isnull=False, hidden_at__isnull=True)
        .first()
    )


def report_target(*, kind: str, target_id, reporter) -> ReportTarget:
    """The target ``reporter`` wants to report, if they can see it; NotFound otherwise (an
    unknown kind, a missing id, an inactive offer, another conversation's message, a review
    not yet public all look the same, so ids do not leak)."""
    pk = _pk(target_id)
    if kind not in KINDS or not getattr(reporter, "is_authenticated", False):
        raise NotFound("There is nothing to report here.")
    if kind == Report.Target.OFFER:
        try:
            offer = catalog_selectors.offer_get_visible(offer_id=pk, viewer=reporter)
        except NotFound:
            raise NotFound("There is no such offer.") from None
        if offer.status != "active":
            raise NotFound("There is no such offer.")
        return ReportTarget(
            kind,
            pk,
            offer.seller_id,
            f"the offer “{offer.title}”",
            reverse("catalog:offer", args=[pk]),
        )
    if kind == Report.Target.USER:
        person = account_selectors.user_get_active(user_id=pk)
        if person is None:
            raise NotFound("There is no such person.")
        shop = account_selectors.shop_for_user(user=person)
        url = reverse("catalog:shop", args=[shop.slug]) if shop and shop.is_active else "/"
        return ReportTarget(kind, pk, person.pk, f"the profile of {person.display_name}", url)
    if kind == Report.Target.MESSAGE:
        message = messaging_selectors.message_for_report(message_id=pk, user=reporter)
        return ReportTarget(
            kind,
            pk,
            message.sender_id,
            f"a message from {message.sender.display_name}",
            reverse("messaging:thread", args=[message.conversation_id]) + f"#m-{pk}",
        )
    review = review_public(pk)
    if review is None:
        raise NotFound("There is no such review.")
    return ReportTarget(
        kind,
        pk,
        review.author_id,
        f"a review by {review.author.display_name}",
        reverse("catalog:offer", args=[review.offer_id])
        if review.offer_id
        else reverse("trust:person_reviews", args=[review.subject_id]),
    )


# --- the reporter's own reports -------------------------------------------------------------


def reports_for_user(*, user) -> QuerySet[Report]:
    """The reports ``user`` made, newest first."""
    return Report.objects.filter(reporter=user).order_by("-created_at", "-id")


def report_for_user(*, report_id, user) -> Report:
    """One of ``user``'s own reports; NotFound for anyone else's."""
    try:
        pk = int(report_id)
    except (TypeError, ValueError):
        raise NotFound("There is no such report.") from None
    report = Report.objects.filter(pk=pk, reporter_id=getattr(user, "pk", None)).first()
    if report is None:
        raise NotFound("There is no such report.")
    return report


def report_for_operator(*, report_id: int) -> Report:
    report = Report.objects.filter(pk=report_id).first()
    if report is None:
        raise NotFound("There is no such report.")
    return report


# --- the operators' queue ---------------------------------------------------------------------


@dataclass
class QueueItem:
    """The open reports on one target, with what operators need to decide."""

    kind: str
    target_id: int
    reports: list[Report] = field(default_factory=list)
    target_user: object | None = None
    context: dict = field(default_factory=dict)  # offer / person / message+excerpt / review

    @property
    def count(self) -> int:
        return len(self.reports)

    @property
    def first_at(self) -> datetime:
        return self.reports[0].created_at

    @property
    def reasons(self) -> list[tuple[str, int]]:
        """(label, how many) per reason, the most frequent first."""
        counts = Counter(r.reason for r in self.reports)
        return [(REASON_LABELS.get(k, k), n) for k, n in counts.most_common()]

    @property
    def oldest(self) -> Report:
        return self.reports[0]

    @property
    def actions(self) -> list[tuple[str, str]]:
        return actions_for(self.kind, has_owner=self.target_user is not None)


def actions_for(kind: str, *, has_owner: bool = True) -> list[tuple[str, str]]:
    """The actions that make sense on a target of ``kind`` (value, label)."""
    actions = [("dismiss", "Dismiss: nothing wrong")]
    if kind in (Report.Target.REVIEW, Report.Target.MESSAGE):
        actions.append(("hide", f"Hide the {kind}"))
    if kind == Report.Target.OFFER:
        actions.append(("remove_offer", "Remove the offer"))
    if has_owner:
        actions += [("warn", "Warn the owner"), ("suspend", "Suspend the owner's account")]
    return actions


def report_queue(*, kind: str | None = None, limit: int = QUEUE_LIMIT) -> list[QueueItem]:
    """Open reports grouped by target, the target reported longest ago first, each with its
    context (a few queries per kind, whatever the number of reports)."""
    rows = Report.objects.filter(status=Report.Status.OPEN).select_related("reporter")
    if kind:
        rows = rows.filter(target_kind=kind)
    items: dict[tuple[str, int], QueueItem] = {}
    for report in rows.order_by("created_at", "id")[:limit]:
        key = (report.target_kind, report.target_id)
        item = items.setdefault(key, QueueItem(kind=report.target_kind, target_id=report.target_id))
        item.reports.append(report)
    queue = list(items.values())
    _attach_context(queue)
    return queue


def queue_item(*, kind: str, target_id: int) -> QueueItem:
    """The open reports on one target with its context (NotFound when none is open)."""
    reports = list(
        Report.objects.filter(status=Report.Status.OPEN, target_kind=kind, target_id=target_id)
        .select_related("reporter")
        .order_by("created_at", "id")
    )
    if not reports:
        raise NotFound("There are no open reports on this.")
    item = QueueItem(kind=kind, target_id=target_id, reports=reports)
    _attach_context([item])
    return item


def _attach_context(queue: list[QueueItem]) -> None:
    by_kind: dict[str, list[int]] = {}
    owner_ids = set()
    for item in queue:
        by_kind.setdefault(item.kind, []).append(item.target_id)
        owner_ids.update(r.target_user_id for r in item.reports if r.target_user_id)
    people = account_selectors.users_by_ids(ids=owner_ids | set(by_kind.get("user", [])))
    offers = {o.pk: o for o in catalog_selectors.offers_by_ids(ids=by_kind.get("offer", []))}
    reviews = {
        r.pk: r
        for r in Review.objects.select_related("author", "subject", "offer").filter(
            pk__in=by_kind.get("review", [])
        )
    }
    for item in queue:
        owner_id = next((r.target_user_id for r in item.reports if r.target_user_id), None)
        item.target_user = people.get(owner_id)
        if item.kind == "offer":
            item.context = {"offer": offers.get(item.target_id)}
        elif item.kind == "user":
            item.context = {"person": people.get(item.target_id)}
        elif item.kind == "review":
            item.context = {"review": reviews.get(item.target_id)}
        elif item.kind == "message":
            try:
                message, excerpt = messaging_selectors.message_with_context(
                    message_id=item.target_id
                )
            except NotFound:
                message, excerpt = None, []
            item.context = {"message": message, "excerpt": excerpt}


# --- a person, for operators ------------------------------------------------------------------


def reports_about_user(*, user_id: int) -> QuerySet[Report]:
    """Every report on something of the user's, newest first."""
    return (
        Report.objects.filter(Q(target_user_id=user_id) | Q(target_kind="user", target_id=user_id))
        .select_related("reporter", "handled_by")
        .order_by("-created_at", "-id")
    )


def audit_for_user(*, user_id: int) -> QuerySet[AuditEntry]:
    return (
        AuditEntry.objects.filter(
            Q(target_user_id=user_id) | Q(target_kind="user", target_id=user_id)
        )
        .select_related("actor")
        .order_by("-created_at", "-id")
    )


def standing_for(*, user_id: int):
    """A seller's level from the levels area (read-only here); None for someone without a
    shop."""
    person = account_selectors.users_by_ids(ids=[user_id]).get(user_id)
    if person is None or account_selectors.shop_for_user(user=person) is None:
        return None
    return level_selectors.standing_for(seller_id=user_id)


# --- the audit log --------------------------------------------------------------------------


def audit_entries(
    *,
    action: str = "",
    actor_id: int | None = None,
    target_kind: str = "",
    target_id: int | None = None,
) -> QuerySet[AuditEntry]:
    """Every operator action of every area, newest first, filtered as asked."""
    rows = AuditEntry.objects.select_related("actor", "target_user").order_by("-created_at", "-id")
    if action:
        rows = rows.filter(action=action)
    if actor_id:
        rows = rows.filter(actor_id=actor_id)
    if target_kind:
        rows = rows.filter(target_kind=target_kind)
    if target_id:
        rows = rows.filter(target_id=target_id)
    return rows


def audit_actions() -> list[str]:
    """The actions the log holds (for the filter's choices)."""
    return list(AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct())


def reports_for_operators(*, status: str | None = "open", kind: str | None = None):
    rows = Report.objects.order_by("created_at", "id")
    if status:
        rows = rows.filter(status=status)
    if kind:
        rows = rows.filter(target_kind=kind)
    return rows


def open_count(*, kind: str, target_id: int) -> int:
    return Report.objects.filter(
        status=Report.Status.OPEN, target_kind=kind, target_id=target_id
    ).count()
