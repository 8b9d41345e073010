"""Pages of the disputes area: the resolution center (see docs/trust.md).

``/disputes/`` lists a person's disputes, ``/disputes/open/<order>/`` opens one,
``/disputes/<id>/`` is the file (timeline, evidence, proposals and the forms of the next steps;
for operators also the whole order conversation and the decision form), and
``/ops/trust/disputes/`` is the operators' queue. Each POST parses a form, calls one service and
redirects with a flash message, or shows the page again with the error (400/403/409).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from micromarket.core.errors import DomainError, NotFound
from micromarket.core.forms import form_add_domain_error
from micromarket.orders import selectors as order_selectors
from micromarket.trust.forms import disputes as forms
from micromarket.trust.models import Dispute, DisputeProposal
from micromarket.trust.selectors import disputes as selectors
from micromarket.trust.services import disputes as services

EXCERPT = 120


def _status(exc: DomainError) -> int:
    return exc.status if exc.status in (403, 409, 429) else 400


def _not_found(exc: NotFound):
    raise Http404(exc.message)


def _message_choices(order_id: int) -> list[tuple[int, str]]:
    """The order's messages as choices to cite: author, time and the start of the text."""
    choices = []
    for message in selectors.order_messages(order_id=order_id):
        if not message.body:
            continue
        author = message.sender.display_name if message.sender_id else "Micromarket"
        when = timezone.localtime(message.created_at).strftime("%d %b %H:%M")
        text = " ".join(message.body.split())
        text = text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"
        choices.append((message.pk, f"{author}, {when}: {text}"))
    return choices


# --- the person's disputes --------------------------------------------------------------------


@login_required
def dispute_list(request):
    disputes = list(selectors.disputes_for_user(user=request.user))
    for dispute in disputes:
        dispute.my_role = "buyer" if dispute.order.buyer_id == request.user.pk else "seller"
    return render(request, "trust/disputes/list.html", {"disputes": disputes})


@login_required
def dispute_open(request, order_id: int):
    try:
        order = order_selectors.order_for_user(order_id=order_id, user=request.user)
        role = order_selectors.order_role(order, request.user)
    except NotFound as exc:
        _not_found(exc)
    existing = selectors.dispute_for_order(order_id=order.pk)
    if existing is not None:
        return redirect("trust:dispute_detail", existing.pk)
    available = {
        t.name for t in order_selectors.transitions_available(order=order, user=request.user)
    }
    choices = _message_choices(order.pk)
    form = forms.OpenForm(request.POST or None, request.FILES or None, messages=choices)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                dispute = services.dispute_open(
                    order_id=order.pk,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    description=form.cleaned_data["description"],
                    **form.evidence(),
                )
            except NotFound as exc:
                _not_found(exc)
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = _status(exc)
            else:
                messages.success(
                    request, "You opened a dispute. The payment is frozen until it is resolved."
                )
                return redirect("trust:dispute_detail", dispute.pk)
    return render(
        request,
        "trust/disputes/open.html",
        {
            "order": order,
            "role": role,
            "form": form,
            "can_open": "dispute" in available,
            "window_days": services.DISPUTE_RESPONSE_WINDOW.days,
        },
        status=status,
    )


def _context(request, dispute, role, **failed) -> dict:
    """Everything the dispute's page shows; ``failed`` holds a bound form with its errors."""
    order = dispute.order
    open_ = dispute.status != Dispute.Status.RESOLVED
    party = role in ("buyer", "seller")
    choices = _message_choices(order.pk) if open_ else []
    pending = selectors.pending_proposal(dispute)
    answering = (
        party and dispute.status == Dispute.Status.AWAITING_RESPONSE and role != dispute.opener_role
    )
    declined = any(
        p.status == DisputeProposal.Status.DECLINED for p in selectors.dispute_proposals(dispute)
    )
    held = services.held_for(order)
    thread = selectors.order_messages(order_id=order.pk) if role == "operator" else []
    timeline = selectors.dispute_timeline(dispute)
    decided = next((e.data for e in timeline if e.kind == "decided"), None)
    settlement = (
        {"buyer": decided["buyer_amount"], "seller": decided["held"] - decided["buyer_amount"]}
        if decided
        else None
    )
    context = {
        "dispute": dispute,
        "settlement": settlement,
        "order": order,
        "role": role,
        "is_open": open_,
        "timeline": timeline,
        "proposals": selectors.dispute_proposals(dispute),
        "pending": pending,
        "held": held,
        "answering": answering and timezone.now() <= dispute.respond_by,
        "thread": thread,
        "can_propose": party and open_ and pending is None and held > 0,
        "can_escalate": party
        and open_
        and dispute.status != Dispute.Status.ESCALATED
        and (dispute.status == Dispute.Status.IN_DISCUSSION or declined),
        "respond_form": failed.get("respond")
        or forms.RespondForm(messages=choices, prefix="respond"),
        "comment_form": failed.get("comment")
        or forms.CommentForm(messages=choices, prefix="comment"),
        "proposal_form": failed.get("propose")
        or forms.ProposalForm(currency=order.currency, prefix="propose"),
        "escalate_form": failed.get("escalate") or forms.EscalateForm(prefix="escalate"),
        "decide_form": failed.get("decide")
        or forms.DecideForm(currency=order.currency, prefix="decide"),
        "action_error": failed.get("error", ""),
        "window_days": services.DISPUTE_RESPONSE_WINDOW.days,
    }
    return context


def _dispute_or_404(request, dispute_id: int):
    try:
        return selectors.dispute_for_user(dispute_id=dispute_id, user=request.user)
    except NotFound as exc:
        _not_found(exc)


@login_required
def dispute_detail(request, dispute_id: int):
    dispute, role = _dispute_or_404(request, dispute_id)
    return render(request, "trust/disputes/detail.html", _context(request, dispute, role))


def _step(request, dispute_id: int, *, key: str, form_class, call, done: str, **form_kw):
    """One POST on the dispute page: parse ``form_class``, call the service, redirect."""
    dispute, role = _dispute_or_404(request, dispute_id)
    if form_class in (forms.RespondForm, forms.CommentForm):
        form_kw["messages"] = _message_choices(dispute.order_id)
    if form_class in (forms.ProposalForm, forms.DecideForm):
        form_kw["currency"] = dispute.order.currency
    form = form_class(request.POST, request.FILES or None, prefix=key, **form_kw)
    status = 400
    if form.is_valid():
        try:
            call(dispute, form.cleaned_data, form)
        except NotFound as exc:
            _not_found(exc)
        except DomainError as exc:
            form_add_domain_error(form, exc)
            status = _status(exc)
        else:
            messages.success(request, done)
            return redirect("trust:dispute_detail", dispute.pk)
    dispute, role = _dispute_or_404(request, dispute_id)
    context = _context(request, dispute, role, **{key: form})
    return render(request, "trust/disputes/detail.html", context, status=status)


@login_required
@require_POST
def dispute_respond(request, dispute_id: int):
    return _step(
        request,
        dispute_id,
        key="respond",
        form_class=forms.RespondForm,
        call=lambda d, data, form: services.dispute_respond(
            dispute_id=d.pk, actor=request.user, message=data["message"], **form.evidence()
        ),
        done="Your answer was added to the dispute.",
    )


@login_required
@require_POST
def dispute_comment(request, dispute_id: int):
    return _step(
        request,
        dispute_id,
        key="comment",
        form_class=forms.CommentForm,
        call=lambda d, data, form: services.dispute_comment(
            dispute_id=d.pk, actor=request.user, message=data["message"], **form.evidence()
        ),
        done="Added to the dispute.",
    )


@login_required
@require_POST
def proposal_create(request, dispute_id: int):
    return _step(
        request,
        dispute_id,
        key="propose",
        form_class=forms.ProposalForm,
        call=lambda d, data, form: services.proposal_create(
            dispute_id=d.pk,
            actor=request.user,
            buyer_amount=data["buyer_amount"],
            message=data["message"],
        ),
        done="Your proposal was sent to the other side.",
    )


@login_required
@require_POST
def dispute_escalate(request, dispute_id: int):
    return _step(
        request,
        dispute_id,
        key="escalate",
        form_class=forms.EscalateForm,
        call=lambda d, data, form: services.dispute_escalate(
            dispute_id=d.pk, actor=request.user, message=data["message"]
        ),
        done="An operator will look at the dispute and decide.",
    )


@login_required
@require_POST
def dispute_decide(request, dispute_id: int):
    return _step(
        request,
        dispute_id,
        key="decide",
        form_class=forms.DecideForm,
        call=lambda d, data, form: services.dispute_decide(
            actor=request.user,
            dispute_id=d.pk,
            outcome=data["outcome"],
            buyer_amount=data.get("buyer_amount"),
            note=data["note"],
        ),
        done="The dispute is decided; both sides were told.",
    )


PROPOSAL_ACTIONS = {
    "accept": (services.proposal_accept, "You accepted the proposal: the dispute is settled."),
    "decline": (services.proposal_decline, "You declined the proposal."),
    "withdraw": (services.proposal_withdraw, "You withdrew your proposal."),
}


@login_required
@require_POST
def proposal_answer(request, dispute_id: int, proposal_id: int, action: str):
    if action not in PROPOSAL_ACTIONS:
        raise Http404("No such step.")
    call, done = PROPOSAL_ACTIONS[action]
    dispute, role = _dispute_or_404(request, dispute_id)
    try:
        call(dispute_id=dispute.pk, proposal_id=proposal_id, actor=request.user)
    except NotFound as exc:
        _not_found(exc)
    except DomainError as exc:
        dispute, role = _dispute_or_404(request, dispute_id)
        context = _context(request, dispute, role, error=exc.message)
        return render(request, "trust/disputes/detail.html", context, status=_status(exc))
    messages.success(request, done)
    return redirect("trust:dispute_detail", dispute.pk)


@login_required
def evidence_file(request, dispute_id: int, evidence_id: int):
    """An evidence file, for the dispute's two sides and operators only."""
    try:
        item = selectors.evidence_for_user(
            dispute_id=dispute_id, evidence_id=evidence_id, user=request.user
        )
    except NotFound as exc:
        _not_found(exc)
    return FileResponse(
        item.file.open("rb"), as_attachment=True, filename=item.name, content_type=item.content_type
    )


# --- operators --------------------------------------------------------------------------------


@staff_member_required(login_url="accounts:login")
def ops_disputes(request):
    """Operators: open disputes, escalated first, then overdue answers, oldest first."""
    now = timezone.now()
    queue = selectors.ops_queue()
    for dispute in queue:
        dispute.overdue = (
            dispute.status == Dispute.Status.AWAITING_RESPONSE and dispute.respond_by <= now
        )
        dispute.url = reverse("trust:dispute_detail", args=[dispute.pk])
    return render(request, "trust/disputes/ops_queue.html", {"queue": queue, "now": now})


urlpatterns = [
    path("disputes/", dispute_list, name="dispute_list"),
    path("disputes/open/<int:order_id>/", dispute_open, name="dispute_open"),
    path("disputes/<int:dispute_id>/", dispute_detail, name="dispute_detail"),
    path("disputes/<int:dispute_id>/respond/", dispute_respond, name="dispute_respond"),
    path("disputes/<int:dispute_id>/comment/", dispute_comment, name="dispute_comment"),
    path("disputes/<int:dispute_id>/propose/", proposal_create, name="dispute_propose"),
    path("disputes/<int:dispute_id>/escalate/", dispute_escalate, name="dispute_escalate"),
    path("disputes/<int:dispute_id>/decide/", dispute_decide, name="dispute_decide"),
    path(
        "disputes/<int:dispute_id>/proposals/<int:proposal_id>/<str:action>/",
        proposal_answer,
        name="dispute_proposal",
    ),
    path(
        "disputes/<int:dispute_id>/evidence/<int:evidence_id>/",
        evidence_file,
        name="dispute_evidence",
    ),
    path("ops/trust/disputes/", ops_disputes, name="dispute_ops"),
]
