"""Pages of the reviews area (see docs/trust.md): writing a review of an order, replying, the
reviews hub, a person's public page, all reviews of an offer or a person, and the operators'
page to hide or restore a review.

Views parse input, call one service (or read selectors) and render; refusals show on the form
(400, or the error's 403/409), success is a flash message after a redirect. Reviews and orders a
user may not see are 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from micromarket.accounts import selectors as accounts_selectors
from micromarket.catalog import selectors as catalog_selectors
from micromarket.core.errors import DomainError, NotFound
from micromarket.core.forms import form_add_domain_error
from micromarket.orders import selectors as order_selectors
from micromarket.trust.forms.reviews import HideForm, ReplyForm, ReviewForm
from micromarket.trust.selectors import reviews as selectors
from micromarket.trust.services import reviews as services

PER_PAGE = 20


def _not_found(exc: NotFound):
    raise Http404(exc.message)


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _error_status(exc: DomainError) -> int:
    return exc.status if exc.status in (403, 409) else 400


@login_required
def review_create(request, order_id: int):
    """GET: the review form for the order's buyer or seller; POST: write the review."""
    try:
        order = order_selectors.order_for_user(order_id=order_id, user=request.user)
    except NotFound as exc:
        _not_found(exc)
    panel = selectors.order_reviews(order=order, user=request.user)
    if panel is None:  # an operator: they do not review
        raise Http404("There is nothing to review here.")
    status = 200
    if request.method == "POST":
        form = ReviewForm(request.POST, role=panel.role)
        status = 400
        if form.is_valid():
            try:
                services.review_create(
                    order_id=order.pk, author=request.user, **form.service_data()
                )
            except NotFound as exc:
                _not_found(exc)
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = _error_status(exc)
            else:
                messages.success(
                    request,
                    "Thank you. Your review becomes public when the other side has reviewed "
                    "too, or when the review window ends.",
                )
                return redirect("orders:detail", order.pk)
    else:
        form = ReviewForm(role=panel.role)
    return render(
        request,
        "trust/reviews/review_form.html",
        {"order": order, "panel": panel, "form": form},
        status=status,
    )


@login_required
@require_POST
def review_reply(request, review_id: int):
    """The subject's public reply to a review (from the review's own form)."""
    form = ReplyForm(request.POST)
    back = _safe_next(request, "/reviews/")
    if not form.is_valid():
        messages.error(request, "Write your reply (up to 2,000 characters).")
        return redirect(back)
    try:
        services.review_reply(review_id=review_id, actor=request.user, **form.cleaned_data)
    except NotFound as exc:
        _not_found(exc)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, "Your reply is published under the review.")
    return redirect(back)


@login_required
def reviews_hub(request):
    """Reviews to write, reviews of you and reviews you wrote."""
    now = timezone.now()
    return render(
        request,
        "trust/reviews/hub.html",
        {
            "to_write": selectors.orders_to_review(user=request.user, now=now),
            "received": Paginator(selectors.reviews_received(user=request.user), PER_PAGE).get_page(
                request.GET.get("page")
            ),
            "written": list(selectors.reviews_written(user=request.user)[:PER_PAGE]),
            "seller_rep": selectors.reputation(user=request.user, role="seller", now=now),
            "buyer_rep": selectors.reputation(user=request.user, role="buyer", now=now),
        },
    )


def person(request, user_id: int):
    """A person's public page: their reputation as a buyer and the reviews sellers gave them,
    and as a seller when they have a shop."""
    try:
        someone = selectors.person_get(user_id=user_id)
    except NotFound as exc:
        _not_found(exc)
    shop = accounts_selectors.shop_for_user(user=someone)
    if shop is not None and not shop.is_active:
        shop = None
    reviews = selectors.public_reviews(subject_id=someone.pk, role="buyer")
    return render(
        request,
        "trust/reviews/person.html",
        {
            "person": someone,
            "shop": shop,
            "buyer_rep": selectors.reputation(user=someone, role="buyer"),
            "seller_rep": selectors.reputation(user=someone, role="seller") if shop else None,
            "reviews": Paginator(reviews, PER_PAGE).get_page(request.GET.get("page")),
        },
    )


def person_reviews(request, user_id: int):
    """Every public review of a person as a seller (``?as=seller``) or as a buyer."""
    try:
        someone = selectors.person_get(user_id=user_id)
    except NotFound as exc:
        _not_found(exc)
    role = "seller" if request.GET.get("as", "seller") == "seller" else "buyer"
    reviews = selectors.public_reviews(subject_id=someone.pk, role=role)
    return render(
        request,
        "trust/reviews/list.html",
        {
            "heading": f"Reviews of {someone.display_name} as a {role}",
            "back_url": reverse("trust:person", args=[someone.pk]),
            "back_label": f"{someone.display_name}'s profile",
            "rep": selectors.reputation(user=someone, role=role),
            "page": Paginator(reviews, PER_PAGE).get_page(request.GET.get("page")),
            "query": f"as={role}&",
            "show_offer": role == "seller",
        },
    )


def offer_reviews(request, offer_id: int):
    """Every public review of an offer, newest first."""
    try:
        offer = catalog_selectors.offer_get_visible(offer_id=offer_id, viewer=request.user)
    except NotFound as exc:
        _not_found(exc)
    return render(
        request,
        "trust/reviews/list.html",
        {
            "heading": f"Reviews of {offer.title}",
            "back_url": reverse("catalog:offer", args=[offer.pk]),
            "back_label": offer.title,
            "rep": selectors.offer_reputation(offer_id=offer.pk),
            "page": Paginator(selectors.offer_reviews(offer_id=offer.pk), PER_PAGE).get_page(
                request.GET.get("page")
            ),
            "query": "",
            "show_offer": False,
        },
    )


# --- operators ----------------------------------------------------------------------------------


def _operator(request) -> None:
    if not (request.user.is_authenticated and request.user.is_staff):
        raise Http404("There is nothing here.")


@login_required
def ops_review(request, review_id: int):
    """An operator's view of one review with the form to hide it (or restore it)."""
    _operator(request)
    try:
        review = selectors.review_for_user(review_id=review_id, user=request.user)
    except NotFound as exc:
        _not_found(exc)
    form = HideForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        action = services.review_unhide if review.hidden_at else services.review_hide
        if form.is_valid():
            try:
                action(review_id=review.pk, actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = _error_status(exc)
            else:
                messages.success(
                    request,
                    "The review is shown again." if review.hidden_at else "The review is hidden.",
                )
                return redirect("trust:ops_review", review.pk)
    return render(
        request, "trust/reviews/ops_review.html", {"review": review, "form": form}, status=status
    )


urlpatterns = [
    path("reviews/", reviews_hub, name="reviews"),
    path("reviews/<int:review_id>/reply/", review_reply, name="review_reply"),
    path("reviews/offers/<int:offer_id>/", offer_reviews, name="offer_reviews"),
    path("orders/<int:order_id>/review/", review_create, name="review_create"),
    path("people/<int:user_id>/", person, name="person"),
    path("people/<int:user_id>/reviews/", person_reviews, name="person_reviews"),
    path("ops/trust/reviews/<int:review_id>/", ops_review, name="ops_review"),
]
