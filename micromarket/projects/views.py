"""Projects' pages: the buyer's projects, the project board, tasks and their proposals,
funding, the seller's task search and their proposals and work.

Views parse input, call one service (or read selectors) and render. A service's refusal is shown
on its form (400, 403 for the wrong party, 409 for a state conflict) or, for a button, as an
error message after a redirect; success is a flash message after a redirect. Projects, tasks,
proposals, assignments and attachments a user may not see are 404, never 403, so ids do not leak.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from micromarket.accounts import selectors as account_selectors
from micromarket.core.charts import bar_chart, share_bar
from micromarket.core.errors import DomainError, NotFound
from micromarket.core.forms import form_add_domain_error
from micromarket.core.money import from_minor, money_format
from micromarket.ledger import selectors as ledger_selectors
from micromarket.orders import selectors as order_selectors
from micromarket.orders import services as order_services
from micromarket.payments import selectors as payment_selectors
from micromarket.projects import selectors, services
from micromarket.projects.forms import (
    AttachmentForm,
    FundForm,
    InviteForm,
    ProjectForm,
    ProposalForm,
    TaskForm,
    TaskSearchForm,
    new_idempotency_key,
)
from micromarket.projects.models import Assignment, Project, Proposal, Task

PER_PAGE = 20

# How a status reads at a glance (badge colour).
PROJECT_TONES = {"draft": "warn", "open": "ok", "closed": ""}
PROPOSAL_TONES = {"pending": "warn", "awarded": "ok", "declined": "danger", "withdrawn": ""}
STAGE_TONES = {
    "funding": "warn",
    "paying": "warn",
    "submitted": "warn",
    "revision_requested": "warn",
    "completed": "ok",
    "disputed": "danger",
    "cancelled": "danger",
}


def _not_found(exc: NotFound):
    raise Http404(exc.message) from None


def _is_seller(user) -> bool:
    shop = account_selectors.shop_for_user(user=user)
    return shop is not None and shop.is_active


def _back(request, default: str):
    """Back to the page the button was on (``next``, same site only), else ``default``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


def _error_status(exc: DomainError) -> int:
    return exc.status if exc.status in (403, 409) else 400


def _stage(assignment: Assignment) -> None:
    """What a list shows of a piece of work: its stage, label and colour."""
    if assignment.status != Assignment.Status.ACTIVE:
        assignment.stage = assignment.status
        assignment.stage_label = assignment.get_status_display()
        assignment.tone = ""
        return
    assignment.stage = selectors.stage_of(assignment)
    assignment.stage_label = selectors.STAGES[assignment.stage]
    assignment.tone = STAGE_TONES.get(assignment.stage, "")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# --- the buyer's projects ---------------------------------------------------------------------


@login_required
def project_list(request):
    projects = list(selectors.projects_for_buyer(buyer=request.user))
    for project in projects:
        project.tone = PROJECT_TONES.get(project.status, "")
    return render(request, "projects/project_list.html", {"projects": projects})


@login_required
def project_create(request):
    status = 200
    if request.method == "POST":
        form = ProjectForm(request.POST)
        if form.is_valid():
            try:
                project = services.project_create(buyer=request.user, **form.service_data())
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = _error_status(exc)
            else:
                messages.success(
                    request, f"“{project.title}” is saved as a draft. Now add its tasks."
                )
                return redirect("projects:project", project.pk)
        else:
            status = 400
    else:
        form = ProjectForm(
            initial={"currency": request.user.preferred_currency, "visibility": "public"}
        )
    return render(request, "projects/project_form.html", {"form": form}, status=status)


@login_required
def project_edit(request, project_id: int):
    try:
        project = selectors.project_for_buyer(buyer=request.user, project_id=project_id)
    except NotFound as exc:
        _not_found(exc)
    status = 200
    if request.method == "POST":
        form = ProjectForm(request.POST)
        if form.is_valid():
            try:
                services.project_update(
                    buyer=request.user, project_id=project.pk, **form.service_data()
                )
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = _error_status(exc)
            else:
                messages.success(request, "Project saved.")
                return redirect("projects:project", project.pk)
        else:
            status = 400
    else:
        form = ProjectForm(initial=ProjectForm.initial_for(project))
    return render(
        request, "projects/project_form.html", {"form": form, "project": project}, status=status
    )


def _board_context(request, project_id: int, **forms) -> dict:
    board = selectors.project_board(buyer=request.user, project_id=project_id)
    project = board.project
    currency = project.currency

    def fmt(value: int) -> str:
        return money_format(value, currency)

    spend = board.spend
    spend_chart = share_bar(
        [
            ("Paid to sellers", spend.paid),
            ("In escrow", spend.in_escrow),
            ("Waiting for funding", spend.funding),
            ("Left", spend.left),
        ],
        title=f"Spend of the {fmt(spend.budget)} budget",
        fmt=fmt,
    )
    progress_chart = ""
    if board.progress:
        progress_chart = bar_chart(
            [title for title, _, _ in board.progress],
            {
                "Units done": [done for _, done, _ in board.progress],
                "Units wanted": [quantity for _, _, quantity in board.progress],
            },
            title="Progress: units done per task",
        )
    columns = [
        {"key": key, "label": selectors.STAGES[key], "cards": cards, "tone": STAGE_TONES.get(key)}
        for key, cards in board.columns.items()
        if cards
    ]
    project.tone = PROJECT_TONES.get(project.status, "")
    return {
        "project": project,
        "board": board,
        "spend": spend,
        "spend_chart": spend_chart,
        "progress_chart": progress_chart,
        "columns": columns,
        "to_fund": board.to_fund,
        "to_fund_total": sum(a.price for a in board.to_fund),
        "paying": board.columns["paying"],
        "invites": list(project.invites.select_related("seller")),
        "attachments": list(project.attachments.all()),
        "invite_form": forms.get("invite_form") or InviteForm(),
        "attachment_form": forms.get("attachment_form") or AttachmentForm(),
    }


def _public_context(request, project: Project) -> dict:
    tasks = []
    if project.status == Project.Status.OPEN:
        tasks = list(project.tasks.filter(status=Task.Status.OPEN).select_related("depends_on"))
    units = selectors.task_units(tasks)
    for task in tasks:
        task.units = units[task.pk]
        task.waiting = selectors.waiting_for(task)
    return {
        "project": project,
        "tasks": tasks,
        "attachments": list(project.attachments.all()),
        "is_seller": request.user.is_authenticated and _is_seller(request.user),
    }


def project_detail(request, project_id: int):
    """The buyer's project board, or the project's public page for anyone who may see it."""
    if request.user.is_authenticated:
        try:
            context = _board_context(request, project_id)
        except NotFound:
            pass
        else:
            return render(request, "projects/project_board.html", context)
    try:
        project = selectors.project_visible(viewer=request.user, project_id=project_id)
    except NotFound as exc:
        _not_found(exc)
    return render(request, "projects/project_public.html", _public_context(request, project))


def _board_with_errors(request, project_id: int, status: int, **forms):
    try:
        context = _board_context(request, project_id, **forms)
    except NotFound as exc:
        _not_found(exc)
    return render(request, "projects/project_board.html", context, status=status)


@login_required
@require_POST
def project_publish(request, project_id: int):
    try:
        project = services.project_publish(buyer=request.user, project_id=project_id)
    except NotFound as exc:
        _not_found(exc)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{project.title}” is open: sellers can find its tasks now.")
    return redirect("projects:project", project_id)


@login_required
@require_POST
def project_close(request, project_id: int):
    try:
        project = services.project_close(buyer=request.user, project_id=project_id)
    except NotFound as exc:
        _not_found(exc)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"“{project.title}” is closed. Funded work goes on to its end; waiting proposals "
            "were declined.",
        )
    return redirect("projects:project", project_id)


@login_required
@require_POST
def project_invite(request, project_id: int):
    try:
        selectors.project_for_buyer(buyer=request.user, project_id=project_id)
    except NotFound as exc:
        _not_found(exc)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _board_with_errors(request, project_id, 400, invite_form=form)
    try:
        invite = services.project_invite(
            buyer=request.user, project_id=project_id, email=form.cleaned_data["email"]
        )
    except NotFound as exc:
        _not_found(exc)
    except DomainError as exc:
        form_add_domain_error(form, exc)
        return _board_with_errors(request, project_id, _error_status(exc), invite_form=form)
    messages.success(request, f"{invite.seller.display_name} is invited.")
    return redirect(reverse("projects:project", args=[project_id]) + "#invites")


@login_required
@require_POST
def project_uninvite(request, project_id: int, seller_id: int):
    try:
        services.project_uninvite(buyer=request.user, project_id=project_id, seller_id=seller_id)
    except NotFound as exc:
        _not_found(exc)
    messages.success(request, "The invitation is removed.")
    return redirect(reverse("projects:project", args=[project_id]) + "#invites")


@login_required
@require_POST
def attachment_add(request, project_id: int):
    try:
        selectors.project_for_buyer(buyer=request.user, project_id=project_id)
    except NotFound as exc:
        _not_found(exc)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _board_with_errors(request, project_id, 400, attachment_form=form)
    try:
        item = services.attachment_add(
            buyer=request.user, project_id=project_id, upload=form.cleaned_data["file"]
        )
    except NotFound as exc:
        _not_found(exc)
    except DomainError as exc:
        form_add_domain_error(form, exc)
        return _board_with_errors(request, project_id, _error_status(exc), attachment_form=form)
    messages.success(request, f"“{item.name}” is attached.")
    return redirect(reverse("projects:project", args=[project_id]) + "#attachments")


@login_required
def attachment_get(request, attachment_id: int):
    """An attachment of the brief, for the buyer and the sellers who may see the project."""
    try:
        item = selectors.attachment_for_user(attachment_id=attachment_id, user=request.user)
    except NotFound as exc:
        _not_found(exc)
    return FileResponse(
        item.file.open("rb"),
        as_attachment=True,
        filename=item.name,
        content_type=item.content_type,
    )


@login_required
@require_POST
def attachment_remove(request, attachment_id: int):
    try:
        item = selectors.attachment_for_user(attachment_id=attachment_id, user=request.user)
        services.attachment_remove(buyer=request.user, attachment_id=attachment_id)
    except NotFound as exc:
        _not_found(exc)
    messages.success(request, f"“{item.name}” is removed.")
    return redirect(reverse("projects:project", args=[item.project_id]) + "#attachments")


# --- tasks: the buyer's forms and buttons -----------------------------------------------------


def _task_for_buyer(request, task_id: int) -> Task:
    try:
        task = selectors.task_visible(viewer=request.user, task_id=task_id)
    except NotFound as exc:
        _not_found(exc)
    if task.project.buyer_id != request.user.pk:
        raise Http404("There is no such task.")
    return task


@login_required
def task_create(request, project_id: int):
    try:
        project = selectors.project_for_buyer(buyer=request.user, project_id=project_id)
    except NotFound as exc:
        _not_found(exc)
    status = 200
    if request.method == "POST":
        form = TaskForm(request.POST, project=project)
        if form.is_valid():
            try:
                task = services.task_create(
                    buyer=request.user, project_id=project.pk, **form.service_data()
                )
            except NotFound as exc:
                _not_found(exc)
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = _error_status(exc)
            else:
                messages.success(request, f"Task “{task.title}” is added.")
                return redirect("projects:project", project.pk)
        else:
            status = 400
    else:
        form = TaskForm(
            project=project,
            initial={"deadline": project.deadline, "quantity": 1, "per_seller_limit": 1},
        )
    return render(
        request, "projects/task_form.html", {"form": form, "project": project}, status=status
    )


@login_required
def task_edit(request, task_id: int):
    task = _task_for_buyer(request, task_id)
    project = task.project
    status = 200
    if request.method == "POST":
        form = TaskForm(request.POST, project=project, task=task)
        if form.is_valid():
            try:
                services.task_update(buyer=request.user, task_id=task.pk, **form.service_data())
            except NotFound as exc:
                _not_found(exc)
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = _error_status(exc)
            else:
                messages.success(request, "Task saved.")
                return redirect("projects:project", project.pk)
        else:
            status = 400
    else:
        form = TaskForm(project=project, task=task, initial=TaskForm.initial_for(task))
    return render(
        request,
        "projects/task_form.html",
        {"form": form, "project": project, "task": task},
        status=status,
    )


def _task_button(request, task_id: int, action, success: str):
    """A buyer's button on a task (close, reopen, delete), back to the project board."""
    task = _task_for_buyer(request, task_id)
    try:
        action(buyer=request.user, task_id=task.pk)
    except NotFound as exc:
        _not_found(exc)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success.format(title=task.title))
    return _back(request, reverse("projects:project", args=[task.project_id]))


@login_required
@require_POST
def task_close(request, task_id: int):
    return _task_button(
        request,
        task_id,
        services.task_close,
        "“{title}” is closed: no more proposals or claims; waiting proposals were declined.",
    )


@login_required
@require_POST
def task_reopen(request, task_id: int):
    return _task_button(
        request, task_id, services.task_reopen, "“{title}” is open for proposals again."
    )


@login_required
@require_POST
def task_delete(request, task_id: int):
    task = _task_for_buyer(request, task_id)
    try:
        services.task_delete(buyer=request.user, task_id=task.pk)
    except NotFound as exc:
        _not_found(exc)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("projects:project", task.project_id)
    messages.success(request, f"“{task.title}” is deleted.")
    return redirect("projects:project", task.project_id)


# --- the task page ----------------------------------------------------------------------------


def _task_context(request, task: Task, *, proposal_form: ProposalForm | None = None) -> dict:
    user = request.user
    project = task.project
    units = selectors.task_units([task])[task.pk]
    waiting = selectors.waiting_for(task)
    is_buyer = user.is_authenticated and project.buyer_id == user.pk
    open_for_work = (
        project.status == Project.Status.OPEN
        and task.status == Task.Status.OPEN
        and waiting is None
        and units.left > 0
    )
    context = {
        "task": task,
        "project": project,
        "units": units,
        "waiting": waiting,
        "is_buyer": is_buyer,
        "open_for_work": open_for_work,
        "currency": project.currency,
    }
    if is_buyer:
        cards = selectors.proposals_compared(buyer=user, task_id=task.pk)
        for card in cards:
            card.proposal.tone = PROPOSAL_TONES.get(card.proposal.status, "")
        assignments = list(task.assignments.select_related("seller", "order"))
        for assignment in assignments:
            _stage(assignment)
        context.update(cards=cards, assignments=assignments)
        return context
    if not user.is_authenticated:
        return context
    is_seller = _is_seller(user)
    mine = list(task.proposals.filter(seller=user).order_by("-created_at", "-id"))
    for proposal in mine:
        proposal.tone = PROPOSAL_TONES.get(proposal.status, "")
    my_work = list(task.assignments.filter(seller=user).select_related("order"))
    for assignment in my_work:
        _stage(assignment)
    held = selectors.units_taken(task.pk, seller_id=user.pk)
    under_limit = held < task.per_seller_limit
    pending = any(p.status == Proposal.Status.PENDING for p in mine)
    can_propose = is_seller and open_for_work and under_limit and not pending
    if proposal_form is None:
        proposal_form = ProposalForm(
            currency=project.currency,
            initial={
                "price": from_minor(task.budget, project.currency),
                "days": task.delivery_days,
            },
        )
    context.update(
        is_seller=is_seller,
        my_proposals=mine,
        my_work=my_work,
        at_limit=not under_limit,
        can_propose=can_propose or proposal_form.is_bound,
        can_claim=is_seller and open_for_work and under_limit and task.claimable,
        proposal_form=proposal_form,
    )
    return context


def task_detail(request, task_id: int):
    try:
        task = selectors.task_visible(viewer=request.user, task_id=task_id)
    except NotFound as exc:
        _not_found(exc)
    return render(request, "projects/task_detail.html", _task_context(request, task))


@login_required
@require_POST
def proposal_send(request, task_id: int):
    try:
        task = selectors.task_visible(viewer=request.user, task_id=task_id)
    except NotFound as exc:
        _not_found(exc)
    form = ProposalForm(request.POST, currency=task.project.currency)
    status = 400
    if form.is_valid():
        try:
            services.proposal_send(seller=request.user, task_id=task.pk, **form.service_data())
        except NotFound as exc:
            _not_found(exc)
        except DomainError as exc:
            form_add_domain_error(form, exc)
            status = _error_status(exc)
        else:
            messages.success(
                request, "Your proposal is sent. The buyer is told; you will hear when they decide."
            )
            return redirect("projects:task", task.pk)
    context = _task_context(request, task, proposal_form=form)
    return render(request, "projects/task_detail.html", context, status=status)


@login_required
@require_POST
def task_claim(request, task_id: int):
    try:
        assignment = services.task_claim(seller=request.user, task_id=task_id)
    except NotFound as exc:
        _not_found(exc)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        price = money_format(assignment.price, assignment.task.project.currency)
        messages.success(
            request,
            f"You took one unit at {price}. The buyer funds it next; you will be told when "
            "the money is in escrow and the work can start.",
        )
    return redirect("projects:task", task_id)


def _proposal_or_404(request, proposal_id: int) -> Proposal:
    try:
        return selectors.proposal_for_user(proposal_id=proposal_id, user=request.user)
    except NotFound as exc:
        _not_found(exc)


@login_required
@require_POST
def proposal_withdraw(request, proposal_id: int):
    proposal = _proposal_or_404(request, proposal_id)
    try:
        services.proposal_withdraw(seller=request.user, proposal_id=proposal.pk)
    except NotFound as exc:
        _not_found(exc)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Your proposal is withdrawn.")
    return _back(request, reverse("projects:task", args=[proposal.task_id]))


@login_required
@require_POST
def proposal_decline(request, proposal_id: int):
    proposal = _proposal_or_404(request, proposal_id)
    try:
        services.proposal_decline(buyer=request.user, proposal_id=proposal.pk)
    except NotFound as exc:
        _not_found(exc)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{proposal.seller.display_name}'s proposal is declined.")
    return redirect("projects:task", proposal.task_id)


@login_required
@require_POST
def proposal_award(request, proposal_id: int):
    """Award, then straight to paying for it: the work starts once it is funded."""
    proposal = _proposal_or_404(request, proposal_id)
    try:
        assignment = services.proposal_award(buyer=request.user, proposal_id=proposal.pk)
    except NotFound as exc:
        _not_found(exc)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("projects:task", proposal.task_id)
    messages.success(
        request, f"Awarded to {assignment.seller.display_name} — fund it to start the work."
    )
    return redirect("projects:fund", proposal.task.project_id)


@login_required
@require_POST
def assignment_withdraw(request, assignment_id: int):
    try:
        assignment = selectors.assignment_for_user(assignment_id=assignment_id, user=request.user)
    except NotFound as exc:
        _not_found(exc)
    is_buyer = assignment.task.project.buyer_id == request.user.pk
    try:
        services.assignment_withdraw(actor=request.user, assignment_id=assignment.pk)
    except NotFound as exc:
        _not_found(exc)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if is_buyer:
            messages.success(
                request,
                f"The award to {assignment.seller.display_name} is taken back; the unit and "
                "its budget are free again.",
            )
        else:
            messages.success(request, "You gave the unit up; nothing was paid for it.")
    default = (
        reverse("projects:project", args=[assignment.task.project_id])
        if is_buyer
        else reverse("projects:my_work")
    )
    return _back(request, default)


# --- funding ----------------------------------------------------------------------------------


def _after_fund(request, project: Project, checkout) -> HttpResponse | str:
    """Where the buyer goes once the funding was placed; the failure message when the payment
    did not go through (nothing was charged then)."""
    if checkout.status == "paid":
        n = checkout.orders.count()
        messages.success(
            request,
            f"Paid — {_plural(n, 'unit')} {'is' if n == 1 else 'are'} funded; the money waits "
            "in escrow until you approve the work.",
        )
        return redirect("projects:project", project.pk)
    if checkout.status == "pending":
        payment = checkout.payment
        if payment is not None and payment.status == "requires_action" and payment.action_url:
            return redirect(payment.action_url)
        messages.info(
            request, "Your payment is being processed; the work is funded as soon as it completes."
        )
        return redirect("projects:project", project.pk)
    return checkout.failure_message or "The payment did not go through."


@login_required
def fund(request, project_id: int):
    """GET: the awards and claims waiting for funding, all ticked, and the card. POST: pay
    for the ticked ones in one payment (one milestone order and escrow each)."""
    try:
        board = selectors.project_board(buyer=request.user, project_id=project_id)
    except NotFound as exc:
        _not_found(exc)
    project = board.project
    posted = request.method == "POST"
    if posted:
        # The same page sent twice (a double click, a retry after a timeout): show what the
        # first submission did.
        placed = order_selectors.checkout_for_key(
            buyer=request.user, idempotency_key=request.POST.get("idempotency_key", "")
        )
        if placed is not None:
            checkout = order_services.checkout_sync(checkout_id=placed.pk)
            result = _after_fund(request, project, checkout)
            if isinstance(result, HttpResponse):
                return result
            messages.error(request, f"{result} Nothing was charged.")
            return redirect("projects:fund", project.pk)
    currency = project.currency
    lines = [
        (
            a,
            payment_selectors.fee_quote(
                subtotal=a.price,
                currency=currency,
                category_id=project.category_id,
                parent_category_id=project.category.parent_id,
            ),
        )
        for a in board.to_fund
    ]
    credit = ledger_selectors.user_balances(request.user).get(currency, {}).get("credit", 0)
    form_kw = {
        "lines": lines,
        "credit": credit,
        "sandbox": settings.PAYMENTS_PROVIDER == "sandbox",
    }
    status = 200
    if posted:
        form = FundForm(request.POST, **form_kw)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            key = data["idempotency_key"]
            try:
                checkout = services.assignments_fund(
                    buyer=request.user,
                    assignment_ids=data["assignments"],
                    payment_method=data["card_number"],
                    idempotency_key=key,
                    return_url=request.build_absolute_uri(
                        reverse("orders:checkout_return", args=[key])
                    ),
                    credit=form.credit_used,
                )
            except DomainError as exc:
                if exc.code == "idempotency_mismatch":
                    form.add_error(
                        None,
                        "This page was already sent with other details. Check them and pay again.",
                    )
                elif exc.field in ("payment_method", "card_number", "card"):
                    form.add_error("card_number", exc.message)
                else:
                    form_add_domain_error(form, exc)
                status = _error_status(exc)
            else:
                result = _after_fund(request, project, checkout)
                if isinstance(result, HttpResponse):
                    return result
                form.add_error("card_number", f"{result} Nothing was charged.")
        checked = {str(v) for v in request.POST.getlist("assignments")}
    else:
        form = FundForm(initial={"assignments": [a.pk for a, _ in lines]}, **form_kw)
        checked = {str(a.pk) for a, _ in lines}
    for assignment, _ in lines:
        assignment.checked = str(assignment.pk) in checked
    context = {
        "project": project,
        "form": form,
        "lines": lines,
        "paying": board.columns["paying"],
        "credit": credit,
        "subtotal": sum(a.price for a, _ in lines),
        "service_fee": sum(q.service_fee for _, q in lines),
        "total": sum(q.total for _, q in lines),
        "idempotency_key": new_idempotency_key(),
    }
    return render(request, "projects/fund.html", context, status=status)


# --- sellers: search, proposals, work -----------------------------------------------------------


def _query(params, **changes) -> str:
    """``params`` (a QueryDict) with ``changes`` applied (None removes), as ``?…``."""
    query = {k: v for k, v in params.items() if v != ""}
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return f"?{urlencode(query)}" if query else "?"


def task_browse(request):
    """Open tasks the viewer may take on: search, filters, skills facet, pages."""
    form = TaskSearchForm(request.GET)
    query = form.query()
    result = selectors.tasks_search(viewer=request.user, per_page=PER_PAGE, **query)
    params = request.GET
    skills = [
        {"skill": skill, "count": count, "url": _query(params, skill=skill, page=None)}
        for skill, count in result.skills
    ]
    for hit in result.hits:
        hit.task.units = hit.units
    return render(
        request,
        "projects/browse.html",
        {
            "form": form,
            "result": result,
            "skills": skills,
            "skill": query["skill"],
            "clear_skill_url": _query(params, skill=None, page=None),
            "previous_url": _query(params, page=result.page - 1) if result.page > 1 else "",
            "next_url": _query(params, page=result.page + 1) if result.page < result.pages else "",
            "scan_limit": selectors.SEARCH_SCAN,
        },
    )


@login_required
def my_proposals(request):
    page = Paginator(selectors.proposals_for_seller(seller=request.user), PER_PAGE).get_page(
        request.GET.get("page")
    )
    for proposal in page:
        proposal.tone = PROPOSAL_TONES.get(proposal.status, "")
        proposal.work = getattr(proposal, "assignment", None)
    return render(
        request,
        "projects/my_proposals.html",
        {"page": page, "is_seller": _is_seller(request.user)},
    )


@login_required
def my_work(request):
    page = Paginator(selectors.assignments_for_seller(seller=request.user), PER_PAGE).get_page(
        request.GET.get("page")
    )
    for assignment in page:
        _stage(assignment)
        assignment.steps = [
            t.label for t in selectors.work_steps(assignment=assignment, user=request.user)
        ]
        assignment.due_at = assignment.order.due_at if assignment.order else None
        assignment.can_withdraw = (
            assignment.status == Assignment.Status.ACTIVE and assignment.stage == "funding"
        )
    return render(
        request, "projects/my_work.html", {"page": page, "is_seller": _is_seller(request.user)}
    )
