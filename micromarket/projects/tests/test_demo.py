"""``micromarket demo`` posts projects through the real services: awards, claims, funding and
approval, each unit paid from its own escrow, and an invite-only project."""

import io

import pytest
from django.core.management import call_command

from micromarket.ledger import selectors as ledger_selectors
from micromarket.projects import selectors
from micromarket.projects.models import Assignment, Project


@pytest.mark.django_db
def test_demo_posts_a_project_in_every_stage_and_an_invite_only_one():
    out = io.StringIO()
    call_command("demo", "--allow-production", stdout=out)
    assert "Projects: alex@'s bakery relaunch" in out.getvalue()

    bakery = Project.objects.get(title="Relaunch our bakery's online shop")
    stages = sorted(selectors.stage_of(a) for a in Assignment.objects.filter(task__project=bakery))
    assert stages == ["completed", "funding", "submitted"]
    board = selectors.project_board(buyer=bakery.buyer, project_id=bakery.pk)
    assert board.spend.paid == 6_000  # priya@'s approved batch
    assert board.spend.in_escrow == 28_000  # maria@'s submitted logo
    waiting = [row for row in board.rows if row.waiting_for is not None]
    assert [row.task.title for row in waiting] == ["Build the new product pages"]

    office = Project.objects.get(visibility="invited")
    assert office.invites.get().seller.email == "sam@demo.micromarket.test"
    assert ledger_selectors.ledger_verify() == []

    call_command("demo", "--allow-production", stdout=io.StringIO())  # idempotent
    assert Project.objects.count() == 2
