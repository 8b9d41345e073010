"""Projects for tests, built through the services (so every rule applies).

buyer = UserFactory()
project = make_project(buyer, tasks=[{"title": "Translate", "budget": 4000, "quantity": 4,
                                       "claimable": True}])
proposal = propose(seller(), project.tasks.get())
assignment = services.proposal_award(buyer=buyer, proposal_id=proposal.pk)
checkout = fund(buyer, [assignment])       # paid with the sandbox's test card
order = reload(assignment).order           # the milestone order, in_progress
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.models import Category
from micromarket.catalog.tests.factories import seller
from micromarket.payments.providers import sandbox
from micromarket.projects import services
from micromarket.projects.models import Assignment, Project, Proposal, Task

CARD = sandbox.CARD_SUCCEEDS
_keys = itertools.count(1)

__all__ = ["CARD", "UserFactory", "fund", "make_project", "propose", "reload", "seller"]


def category_id(slug: str = "writing-translation") -> int:
    return Category.objects.get(slug=slug).pk


def task_fields(**overrides) -> dict:
    fields = {
        "title": "Translate product pages into Spanish",
        "brief": "Ten pages of our shop, keep the HTML tags as they are.",
        "budget": 4000,
        "deadline": date.today() + timedelta(days=20),
        "quantity": 1,
        "per_seller_limit": 1,
        "skills": ["spanish", "translation"],
        "delivery_days": 3,
        "revisions": 1,
        "claimable": False,
    }
    fields.update(overrides)
    return fields


def make_project(
    buyer=None,
    *,
    tasks: list[dict] | None = None,
    publish: bool = True,
    budget: int = 100_000,
    visibility: str = Project.Visibility.PUBLIC,
    currency: str = "USD",
    title: str = "Launch our Spanish shop",
) -> Project:
    """A project with ``tasks`` (each a dict of ``task_create`` overrides; default one task),
    published unless ``publish=False``."""
    buyer = buyer or UserFactory()
    project = services.project_create(
        buyer=buyer,
        title=title,
        description="We are opening our shop to Spanish-speaking customers.",
        category_id=category_id(),
        currency=currency,
        budget=budget,
        deadline=date.today() + timedelta(days=30),
        visibility=visibility,
    )
    for overrides in tasks if tasks is not None else [{}]:
        services.task_create(buyer=buyer, project_id=project.pk, **task_fields(**overrides))
    if publish:
        project = services.project_publish(buyer=buyer, project_id=project.pk)
    return project


def propose(seller_user, task: Task, *, price: int | None = None, days: int = 3) -> Proposal:
    return services.proposal_send(
        seller=seller_user,
        task_id=task.pk,
        price=price if price is not None else task.budget,
        days=days,
        message="I am a native speaker and have translated 200 shops.",
    )


def fund(buyer, assignments: list[Assignment], *, card: str = CARD, key: str | None = None):
    """Pay for ``assignments`` in one payment; returns the checkout."""
    return services.assignments_fund(
        buyer=buyer,
        assignment_ids=[a.pk for a in assignments],
        payment_method=card,
        idempotency_key=key or f"fund-{next(_keys)}",
        return_url="http://testserver/back/",
    )


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)
