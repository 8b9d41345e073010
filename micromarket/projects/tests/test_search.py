"""The sellers' task search (``selectors.tasks_search``) with time frozen: which open tasks a
seller finds (words, category, skill, claimable, currency and budget), in which order, and
which they never see (full, invite-only, drafts, closed, their own)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser

from micromarket.core.errors import ValidationFailed
from micromarket.projects import selectors, services
from micromarket.projects.tests.conftest import T0
from micromarket.projects.tests.factories import (
    category_id,
    make_project,
    seller,
    task_fields,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "after_commit_inline")]

TODAY = T0.date()


@pytest.fixture
def viewer():
    return seller()


def titles(viewer, **query) -> list[str]:
    return [hit.task.title for hit in selectors.tasks_search(viewer=viewer, **query).hits]


def project_with(*tasks: dict, **kw):
    """A published project with ``tasks`` (each a dict of ``task_create`` overrides; skills
    default to none so only the words given count)."""
    return make_project(tasks=[{"skills": [], **t} for t in tasks], **kw)


def recategorise(project, slug: str):
    return services.project_update(
        buyer=project.buyer,
        project_id=project.pk,
        title=project.title,
        description=project.description,
        category_id=category_id(slug),
        currency=project.currency,
        budget=project.budget,
        deadline=project.deadline,
        visibility=project.visibility,
    )


# --- words ----------------------------------------------------------------------------------------


def test_words_find_matching_tasks_only(viewer):
    project_with(
        {"title": "Translate the menu", "brief": "Twelve dishes."},
        {"title": "Photograph the cakes", "brief": "Ten cakes on a white table."},
    )

    assert titles(viewer, text="translate") == ["Translate the menu"]
    assert titles(viewer, text="cakes") == ["Photograph the cakes"]
    assert titles(viewer, text="cakes -photograph") == []
    assert titles(viewer, text="ukulele") == []
    assert sorted(titles(viewer)) == ["Photograph the cakes", "Translate the menu"]


def test_a_word_in_the_title_ranks_above_the_same_word_in_the_brief(viewer):
    project_with(
        {"title": "Proofread our blog", "brief": "Then translate the best three posts."},
        {"title": "Translate our blog", "brief": "Three posts into Spanish."},
    )

    search = selectors.tasks_search(viewer=viewer, text="translate")

    assert [h.task.title for h in search.hits] == ["Translate our blog", "Proofread our blog"]
    assert search.hits[0].score > search.hits[1].score


def test_a_skill_matches_words_too_between_title_and_brief(viewer):
    project_with(
        {"title": "Menu in brief", "brief": "The menu needs german words.", "skills": []},
        {"title": "Menu by skill", "brief": "Twelve dishes.", "skills": ["german"]},
        {"title": "German menu", "brief": "Twelve dishes."},
    )

    assert titles(viewer, text="german") == ["German menu", "Menu by skill", "Menu in brief"]


def test_fresher_tasks_rank_higher_when_the_words_match_equally(clock, viewer):
    project_with({"title": "Translate the menu"}, title="Older")
    clock.move_to(T0 + timedelta(days=10))
    project_with({"title": "Translate the menu", "deadline": TODAY + timedelta(days=25)})

    hits = selectors.tasks_search(viewer=viewer, text="translate").hits

    assert [h.task.project.title for h in hits] == ["Launch our Spanish shop", "Older"]


# --- filters --------------------------------------------------------------------------------------


def test_the_category_filter_takes_a_category_or_its_parent(viewer):
    project_with({"title": "Translate the menu"})
    recategorise(project_with({"title": "Draw a logo"}), "logo-brand-design")
    recategorise(project_with({"title": "Knit a scarf"}), "textiles-knitting")

    assert titles(viewer, category="logo-brand-design") == ["Draw a logo"]
    assert titles(viewer, category="writing-translation") == ["Translate the menu"]
    assert sorted(titles(viewer, category="creative-services")) == [
        "Draw a logo",
        "Translate the menu",
    ]
    assert titles(viewer, category="no-such-category") == []


def test_the_skill_filter_and_the_skills_facet(viewer):
    project_with(
        {"title": "Spanish pages", "skills": ["spanish", "translation"]},
        {"title": "French pages", "skills": ["french", "translation"]},
        {"title": "Photos", "skills": ["photography"]},
    )

    assert titles(viewer, skill=" Spanish ") == ["Spanish pages"]
    assert sorted(titles(viewer, skill="translation")) == ["French pages", "Spanish pages"]
    assert titles(viewer, skill="german") == []
    search = selectors.tasks_search(viewer=viewer)
    assert search.skills[0] == ("translation", 2)
    assert dict(search.skills) == {"translation": 2, "spanish": 1, "french": 1, "photography": 1}


def test_the_claimable_filter(viewer):
    project_with(
        {"title": "Claim me", "claimable": True},
        {"title": "Propose on me", "claimable": False},
    )

    assert titles(viewer, claimable=True) == ["Claim me"]
    assert titles(viewer, claimable=False) == ["Propose on me"]
    assert sorted(titles(viewer, claimable=None)) == ["Claim me", "Propose on me"]


def test_the_currency_and_minimum_budget_filter(viewer):
    project_with({"title": "Cheap", "budget": 1000}, {"title": "Dear", "budget": 9000})
    project_with({"title": "In euros", "budget": 9000}, currency="EUR")

    assert titles(viewer, currency="usd", budget_min=5000) == ["Dear"]
    assert sorted(titles(viewer, currency="USD")) == ["Cheap", "Dear"]
    assert titles(viewer, currency="EUR") == ["In euros"]


# --- what is never listed -------------------------------------------------------------------------


def test_a_full_task_is_hidden_until_a_unit_is_free_again(viewer):
    project = project_with({"title": "One unit", "claimable": True, "quantity": 1})
    task = project.tasks.get()
    assert titles(viewer) == ["One unit"]

    claim = services.task_claim(seller=seller(), task_id=task.pk)
    assert titles(viewer) == []

    services.assignment_withdraw(actor=project.buyer, assignment_id=claim.pk)
    hits = selectors.tasks_search(viewer=viewer).hits
    assert [h.task.title for h in hits] == ["One unit"]
    assert hits[0].units.left == 1


def test_a_task_with_units_left_shows_how_many(viewer):
    project = project_with({"title": "Queue", "claimable": True, "quantity": 3})
    services.task_claim(seller=seller(), task_id=project.tasks.get().pk)

    (hit,) = selectors.tasks_search(viewer=viewer).hits
    assert (hit.units.quantity, hit.units.taken, hit.units.left) == (3, 1, 2)


def test_invite_only_projects_are_listed_for_the_invited_only(viewer):
    project = project_with({"title": "Secret task"}, visibility="invited")
    project_with({"title": "Public task"})
    invited = seller(email="ana@example.test")
    services.project_invite(buyer=project.buyer, project_id=project.pk, email="ana@example.test")

    assert titles(viewer) == ["Public task"]
    assert titles(AnonymousUser()) == ["Public task"]
    assert sorted(titles(invited)) == ["Public task", "Secret task"]


def test_drafts_closed_projects_closed_tasks_and_ones_own_tasks_are_not_listed():
    owner = seller()
    project_with({"title": "Draft task"}, publish=False)
    closed = project_with({"title": "Closed project's task"})
    services.project_close(buyer=closed.buyer, project_id=closed.pk)
    open_project = project_with({"title": "Closed task"}, {"title": "Open task"})
    services.task_close(
        buyer=open_project.buyer, task_id=open_project.tasks.get(title="Closed task").pk
    )
    project_with({"title": "My own task"}, buyer=owner)

    assert titles(owner) == ["Open task"]
    assert sorted(titles(seller())) == ["My own task", "Open task"]


def test_a_task_waiting_for_another_is_listed_with_what_it_waits_for(viewer):
    project = project_with({"title": "Write the copy"})
    write = project.tasks.get()
    services.task_create(
        buyer=project.buyer,
        project_id=project.pk,
        **task_fields(title="Edit the copy", skills=[], depends_on_id=write.pk),
    )

    hits = {h.task.title: h for h in selectors.tasks_search(viewer=viewer).hits}

    assert hits["Edit the copy"].waiting_for == write
    assert hits["Write the copy"].waiting_for is None


# --- order and pages ------------------------------------------------------------------------------


@pytest.fixture
def three_tasks(clock):
    """Three tasks created a minute apart: (budget, deadline in days) = (2000, 10), (9000, 20),
    (5000, 5)."""
    project = project_with(
        {"title": "First", "budget": 2000, "deadline": TODAY + timedelta(days=10)}
    )
    for title, budget, days in (("Second", 9000, 20), ("Third", 5000, 5)):
        clock.shift(timedelta(minutes=1))
        services.task_create(
            buyer=project.buyer,
            project_id=project.pk,
            **task_fields(
                title=title, budget=budget, deadline=TODAY + timedelta(days=days), skills=[]
            ),
        )
    return project


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["Third", "Second", "First"]),
        ("budget_desc", ["Second", "Third", "First"]),
        ("deadline", ["Third", "First", "Second"]),
        ("best", ["Third", "Second", "First"]),  # no words: the freshest first
    ],
)
def test_sort_orders(three_tasks, viewer, sort, expected):
    assert titles(viewer, sort=sort) == expected


def test_an_unknown_sort_is_refused(viewer):
    with pytest.raises(ValidationFailed) as info:
        selectors.tasks_search(viewer=viewer, sort="cheapest")
    assert info.value.field == "sort"


def test_results_come_in_pages(three_tasks, viewer):
    first = selectors.tasks_search(viewer=viewer, sort="newest", per_page=2)
    second = selectors.tasks_search(viewer=viewer, sort="newest", per_page=2, page=2)
    beyond = selectors.tasks_search(viewer=viewer, sort="newest", per_page=2, page=9)

    assert (first.total, first.pages, first.page) == (3, 2, 1)
    assert [h.task.title for h in first.hits] == ["Third", "Second"]
    assert [h.task.title for h in second.hits] == ["First"]
    assert (beyond.page, [h.task.title for h in beyond.hits]) == (2, ["First"])
    assert first.scanned_all
