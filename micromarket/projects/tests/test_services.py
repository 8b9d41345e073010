"""The projects app's rules through its services, with time frozen: what a buyer and a seller
notice — the project's and task's state, the errors (code, field, message), who can see what,
units and budget, and the notifications each side gets. Refusals assert that nothing changed.

Money through funding, the milestone orders and the ledger is in ``test_money.py``; search in
``test_search.py``; the sweeper's jobs in ``test_jobs.py``; races in ``test_concurrency.py``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from micromarket.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from micromarket.messaging.models import Notification
from micromarket.projects import selectors, services
from micromarket.projects.models import (
    Assignment,
    Project,
    ProjectAttachment,
    Proposal,
    Task,
)
from micromarket.projects.tests.conftest import T0, notifications
from micromarket.projects.tests.factories import (
    UserFactory,
    category_id,
    fund,
    make_project,
    propose,
    reload,
    seller,
    task_fields,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "after_commit_inline")]

TODAY = T0.date()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def project_args(project: Project, **changes) -> dict:
    """``project_update``'s arguments: the project as it is, with ``changes``."""
    args = dict(
        buyer=project.buyer,
        project_id=project.pk,
        title=project.title,
        description=project.description,
        category_id=project.category_id,
        currency=project.currency,
        budget=project.budget,
        deadline=project.deadline,
        visibility=project.visibility,
    )
    args.update(changes)
    return args


def task_args(task: Task, **changes) -> dict:
    """``task_update``'s arguments: the task as it is, with ``changes``."""
    args = dict(
        buyer=task.project.buyer,
        task_id=task.pk,
        title=task.title,
        brief=task.brief,
        budget=task.budget,
        deadline=task.deadline,
        quantity=task.quantity,
        per_seller_limit=task.per_seller_limit,
        skills=task.skills,
        delivery_days=task.delivery_days,
        revisions=task.revisions,
        claimable=task.claimable,
        depends_on_id=task.depends_on_id,
    )
    args.update(changes)
    return args


def add_task(project: Project, **overrides) -> Task:
    return services.task_create(
        buyer=project.buyer, project_id=project.pk, **task_fields(**overrides)
    )


def refused(error, code: str | None = None, field: str | None = None):
    """``pytest.raises`` for ``error``, checking its code and field afterwards."""

    class Check:
        def __enter__(self):
            self.ctx = pytest.raises(error)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            if code is not None:
                assert self.info.value.code == code, self.info.value
            if field is not None:
                assert self.info.value.field == field, self.info.value
            return handled

    return Check()


def award(project: Project, proposal: Proposal) -> Assignment:
    return services.proposal_award(buyer=project.buyer, proposal_id=proposal.pk)


# --- projects: create, update, publish, close ---------------------------------------------------


def test_a_new_project_is_a_draft_nobody_else_sees():
    buyer = UserFactory()
    project = make_project(buyer, publish=False)

    assert project.status == "draft"
    assert project.published_at is None
    with pytest.raises(NotFound):
        selectors.project_visible(viewer=seller(), project_id=project.pk)
    assert selectors.project_visible(viewer=buyer, project_id=project.pk) == project


def test_a_project_deadline_cannot_be_in_the_past():
    buyer = UserFactory()
    with refused(ValidationFailed, field="deadline"):
        services.project_create(
            buyer=buyer,
            title="Launch",
            description="Soon.",
            category_id=category_id(),
            currency="USD",
            budget=10_000,
            deadline=TODAY - timedelta(days=1),
        )
    assert not Project.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"budget": 0}, "budget"),
        ({"budget": "100"}, "budget"),
        ({"currency": "XYZ"}, "currency"),
        ({"visibility": "friends"}, "visibility"),
    ],
)
def test_project_input_is_checked(changes, field):
    buyer = UserFactory()
    args = dict(
        buyer=buyer,
        title="Launch",
        description="Soon.",
        category_id=category_id(),
        currency="USD",
        budget=10_000,
        deadline=TODAY + timedelta(days=9),
    )
    with refused(ValidationFailed, field=field):
        services.project_create(**{**args, **changes})
    assert not Project.objects.exists()


def test_a_deadline_is_a_day_in_the_buyers_time_zone():
    # 09:00 UTC on 3 March is still 2 March, 23:00 in Honolulu.
    buyer = UserFactory(timezone="Pacific/Honolulu")
    project = services.project_create(
        buyer=buyer,
        title="Launch",
        description="Soon.",
        category_id=category_id(),
        currency="USD",
        budget=10_000,
        deadline=TODAY - timedelta(days=1),
    )
    assert project.deadline == TODAY - timedelta(days=1)


def test_publishing_needs_a_task():
    project = make_project(tasks=[], publish=False)

    with refused(ValidationFailed, code="no_tasks") as info:
        services.project_publish(buyer=project.buyer, project_id=project.pk)

    assert info.value.message == "Add at least one task first."
    assert reload(project).status == "draft"


def test_publishing_after_the_deadline_passed_is_refused_until_it_moves(clock):
    project = make_project(publish=False)
    clock.move_to(T0 + timedelta(days=31))

    with refused(ValidationFailed, code="past_deadline", field="deadline"):
        services.project_publish(buyer=project.buyer, project_id=project.pk)
    assert reload(project).status == "draft"

    task = project.tasks.get()
    services.project_update(**project_args(project, deadline=TODAY + timedelta(days=60)))
    services.task_update(**task_args(task, deadline=TODAY + timedelta(days=45)))
    project = services.project_publish(buyer=project.buyer, project_id=project.pk)
    assert project.status == "open"
    assert project.published_at == T0 + timedelta(days=31)


def test_only_the_buyer_edits_publishes_or_closes_and_others_learn_nothing():
    project = make_project(publish=False)
    other = seller()

    with pytest.raises(NotFound):
        services.project_update(**project_args(project, buyer=other, title="Mine now"))
    with pytest.raises(NotFound):
        services.project_publish(buyer=other, project_id=project.pk)
    with pytest.raises(NotFound):
        services.project_close(buyer=other, project_id=project.pk)
    with pytest.raises(NotFound):
        services.task_create(buyer=other, project_id=project.pk, **task_fields())

    project = reload(project)
    assert (project.title, project.status, project.tasks.count()) == (
        "Launch our Spanish shop",
        "draft",
        1,
    )


def test_the_budget_cannot_go_below_the_tasks_budgets():
    project = make_project(tasks=[{"budget": 4000, "quantity": 5}], budget=30_000)

    with refused(ValidationFailed, code="budget_below_tasks", field="budget") as info:
        services.project_update(**project_args(project, budget=19_999))

    assert "$200.00" in info.value.message
    assert reload(project).budget == 30_000
    assert services.project_update(**project_args(project, budget=20_000)).budget == 20_000


def test_the_budget_cannot_go_below_what_is_committed_to_sellers():
    project = make_project(tasks=[{"budget": 4000}], budget=30_000)
    award(project, propose(seller(), project.tasks.get(), price=25_000))

    with refused(ValidationFailed, code="budget_below_committed", field="budget") as info:
        services.project_update(**project_args(project, budget=24_999))

    assert "$250.00 is already committed" in info.value.message
    assert reload(project).budget == 30_000


def test_the_currency_is_fixed_once_the_project_has_tasks():
    project = make_project(tasks=[], publish=False)
    project = services.project_update(**project_args(project, currency="EUR"))
    assert project.currency == "EUR"  # no task priced in it yet

    add_task(project)
    with refused(ValidationFailed, field="currency") as info:
        services.project_update(**project_args(project, currency="USD"))
    assert info.value.message.startswith("The currency cannot change once")
    assert reload(project).currency == "EUR"

    services.project_publish(buyer=project.buyer, project_id=project.pk)
    award(project, propose(seller(), project.tasks.get()))  # and certainly after an award
    with refused(ValidationFailed, field="currency"):
        services.project_update(**project_args(project, currency="GBP"))
    assert reload(project).currency == "EUR"


def test_closing_declines_pending_proposals_and_withdraws_unfunded_work_but_funded_work_goes_on():
    project = make_project(tasks=[{"quantity": 3, "per_seller_limit": 1}], budget=100_000)
    task = project.tasks.get()
    funded_seller, unfunded_seller, waiting_seller = seller(), seller(), seller()
    funded = award(project, propose(funded_seller, task))
    fund(project.buyer, [funded])
    unfunded = award(project, propose(unfunded_seller, task))
    waiting = propose(waiting_seller, task)

    project = services.project_close(buyer=project.buyer, project_id=project.pk)

    assert (project.status, project.closed_at) == ("closed", T0)
    assert reload(waiting).status == "declined"
    assert reload(unfunded).status == "withdrawn"
    assert reload(funded).status == "active"
    assert reload(funded).order.state == "in_progress"
    assert selectors.units_taken(task.pk) == 1
    assert selectors.committed(project.pk) == task.budget
    assert f"Your proposal on “{task.title}” was not chosen" in notifications(waiting_seller)
    # A closed project takes nothing new, and is gone for sellers not involved in it.
    with refused(Conflict, code="project_not_open"):
        propose(funded_seller, task)
    with pytest.raises(NotFound):
        propose(seller(), task)
    # Reopening it makes it visible again (published_at stays the first publication).
    project = services.project_publish(buyer=project.buyer, project_id=project.pk)
    assert (project.status, project.closed_at, project.published_at) == ("open", None, T0)


# --- tasks ----------------------------------------------------------------------------------------


def test_tasks_budgets_cannot_add_up_to_more_than_the_projects_budget():
    project = make_project(tasks=[{"budget": 3000, "quantity": 2}], budget=10_000)

    with refused(ValidationFailed, code="over_budget", field="budget") as info:
        add_task(project, title="Proofread", budget=1000, quantity=5)  # 6000 + 5000 > 10000

    assert "$110.00" in info.value.message
    assert "$100.00" in info.value.message
    assert project.tasks.count() == 1
    assert add_task(project, title="Proofread", budget=1000, quantity=4).total_budget == 4000
    # Raising a task over the rest of the budget is refused the same way.
    task = project.tasks.get(title="Proofread")
    with refused(ValidationFailed, code="over_budget"):
        services.task_update(**task_args(task, budget=1001))
    assert reload(task).budget == 1000


def test_a_task_deadline_cannot_be_after_the_projects_or_in_the_past():
    project = make_project()  # the project's deadline: in 30 days

    with refused(ValidationFailed, field="deadline") as info:
        add_task(project, title="Late", deadline=TODAY + timedelta(days=31))
    assert info.value.message == "A task's deadline cannot be after the project's."
    with refused(ValidationFailed, field="deadline"):
        add_task(project, title="Past", deadline=TODAY - timedelta(days=1))
    assert project.tasks.count() == 1
    assert add_task(project, title="On time", deadline=TODAY + timedelta(days=30)).pk


def test_a_task_cannot_wait_for_itself_even_through_other_tasks():
    project = make_project(tasks=[{"title": "Write"}])
    write = project.tasks.get()
    edit = add_task(project, title="Edit", depends_on_id=write.pk)
    publish = add_task(project, title="Publish", depends_on_id=edit.pk)

    with refused(ValidationFailed, field="depends_on") as info:
        services.task_update(**task_args(write, depends_on_id=publish.pk))
    assert info.value.message == "A task cannot wait for itself, even through other tasks."
    with refused(ValidationFailed, field="depends_on"):
        services.task_update(**task_args(write, depends_on_id=write.pk))
    assert reload(write).depends_on_id is None


def test_a_task_can_only_wait_for_a_task_of_its_own_project():
    other = make_project().tasks.get()
    project = make_project()

    with refused(ValidationFailed, field="depends_on"):
        add_task(project, title="Edit", depends_on_id=other.pk)
    assert project.tasks.count() == 1


def test_the_quantity_cannot_go_below_the_units_taken():
    project = make_project(tasks=[{"quantity": 3, "claimable": True}])
    task = project.tasks.get()
    services.task_claim(seller=seller(), task_id=task.pk)
    services.task_claim(seller=seller(), task_id=task.pk)

    with refused(ValidationFailed, field="quantity") as info:
        services.task_update(**task_args(task, quantity=1))

    assert info.value.message == "2 units are already taken; the quantity cannot be less."
    assert reload(task).quantity == 3
    assert services.task_update(**task_args(task, quantity=2)).quantity == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": 2, "per_seller_limit": 3}, "per_seller_limit"),
        ({"quantity": 0}, "quantity"),
        ({"budget": -5}, "budget"),
        ({"delivery_days": 0}, "delivery_days"),
        ({"revisions": 11}, "revisions"),
        ({"skills": [f"skill {i}" for i in range(11)]}, "skills"),
        ({"brief": ""}, "brief"),
    ],
)
def test_task_input_is_checked(changes, field):
    project = make_project(tasks=[], publish=False)

    with refused(ValidationFailed, field=field):
        add_task(project, **changes)
    assert not project.tasks.exists()


def test_skills_are_kept_lower_case_once_each():
    project = make_project(tasks=[], publish=False)
    task = add_task(project, skills="Spanish,  SPANISH, Legal   Translation,")
    assert task.skills == ["spanish", "legal translation"]


def test_a_closed_project_takes_no_new_tasks():
    project = make_project()
    services.project_close(buyer=project.buyer, project_id=project.pk)

    with refused(Conflict, code="project_closed"):
        add_task(project, title="More")
    assert project.tasks.count() == 1


def test_a_task_with_proposals_cannot_be_deleted_only_closed():
    project = make_project(tasks=[{"title": "Used"}, {"title": "Unused"}])
    used, unused = project.tasks.all()
    proposal = propose(seller(), used)

    with refused(Conflict, code="task_in_use"):
        services.task_delete(buyer=project.buyer, task_id=used.pk)
    services.task_delete(buyer=project.buyer, task_id=unused.pk)
    assert list(project.tasks.values_list("title", flat=True)) == ["Used"]

    services.task_close(buyer=project.buyer, task_id=used.pk)
    assert reload(used).status == "closed"
    assert reload(proposal).status == "declined"


# --- invites and attachments ----------------------------------------------------------------------


def test_inviting_needs_a_sellers_email_and_only_once():
    project = make_project(visibility="invited")
    invited = seller(email="ana@example.test")

    with refused(ValidationFailed, code="no_seller", field="email"):
        services.project_invite(buyer=project.buyer, project_id=project.pk, email="x@nowhere.test")
    UserFactory(email="buyer.only@example.test")  # no shop: not a seller
    with refused(ValidationFailed, code="no_seller"):
        services.project_invite(
            buyer=project.buyer, project_id=project.pk, email="buyer.only@example.test"
        )
    services.project_invite(buyer=project.buyer, project_id=project.pk, email=" ANA@example.test ")
    with refused(Conflict, field="email") as info:
        services.project_invite(
            buyer=project.buyer, project_id=project.pk, email="ana@example.test"
        )

    assert info.value.message == "That seller is already invited."
    assert list(project.invites.values_list("seller", flat=True)) == [invited.pk]


def test_uninviting_hides_the_project_again():
    project = make_project(visibility="invited")
    invited = seller(email="ana@example.test")
    services.project_invite(buyer=project.buyer, project_id=project.pk, email="ana@example.test")
    assert selectors.project_visible(viewer=invited, project_id=project.pk) == project

    services.project_uninvite(buyer=project.buyer, project_id=project.pk, seller_id=invited.pk)

    with pytest.raises(NotFound):
        selectors.project_visible(viewer=invited, project_id=project.pk)
    with pytest.raises(NotFound):
        services.project_uninvite(buyer=project.buyer, project_id=project.pk, seller_id=invited.pk)


def test_an_attachment_is_stored_privately_with_its_sniffed_type():
    project = make_project()

    item = services.attachment_add(
        buyer=project.buyer,
        project_id=project.pk,
        upload=SimpleUploadedFile("brief.pdf", PDF, content_type="text/plain"),
    )

    assert (item.name, item.content_type, item.size) == ("brief.pdf", "application/pdf", len(PDF))
    assert item.file.read() == PDF
    assert selectors.attachment_for_user(attachment_id=item.pk, user=project.buyer) == item


def test_a_program_renamed_to_pdf_is_refused_and_nothing_is_stored():
    project = make_project()
    program = b"MZ\x90\x00\x03" + b"\x00" * 200

    with refused(ValidationFailed, code="file_type_not_allowed", field="file"):
        services.attachment_add(
            buyer=project.buyer,
            project_id=project.pk,
            upload=SimpleUploadedFile("invoice.pdf", program, content_type="application/pdf"),
        )
    assert not ProjectAttachment.objects.exists()


def test_an_attachment_over_20_mb_is_refused():
    project = make_project()
    big = SimpleUploadedFile("scan.pdf", PDF + b"0" * (20 * 1024 * 1024), "application/pdf")

    with refused(ValidationFailed, code="file_too_large", field="file") as info:
        services.attachment_add(buyer=project.buyer, project_id=project.pk, upload=big)

    assert "the limit is 20 MB" in info.value.message
    assert not ProjectAttachment.objects.exists()


def test_a_project_has_at_most_ten_attachments():
    project = make_project()
    for i in range(10):
        services.attachment_add(
            buyer=project.buyer,
            project_id=project.pk,
            upload=SimpleUploadedFile(f"page-{i}.pdf", PDF, "application/pdf"),
        )

    with refused(ValidationFailed, code="too_many", field="file"):
        services.attachment_add(
            buyer=project.buyer,
            project_id=project.pk,
            upload=SimpleUploadedFile("eleven.pdf", PDF, "application/pdf"),
        )
    assert project.attachments.count() == 10


def test_only_the_buyer_attaches_and_only_people_who_see_the_project_read():
    project = make_project(visibility="invited")
    item = services.attachment_add(
        buyer=project.buyer,
        project_id=project.pk,
        upload=SimpleUploadedFile("brief.pdf", PDF, "application/pdf"),
    )
    stranger = seller()

    with pytest.raises(NotFound):
        services.attachment_add(
            buyer=stranger,
            project_id=project.pk,
            upload=SimpleUploadedFile("mine.pdf", PDF, "application/pdf"),
        )
    with pytest.raises(NotFound):
        selectors.attachment_for_user(attachment_id=item.pk, user=stranger)
    with pytest.raises(NotFound):
        services.attachment_remove(buyer=stranger, attachment_id=item.pk)
    assert project.attachments.count() == 1


# --- who sees what ------------------------------------------------------------------------------


def test_an_invite_only_project_is_not_found_for_an_uninvited_seller_and_nothing_is_written():
    project = make_project(visibility="invited", tasks=[{"claimable": True, "quantity": 2}])
    task = project.tasks.get()
    outsider = seller(email="out@example.test")

    with pytest.raises(NotFound):
        selectors.project_visible(viewer=outsider, project_id=project.pk)
    with pytest.raises(NotFound):
        selectors.task_visible(viewer=outsider, task_id=task.pk)
    with pytest.raises(NotFound):
        propose(outsider, task)
    with pytest.raises(NotFound):
        services.task_claim(seller=outsider, task_id=task.pk)
    assert not Proposal.objects.exists()
    assert not Assignment.objects.exists()
    assert notifications(project.buyer) == []
    search = selectors.tasks_search(viewer=outsider)
    assert search.total == 0

    services.project_invite(buyer=project.buyer, project_id=project.pk, email="out@example.test")

    assert selectors.task_visible(viewer=outsider, task_id=task.pk) == task
    assert [h.task for h in selectors.tasks_search(viewer=outsider).hits] == [task]
    assert propose(outsider, task).status == "pending"
    assert services.task_claim(seller=outsider, task_id=task.pk).status == "active"


def test_a_draft_is_not_found_for_sellers_and_takes_no_proposals():
    project = make_project(publish=False)
    task = project.tasks.get()
    someone = seller()

    with pytest.raises(NotFound):
        selectors.task_visible(viewer=someone, task_id=task.pk)
    with pytest.raises(NotFound):
        propose(someone, task)
    assert selectors.tasks_search(viewer=someone).total == 0
    assert not Proposal.objects.exists()


def test_a_seller_who_proposed_still_sees_a_project_after_it_closes():
    project = make_project()
    task = project.tasks.get()
    involved = seller()
    propose(involved, task)
    services.project_close(buyer=project.buyer, project_id=project.pk)

    assert selectors.task_visible(viewer=involved, task_id=task.pk) == task
    with pytest.raises(NotFound):
        selectors.task_visible(viewer=seller(), task_id=task.pk)


# --- proposals ------------------------------------------------------------------------------------


def test_only_sellers_propose_and_nothing_is_written_otherwise():
    project = make_project()
    buyer_only = UserFactory()

    with refused(PermissionDenied, code="not_a_seller") as info:
        propose(buyer_only, project.tasks.get())

    assert info.value.message == "Only sellers can propose or take tasks: open your shop first."
    assert not Proposal.objects.exists()
    assert notifications(project.buyer) == []


def test_a_seller_cannot_propose_on_or_claim_their_own_project():
    owner = seller()
    project = make_project(owner, tasks=[{"claimable": True}])
    task = project.tasks.get()

    with refused(ValidationFailed, code="self_dealing"):
        propose(owner, task)
    with refused(ValidationFailed, code="self_dealing"):
        services.task_claim(seller=owner, task_id=task.pk)
    assert not Proposal.objects.exists()
    assert not Assignment.objects.exists()


def test_one_pending_proposal_per_seller_and_task():
    project = make_project()
    task = project.tasks.get()
    someone = seller()
    first = propose(someone, task, price=3500)

    with refused(Conflict, code="proposal_pending"):
        propose(someone, task, price=3000)
    assert list(task.proposals.values_list("price", flat=True)) == [3500]

    services.proposal_withdraw(seller=someone, proposal_id=first.pk)
    assert propose(someone, task, price=3000).status == "pending"


def test_proposal_terms_are_checked():
    task = make_project().tasks.get()
    someone = seller()
    with refused(ValidationFailed, field="price"):
        propose(someone, task, price=0)
    with refused(ValidationFailed, field="days"):
        propose(someone, task, days=0)
    assert not Proposal.objects.exists()


def test_withdraw_and_decline_only_a_pending_proposal():
    project = make_project(tasks=[{"quantity": 2}])
    task = project.tasks.get()
    a, b = seller(), seller()
    withdrawn = services.proposal_withdraw(seller=a, proposal_id=propose(a, task).pk)
    declined = services.proposal_decline(buyer=project.buyer, proposal_id=propose(b, task).pk)

    assert (withdrawn.status, declined.status) == ("withdrawn", "declined")
    with refused(Conflict, code="not_pending"):
        services.proposal_withdraw(seller=a, proposal_id=withdrawn.pk)
    with refused(Conflict, code="not_pending"):
        services.proposal_decline(buyer=project.buyer, proposal_id=withdrawn.pk)
    with refused(Conflict, code="not_pending"):
        award(project, declined)
    assert not Assignment.objects.exists()
    # Only its seller withdraws, only the project's buyer declines.
    pending = propose(a, task)
    with pytest.raises(NotFound):
        services.proposal_withdraw(seller=b, proposal_id=pending.pk)
    with pytest.raises(NotFound):
        services.proposal_decline(buyer=b, proposal_id=pending.pk)
    assert reload(pending).status == "pending"


def test_a_dependent_task_waits_until_its_dependency_is_done():
    project = make_project(tasks=[{"title": "Write the copy"}])
    write = project.tasks.get()
    edit = add_task(project, title="Edit the copy", depends_on_id=write.pk, claimable=True)
    writer, editor = seller(), seller()

    with refused(Conflict, code="task_waiting") as info:
        propose(editor, edit)
    assert info.value.message == "This task starts once “Write the copy” is done."
    with refused(Conflict, code="task_waiting"):
        services.task_claim(seller=editor, task_id=edit.pk)
    assert not edit.proposals.exists()
    assert not edit.assignments.exists()

    # Awarded and funded is not done yet: the work must be approved and paid.
    assignment = award(project, propose(writer, write))
    fund(project.buyer, [assignment])
    with refused(Conflict, code="task_waiting"):
        propose(editor, edit)
    services.assignment_transition(
        actor=writer, assignment_id=assignment.pk, name="submit", data={"message": "Done."}
    )
    services.assignment_transition(actor=project.buyer, assignment_id=assignment.pk, name="approve")

    assert reload(assignment).order.state == "completed"
    assert selectors.waiting_for(reload(edit)) is None
    assert propose(editor, edit).status == "pending"


def test_a_dependency_closed_with_no_work_under_way_no_longer_holds_up_its_dependent():
    project = make_project(tasks=[{"title": "Write the copy"}])
    write = project.tasks.get()
    edit = add_task(project, title="Edit the copy", depends_on_id=write.pk)

    services.task_close(buyer=project.buyer, task_id=write.pk)

    assert propose(seller(), edit).status == "pending"


# --- awards and claims --------------------------------------------------------------------------


def test_an_award_gives_one_unit_at_the_sellers_price_and_days():
    project = make_project(tasks=[{"budget": 4000}])
    task = project.tasks.get()
    someone = seller()
    proposal = propose(someone, task, price=3600, days=5)

    assignment = award(project, proposal)

    assert (assignment.seller, assignment.via, assignment.price, assignment.days) == (
        someone,
        "proposal",
        3600,
        5,
    )
    assert (assignment.status, assignment.order) == ("active", None)
    assert reload(proposal).status == "awarded"
    assert selectors.committed(project.pk) == 3600
    assert selectors.stage_of(assignment) == "funding"


def test_an_award_that_would_exceed_the_budget_is_refused_and_nothing_is_written():
    project = make_project(tasks=[{"budget": 5000, "quantity": 2}], budget=10_000)
    task = project.tasks.get()
    first = propose(seller(), task, price=6000)
    second = propose(seller(), task, price=6000)
    award(project, first)

    with refused(Conflict, code="over_budget") as info:
        award(project, second)

    assert info.value.message == (
        "That would exceed the project's budget: $40.00 of $100.00 is left."
    )
    assert reload(second).status == "pending"
    assert task.assignments.count() == 1
    assert selectors.committed(project.pk) == 6000


def test_units_are_never_oversold():
    project = make_project(tasks=[{"quantity": 1}])
    task = project.tasks.get()
    first, second = propose(seller(), task), propose(seller(), task)
    award(project, first)

    with refused(Conflict, code="task_full"):
        award(project, second)
    assert reload(second).status == "pending"
    assert task.assignments.count() == 1


def test_a_seller_holds_at_most_the_per_seller_limit():
    project = make_project(tasks=[{"quantity": 5, "per_seller_limit": 2, "claimable": True}])
    task = project.tasks.get()
    someone = seller()
    services.task_claim(seller=someone, task_id=task.pk)
    services.task_claim(seller=someone, task_id=task.pk)

    with refused(Conflict, code="seller_limit"):
        services.task_claim(seller=someone, task_id=task.pk)
    with refused(Conflict, code="seller_limit"):
        propose(someone, task)
    assert selectors.units_taken(task.pk, seller_id=someone.pk) == 2
    assert services.task_claim(seller=seller(), task_id=task.pk).status == "active"


def test_a_closed_task_or_project_refuses_awards_and_claims():
    project = make_project(tasks=[{"quantity": 3, "claimable": True}])
    task = project.tasks.get()
    claimer = seller()
    services.task_claim(seller=claimer, task_id=task.pk)
    proposal = propose(seller(), task)
    services.task_close(buyer=project.buyer, task_id=task.pk)

    with refused(Conflict, code="task_closed"):
        services.task_claim(seller=seller(), task_id=task.pk)
    with refused(Conflict, code="not_pending"):  # closing declined it
        award(project, proposal)

    services.task_reopen(buyer=project.buyer, task_id=task.pk)
    late = propose(seller(), task)
    services.project_close(buyer=project.buyer, project_id=project.pk)
    with refused(Conflict, code="project_not_open"):  # involved: sees it, cannot take more
        services.task_claim(seller=claimer, task_id=task.pk)
    with refused(Conflict, code="not_pending"):
        award(project, late)
    assert task.assignments.filter(status="active").count() == 0  # the claim was withdrawn


def test_only_a_claimable_task_can_be_claimed():
    task = make_project(tasks=[{"claimable": False}]).tasks.get()

    with refused(Conflict, code="not_claimable"):
        services.task_claim(seller=seller(), task_id=task.pk)
    assert not Assignment.objects.exists()


def test_a_claim_takes_a_unit_at_the_budget_price_and_tells_the_buyer():
    project = make_project(tasks=[{"budget": 2500, "quantity": 4, "claimable": True}])
    task = project.tasks.get()
    someone = seller(display_name="Ana Ruiz")

    assignment = services.task_claim(seller=someone, task_id=task.pk)

    assert (assignment.via, assignment.price, assignment.days) == ("claim", 2500, 3)
    assert selectors.task_units([task])[task.pk].left == 3
    assert notifications(project.buyer, "projects") == [
        "Ana Ruiz took a unit of “Translate product pages into Spanish”"
    ]


def test_a_claim_is_refused_when_the_budget_is_spent_on_higher_prices():
    project = make_project(
        tasks=[{"title": "Write", "budget": 5000}, {"title": "Check", "claimable": True}],
        budget=9000,
    )
    write, check = project.tasks.all()
    award(project, propose(seller(), write, price=6000))

    with refused(Conflict, code="over_budget"):
        services.task_claim(seller=seller(), task_id=check.pk)
    assert not check.assignments.exists()


def test_withdrawing_an_unfunded_assignment_frees_its_unit_and_budget():
    project = make_project(tasks=[{"quantity": 1, "claimable": True}])
    task = project.tasks.get()
    first = seller()
    assignment = services.task_claim(seller=first, task_id=task.pk)
    with refused(Conflict, code="task_full"):
        services.task_claim(seller=seller(), task_id=task.pk)

    with pytest.raises(NotFound):  # a stranger cannot
        services.assignment_withdraw(actor=seller(), assignment_id=assignment.pk)
    withdrawn = services.assignment_withdraw(actor=first, assignment_id=assignment.pk)

    assert (withdrawn.status, withdrawn.ended_at) == ("withdrawn", T0)
    assert selectors.units_taken(task.pk) == 0
    assert selectors.committed(project.pk) == 0
    assert services.task_claim(seller=seller(), task_id=task.pk).status == "active"
    with refused(Conflict, code="not_active"):
        services.assignment_withdraw(actor=project.buyer, assignment_id=assignment.pk)


def test_funded_work_cannot_be_withdrawn_only_cancelled_through_its_order():
    project = make_project()
    assignment = award(project, propose(seller(), project.tasks.get()))
    fund(project.buyer, [assignment])

    with refused(Conflict, code="already_funded"):
        services.assignment_withdraw(actor=project.buyer, assignment_id=assignment.pk)
    assert reload(assignment).status == "active"


def test_work_moves_only_once_funded_and_only_for_its_parties():
    project = make_project()
    someone = seller()
    assignment = award(project, propose(someone, project.tasks.get()))

    with refused(Conflict, code="not_funded"):
        services.assignment_transition(
            actor=someone, assignment_id=assignment.pk, name="submit", data={"message": "x"}
        )
    fund(project.buyer, [assignment])
    with pytest.raises(NotFound):
        services.assignment_transition(
            actor=seller(), assignment_id=assignment.pk, name="submit", data={"message": "x"}
        )
    with refused(PermissionDenied, code="wrong_party"):
        services.assignment_transition(
            actor=project.buyer, assignment_id=assignment.pk, name="submit", data={"message": "x"}
        )
    assert reload(assignment).order.state == "in_progress"


# --- notifications -------------------------------------------------------------------------------


def test_a_proposal_tells_the_buyer_and_an_award_tells_the_seller():
    project = make_project()
    task = project.tasks.get()
    someone = seller(display_name="Ana Ruiz")

    proposal = propose(someone, task, price=3500, days=4)

    assert notifications(project.buyer, "projects") == [f"New proposal on “{task.title}”"]
    assert notifications(someone) == []

    award(project, proposal)

    assert notifications(someone, "projects") == [f"You were awarded “{task.title}”"]
    assert len(notifications(project.buyer)) == 1


def test_publishing_a_public_project_tells_sellers_whose_skills_match_a_task():
    buyer = seller(skills=["spanish"])  # the buyer is never told about their own project
    matching = seller(skills=["Spanish", "french"])
    other_skill = seller(skills=["german"])
    no_shop = UserFactory(skills=["spanish"])
    project = make_project(buyer, publish=False, tasks=[{"skills": ["spanish"]}])

    services.project_publish(buyer=buyer, project_id=project.pk)

    title = "New task for your skills: “Translate product pages into Spanish”"
    assert notifications(matching, "task_matches") == [title]
    for user in (buyer, other_skill, no_shop):
        assert notifications(user) == []
    # Reopening after a close does not announce it again.
    services.project_close(buyer=buyer, project_id=project.pk)
    services.project_publish(buyer=buyer, project_id=project.pk)
    assert len(notifications(matching)) == 1


def test_a_task_added_to_an_open_project_is_announced_to_matching_sellers():
    project = make_project(tasks=[{"skills": ["spanish"]}])
    german = seller(skills=["german"])

    add_task(project, title="Translate into German", skills=["german"], budget=1000)

    assert notifications(german, "task_matches") == [
        "New task for your skills: “Translate into German”"
    ]


def test_publishing_an_invite_only_project_tells_only_the_invited():
    buyer = UserFactory(display_name="Rosie Baker")
    project = make_project(buyer, publish=False, visibility="invited")
    invited = seller(email="ana@example.test", skills=["translation"])
    matching = seller(skills=["spanish", "translation"])
    services.project_invite(buyer=buyer, project_id=project.pk, email="ana@example.test")
    assert notifications(invited) == []  # a draft: not yet

    services.project_publish(buyer=buyer, project_id=project.pk)

    assert notifications(invited, "projects") == [
        "Rosie Baker invited you to “Launch our Spanish shop”"
    ]
    assert notifications(invited, "task_matches") == []
    assert notifications(matching) == []


def test_inviting_to_an_open_project_tells_the_seller_at_once():
    buyer = UserFactory(display_name="Rosie Baker")
    project = make_project(buyer, visibility="invited")
    invited = seller(email="ana@example.test")

    services.project_invite(buyer=buyer, project_id=project.pk, email="ana@example.test")

    assert notifications(invited, "projects") == [
        "Rosie Baker invited you to “Launch our Spanish shop”"
    ]


def test_claims_in_a_burst_fold_into_one_notification_for_the_buyer():
    project = make_project(tasks=[{"claimable": True, "quantity": 3}])
    task = project.tasks.get()
    for _ in range(3):
        services.task_claim(seller=seller(), task_id=task.pk)

    (told,) = Notification.objects.filter(user=project.buyer, category="projects")
    assert told.count == 3


def test_declining_tells_the_seller():
    project = make_project()
    task = project.tasks.get()
    someone = seller()

    services.proposal_decline(buyer=project.buyer, proposal_id=propose(someone, task).pk)

    assert notifications(someone, "projects") == [f"Your proposal on “{task.title}” was not chosen"]


# --- the buyer's board ---------------------------------------------------------------------------


def test_the_board_shows_spend_stages_and_what_to_fund():
    project = make_project(
        tasks=[{"title": "Write", "budget": 5000}, {"title": "Check", "claimable": True}],
        budget=20_000,
    )
    write, check = project.tasks.all()
    writer, checker = seller(), seller()
    funded = award(project, propose(writer, write, price=4500))
    fund(project.buyer, [funded])
    waiting = services.task_claim(seller=checker, task_id=check.pk)

    board = selectors.project_board(buyer=project.buyer, project_id=project.pk)

    assert (board.spend.budget, board.spend.committed, board.spend.funding) == (20_000, 8500, 4000)
    assert board.spend.in_escrow == 4500  # the sellers' prices held (fees aside)
    assert (board.spend.paid, board.spend.left) == (0, 11_500)
    assert [a.pk for a in board.columns["in_progress"]] == [funded.pk]
    assert [a.pk for a in board.to_fund] == [waiting.pk]
    assert [a.pk for a in board.columns["funding"]] == [waiting.pk]
    assert [u.pk for u, _ in board.workers] == [writer.pk, checker.pk]
    with pytest.raises(NotFound):
        selectors.project_board(buyer=writer, project_id=project.pk)


def test_proposals_are_compared_waiting_first_for_the_buyer_only():
    project = make_project(tasks=[{"quantity": 2}])
    task = project.tasks.get()
    first, second = seller(), seller()
    awarded = propose(first, task)
    waiting = propose(second, task)
    award(project, awarded)

    cards = selectors.proposals_compared(buyer=project.buyer, task_id=task.pk)

    assert [c.proposal.pk for c in cards] == [waiting.pk, awarded.pk]
    assert all(c.reviews == 0 and c.completed_orders == 0 for c in cards)
    with pytest.raises(NotFound):
        selectors.proposals_compared(buyer=first, task_id=task.pk)


def test_a_task_date_is_a_date():
    project = make_project(tasks=[], publish=False)
    with refused(ValidationFailed, field="deadline"):
        add_task(project, deadline="2031-03-10")
    assert not project.tasks.exists()
