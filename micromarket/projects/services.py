"""Projects' writes: projects and their tasks, proposals, awards, claims and funding.

Rules every function keeps (docs/projects.md):
- Only the buyer changes a project, its tasks, invites and attachments; only a seller (a user
  with an active shop) proposes or claims, never on their own project.
- A seller sees a project when it is open and public, or they are invited, or they already
  have a proposal or an assignment on it. Anything else is ``NotFound``.
- **Budget.** What is committed — the prices of the project's live assignments, funded or
  waiting to be — never exceeds the project's budget. Awards and claims check it under the
  project's row lock, then the task's, always in that order, so they serialise per project.
- **Units.** A task has ``quantity`` units; a live assignment takes one. A seller may hold at
  most ``per_seller_limit`` of one task. A cancelled (refunded) order frees its unit.
- **Money.** An assignment is paid for by ``assignments_fund``: one checkout, one milestone
  order and one escrow per assignment (orders and payments apps). From then on the order's
  process moves the work and the money: submit, revision, approve, release, disputes.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from micromarket.accounts import selectors as account_selectors
from micromarket.catalog import selectors as catalog_selectors
from micromarket.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from micromarket.core.files import file_sniff
from micromarket.core.money import currency_check, money_format
from micromarket.messaging import services as messaging_services
from micromarket.orders import selectors as order_selectors
from micromarket.orders import services as order_services
from micromarket.projects.models import (
    Assignment,
    Project,
    ProjectAttachment,
    ProjectInvite,
    Proposal,
    Task,
)
from micromarket.projects.selectors import (
    can_see,
    committed,
    units_taken,
    waiting_for,
)

logger = logging.getLogger(__name__)

MAX_TASKS = 100  # per project
MAX_QUANTITY = 1000  # units of one task
MAX_SKILLS = 10
MAX_ATTACHMENTS = 10
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
FUNDING_WINDOW = timedelta(hours=48)  # an award or claim not funded in this time lapses
MAX_AMOUNT = 10**12  # minor units: far above any real project, inside 64-bit sums


# --- who may do what --------------------------------------------------------------------------


def _project_for_buyer(buyer, project_id: int, *, lock: bool = False) -> Project:
    qs = Project.objects.filter(pk=project_id, buyer_id=getattr(buyer, "pk", None))
    project = (qs.select_for_update() if lock else qs).first()
    if project is None:
        raise NotFound("There is no such project.")
    return project


def _task_for_buyer(buyer, task_id: int) -> Task:
    task = (
        Task.objects.select_related("project")
        .filter(pk=task_id, project__buyer_id=getattr(buyer, "pk", None))
        .first()
    )
    if task is None:
        raise NotFound("There is no such task.")
    return task


def _require_seller(user) -> None:
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied("Sign in as a seller first.")
    shop = account_selectors.shop_for_user(user=user)
    if shop is None or not shop.is_active:
        raise PermissionDenied(
            "Only sellers can propose or take tasks: open your shop first.", code="not_a_seller"
        )


def _task_visible_to_seller(seller, task_id: int) -> Task:
    task = Task.objects.select_related("project").filter(pk=task_id).first()
    if task is None or not can_see(task.project, seller):
        raise NotFound("There is no such task.")
    return task


# --- input checks -----------------------------------------------------------------------------


def _text(value, limit: int, field: str, label: str, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed(f"Give the {label}.", field=field)
    if len(text) > limit:
        raise ValidationFailed(f"Keep the {label} under {limit} characters.", field=field)
    return text


def _amount(value, field: str, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"The {label} is a whole number of minor units.", field=field)
    if value <= 0:
        raise ValidationFailed(f"The {label} must be more than zero.", field=field)
    if value > MAX_AMOUNT:
        raise ValidationFailed(f"The {label} is too large.", field=field)
    return value


def _count(value, field: str, label: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(f"The {label} must be between {low} and {high}.", field=field)
    return value


def _day(value, field: str, label: str, *, today: date) -> date:
    if not isinstance(value, date):
        raise ValidationFailed(f"Give the {label} as a date.", field=field)
    if value < today:
        raise ValidationFailed(f"The {label} cannot be in the past.", field=field)
    return value


def _skills(values) -> list[str]:
    if isinstance(values, str):
        values = values.split(",")
    skills: list[str] = []
    for raw in values or []:
        skill = " ".join(str(raw).split()).casefold()
        if not skill:
            continue
        if len(skill) > 40:
            raise ValidationFailed("Keep each skill under 40 characters.", field="skills")
        if skill not in skills:
            skills.append(skill)
    if len(skills) > MAX_SKILLS:
        raise ValidationFailed(f"List at most {MAX_SKILLS} skills.", field="skills")
    return skills


def _today(user, now: datetime) -> date:
    """Today in the user's time zone (a deadline is a day of theirs)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return now.astimezone(ZoneInfo(getattr(user, "timezone", "") or "UTC")).date()
    except ZoneInfoNotFoundError:
        return now.date()


def _money(amount: int, currency: str) -> str:
    return money_format(amount, currency)


# --- figures used by the rules ----------------------------------------------------------------


def _tasks_budget(project: Project, *, excluding: int | None = None) -> int:
    tasks = project.tasks.exclude(pk=excluding).only("budget", "quantity")
    return sum(t.budget * t.quantity for t in tasks)


def _check_open_for_work(task: Task) -> None:
    project = task.project
    if project.status != Project.Status.OPEN:
        raise Conflict("This project is not taking proposals.", code="project_not_open")
    if task.status != Task.Status.OPEN:
        raise Conflict("This task is closed.", code="task_closed")
    if (before := waiting_for(task)) is not None:
        raise Conflict(f"This task starts once “{before.title}” is done.", code="task_waiting")


# --- projects ---------------------------------------------------------------------------------


def _project_fields(
    *, buyer, title, description, category_id, currency, budget, deadline, visibility, now
) -> dict:
    if visibility not in Project.Visibility.values:
        raise ValidationFailed("Choose public or invited sellers only.", field="visibility")
    return dict(
        title=_text(title, 140, "title", "project's title"),
        description=_text(description, 10000, "description", "description"),
        category=catalog_selectors.category_get(category_id=category_id),
        currency=currency_check(currency),
        budget=_amount(budget, "budget", "budget"),
        deadline=_day(deadline, "deadline", "deadline", today=_today(buyer, now)),
        visibility=visibility,
    )


def project_create(
    *,
    buyer,
    title: str,
    description: str,
    category_id: int,
    currency: str,
    budget: int,
    deadline: date,
    visibility: str = Project.Visibility.PUBLIC,
    now: datetime | None = None,
) -> Project:
    """A draft project: add tasks, then publish it."""
    now = now or timezone.now()
    fields = _project_fields(
        buyer=buyer,
        title=title,
        description=description,
        category_id=category_id,
        currency=currency,
        budget=budget,
        deadline=deadline,
        visibility=visibility,
        now=now,
    )
    return Project.objects.create(buyer=buyer, created_at=now, updated_at=now, **fields)


def project_update(
    *,
    buyer,
    project_id: int,
    title: str,
    description: str,
    category_id: int,
    currency: str,
    budget: int,
    deadline: date,
    visibility: str,
    now: datetime | None = None,
) -> Project:
    """Edit a project. The budget cannot go below what is committed or below its tasks'
    budgets; the currency is fixed once anything was awarded."""
    now = now or timezone.now()
    with transaction.atomic():
        project = _project_for_buyer(buyer, project_id, lock=True)
        fields = _project_fields(
            buyer=buyer,
            title=title,
            description=description,
            category_id=category_id,
            currency=currency,
            budget=budget,
            deadline=deadline,
            visibility=visibility,
            now=now,
        )
        taken = committed(project.pk)
        if fields["budget"] < taken:
            raise ValidationFailed(
                f"{_money(taken, project.currency)} is already committed to sellers; the "
                "budget cannot be less.",
                field="budget",
                code="budget_below_committed",
            )
        if fields["budget"] < (tasks := _tasks_budget(project)):
            raise ValidationFailed(
                f"The tasks' budgets add up to {_money(tasks, project.currency)}; lower them "
                "first.",
                field="budget",
                code="budget_below_tasks",
            )
        if fields["currency"] != project.currency and project.tasks.exists():
            raise ValidationFailed(
                "The currency cannot change once the project has tasks (their budgets are in "
                f"{project.currency}).",
                field="currency",
            )
        for name, value in fields.items():
            setattr(project, name, value)
        project.updated_at = now
        project.save()
        return project


def project_publish(*, buyer, project_id: int, now: datetime | None = None) -> Project:
    """Open a draft (or reopen a closed) project to sellers; sellers whose skills match its
    tasks, and invited sellers, are told."""
    now = now or timezone.now()
    with transaction.atomic():
        project = _project_for_buyer(buyer, project_id, lock=True)
        if project.status == Project.Status.OPEN:
            return project
        if not project.tasks.exists():
            raise ValidationFailed("Add at least one task first.", code="no_tasks")
        if project.deadline < _today(buyer, now):
            raise ValidationFailed(
                "The deadline has passed: move it first.", field="deadline", code="past_deadline"
            )
        first_time = project.published_at is None
        project.status = Project.Status.OPEN
        project.published_at = project.published_at or now
        project.closed_at = None
        project.updated_at = now
        project.save()
        if first_time:
            transaction.on_commit(lambda: _announce(project.pk))
        return project


def project_close(*, buyer, project_id: int, now: datetime | None = None) -> Project:
    """Stop taking proposals and claims. Work already funded goes on to its end; pending
    proposals are declined and unfunded assignments withdrawn (their units and budget free)."""
    now = now or timezone.now()
    with transaction.atomic():
        project = _project_for_buyer(buyer, project_id, lock=True)
        if project.status == Project.Status.CLOSED:
            return project
        project.status = Project.Status.CLOSED
        project.closed_at = now
        project.updated_at = now
        project.save()
        pending = Proposal.objects.filter(task__project=project, status=Proposal.Status.PENDING)
        for proposal in pending.select_related("seller", "task"):
            _proposal_tell(proposal, "declined", now)
        pending.update(status=Proposal.Status.DECLINED, decided_at=now)
        # Lock the active assignments first (a funding in flight holds them), then decide from
        # a fresh read which are still unfunded.
        active = list(
            Assignment.objects.select_for_update(of=("self",))
            .filter(task__project=project, status=Assignment.Status.ACTIVE)
            .values_list("pk", flat=True)
        )
        Assignment.objects.filter(
            Q(order__isnull=True) | Q(order__state="payment_failed"), pk__in=active
        ).update(status=Assignment.Status.WITHDRAWN, ended_at=now)
        return project


def project_invite(*, buyer, project_id: int, email: str, now: datetime | None = None):
    """Invite a seller (by their account's email) to see and propose on the project."""
    now = now or timezone.now()
    project = _project_for_buyer(buyer, project_id)
    seller = account_selectors.seller_by_email(email=email)
    if seller is None:
        raise ValidationFailed(
            "There is no seller with that email on micromarket.", field="email", code="no_seller"
        )
    if seller.pk == buyer.pk:
        raise ValidationFailed("That is you.", field="email")
    try:
        with transaction.atomic():
            invite = ProjectInvite.objects.create(project=project, seller=seller, created_at=now)
    except IntegrityError:
        raise Conflict("That seller is already invited.", field="email") from None
    if project.status == Project.Status.OPEN:
        transaction.on_commit(lambda: _tell_invited(project, seller))
    return invite


def project_uninvite(*, buyer, project_id: int, seller_id: int) -> None:
    project = _project_for_buyer(buyer, project_id)
    deleted, _ = ProjectInvite.objects.filter(project=project, seller_id=seller_id).delete()
    if not deleted:
        raise NotFound("That seller is not invited.")


def attachment_add(*, buyer, project_id: int, upload) -> ProjectAttachment:
    """Attach a file to the brief: judged by its content (documents, images, text; never a
    program), at most 20 MB, 10 per project."""
    project = _project_for_buyer(buyer, project_id)
    if project.attachments.count() >= MAX_ATTACHMENTS:
        raise ValidationFailed(
            f"A project can have {MAX_ATTACHMENTS} attachments.", field="file", code="too_many"
        )
    sniffed = file_sniff(upload, field="file", max_bytes=ATTACHMENT_MAX_BYTES)
    name = (getattr(upload, "name", "") or "attachment").rsplit("/", 1)[-1][:200]
    item = ProjectAttachment(
        project=project,
        name=name,
        size=sniffed.size,
        content_type=sniffed.content_type,
        sha256=sniffed.sha256,
    )
    upload.seek(0)
    item.file.save(name, upload, save=False)
    try:
        item.save()
    except Exception:
        item.file.storage.delete(item.file.name)
        raise
    return item


def attachment_remove(*, buyer, attachment_id: int) -> None:
    item = ProjectAttachment.objects.filter(
        pk=attachment_id, project__buyer_id=getattr(buyer, "pk", None)
    ).first()
    if item is None:
        raise NotFound("There is no such attachment.")
    storage, name = item.file.storage, item.file.name
    item.delete()
    transaction.on_commit(lambda: storage.delete(name) if storage.exists(name) else None)


# --- tasks ------------------------------------------------------------------------------------


def _task_fields(
    project: Project,
    *,
    title,
    brief,
    budget,
    quantity,
    per_seller_limit,
    deadline,
    skills,
    delivery_days,
    revisions,
    claimable,
    depends_on_id,
    task_id: int | None,
    today: date,
) -> dict:
    quantity = _count(quantity, "quantity", "quantity", low=1, high=MAX_QUANTITY)
    limit = _count(per_seller_limit, "per_seller_limit", "limit per seller", low=1, high=quantity)
    deadline = _day(deadline, "deadline", "task's deadline", today=today)
    if deadline > project.deadline:
        raise ValidationFailed("A task's deadline cannot be after the project's.", field="deadline")
    depends_on = None
    if depends_on_id:
        depends_on = project.tasks.filter(pk=depends_on_id).first()
        if depends_on is None:
            raise ValidationFailed("Choose a task of this project.", field="depends_on")
        chain, seen = depends_on, set()
        while chain is not None:  # no task may end up waiting for itself
            if chain.pk == task_id or chain.pk in seen:
                raise ValidationFailed(
                    "A task cannot wait for itself, even through other tasks.",
                    field="depends_on",
                )
            seen.add(chain.pk)
            chain = chain.depends_on
    skill_list = _skills(skills)
    title = _text(title, 140, "title", "task's title")
    brief = _text(brief, 5000, "brief", "brief")
    return dict(
        title=title,
        brief=brief,
        budget=_amount(budget, "budget", "budget per unit"),
        quantity=quantity,
        per_seller_limit=limit,
        deadline=deadline,
        skills=skill_list,
        delivery_days=_count(delivery_days, "delivery_days", "days to deliver", low=1, high=365),
        revisions=_count(revisions, "revisions", "number of revisions", low=0, high=10),
        claimable=bool(claimable),
        depends_on=depends_on,
        search_text=" ".join([title, " ".join(skill_list), brief]),
    )


def _check_tasks_fit(project: Project, fields: dict, *, task_id: int | None) -> None:
    total = _tasks_budget(project, excluding=task_id) + fields["budget"] * fields["quantity"]
    if total > project.budget:
        raise ValidationFailed(
            f"With this task the tasks' budgets come to {_money(total, project.currency)}, "
            f"more than the project's budget of {_money(project.budget, project.currency)}.",
            field="budget",
            code="over_budget",
        )


def task_create(
    *,
    buyer,
    project_id: int,
    title: str,
    brief: str,
    budget: int,
    deadline: date,
    quantity: int = 1,
    per_seller_limit: int = 1,
    skills: list[str] | str = (),
    delivery_days: int = 3,
    revisions: int = 1,
    claimable: bool = False,
    depends_on_id: int | None = None,
    now: datetime | None = None,
) -> Task:
    """Add a micro-task. All tasks' budgets (budget per unit × quantity) must fit in the
    project's budget."""
    now = now or timezone.now()
    with transaction.atomic():
        project = _project_for_buyer(buyer, project_id, lock=True)
        if project.status == Project.Status.CLOSED:
            raise Conflict("Reopen the project to add tasks.", code="project_closed")
        if project.tasks.count() >= MAX_TASKS:
            raise ValidationFailed(f"A project can have {MAX_TASKS} tasks.", code="too_many")
        fields = _task_fields(
            project,
            title=title,
            brief=brief,
            budget=budget,
            quantity=quantity,
            per_seller_limit=per_seller_limit,
            deadline=deadline,
            skills=skills,
            delivery_days=delivery_days,
            revisions=revisions,
            claimable=claimable,
            depends_on_id=depends_on_id,
            task_id=None,
            today=_today(buyer, now),
        )
        _check_tasks_fit(project, fields, task_id=None)
        position = project.tasks.count()
        task = Task.objects.create(project=project, position=position, created_at=now, **fields)
        if project.status == Project.Status.OPEN:
            transaction.on_commit(lambda: _announce(project.pk, task_ids=[task.pk]))
        return task


def task_update(
    *,
    buyer,
    task_id: int,
    title: str,
    brief: str,
    budget: int,
    deadline: date,
    quantity: int,
    per_seller_limit: int,
    skills: list[str] | str,
    delivery_days: int,
    revisions: int,
    claimable: bool,
    depends_on_id: int | None = None,
    now: datetime | None = None,
) -> Task:
    """Edit a task. Its quantity cannot go below the units already taken; work already
    awarded keeps its own terms (the order's snapshot)."""
    now = now or timezone.now()
    with transaction.atomic():
        task = _task_for_buyer(buyer, task_id)
        project = _project_for_buyer(buyer, task.project_id, lock=True)
        task = Task.objects.select_for_update().get(pk=task.pk)
        fields = _task_fields(
            project,
            title=title,
            brief=brief,
            budget=budget,
            quantity=quantity,
            per_seller_limit=per_seller_limit,
            deadline=deadline,
            skills=skills,
            delivery_days=delivery_days,
            revisions=revisions,
            claimable=claimable,
            depends_on_id=depends_on_id,
            task_id=task.pk,
            today=_today(buyer, now),
        )
        taken = units_taken(task.pk)
        if fields["quantity"] < taken:
            raise ValidationFailed(
                f"{taken} units are already taken; the quantity cannot be less.",
                field="quantity",
            )
        _check_tasks_fit(project, fields, task_id=task.pk)
        for name, value in fields.items():
            setattr(task, name, value)
        task.save()
        return task


def task_close(*, buyer, task_id: int, now: datetime | None = None) -> Task:
    """Stop taking proposals and claims for a task; pending proposals are declined."""
    now = now or timezone.now()
    with transaction.atomic():
        task = _task_for_buyer(buyer, task_id)
        Task.objects.filter(pk=task.pk).update(status=Task.Status.CLOSED)
        pending = task.proposals.filter(status=Proposal.Status.PENDING)
        for proposal in pending.select_related("seller", "task__project"):
            _proposal_tell(proposal, "declined", now)
        pending.update(status=Proposal.Status.DECLINED, decided_at=now)
        task.status = Task.Status.CLOSED
        return task


def task_reopen(*, buyer, task_id: int) -> Task:
    task = _task_for_buyer(buyer, task_id)
    Task.objects.filter(pk=task.pk).update(status=Task.Status.OPEN)
    task.status = Task.Status.OPEN
    return task


def task_delete(*, buyer, task_id: int) -> None:
    """Remove a task nobody has proposed on or taken yet."""
    with transaction.atomic():
        task = _task_for_buyer(buyer, task_id)
        if task.proposals.exists() or task.assignments.exists():
            raise Conflict(
                "Sellers have proposed on or taken this task: close it instead.",
                code="task_in_use",
            )
        task.delete()


# --- proposals --------------------------------------------------------------------------------


def proposal_send(
    *,
    seller,
    task_id: int,
    price: int,
    days: int,
    message: str,
    now: datetime | None = None,
) -> Proposal:
    """A seller's offer to do one unit of a task: price, days to deliver and a message."""
    now = now or timezone.now()
    _require_seller(seller)
    task = _task_visible_to_seller(seller, task_id)
    if task.project.buyer_id == seller.pk:
        raise ValidationFailed("This is your own project.", code="self_dealing")
    _check_open_for_work(task)
    fields = dict(
        price=_amount(price, "price", "price"),
        days=_count(days, "days", "days to deliver", low=1, high=365),
        message=_text(message, 3000, "message", "message"),
    )
    if units_taken(task.pk, seller_id=seller.pk) >= task.per_seller_limit:
        raise Conflict(
            "You already hold as many units of this task as one seller may.",
            code="seller_limit",
        )
    try:
        with transaction.atomic():
            proposal = Proposal.objects.create(task=task, seller=seller, created_at=now, **fields)
    except IntegrityError:
        raise Conflict(
            "You already have a proposal waiting on this task: withdraw it to send another.",
            code="proposal_pending",
        ) from None
    project = task.project
    transaction.on_commit(
        lambda: messaging_services.notification_send(
            user=project.buyer,
            category="projects",
            title=f"New proposal on “{task.title}”"[:200],
            body=f"{seller.display_name}: {_money(proposal.price, project.currency)} in "
            f"{proposal.days} day{'s' if proposal.days != 1 else ''}",
            url=reverse("projects:task", args=[task.pk]),
            group_key=f"projects:proposals:{task.pk}",
        )
    )
    return proposal


def proposal_withdraw(*, seller, proposal_id: int, now: datetime | None = None) -> Proposal:
    now = now or timezone.now()
    proposal = Proposal.objects.filter(pk=proposal_id, seller_id=getattr(seller, "pk", None))
    proposal = proposal.first()
    if proposal is None:
        raise NotFound("There is no such proposal.")
    updated = Proposal.objects.filter(pk=proposal.pk, status=Proposal.Status.PENDING).update(
        status=Proposal.Status.WITHDRAWN, decided_at=now
    )
    if not updated:
        raise Conflict("Only a proposal still waiting can be withdrawn.", code="not_pending")
    proposal.refresh_from_db()
    return proposal


def _proposal_for_buyer(buyer, proposal_id: int) -> Proposal:
    proposal = (
        Proposal.objects.select_related("task__project", "seller")
        .filter(pk=proposal_id, task__project__buyer_id=getattr(buyer, "pk", None))
        .first()
    )
    if proposal is None:
        raise NotFound("There is no such proposal.")
    return proposal


def _proposal_tell(proposal: Proposal, what: str, now: datetime) -> None:
    task = proposal.task
    title = {
        "declined": f"Your proposal on “{task.title}” was not chosen",
        "awarded": f"You were awarded “{task.title}”",
    }[what]
    body = (
        "The buyer funds it next; you will be told when the money is in escrow."
        if what == "awarded"
        else "Thank you for proposing."
    )
    seller = proposal.seller
    url = reverse("projects:task", args=[task.pk])
    transaction.on_commit(
        lambda: messaging_services.notification_send(
            user=seller, category="projects", title=title[:200], body=body, url=url, now=now
        )
    )


def proposal_decline(*, buyer, proposal_id: int, now: datetime | None = None) -> Proposal:
    now = now or timezone.now()
    proposal = _proposal_for_buyer(buyer, proposal_id)
    with transaction.atomic():
        if not Proposal.objects.filter(pk=proposal.pk, status=Proposal.Status.PENDING).update(
            status=Proposal.Status.DECLINED, decided_at=now
        ):
            raise Conflict("Only a proposal still waiting can be declined.", code="not_pending")
        _proposal_tell(proposal, "declined", now)
    proposal.refresh_from_db()
    return proposal


def _take_unit(task: Task, *, seller, price: int) -> None:
    """The checks of an award or claim, under the project's and the task's row locks."""
    _check_open_for_work(task)
    if task.project.buyer_id == seller.pk:
        raise ValidationFailed("This is your own project.", code="self_dealing")
    if units_taken(task.pk) >= task.quantity:
        raise Conflict("Every unit of this task is taken.", code="task_full")
    if units_taken(task.pk, seller_id=seller.pk) >= task.per_seller_limit:
        raise Conflict(
            f"{seller.display_name} already holds as many units of this task as one seller "
            f"may ({task.per_seller_limit}).",
            code="seller_limit",
        )
    project = task.project
    taken = committed(project.pk)
    if taken + price > project.budget:
        left = max(project.budget - taken, 0)
        raise Conflict(
            f"That would exceed the project's budget: {_money(left, project.currency)} of "
            f"{_money(project.budget, project.currency)} is left.",
            code="over_budget",
        )


def _lock(project_id: int, task_id: int) -> Task:
    """Lock the project's row, then the task's: every award and claim takes them in this
    order, so they serialise per project and cannot deadlock."""
    Project.objects.select_for_update().filter(pk=project_id).first()
    return Task.objects.select_for_update().select_related("project").get(pk=task_id)


def proposal_award(*, buyer, proposal_id: int, now: datetime | None = None) -> Assignment:
    """Give one unit to the proposal's seller at their price and days. The buyer funds it
    next (``assignments_fund``); an award not funded within 48 hours lapses."""
    now = now or timezone.now()
    proposal = _proposal_for_buyer(buyer, proposal_id)
    with transaction.atomic():
        task = _lock(proposal.task.project_id, proposal.task_id)
        proposal = Proposal.objects.select_for_update().select_related("seller").get(pk=proposal.pk)
        if proposal.status != Proposal.Status.PENDING:
            raise Conflict(
                f"This proposal is {proposal.get_status_display().lower()}.", code="not_pending"
            )
        _take_unit(task, seller=proposal.seller, price=proposal.price)
        assignment = Assignment.objects.create(
            task=task,
            seller=proposal.seller,
            proposal=proposal,
            via=Assignment.Via.PROPOSAL,
            price=proposal.price,
            days=proposal.days,
            created_at=now,
        )
        proposal.status = Proposal.Status.AWARDED
        proposal.decided_at = now
        proposal.save(update_fields=["status", "decided_at"])
        proposal.task = task
        _proposal_tell(proposal, "awarded", now)
        return assignment


def task_claim(*, seller, task_id: int, now: datetime | None = None) -> Assignment:
    """Take one unit of a claimable task at its budget price, without a proposal. The buyer
    is told to fund it; unfunded, it lapses after 48 hours. Two sellers claiming the last unit
    at once: exactly one gets it (row locks; the other gets ``task_full``)."""
    now = now or timezone.now()
    _require_seller(seller)
    task = _task_visible_to_seller(seller, task_id)
    if not task.claimable:
        raise Conflict("This task takes proposals, not direct claims.", code="not_claimable")
    with transaction.atomic():
        task = _lock(task.project_id, task.pk)
        _take_unit(task, seller=seller, price=task.budget)
        assignment = Assignment.objects.create(
            task=task,
            seller=seller,
            via=Assignment.Via.CLAIM,
            price=task.budget,
            days=task.delivery_days,
            created_at=now,
        )
        project = task.project
        transaction.on_commit(
            lambda: messaging_services.notification_send(
                user=project.buyer,
                category="projects",
                title=f"{seller.display_name} took a unit of “{task.title}”"[:200],
                body=f"Fund it ({_money(task.budget, project.currency)}) within 48 hours so "
                "the work can start.",
                url=reverse("projects:project", args=[project.pk]),
                group_key=f"projects:claims:{project.pk}",
            )
        )
        return assignment


def assignment_withdraw(*, actor, assignment_id: int, now: datetime | None = None) -> Assignment:
    """Before it is funded, the buyer can take an award back, or the seller give it up; the
    unit and the budget are free again. Funded work ends through its order instead."""
    now = now or timezone.now()
    with transaction.atomic():
        assignment = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("task__project")  # the order is read after the lock: fresh
            .filter(pk=assignment_id)
            .filter(
                Q(seller_id=getattr(actor, "pk", None))
                | Q(task__project__buyer_id=getattr(actor, "pk", None))
            )
            .first()
        )
        if assignment is None:
            raise NotFound("There is no such assignment.")
        if assignment.status != Assignment.Status.ACTIVE:
            raise Conflict("This assignment has already ended.", code="not_active")
        if assignment.order is not None and assignment.order.state != "payment_failed":
            raise Conflict(
                "This work is funded: cancel it from its order instead.", code="already_funded"
            )
        assignment.status = Assignment.Status.WITHDRAWN
        assignment.ended_at = now
        assignment.save(update_fields=["status", "ended_at"])
        return assignment


# --- funding ----------------------------------------------------------------------------------


def _milestone(assignment: Assignment) -> order_services.Milestone:
    task = assignment.task
    project = task.project
    return order_services.Milestone(
        origin=assignment.origin,
        origin_url=reverse("projects:task", args=[task.pk]),
        seller=assignment.seller,
        title=f"{project.title}: {task.title}",
        amount=assignment.price,
        category_id=project.category_id,
        delivery_days=assignment.days,
        revisions=task.revisions,
        brief=task.brief,
    )


def assignments_fund(
    *,
    buyer,
    assignment_ids: list[int],
    payment_method: str,
    idempotency_key: str,
    return_url: str,
    credit: int = 0,
    now: datetime | None = None,
):
    """Pay for awarded or claimed units in one payment: one milestone order with its own
    escrow each. The orders are created and linked to the assignments under the assignments'
    row locks, so two funding requests cannot pay for the same unit twice; then the payment is
    charged (``orders.services.checkout_pay``). Returns the checkout; its payment may need the
    buyer's extra step (``checkout.payment.action_url``). The same key returns the first
    checkout."""
    now = now or timezone.now()
    ids = sorted(set(assignment_ids or []))
    if not ids:
        raise ValidationFailed("Choose the work to fund.", field="assignments")
    with transaction.atomic():
        assignments = list(
            Assignment.objects.select_for_update(of=("self",))
            .select_related("task__project", "seller")  # orders read after the lock
            .filter(pk__in=ids, task__project__buyer_id=getattr(buyer, "pk", None))
            .order_by("pk")
        )
        if len(assignments) != len(ids):
            raise NotFound("There is no such assignment.")
        replay = order_selectors.checkout_for_key(buyer=buyer, idempotency_key=idempotency_key)
        if replay is None:
            for a in assignments:
                if a.status != Assignment.Status.ACTIVE:
                    raise Conflict(
                        f"“{a.task.title}” for {a.seller.display_name} has "
                        f"{a.get_status_display().lower()}.",
                        code="not_active",
                    )
                if a.order is not None and a.order.state != "payment_failed":
                    raise Conflict(
                        f"“{a.task.title}” for {a.seller.display_name} is already paid for"
                        " (or its payment is under way).",
                        code="already_funded",
                    )
        currencies = {a.task.project.currency for a in assignments}
        if len(currencies) != 1:
            raise ValidationFailed("Fund one currency at a time.", field="assignments")
        checkout = order_services.milestone_checkout_create(
            buyer=buyer,
            milestones=[_milestone(a) for a in assignments],
            currency=currencies.pop(),
            idempotency_key=idempotency_key,
            payment_method=payment_method,
            credit=credit,
            now=now,
        )
        orders = order_selectors.orders_by_origin(origins=[a.origin for a in assignments])
        for a in assignments:
            order = orders[a.origin]
            if a.order_id != order.pk and order.checkout_id == checkout.pk:
                Assignment.objects.filter(pk=a.pk).update(order=order)
    checkout = order_services.checkout_pay(
        checkout_id=checkout.pk,
        buyer=buyer,
        payment_method=payment_method,
        return_url=return_url,
        credit=credit,
        now=now,
    )
    return checkout  # the sellers hear from the orders' "paid" step


def assignments_lapse(*, now: datetime | None = None) -> int:
    """The sweeper's job: awards and claims not funded within 48 hours lapse, freeing their
    unit and budget; both sides are told."""
    now = now or timezone.now()
    stale = Assignment.objects.filter(
        Q(order__isnull=True) | Q(order__state="payment_failed"),
        status=Assignment.Status.ACTIVE,
        created_at__lt=now - FUNDING_WINDOW,
    ).select_related("task__project__buyer", "seller")
    done = 0
    for assignment in stale[:500]:
        with transaction.atomic():
            # Lock first (a funding in flight holds the row), then check it afresh.
            Assignment.objects.select_for_update().filter(pk=assignment.pk).first()
            if not Assignment.objects.filter(
                Q(order__isnull=True) | Q(order__state="payment_failed"),
                pk=assignment.pk,
                status=Assignment.Status.ACTIVE,
            ).update(status=Assignment.Status.LAPSED, ended_at=now):
                continue
            done += 1
            task = assignment.task
            title = f"“{task.title}” for {assignment.seller.display_name} lapsed"[:200]
            url = reverse("projects:task", args=[task.pk])
            for user in (task.project.buyer, assignment.seller):
                transaction.on_commit(
                    lambda user=user, title=title, url=url: messaging_services.notification_send(
                        user=user,
                        category="projects",
                        title=title,
                        body="It was not funded within 48 hours; the unit is open again.",
                        url=url,
                    )
                )
    return done


def assignment_transition(
    *, actor, assignment_id: int, name: str, data: dict | None = None, now: datetime | None = None
):
    """Move funded work through its milestone order (submit, request_revision, approve,
    dispute …) as ``actor``; the order's process decides who may do what. Returns the order."""
    assignment = (
        Assignment.objects.filter(pk=assignment_id)
        .filter(
            Q(seller_id=getattr(actor, "pk", None))
            | Q(task__project__buyer_id=getattr(actor, "pk", None))
        )
        .first()
    )
    if assignment is None:
        raise NotFound("There is no such assignment.")
    if assignment.order_id is None:
        raise Conflict("This work is not funded yet.", code="not_funded")
    return order_services.order_transition(
        order_id=assignment.order_id, name=name, actor=actor, data=data or {}, now=now
    )


# --- telling sellers about tasks --------------------------------------------------------------


def _tell_invited(project: Project, seller) -> None:
    messaging_services.notification_send(
        user=seller,
        category="projects",
        title=f"{project.buyer.display_name} invited you to “{project.title}”"[:200],
        body="Read the brief and send a proposal.",
        url=reverse("projects:project", args=[project.pk]),
    )


def _announce(project_id: int, *, task_ids: list[int] | None = None) -> int:
    """After a project opens (or an open project gets a task): tell invited sellers, and —
    for a public project — sellers whose profile skills match a task. Returns how many were
    told. Runs after commit."""
    project = Project.objects.select_related("buyer").get(pk=project_id)
    if project.status != Project.Status.OPEN:
        return 0
    told = 0
    if task_ids is None:
        for invite in project.invites.select_related("seller"):
            _tell_invited(project, invite.seller)
            told += 1
    if project.visibility != Project.Visibility.PUBLIC:
        return told
    tasks = project.tasks.all() if task_ids is None else project.tasks.filter(pk__in=task_ids)
    for task in tasks:
        if not task.skills:
            continue
        for seller in account_selectors.sellers_with_skills(
            skills=task.skills, exclude_ids=[project.buyer_id]
        ):
            messaging_services.notification_send(
                user=seller,
                category="task_matches",
                title=f"New task for your skills: “{task.title}”"[:200],
                body=f"{_money(task.budget, project.currency)} per unit · {project.title}",
                url=reverse("projects:task", args=[task.pk]),
                group_key=f"projects:match:{task.pk}",
            )
            told += 1
    return told
