"""Conversation pages: the inbox, writing to someone, a thread (new messages appear through an
htmx poll), attachments, custom offers, blocking, and the operators' queue of flagged messages.

Views parse input, call one service (or read selectors) and render. A conversation, file or
custom offer the user does not take part in is 404, never 403, so ids do not leak. A refused
message is shown on its form with the service's words (400, 403 when blocked, 429 when
rate-limited). htmx requests get fragments: the poll returns only newer messages (204 when
there are none); sending returns a fresh form, the new messages and the next poll.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from micromarket.accounts import selectors as account_selectors
from micromarket.catalog import selectors as catalog_selectors
from micromarket.core.errors import DomainError, NotFound
from micromarket.core.forms import form_add_domain_error
from micromarket.messaging import selectors, services
from micromarket.messaging.forms import ComposeForm, CustomOfferForm, DeclineForm, MessageForm

PER_PAGE = 30
TABS = (
    ("inbox", "Inbox"),
    ("unread", "Unread"),
    ("archived", "Archived"),
)


def _not_found(exc: NotFound):
    raise Http404(exc.message) from None


def _status(exc: DomainError) -> int:
    """The page's status for a refusal: 403 blocked, 409 changed meanwhile, 429 too many."""
    return exc.status if exc.status in (403, 404, 409, 429) else 400


def _conversation_or_404(request, conversation_id: int):
    try:
        return selectors.conversation_for_user(conversation_id=conversation_id, user=request.user)
    except NotFound as exc:
        _not_found(exc)


def _other(conversation, user):
    return conversation.user_high if conversation.user_low_id == user.pk else conversation.user_low


def _thread_url(conversation, anchor: str = "") -> str:
    return reverse("messaging:thread", args=[conversation.pk]) + (f"#{anchor}" if anchor else "")


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- the inbox ------------------------------------------------------------------------------


@login_required
def inbox(request):
    """The user's conversations, newest activity first: Inbox, Unread or Archived."""
    tab = request.GET.get("tab")
    tab = tab if tab in dict(TABS) else "inbox"
    rows = selectors.conversations_for_user(
        user=request.user, archived=tab == "archived", unread_only=tab == "unread"
    )
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    for conversation in page:
        conversation.other_person = _other(conversation, request.user)
    return render(
        request,
        "messaging/inbox.html",
        {"page": page, "tab": tab, "tabs": TABS},
    )


# --- writing to someone ---------------------------------------------------------------------


def _compose_target(request, params):
    """(recipient, offer) named by ``to`` and ``offer`` (an offer alone means its seller)."""
    offer = None
    offer_id = params.get("offer")
    if offer_id:
        try:
            offer = catalog_selectors.offer_get_visible(offer_id=int(offer_id), viewer=request.user)
        except (NotFound, TypeError, ValueError):
            offer = None
    to = params.get("to") or (offer.seller_id if offer is not None else None)
    try:
        recipient = account_selectors.user_get_active(user_id=int(to)) if to else None
    except (TypeError, ValueError):
        recipient = None
    if recipient is None or not (
        selectors.conversation_between(user=request.user, other_id=recipient.pk)
        or selectors.can_write_first(sender=request.user, recipient=recipient)
    ):
        raise Http404("There is no such person.")
    if offer is not None and offer.seller_id != recipient.pk:
        offer = None
    return recipient, offer


@login_required
def compose(request):
    """Write to someone (GET ?to=<user id>&offer=<offer id>): in the conversation the two
    already have, or a new one."""
    posted = request.method == "POST"
    recipient, offer = _compose_target(request, request.POST if posted else request.GET)
    status = 200
    if posted:
        form = ComposeForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                message = services.conversation_start(
                    sender=request.user,
                    recipient_id=recipient.pk,
                    body=data["body"],
                    offer_id=offer.pk if offer is not None else None,
                    files=data["files"],
                )
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = _status(exc)
            else:
                messages.success(request, f"Message sent to {recipient.display_name}.")
                return redirect(_thread_url(message.conversation, f"m-{message.pk}"))
    else:
        form = ComposeForm(
            initial={"to": recipient.pk, "offer": offer.pk if offer is not None else None}
        )
    blocked = selectors.users_blocked(request.user.pk, recipient.pk)
    return render(
        request,
        "messaging/compose.html",
        {
            "form": form,
            "recipient": recipient,
            "offer": offer,
            "is_self": recipient.pk == request.user.pk,
            "blocked": blocked,
            "i_blocked": blocked
            and selectors.user_has_blocked(blocker=request.user, blocked_id=recipient.pk),
            "existing": selectors.conversation_between(user=request.user, other_id=recipient.pk),
        },
        status=status,
    )


# --- a thread -------------------------------------------------------------------------------


def _new_divider(page, user, last_read_id: int) -> int | None:
    """The first message the user has not seen (from the other side), for the "new" line."""
    return next(
        (m.pk for m in page.messages if m.pk > last_read_id and m.sender_id != user.pk),
        None,
    )


def _thread_context(request, conversation, *, form=None, offer_form=None) -> dict:
    user = request.user
    other = _other(conversation, user)
    participant = selectors.participant_for(conversation=conversation, user=user)
    before = request.GET.get("before")
    try:
        page = selectors.messages_page(conversation=conversation, before=before or None)
    except NotFound as exc:
        _not_found(exc)
    blocked = selectors.users_blocked(user.pk, other.pk)
    i_blocked = blocked and selectors.user_has_blocked(blocker=user, blocked_id=other.pk)
    gigs = [] if blocked else list(selectors.gigs_for_custom_offers(seller=user))
    if gigs and offer_form is None:
        offer_form = CustomOfferForm(gigs=gigs)
    return {
        "conversation": conversation,
        "other": other,
        "participant": participant,
        "page": page,
        "latest": not before,
        "new_divider": _new_divider(page, user, participant.last_read_id),
        "form": form or MessageForm(),
        "send_url": reverse("messaging:send", args=[conversation.pk]),
        "blocked": blocked,
        "i_blocked": i_blocked,
        "can_write": not blocked,
        "offer_form": offer_form if gigs else None,
        "now": timezone.now(),
    }


@login_required
def thread(request, conversation_id: int):
    """The conversation, the newest messages last; opening it marks everything read."""
    conversation = _conversation_or_404(request, conversation_id)
    context = _thread_context(request, conversation)
    if context["latest"]:
        services.conversation_mark_read(conversation_id=conversation.pk, user=request.user)
    return render(request, "messaging/thread.html", context)


def _updates(request, conversation, *, after, form=None) -> HttpResponse | None:
    """Messages newer than ``after`` and the poll for the next ones (None if there are none
    and nothing else to send)."""
    try:
        page = selectors.messages_page(conversation=conversation, after=after or 0)
    except NotFound as exc:
        _not_found(exc)
    if not page.messages and form is None:
        return None
    if any(m.sender_id != request.user.pk for m in page.messages):
        services.conversation_mark_read(conversation_id=conversation.pk, user=request.user)
    return render(
        request,
        "messaging/includes/updates.html",
        {
            "conversation": conversation,
            "new_messages": page.messages,
            "newest_id": page.newest_id,
            "form": form,
            "send_url": request.path if form is not None else "",
            "now": timezone.now(),
        },
    )


@login_required
def messages_since(request, conversation_id: int):
    """htmx: ``?after=<id>`` the poll (only newer messages, 204 when none);
    ``?before=<id>`` the page of messages before that one ("Load earlier messages")."""
    conversation = _conversation_or_404(request, conversation_id)
    if request.GET.get("after") not in (None, ""):
        response = _updates(request, conversation, after=request.GET["after"])
        return response if response is not None else HttpResponse(status=204)
    before = request.GET.get("before")
    if not before:
        return redirect(_thread_url(conversation))
    if not request.htmx:
        return redirect(f"{_thread_url(conversation)}?before={before}")
    try:
        page = selectors.messages_page(conversation=conversation, before=before)
    except NotFound as exc:
        _not_found(exc)
    return render(
        request,
        "messaging/includes/earlier.html",
        {"conversation": conversation, "page": page, "now": timezone.now(), "new_divider": None},
    )


def _send(request, conversation, *, done_url: str):
    """Send the posted message in ``conversation``; htmx gets the updates, others a redirect."""
    form = MessageForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        try:
            message = services.message_send(
                conversation_id=conversation.pk,
                sender=request.user,
                body=form.cleaned_data["body"],
                files=form.cleaned_data["files"],
            )
        except NotFound as exc:
            _not_found(exc)
        except DomainError as exc:
            form_add_domain_error(form, exc)
            status = _status(exc)
        else:
            if request.htmx:
                return _updates(
                    request, conversation, after=request.POST.get("after"), form=MessageForm()
                )
            return redirect(f"{done_url}#m-{message.pk}")
    return form, status


@login_required
@require_POST
def send(request, conversation_id: int):
    conversation = _conversation_or_404(request, conversation_id)
    result = _send(request, conversation, done_url=_thread_url(conversation))
    if isinstance(result, HttpResponse):
        return result
    form, status = result
    if request.htmx:
        # htmx swaps only successful responses: the form with its errors replaces itself.
        return render(
            request,
            "messaging/includes/send_form.html",
            {"form": form, "send_url": request.path, "latest": True},
        )
    return render(
        request,
        "messaging/thread.html",
        _thread_context(request, conversation, form=form),
        status=status,
    )


@login_required
@require_POST
def order_send(request, order_id: int):
    """A message in an order's own thread (created with its first message), from the order
    page."""
    try:
        conversation = services.conversation_for_order(order_id=order_id, user=request.user)
    except NotFound as exc:
        _not_found(exc)
    order_url = reverse("orders:detail", args=[order_id])
    result = _send(request, conversation, done_url=order_url)
    if isinstance(result, HttpResponse):
        return result
    form, _status_code = result
    if request.htmx:
        return render(
            request,
            "messaging/includes/send_form.html",
            {"form": form, "send_url": request.path, "latest": True},
        )
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect(f"{order_url}#messages")


@login_required
@require_POST
def archive(request, conversation_id: int):
    """Archive (``archived=1``) or bring back (``archived=0``) a conversation, for this user."""
    conversation = _conversation_or_404(request, conversation_id)
    archived = request.POST.get("archived", "1") != "0"
    services.conversation_archive(
        conversation_id=conversation.pk, user=request.user, archived=archived
    )
    if archived:
        messages.success(
            request,
            "Conversation archived. It comes back to your inbox when a new message arrives.",
        )
        return redirect("messaging:inbox")
    messages.success(request, "Conversation moved back to your inbox.")
    return redirect(_thread_url(conversation))


# --- blocking -------------------------------------------------------------------------------


@login_required
@require_POST
def block(request, conversation_id: int):
    """Block the other person of the conversation: no messages, offers or orders either way."""
    conversation = _conversation_or_404(request, conversation_id)
    other = _other(conversation, request.user)
    try:
        services.user_block(blocker=request.user, blocked_id=other.pk)
    except NotFound as exc:
        _not_found(exc)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"You blocked {other.display_name}. Neither of you can write to the other or order "
            "from the other. You can unblock them on this page or in your blocked list.",
        )
    return redirect(_thread_url(conversation))


@login_required
def blocked(request):
    """The people the user blocked, each with Unblock."""
    return render(
        request, "messaging/blocked.html", {"blocks": selectors.blocks_for_user(user=request.user)}
    )


@login_required
@require_POST
def unblock(request, user_id: int):
    try:
        services.user_unblock(blocker=request.user, blocked_id=user_id)
    except NotFound as exc:
        _not_found(exc)
    person = account_selectors.user_get_active(user_id=user_id)
    name = person.display_name if person is not None else "them"
    messages.success(request, f"You unblocked {name}. You can write to each other again.")
    return redirect(_safe_next(request, reverse("messaging:blocked")))


# --- custom offers --------------------------------------------------------------------------


@login_required
def custom_offer_new(request, conversation_id: int):
    """A seller sends the other person a custom offer (GET: the form on its own page)."""
    conversation = _conversation_or_404(request, conversation_id)
    gigs = list(selectors.gigs_for_custom_offers(seller=request.user))
    other = _other(conversation, request.user)
    status = 200
    if request.method == "POST":
        form = CustomOfferForm(request.POST, gigs=gigs)
        status = 400
        if form.is_valid():
            try:
                custom = services.custom_offer_send(
                    conversation_id=conversation.pk, seller=request.user, **form.service_data()
                )
            except NotFound as exc:
                _not_found(exc)
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = _status(exc)
            else:
                messages.success(request, f"Custom offer sent to {other.display_name}.")
                return redirect(_thread_url(conversation, f"offer-{custom.pk}"))
    else:
        form = CustomOfferForm(gigs=gigs)
    return render(
        request,
        "messaging/custom_offer_form.html",
        {"conversation": conversation, "other": other, "form": form, "gigs": gigs},
        status=status,
    )


def _custom_offer_respond(request, custom_offer_id: int, respond, done: str):
    """Decline or withdraw; htmx gets the card again, others go back to the thread."""
    try:
        custom = selectors.custom_offer_for_user(custom_offer_id=custom_offer_id, user=request.user)
    except NotFound as exc:
        _not_found(exc)
    error = ""
    try:
        custom = respond(custom)
    except NotFound as exc:
        _not_found(exc)
    except DomainError as exc:
        error = exc.message
    if request.htmx:
        custom.refresh_from_db()
        return render(
            request,
            "messaging/includes/custom_offer.html",
            {"custom": custom, "now": timezone.now(), "card_error": error},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect(_thread_url(custom.conversation, f"offer-{custom.pk}"))


@login_required
@require_POST
def custom_offer_decline(request, custom_offer_id: int):
    form = DeclineForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""  # the service keeps 500
    return _custom_offer_respond(
        request,
        custom_offer_id,
        lambda custom: services.custom_offer_decline(
            custom_offer_id=custom.pk, buyer=request.user, reason=reason
        ),
        "You declined the offer; the seller was told.",
    )


@login_required
@require_POST
def custom_offer_withdraw(request, custom_offer_id: int):
    return _custom_offer_respond(
        request,
        custom_offer_id,
        lambda custom: services.custom_offer_withdraw(
            custom_offer_id=custom.pk, seller=request.user
        ),
        "You withdrew the offer.",
    )


# --- files ----------------------------------------------------------------------------------


@login_required
def attachment(request, attachment_id: int):
    """A file sent in a conversation, for its two participants only. Images (re-encoded when
    they were sent) show inline; anything else downloads."""
    try:
        item = selectors.attachment_for_user(attachment_id=attachment_id, user=request.user)
    except NotFound as exc:
        _not_found(exc)
    response = FileResponse(
        item.file.open("rb"),
        as_attachment=not item.is_image,
        filename=item.name,
        content_type=item.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- operators ------------------------------------------------------------------------------


@staff_member_required(login_url="accounts:login")
def ops_messages(request):
    """Messages with contact details sent before an order existed, oldest first."""
    page = Paginator(selectors.flagged_messages(), PER_PAGE).get_page(request.GET.get("page"))
    for message in page:
        conversation = message.conversation
        if message.sender_id is not None:
            message.recipient = _other(conversation, message.sender)
    return render(request, "messaging/ops_messages.html", {"page": page})


@staff_member_required(login_url="accounts:login")
@require_POST
def ops_review(request, message_id: int):
    try:
        services.message_review(message_id=message_id, operator=request.user)
    except NotFound as exc:
        _not_found(exc)
    messages.success(request, "Marked as reviewed; it left the queue (the warning stays).")
    return redirect(_safe_next(request, reverse("messaging:ops")))
