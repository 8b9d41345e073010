"""Projects' reads: what a buyer or seller may see, the task search, the buyer's board and the
seller's lists. Visibility follows ``services.can_see`` (docs/projects.md)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from micromarket.catalog import selectors as catalog_selectors
from micromarket.core.errors import NotFound, ValidationFailed
from micromarket.orders import processes as order_processes
from micromarket.orders import selectors as order_selectors
from micromarket.projects.models import (
    Assignment,
    Project,
    ProjectAttachment,
    ProjectInvite,
    Proposal,
    Task,
)
from micromarket.trust.selectors import levels as trust_levels
from micromarket.trust.selectors import reviews as trust_reviews

SEARCH_SCAN = 2000  # newest open tasks examined per search (see tasks_search)
FRESH_DAYS = 14

# The work's stage, as the board's columns: from the assignment and its order's state.
STAGES = {
    "funding": "Waiting for funding",
    "paying": "Payment under way",
    "in_progress": "In progress",
    "submitted": "Submitted",
    "revision_requested": "Revision requested",
    "completed": "Approved and paid",
    "disputed": "In dispute",
    "cancelled": "Cancelled",
}


def stage_of(assignment: Assignment) -> str:
    order = assignment.order
    if order is None or order.state == "payment_failed":
        return "funding"
    if order.state == "pending_payment":  # e.g. waiting for the card's extra step
        return "paying"
    if order.state == "approved":
        return "completed"
    return order.state if order.state in STAGES else "in_progress"


# --- the rules' figures (services use them under their locks) ---------------------------------


def live_assignments() -> Q:
    """Assignments that hold a unit and count against the budget (for ``Assignment`` rows)."""
    return Q(status=Assignment.Status.ACTIVE) & ~Q(order__state="cancelled")


def can_see(project: Project, user) -> bool:
    """The module docstring's visibility rule, for one project."""
    if not getattr(user, "is_authenticated", False):
        return project.status == Project.Status.OPEN and (
            project.visibility == Project.Visibility.PUBLIC
        )
    if project.buyer_id == user.pk:
        return True
    involved = (
        Proposal.objects.filter(task__project=project, seller=user).exists()
        or Assignment.objects.filter(task__project=project, seller=user).exists()
    )
    if involved:
        return True
    if project.status != Project.Status.OPEN:
        return False
    return project.visibility == Project.Visibility.PUBLIC or (
        ProjectInvite.objects.filter(project=project, seller=user).exists()
    )


def committed(project_id: int) -> int:
    """The prices of the project's live assignments (funded or waiting to be)."""
    return (
        Assignment.objects.filter(live_assignments(), task__project_id=project_id).aggregate(
            s=Sum("price")
        )["s"]
        or 0
    )


def units_taken(task_id: int, *, seller_id: int | None = None) -> int:
    qs = Assignment.objects.filter(live_assignments(), task_id=task_id)
    if seller_id is not None:
        qs = qs.filter(seller_id=seller_id)
    return qs.count()


def waiting_for(task: Task) -> Task | None:
    """The task this one waits for, while that task's work is not finished; else None.

    Finished: every unit paid out, or the buyer closed it with no work still under way."""
    before = task.depends_on
    if before is None:
        return None
    live = Assignment.objects.filter(live_assignments(), task_id=before.pk)
    done = live.filter(order__state="completed").count()
    if done >= before.quantity:
        return None
    if before.status == Task.Status.CLOSED and done == live.count():
        return None
    return before


# --- single objects ---------------------------------------------------------------------------


def project_for_buyer(*, buyer, project_id: int) -> Project:
    project = (
        Project.objects.select_related("category")
        .filter(pk=project_id, buyer_id=getattr(buyer, "pk", None))
        .first()
    )
    if project is None:
        raise NotFound("There is no such project.")
    return project


def project_visible(*, viewer, project_id: int) -> Project:
    project = Project.objects.select_related("buyer", "category").filter(pk=project_id).first()
    if project is None or not can_see(project, viewer):
        raise NotFound("There is no such project.")
    return project


def task_visible(*, viewer, task_id: int) -> Task:
    task = (
        Task.objects.select_related("project__buyer", "project__category", "depends_on")
        .filter(pk=task_id)
        .first()
    )
    if task is None or not can_see(task.project, viewer):
        raise NotFound("There is no such task.")
    return task


def attachment_for_user(*, attachment_id: int, user) -> ProjectAttachment:
    item = ProjectAttachment.objects.select_related("project").filter(pk=attachment_id).first()
    signed_in = getattr(user, "is_authenticated", False)  # files: for members, not the web
    if item is None or not signed_in or not can_see(item.project, user):
        raise NotFound("There is no such attachment.")
    return item


def proposal_for_user(*, proposal_id: int, user) -> Proposal:
    """A proposal for its seller or the project's buyer."""
    proposal = (
        Proposal.objects.select_related("task__project", "seller")
        .filter(pk=proposal_id)
        .filter(Q(seller_id=user.pk) | Q(task__project__buyer_id=user.pk))
        .first()
    )
    if proposal is None:
        raise NotFound("There is no such proposal.")
    return proposal


def assignment_for_user(*, assignment_id: int, user) -> Assignment:
    assignment = (
        Assignment.objects.select_related("task__project", "seller", "order")
        .filter(pk=assignment_id)
        .filter(Q(seller_id=user.pk) | Q(task__project__buyer_id=user.pk))
        .first()
    )
    if assignment is None:
        raise NotFound("There is no such assignment.")
    return assignment


# --- units ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Units:
    quantity: int
    taken: int  # live assignments (funded or waiting to be)
    done: int  # approved and paid

    @property
    def left(self) -> int:
        return max(self.quantity - self.taken, 0)


def task_units(tasks) -> dict[int, Units]:
    """Task id → its units, in one query."""
    tasks = list(tasks)
    rows = (
        Assignment.objects.filter(live_assignments(), task__in=[t.pk for t in tasks])
        .values("task_id")
        .annotate(
            taken=Count("id"),
            done=Count("id", filter=Q(order__state__in=("approved", "completed"))),
        )
    )
    by_task = {r["task_id"]: r for r in rows}
    return {
        t.pk: Units(
            t.quantity,
            by_task.get(t.pk, {}).get("taken", 0),
            by_task.get(t.pk, {}).get("done", 0),
        )
        for t in tasks
    }


# --- the seller's search ----------------------------------------------------------------------


def _visible_open_tasks(viewer) -> QuerySet[Task]:
    visible = Q(project__visibility=Project.Visibility.PUBLIC)
    if getattr(viewer, "is_authenticated", False):
        invited = ProjectInvite.objects.filter(project=OuterRef("project"), seller=viewer)
        visible |= Q(Exists(invited))
    return (
        Task.objects.filter(visible, project__status=Project.Status.OPEN, status=Task.Status.OPEN)
        .exclude(project__buyer_id=getattr(viewer, "pk", None))
        .select_related("project__buyer", "project__category__parent", "depends_on")
    )


@dataclass
class TaskHit:
    task: Task
    units: Units
    score: float
    waiting_for: Task | None = None


@dataclass
class TaskSearch:
    hits: list[TaskHit]
    total: int
    page: int
    pages: int
    scanned_all: bool  # False: only the newest SEARCH_SCAN open tasks were examined
    skills: list[tuple[str, int]] = field(default_factory=list)  # facet: skill → tasks


SORTS = ("best", "newest", "budget_desc", "deadline")


def tasks_search(
    *,
    viewer,
    text: str = "",
    category: str = "",
    skill: str = "",
    currency: str = "",
    budget_min: int | None = None,
    claimable: bool | None = None,
    sort: str = "best",
    page: int = 1,
    per_page: int = 20,
    now: datetime | None = None,
) -> TaskSearch:
    """Open tasks the viewer may see, matched and ranked with the catalog's text relevance
    (``catalog.selectors.text_score``: the same query syntax, stemming and field weights as
    offer search) blended with freshness. Filters run in the database; the newest
    ``SEARCH_SCAN`` candidates are scored in Python (``scanned_all`` says when there were
    more). Tasks with no unit left are left out."""
    now = now or timezone.now()
    if sort not in SORTS:
        raise ValidationFailed(f"Sort by one of: {', '.join(SORTS)}.", field="sort")
    per_page = max(1, min(int(per_page or 20), 100))
    qs = _visible_open_tasks(viewer)
    if category:
        qs = qs.filter(
            Q(project__category__slug=category) | Q(project__category__parent__slug=category)
        )
    if currency:
        qs = qs.filter(project__currency=currency.upper())
        if budget_min is not None:
            qs = qs.filter(budget__gte=budget_min)
    if claimable is not None:
        qs = qs.filter(claimable=claimable)
    candidates = list(qs.order_by("-id")[: SEARCH_SCAN + 1])
    scanned_all = len(candidates) <= SEARCH_SCAN
    candidates = candidates[:SEARCH_SCAN]
    wanted_skill = " ".join(skill.split()).casefold()
    if wanted_skill:
        candidates = [t for t in candidates if wanted_skill in t.skills]
    units = task_units(candidates)
    hits = []
    for task in candidates:
        if units[task.pk].left == 0:
            continue
        score = catalog_selectors.text_score(
            text, title=task.title, meta=" ".join(task.skills), body=task.brief
        )
        if score is None:
            continue
        published = task.project.published_at or task.created_at
        age_days = max((now - max(published, task.created_at)).total_seconds(), 0) / 86400
        freshness = 1 / (1 + age_days / FRESH_DAYS)
        hits.append(TaskHit(task, units[task.pk], 0.8 * score + 0.2 * freshness))
    facet = Counter(s for h in hits for s in h.task.skills)
    order = {
        "best": lambda h: (-h.score, -h.task.pk),
        "newest": lambda h: -h.task.pk,
        "budget_desc": lambda h: (-h.task.budget, -h.task.pk),
        "deadline": lambda h: (h.task.deadline, h.task.pk),
    }[sort]
    hits.sort(key=order)
    total = len(hits)
    pages = max(1, math.ceil(total / per_page))
    page = max(1, min(int(page or 1), pages))
    shown = hits[(page - 1) * per_page : page * per_page]
    for hit in shown:
        hit.waiting_for = waiting_for(hit.task)
    return TaskSearch(
        hits=shown,
        total=total,
        page=page,
        pages=pages,
        scanned_all=scanned_all,
        skills=facet.most_common(12),
    )


# --- proposals with reputation ----------------------------------------------------------------


@dataclass
class ProposalCard:
    proposal: Proposal
    rating: float | None
    reviews: int
    level: str  # the seller level's label
    completed_orders: int


def proposals_compared(*, buyer, task_id: int) -> list[ProposalCard]:
    """The task's proposals for its buyer, waiting ones first, each with the seller's
    reputation (rating from public reviews, seller level, completed orders)."""
    task = Task.objects.filter(pk=task_id, project__buyer_id=getattr(buyer, "pk", None)).first()
    if task is None:
        raise NotFound("There is no such task.")
    proposals = list(task.proposals.select_related("seller").order_by("created_at", "id"))
    rank = {Proposal.Status.PENDING: 0, Proposal.Status.AWARDED: 1}
    proposals.sort(key=lambda p: (rank.get(p.status, 2), p.created_at, p.pk))
    cards = []
    for proposal in proposals:
        rep = trust_reviews.reputation(user=proposal.seller)
        standing = trust_levels.standing_for(seller_id=proposal.seller_id)
        cards.append(
            ProposalCard(
                proposal=proposal,
                rating=rep.rounded,
                reviews=rep.count,
                level=standing.label,
                completed_orders=int(standing.figures.get("completed_orders", 0) or 0),
            )
        )
    return cards


# --- the buyer's board ------------------------------------------------------------------------


@dataclass
class TaskRow:
    task: Task
    units: Units
    assignments: list[Assignment]
    pending_proposals: int
    waiting_for: Task | None


@dataclass
class Spend:
    budget: int
    committed: int  # live assignments' prices
    funding: int  # awarded or claimed, not yet paid for (or the payment is under way)
    in_escrow: int  # paid, waiting for approval
    paid: int  # released to sellers
    refunded: int

    @property
    def left(self) -> int:
        return max(self.budget - self.committed, 0)


@dataclass
class Board:
    project: Project
    rows: list[TaskRow]
    spend: Spend
    columns: dict[str, list[Assignment]]  # stage → assignments
    workers: list[tuple[object, list[Assignment]]]  # seller → their assignments
    progress: list[tuple[str, int, int]]  # (task title, units done, quantity)
    to_fund: list[Assignment]


def project_board(*, buyer, project_id: int) -> Board:
    """Everything the buyer's project page shows, in a fixed number of queries."""
    project = project_for_buyer(buyer=buyer, project_id=project_id)
    tasks = list(project.tasks.select_related("depends_on"))
    units = task_units(tasks)
    assignments = list(
        Assignment.objects.filter(task__project=project)
        .select_related("seller", "order", "task")
        .order_by("created_at", "id")
    )
    pending = dict(
        Proposal.objects.filter(task__project=project, status=Proposal.Status.PENDING)
        .values("task_id")
        .annotate(n=Count("id"))
        .values_list("task_id", "n")
    )
    by_task: dict[int, list[Assignment]] = {}
    for a in assignments:
        by_task.setdefault(a.task_id, []).append(a)
    rows = [
        TaskRow(t, units[t.pk], by_task.get(t.pk, []), pending.get(t.pk, 0), waiting_for(t))
        for t in tasks
    ]
    live = [
        a
        for a in assignments
        if a.status == Assignment.Status.ACTIVE and not (a.order and a.order.state == "cancelled")
    ]
    orders = [a.order for a in assignments if a.order is not None]
    money = order_selectors.orders_paid_out(orders=orders)
    spend = Spend(
        budget=project.budget,
        committed=committed(project.pk),
        funding=sum(a.price for a in live if stage_of(a) in ("funding", "paying")),
        in_escrow=sum(money[o.pk].held for o in orders),
        paid=sum(money[o.pk].paid for o in orders),
        refunded=sum(money[o.pk].refunded for o in orders),
    )
    columns: dict[str, list[Assignment]] = {stage: [] for stage in STAGES}
    workers: dict[int, tuple[object, list[Assignment]]] = {}
    for a in assignments:
        if a.status != Assignment.Status.ACTIVE:
            continue
        columns[stage_of(a)].append(a)
        workers.setdefault(a.seller_id, (a.seller, []))[1].append(a)
    return Board(
        project=project,
        rows=rows,
        spend=spend,
        columns=columns,
        workers=list(workers.values()),
        progress=[(t.title, units[t.pk].done, t.quantity) for t in tasks],
        to_fund=[a for a in live if stage_of(a) == "funding"],
    )


# --- lists ------------------------------------------------------------------------------------


def projects_for_buyer(*, buyer) -> QuerySet[Project]:
    return (
        Project.objects.filter(buyer_id=getattr(buyer, "pk", None))
        .annotate(task_count=Count("tasks", distinct=True))
        .order_by("-id")
    )


def proposals_for_seller(*, seller) -> QuerySet[Proposal]:
    return (
        Proposal.objects.filter(seller_id=getattr(seller, "pk", None))
        .select_related("task__project", "assignment__order")
        .order_by("-created_at", "-id")
    )


def assignments_for_seller(*, seller) -> QuerySet[Assignment]:
    return (
        Assignment.objects.filter(seller_id=getattr(seller, "pk", None))
        .select_related("task__project__buyer", "order")
        .order_by("-created_at", "-id")
    )


def work_steps(*, assignment: Assignment, user) -> list:
    """The steps ``user`` can take on the assignment's order now (submit, approve …)."""
    if assignment.order is None:
        return []
    return order_selectors.transitions_available(order=assignment.order, user=user)


MILESTONE_STATES = order_processes.PROCESSES["milestone"].states
