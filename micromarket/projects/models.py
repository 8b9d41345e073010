"""Projects: a buyer's bigger job split into micro-tasks that several sellers take on.

- ``Project``: the job (brief, category, budget, deadline, visibility), with ``ProjectInvite``
  (invite-only projects: who may see them) and ``ProjectAttachment`` (files in private storage).
- ``Task``: one micro-task with its own brief, budget per unit, deadline, skills and quantity;
  it may wait for another task of the project (``depends_on``). ``quantity`` units can be taken
  by different sellers (a micro-task queue), at most ``per_seller_limit`` by one seller.
- ``Proposal``: a seller's price, days and message for one unit of a task.
- ``Assignment``: one unit given to one seller — by awarding a proposal or by a direct claim.
  Funding it creates an order in the ``milestone`` process (orders app) with its own escrow;
  from then on the order's state is the work's state (submitted, revision, approved, paid).

Money is integer minor units in the project's currency. Budgets count the sellers' prices;
the buyer's service fee is shown on top at payment, as everywhere (docs/money.md).
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q
from django.utils.timezone import now

USER = settings.AUTH_USER_MODEL


def private_storage():
    """Project attachments: served only to the buyer and sellers who may see the project."""
    return storages["private"]


class Project(models.Model):
    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public — every seller can find it"
        INVITED = "invited", "Invited sellers only"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    buyer = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="projects")
    title = models.CharField(max_length=140)
    description = models.TextField(max_length=10000)
    category = models.ForeignKey("catalog.Category", on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    budget = models.BigIntegerField(help_text="Most the buyer will pay sellers, in minor units")
    deadline = models.DateField()
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)
    published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "visibility", "published_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(budget__gt=0), name="projects_project_budget")
        ]

    def __str__(self) -> str:
        return self.title


class ProjectInvite(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invites")
    seller = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="project_invites")
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "seller"], name="projects_invite_unique")
        ]


def attachment_path(item: ProjectAttachment, filename: str) -> str:
    return f"projects/{item.project_id}/{item.sha256[:16]}-{filename[-80:]}"


class ProjectAttachment(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, storage=private_storage)
    name = models.CharField(max_length=200)
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["id"]


class Task(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"  # the buyer stopped taking proposals and claims

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=140)
    brief = models.TextField(max_length=5000)
    budget = models.BigIntegerField(help_text="Price per unit, in minor units")
    quantity = models.PositiveIntegerField(default=1)
    per_seller_limit = models.PositiveIntegerField(default=1)
    deadline = models.DateField()
    skills = models.JSONField(default=list, blank=True)  # lower-case words, e.g. ["spanish"]
    delivery_days = models.PositiveSmallIntegerField(default=3)  # for a claimed unit
    revisions = models.PositiveSmallIntegerField(default=1)
    claimable = models.BooleanField(
        default=False, help_text="Sellers may take a unit at the budget price without a proposal"
    )
    depends_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="dependents"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    position = models.PositiveSmallIntegerField(default=0)
    search_text = models.TextField(blank=True)  # title, skills, brief: folded for search
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(budget__gt=0, quantity__gte=1, per_seller_limit__gte=1),
                name="projects_task_amounts",
            ),
            models.CheckConstraint(
                condition=Q(per_seller_limit__lte=models.F("quantity")),
                name="projects_task_limit",
            ),
            models.CheckConstraint(
                condition=~Q(depends_on=models.F("id")), name="projects_task_not_self"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def total_budget(self) -> int:
        return self.budget * self.quantity


class Proposal(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the buyer"
        AWARDED = "awarded", "Awarded"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="proposals")
    seller = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="task_proposals")
    price = models.BigIntegerField()
    days = models.PositiveSmallIntegerField()
    message = models.TextField(max_length=3000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gt=0, days__gte=1), name="projects_proposal_terms"
            ),
            models.UniqueConstraint(
                fields=["task", "seller"],
                condition=Q(status="pending"),
                name="projects_proposal_one_pending",
            ),
        ]


class Assignment(models.Model):
    """One unit of a task given to one seller. ``order`` is the milestone order that holds
    the money (set when the buyer funds it; a failed payment leaves the assignment waiting
    for funding again). Its work state is the order's state."""

    class Via(models.TextChoices):
        PROPOSAL = "proposal", "Proposal awarded"
        CLAIM = "claim", "Claimed directly"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        LAPSED = "lapsed", "Lapsed — not funded in time"
        WITHDRAWN = "withdrawn", "Withdrawn before funding"

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="assignments")
    seller = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="task_assignments")
    proposal = models.OneToOneField(
        Proposal, null=True, blank=True, on_delete=models.PROTECT, related_name="assignment"
    )
    via = models.CharField(max_length=8, choices=Via.choices)
    price = models.BigIntegerField()
    days = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    order = models.OneToOneField(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gt=0, days__gte=1), name="projects_assignment_terms"
            )
        ]

    @property
    def origin(self) -> str:
        """The key its milestone orders carry (``Order.origin``)."""
        return f"projects.assignment:{self.pk}"
