"""/api/v1/projects: buyers' projects and their micro-tasks, sellers' proposals and claims,
funding and the work's steps. Endpoints validate, call one service or selector, serialise.

- A project, task, proposal or assignment a caller may not see is 404, never 403, so ids do
  not leak (invite-only projects are invisible to sellers who are not invited).
- ``POST /projects/assignments/fund`` pays for awarded or claimed units in one payment and
  honours the ``Idempotency-Key`` header (``micromarket.core.idempotency``).
- After funding each assignment is a milestone order; ``POST
  /projects/assignments/{id}/transitions/{name}`` moves it (submit, approve …).
"""

from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import urlencode
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from micromarket.core.api import PROBLEM_RESPONSES, LimitOffsetPage, Problem
from micromarket.core.errors import DomainError
from micromarket.core.idempotency import idempotent
from micromarket.orders import selectors as order_selectors
from micromarket.orders.processes import process_for
from micromarket.projects import selectors, services
from micromarket.projects.schemas import (
    AssignmentDetailOut,
    AssignmentOut,
    AssignmentsQuery,
    FundIn,
    FundOut,
    InviteIn,
    InviteOut,
    ProjectIn,
    ProjectOut,
    ProjectPatch,
    ProjectSummary,
    ProposalCardOut,
    ProposalIn,
    ProposalOut,
    TaskIn,
    TaskOut,
    TaskSearchOut,
    TaskSearchQuery,
    TransitionIn,
)

router = Router(tags=["projects"])

UNPAID = ("pending_payment", "payment_failed")  # a seller does not see such an order


class PaymentDeclined(DomainError):
    """The card was declined: nothing is funded (HTTP 402)."""

    status = 402
    code = "payment_declined"


# --- serialisation ----------------------------------------------------------------------------


def _party(user) -> dict:
    return {"id": user.pk, "display_name": user.display_name}


class _Mapped:
    """A queryset the paginator counts and slices; only the page's rows are serialised."""

    def __init__(self, queryset, serialise):
        self.queryset, self.serialise = queryset, serialise

    def __len__(self) -> int:
        return self.queryset.count()

    def __getitem__(self, window: slice) -> list[dict]:
        return [self.serialise(row) for row in self.queryset[window]]


def _units(units) -> dict:
    return {
        "quantity": units.quantity,
        "taken": units.taken,
        "done": units.done,
        "left": units.left,
    }


def _task(task, units, *, waiting=None, pending: int | None = None, project=None) -> dict:
    project = project or task.project
    return {
        "id": task.pk,
        "project_id": project.pk,
        "project_title": project.title,
        "currency": project.currency,
        "title": task.title,
        "brief": task.brief,
        "budget": task.budget,
        "quantity": task.quantity,
        "per_seller_limit": task.per_seller_limit,
        "deadline": task.deadline,
        "skills": task.skills,
        "delivery_days": task.delivery_days,
        "revisions": task.revisions,
        "claimable": task.claimable,
        "depends_on_id": task.depends_on_id,
        "waiting_for": None if waiting is None else {"id": waiting.pk, "title": waiting.title},
        "status": task.status,
        "position": task.position,
        "units": _units(units),
        "pending_proposals": pending,
        "created_at": task.created_at,
    }


def _rows(board) -> list[dict]:
    """The board's tasks, with the pending proposals only the buyer sees."""
    project = board.project
    return [
        _task(r.task, r.units, waiting=r.waiting_for, pending=r.pending_proposals, project=project)
        for r in board.rows
    ]


def _tasks(viewer, project) -> list[dict]:
    """The project's tasks as ``viewer`` sees them (the buyer also gets pending proposals)."""
    if project.buyer_id == viewer.pk:
        return _rows(selectors.project_board(buyer=viewer, project_id=project.pk))
    tasks = list(project.tasks.select_related("depends_on"))
    units = selectors.task_units(tasks)
    return [_task(t, units[t.pk], waiting=selectors.waiting_for(t), project=project) for t in tasks]


def _project_summary(project, *, task_count: int | None = None) -> dict:
    category = project.category
    return {
        "id": project.pk,
        "title": project.title,
        "status": project.status,
        "visibility": project.visibility,
        "currency": project.currency,
        "budget": project.budget,
        "deadline": project.deadline,
        "category": {"id": category.pk, "slug": category.slug, "name": category.name},
        "task_count": project.task_count if task_count is None else task_count,
        "created_at": project.created_at,
        "published_at": project.published_at,
        "closed_at": project.closed_at,
    }


def _attachments(request: HttpRequest, project) -> list[dict]:
    return [
        {
            "id": item.pk,
            "name": item.name,
            "size": item.size,
            "content_type": item.content_type,
            "url": request.build_absolute_uri(reverse("projects:attachment", args=[item.pk])),
        }
        for item in project.attachments.all()
    ]


def _project(request: HttpRequest, project_id: int) -> dict:
    """The project as the caller sees it: the buyer's view has the money and the invites."""
    viewer = request.auth
    project = selectors.project_visible(viewer=viewer, project_id=project_id)
    body = {
        "description": project.description,
        "buyer": _party(project.buyer),
        "attachments": _attachments(request, project),
    }
    if project.buyer_id != viewer.pk:
        tasks = _tasks(viewer, project)
        return {**_project_summary(project, task_count=len(tasks)), **body, "tasks": tasks}
    board = selectors.project_board(buyer=viewer, project_id=project.pk)
    tasks = _rows(board)
    spend = board.spend
    return {
        **_project_summary(board.project, task_count=len(tasks)),
        **body,
        "tasks": tasks,
        "spend": {
            "budget": spend.budget,
            "committed": spend.committed,
            "funding": spend.funding,
            "in_escrow": spend.in_escrow,
            "paid": spend.paid,
            "refunded": spend.refunded,
            "left": spend.left,
        },
        "invites": [_invite(i) for i in project.invites.select_related("seller")],
        "to_fund": [a.pk for a in board.to_fund],
    }


def _invite(invite) -> dict:
    return {"seller": _party(invite.seller), "created_at": invite.created_at}


def _assignment_id(proposal) -> int | None:
    if proposal.status != "awarded":
        return None
    try:
        return proposal.assignment.pk
    except ObjectDoesNotExist:
        return None


def _proposal(proposal) -> dict:
    task = proposal.task
    return {
        "id": proposal.pk,
        "task_id": task.pk,
        "task_title": task.title,
        "project_id": task.project_id,
        "seller": _party(proposal.seller),
        "price": proposal.price,
        "currency": task.project.currency,
        "days": proposal.days,
        "message": proposal.message,
        "status": proposal.status,
        "assignment_id": _assignment_id(proposal),
        "created_at": proposal.created_at,
        "decided_at": proposal.decided_at,
    }


def _card(card) -> dict:
    return {
        **_proposal(card.proposal),
        "rating": card.rating,
        "reviews": card.reviews,
        "level": card.level,
        "completed_orders": card.completed_orders,
    }


def _assignment(assignment, viewer, *, project=None) -> dict:
    task = assignment.task
    project = project or task.project
    order = assignment.order
    if order is not None and viewer.pk == assignment.seller_id and order.state in UNPAID:
        order = None  # as on the orders API: the seller sees an order once it is paid
    stage = selectors.stage_of(assignment)
    return {
        "id": assignment.pk,
        "task_id": task.pk,
        "task_title": task.title,
        "project_id": project.pk,
        "project_title": project.title,
        "seller": _party(assignment.seller),
        "via": assignment.via,
        "price": assignment.price,
        "currency": project.currency,
        "days": assignment.days,
        "status": assignment.status,
        "stage": stage,
        "stage_label": selectors.STAGES[stage],
        "order": (
            None
            if order is None
            else {
                "id": order.pk,
                "state": order.state,
                "state_label": selectors.MILESTONE_STATES.get(order.state, order.state),
            }
        ),
        "created_at": assignment.created_at,
        "ended_at": assignment.ended_at,
    }


def _assignment_detail(request: HttpRequest, assignment_id: int) -> dict:
    viewer = request.auth
    assignment = selectors.assignment_for_user(assignment_id=assignment_id, user=viewer)
    body = _assignment(assignment, viewer)
    steps = selectors.work_steps(assignment=assignment, user=viewer) if body["order"] else []
    return {
        **body,
        "transitions": [{"name": t.name, "label": t.label, "form": t.form} for t in steps],
    }


def _assignment_of(origin: str) -> int | None:
    prefix = "projects.assignment:"
    return int(origin[len(prefix) :]) if origin.startswith(prefix) else None


def _checkout(checkout) -> dict:
    """The funding's checkout (the small shape of orders' checkout: each order's id and
    state, and which assignment it pays for)."""
    payment = checkout.payment
    return {
        "id": checkout.pk,
        "status": checkout.status,
        "currency": checkout.currency,
        "failure_message": checkout.failure_message,
        "created_at": checkout.created_at,
        "payment": (
            None
            if payment is None
            else {
                "id": payment.pk,
                "status": payment.status,
                "total": payment.total,
                "action_url": payment.action_url,
            }
        ),
        "orders": [
            {
                "id": order.pk,
                "state": order.state,
                "state_label": process_for(order.kind).states.get(order.state, order.state),
                "title": order.title,
                "currency": order.currency,
                "subtotal": order.subtotal,
                "seller": _party(order.seller),
                "assignment_id": _assignment_of(order.origin),
            }
            for order in order_selectors.checkout_orders(checkout=checkout)
        ],
    }


def _return_url(request: HttpRequest, service_key: str) -> str:
    """The checkout's return page for a buyer who finishes a payment step in the browser (the
    project list when the key cannot be a path)."""
    if "/" in service_key:
        return request.build_absolute_uri(reverse("projects:list"))
    return request.build_absolute_uri(reverse("orders:checkout_return", args=[service_key]))


# --- projects ---------------------------------------------------------------------------------


@router.get(
    "",
    response=list[ProjectSummary],
    summary="Your projects (as the buyer), newest first",
)
@paginate(LimitOffsetPage)
def projects_list(request: HttpRequest):
    projects = selectors.projects_for_buyer(buyer=request.auth).select_related("category")
    return _Mapped(projects, _project_summary)


@router.post(
    "",
    response={201: ProjectOut, **PROBLEM_RESPONSES},
    summary="Start a project (a draft: add tasks, then publish it)",
    description="- **201** the draft.\n- **422** bad input (`errors` name the field): a past "
    "deadline, an unknown category or currency, a budget of zero.",
)
def project_create(request: HttpRequest, payload: ProjectIn):
    project = services.project_create(buyer=request.auth, **payload.model_dump())
    return Status(201, _project(request, project.pk))


@router.get(
    "/{int:project_id}",
    response={200: ProjectOut, **PROBLEM_RESPONSES},
    summary="A project you may see, with its tasks",
    description="The buyer also gets `spend` (budget, committed, in escrow, paid …), `invites` "
    "and `to_fund`; sellers get the public view. **404** for a project you may not see (a "
    "draft, or invite-only without an invitation).",
)
def project_get(request: HttpRequest, project_id: int):
    return _project(request, project_id)


@router.put(
    "/{int:project_id}",
    response={200: ProjectOut, **PROBLEM_RESPONSES},
    summary="Change a project (every field)",
    description="- **422** `budget_below_committed`, `budget_below_tasks` (field budget), a "
    "currency change after an award, bad input.\n- **404** not your project.",
)
def project_put(request: HttpRequest, project_id: int, payload: ProjectIn):
    services.project_update(buyer=request.auth, project_id=project_id, **payload.model_dump())
    return _project(request, project_id)


@router.patch(
    "/{int:project_id}",
    response={200: ProjectOut, **PROBLEM_RESPONSES},
    summary="Change some of a project's fields",
    description="As PUT; the fields left out keep their values.",
)
def project_patch(request: HttpRequest, project_id: int, payload: ProjectPatch):
    project = selectors.project_for_buyer(buyer=request.auth, project_id=project_id)
    fields = {
        "title": project.title,
        "description": project.description,
        "category_id": project.category_id,
        "currency": project.currency,
        "budget": project.budget,
        "deadline": project.deadline,
        "visibility": project.visibility,
        **payload.model_dump(exclude_unset=True),
    }
    services.project_update(buyer=request.auth, project_id=project_id, **fields)
    return _project(request, project_id)


@router.post(
    "/{int:project_id}/publish",
    response={200: ProjectOut, **PROBLEM_RESPONSES},
    summary="Open the project to sellers (or reopen a closed one)",
    description="Invited sellers, and for a public project sellers whose skills match a task, "
    "are told.\n- **422** `no_tasks`, `past_deadline`.\n- **404** not your project.",
)
def project_publish(request: HttpRequest, project_id: int):
    services.project_publish(buyer=request.auth, project_id=project_id)
    return _project(request, project_id)


@router.post(
    "/{int:project_id}/close",
    response={200: ProjectOut, **PROBLEM_RESPONSES},
    summary="Stop taking proposals and claims",
    description="Funded work goes on to its end; pending proposals are declined and unfunded "
    "assignments withdrawn.\n- **404** not your project.",
)
def project_close(request: HttpRequest, project_id: int):
    services.project_close(buyer=request.auth, project_id=project_id)
    return _project(request, project_id)


@router.post(
    "/{int:project_id}/invites",
    response={201: InviteOut, **PROBLEM_RESPONSES},
    summary="Invite a seller by their account's email",
    description="- **422** `no_seller` (no seller has that email).\n- **409** already "
    "invited.\n- **404** not your project.",
)
def project_invite(request: HttpRequest, project_id: int, payload: InviteIn):
    invite = services.project_invite(buyer=request.auth, project_id=project_id, email=payload.email)
    return Status(201, _invite(invite))


@router.delete(
    "/{int:project_id}/invites/{int:seller_id}",
    response={204: None, **PROBLEM_RESPONSES},
    summary="Take an invitation back",
    description="- **404** not your project, or that seller is not invited.",
)
def project_uninvite(request: HttpRequest, project_id: int, seller_id: int):
    services.project_uninvite(buyer=request.auth, project_id=project_id, seller_id=seller_id)
    return Status(204, None)


# --- tasks ------------------------------------------------------------------------------------


@router.get(
    "/{int:project_id}/tasks",
    response={200: list[TaskOut], **PROBLEM_RESPONSES},
    summary="A project's tasks, in order",
)
@paginate(LimitOffsetPage)
def tasks_list(request: HttpRequest, project_id: int):
    project = selectors.project_visible(viewer=request.auth, project_id=project_id)
    return _tasks(request.auth, project)


@router.post(
    "/{int:project_id}/tasks",
    response={201: TaskOut, **PROBLEM_RESPONSES},
    summary="Add a micro-task",
    description="- **422** `over_budget` (field budget): the tasks' budgets (budget × "
    "quantity) would exceed the project's budget; bad input (`errors` name the field).\n"
    "- **409** `project_closed`.\n- **404** not your project.",
)
def task_create(request: HttpRequest, project_id: int, payload: TaskIn):
    task = services.task_create(buyer=request.auth, project_id=project_id, **payload.model_dump())
    return Status(201, _task_response(request, task.pk))


def _task_response(request: HttpRequest, task_id: int) -> dict:
    task = selectors.task_visible(viewer=request.auth, task_id=task_id)
    units = selectors.task_units([task])[task.pk]
    return _task(task, units, waiting=selectors.waiting_for(task))


@router.get(
    "/tasks",
    response={200: TaskSearchOut, **PROBLEM_RESPONSES},
    summary="Find open tasks to work on",
    description="Open tasks of open projects you may see (public, or invite-only ones you "
    "are invited to), with a unit left, ranked by relevance and freshness like offer "
    "search. `budget_min` applies together with `currency`. Page with `limit` and `offset` "
    "(or `page`). When `scanned_all` is false only the newest open tasks were examined.",
)
def tasks_search(request: HttpRequest, filters: Query[TaskSearchQuery]):
    limit = filters.limit
    offset = (filters.page - 1) * limit if filters.page else filters.offset

    def search(page: int):
        return selectors.tasks_search(
            viewer=request.auth,
            text=filters.q,
            category=filters.category,
            skill=filters.skill,
            currency=filters.currency,
            budget_min=filters.budget_min,
            claimable=filters.claimable,
            sort=filters.sort,
            page=page,
            per_page=limit,
        )

    page, skip = divmod(offset, limit)
    result = search(page + 1)
    hits = result.hits[skip:] if result.page == page + 1 else []  # past the end: none
    if skip and hits and result.page < result.pages:  # an offset between two pages
        hits += search(page + 2).hits[: limit - len(hits)]
    items = [
        {**_task(h.task, h.units, waiting=h.waiting_for), "score": round(h.score, 4)} for h in hits
    ]

    def link(new_offset: int) -> str:
        query = request.GET.copy()
        query.pop("page", None)
        query["limit"], query["offset"] = str(limit), str(new_offset)
        return f"{request.path}?{urlencode(sorted(query.items()))}"

    return {
        "items": items,
        "count": result.total,
        "limit": limit,
        "offset": offset,
        "next": link(offset + limit) if offset + limit < result.total else None,
        "previous": link(max(offset - limit, 0)) if offset > 0 else None,
        "scanned_all": result.scanned_all,
        "skills": [{"skill": s, "tasks": n} for s, n in result.skills],
    }


@router.get(
    "/tasks/{int:task_id}",
    response={200: TaskOut, **PROBLEM_RESPONSES},
    summary="A task you may see",
)
def task_get(request: HttpRequest, task_id: int):
    return _task_response(request, task_id)


@router.put(
    "/tasks/{int:task_id}",
    response={200: TaskOut, **PROBLEM_RESPONSES},
    summary="Change a task (every field)",
    description="Work already awarded keeps its own terms.\n- **422** `over_budget`, a "
    "quantity below the units taken, bad input.\n- **404** not your task.",
)
def task_put(request: HttpRequest, task_id: int, payload: TaskIn):
    services.task_update(buyer=request.auth, task_id=task_id, **payload.model_dump())
    return _task_response(request, task_id)


@router.post(
    "/tasks/{int:task_id}/close",
    response={200: TaskOut, **PROBLEM_RESPONSES},
    summary="Stop taking proposals and claims for a task",
    description="Pending proposals are declined.\n- **404** not your task.",
)
def task_close(request: HttpRequest, task_id: int):
    services.task_close(buyer=request.auth, task_id=task_id)
    return _task_response(request, task_id)


@router.post(
    "/tasks/{int:task_id}/reopen",
    response={200: TaskOut, **PROBLEM_RESPONSES},
    summary="Take proposals and claims for a task again",
)
def task_reopen(request: HttpRequest, task_id: int):
    services.task_reopen(buyer=request.auth, task_id=task_id)
    return _task_response(request, task_id)


@router.delete(
    "/tasks/{int:task_id}",
    response={204: None, **PROBLEM_RESPONSES},
    summary="Remove a task nobody has proposed on or taken",
    description="- **409** `task_in_use`: close it instead.\n- **404** not your task.",
)
def task_delete(request: HttpRequest, task_id: int):
    services.task_delete(buyer=request.auth, task_id=task_id)
    return Status(204, None)


# --- proposals --------------------------------------------------------------------------------


@router.post(
    "/tasks/{int:task_id}/proposals",
    response={201: ProposalOut, **PROBLEM_RESPONSES},
    summary="Propose to do one unit of a task (sellers)",
    description="- **403** `not_a_seller`: open your shop first.\n- **409** "
    "`project_not_open`, `task_closed`, `task_waiting`, `seller_limit`, `proposal_pending`.\n"
    "- **422** `self_dealing`, bad input.\n- **404** a task you may not see.",
)
def proposal_send(request: HttpRequest, task_id: int, payload: ProposalIn):
    proposal = services.proposal_send(seller=request.auth, task_id=task_id, **payload.model_dump())
    proposal = selectors.proposal_for_user(proposal_id=proposal.pk, user=request.auth)
    return Status(201, _proposal(proposal))


@router.get(
    "/tasks/{int:task_id}/proposals",
    response={200: list[ProposalCardOut], **PROBLEM_RESPONSES},
    summary="Compare a task's proposals (the buyer)",
    description="Waiting ones first, each with the seller's rating, reviews, level and "
    "completed orders. **404** not your task.",
)
@paginate(LimitOffsetPage)
def proposals_compared(request: HttpRequest, task_id: int):
    return [_card(c) for c in selectors.proposals_compared(buyer=request.auth, task_id=task_id)]


@router.get(
    "/proposals",
    response=list[ProposalOut],
    summary="Your proposals (as a seller), newest first",
)
@paginate(LimitOffsetPage)
def proposals_mine(request: HttpRequest):
    proposals = selectors.proposals_for_seller(seller=request.auth).select_related("seller")
    return _Mapped(proposals, _proposal)


@router.get(
    "/proposals/{int:proposal_id}",
    response={200: ProposalOut, **PROBLEM_RESPONSES},
    summary="A proposal (its seller or the project's buyer)",
)
def proposal_get(request: HttpRequest, proposal_id: int):
    return _proposal(selectors.proposal_for_user(proposal_id=proposal_id, user=request.auth))


@router.post(
    "/proposals/{int:proposal_id}/withdraw",
    response={200: ProposalOut, **PROBLEM_RESPONSES},
    summary="Withdraw your proposal while it waits",
    description="- **409** `not_pending`.\n- **404** not your proposal.",
)
def proposal_withdraw(request: HttpRequest, proposal_id: int):
    services.proposal_withdraw(seller=request.auth, proposal_id=proposal_id)
    return _proposal(selectors.proposal_for_user(proposal_id=proposal_id, user=request.auth))


@router.post(
    "/proposals/{int:proposal_id}/decline",
    response={200: ProposalOut, **PROBLEM_RESPONSES},
    summary="Decline a proposal (the buyer)",
    description="- **409** `not_pending`.\n- **404** not a proposal on your project.",
)
def proposal_decline(request: HttpRequest, proposal_id: int):
    services.proposal_decline(buyer=request.auth, proposal_id=proposal_id)
    return _proposal(selectors.proposal_for_user(proposal_id=proposal_id, user=request.auth))


@router.post(
    "/proposals/{int:proposal_id}/award",
    response={201: AssignmentDetailOut, **PROBLEM_RESPONSES},
    summary="Award a proposal: one unit to its seller at their price (the buyer)",
    description="Fund it next (`POST /projects/assignments/fund`); an award not funded within "
    "48 hours lapses.\n- **409** `over_budget` (the project's budget would be exceeded), "
    "`task_full`, `seller_limit`, `not_pending`, `project_not_open`, `task_closed`, "
    "`task_waiting`.\n- **404** not a proposal on your project.",
)
def proposal_award(request: HttpRequest, proposal_id: int):
    assignment = services.proposal_award(buyer=request.auth, proposal_id=proposal_id)
    return Status(201, _assignment_detail(request, assignment.pk))


# --- assignments ------------------------------------------------------------------------------


@router.post(
    "/tasks/{int:task_id}/claim",
    response={201: AssignmentDetailOut, **PROBLEM_RESPONSES},
    summary="Take one unit of a claimable task at its budget price (sellers)",
    description="The buyer is told to fund it; unfunded, it lapses after 48 hours.\n"
    "- **403** `not_a_seller`.\n- **409** `not_claimable`, `task_full`, `seller_limit`, "
    "`over_budget`, `project_not_open`, `task_closed`, `task_waiting`.\n- **404** a task you "
    "may not see.",
)
def task_claim(request: HttpRequest, task_id: int):
    assignment = services.task_claim(seller=request.auth, task_id=task_id)
    return Status(201, _assignment_detail(request, assignment.pk))


@router.get(
    "/assignments",
    response={200: list[AssignmentOut], **PROBLEM_RESPONSES},
    summary="Your work as a seller, newest first; or with ?project= your project's",
    description="With `project` (your project's id, as the buyer): every assignment of it, "
    "oldest first. **404** when it is not your project.",
)
@paginate(LimitOffsetPage)
def assignments_list(request: HttpRequest, filters: Query[AssignmentsQuery]):
    viewer = request.auth
    if filters.project is not None:
        board = selectors.project_board(buyer=viewer, project_id=filters.project)
        rows = sorted(
            (a for row in board.rows for a in row.assignments),
            key=lambda a: (a.created_at, a.pk),
        )
        return [_assignment(a, viewer, project=board.project) for a in rows]
    assignments = selectors.assignments_for_seller(seller=viewer).select_related("seller")
    return _Mapped(assignments, lambda a: _assignment(a, viewer))


@router.post(
    "/assignments/fund",
    response={201: FundOut, 402: Problem, **PROBLEM_RESPONSES},
    summary="Fund awarded or claimed work in one payment (send an Idempotency-Key header)",
    description=(
        "One payment; one milestone order with its own escrow per assignment. The money waits "
        "in escrow until you approve each piece of work.\n\n"
        "- **201** `status: paid` — funded: the sellers start.\n"
        "- **201** `status: pending` — the payment needs you: go to `payment.action_url`; "
        "when you are back, `POST /checkouts/{id}/sync`.\n"
        "- **402** `payment_declined` — nothing is funded; retry with a new Idempotency-Key.\n"
        "- **409** `not_active` (withdrawn or lapsed), `already_funded`.\n"
        "- **422** bad input, `idempotency_mismatch` (the key was used for another request).\n"
        "- **404** an assignment that is not on your project.\n\n"
        "The same Idempotency-Key with the same body answers the first response again."
    ),
)
def assignments_fund(request: HttpRequest, payload: FundIn):
    def run(key: str):
        checkout = services.assignments_fund(
            buyer=request.auth,
            assignment_ids=payload.assignment_ids,
            payment_method=payload.payment_method,
            idempotency_key=key,
            return_url=payload.return_url or _return_url(request, key),
            credit=payload.credit,
        )
        if checkout.status == "failed":
            raise PaymentDeclined(
                checkout.failure_message or "The payment failed.", field="payment_method"
            )
        # JSON-safe: the idempotency record stores it for replays.
        return 201, FundOut.model_validate(_checkout(checkout)).model_dump(mode="json")

    status, body = idempotent(request, params=payload.model_dump(mode="json"), run=run)
    return Status(status, body)


@router.get(
    "/assignments/{int:assignment_id}",
    response={200: AssignmentDetailOut, **PROBLEM_RESPONSES},
    summary="One unit of work (its seller or the project's buyer), with what you can do now",
)
def assignment_get(request: HttpRequest, assignment_id: int):
    return _assignment_detail(request, assignment_id)


@router.post(
    "/assignments/{int:assignment_id}/withdraw",
    response={200: AssignmentDetailOut, **PROBLEM_RESPONSES},
    summary="Take an unfunded award back (buyer) or give it up (seller)",
    description="The unit and the budget are free again.\n- **409** `not_active`, "
    "`already_funded` (cancel funded work through its order).\n- **404** not yours.",
)
def assignment_withdraw(request: HttpRequest, assignment_id: int):
    services.assignment_withdraw(actor=request.auth, assignment_id=assignment_id)
    return _assignment_detail(request, assignment_id)


@router.post(
    "/assignments/{int:assignment_id}/transitions/{name}",
    response={200: AssignmentDetailOut, **PROBLEM_RESPONSES},
    summary="Take a step of the funded work (submit, request_revision, approve, dispute …)",
    description=(
        "The names you can use now are in the assignment's `transitions`. `submit` (the "
        "seller) takes a `message`; to attach files, send the submission as multipart to "
        "`POST /projects/assignments/{id}/submissions`. `request_revision` (the buyer) takes "
        "a `message`; `approve` (the buyer) releases the payment to the seller at once. The "
        "order behind it (`order.id`) has the whole timeline at `GET /orders/{id}`.\n\n"
        "- **200** the assignment after the step, with its order's state.\n"
        "- **403** `wrong_party` — the other side takes this step.\n"
        "- **409** `not_funded`, `illegal_transition` (not from the current state), "
        "`not_allowed_now` (e.g. no revisions left).\n"
        "- **422** bad input or `unknown_transition`.\n"
        "- **404** not yours.\n\n"
        "Nothing changes when the answer is not 200."
    ),
)
def assignment_transition(
    request: HttpRequest, assignment_id: int, name: str, payload: TransitionIn | None = None
):
    services.assignment_transition(
        actor=request.auth,
        assignment_id=assignment_id,
        name=name,
        data=payload.as_data() if payload else {},
    )
    return _assignment_detail(request, assignment_id)


@router.post(
    "/assignments/{int:assignment_id}/submissions",
    response={201: AssignmentDetailOut, **PROBLEM_RESPONSES},
    summary="Submit the work with files (the seller; multipart: message, files)",
    description="The `submit` step with attachments (at most 10 files, 50 MB each). Errors as "
    "for transitions.",
)
def assignment_submit(
    request: HttpRequest,
    assignment_id: int,
    message: Form[str] = "",
    files: File[list[UploadedFile]] = None,
):
    services.assignment_transition(
        actor=request.auth,
        assignment_id=assignment_id,
        name="submit",
        data={"message": message, "files": list(files or [])},
    )
    return Status(201, _assignment_detail(request, assignment_id))
