"""Catalog pages: search, offer pages, the seller's offers, moderation, shop pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from micromarket.accounts import selectors as accounts_selectors
from micromarket.catalog import search, selectors, services
from micromarket.catalog.forms import (
    KIND_FORMS,
    DigitalFileForm,
    ImageForm,
    OfferForm,
    RejectForm,
    SearchForm,
    build_forms,
    details_from_forms,
    initial_from_offer,
)
from micromarket.catalog.models import Offer
from micromarket.core.errors import DomainError, NotFound
from micromarket.core.forms import form_add_domain_error
from micromarket.core.money import to_minor
from micromarket.messaging import selectors as messaging_selectors
from micromarket.orders import selectors as orders_selectors
from micromarket.payments import selectors as payment_selectors

Kind = Offer.Kind


def _not_found(exc: NotFound):
    raise Http404(exc.message) from None


# --- browsing -------------------------------------------------------------------------------


def _search_query(form: SearchForm) -> search.SearchQuery:
    data = form.cleaned_data
    currency = (data.get("currency") or "").upper() or None
    near = (
        (data["lat"], data["lng"])
        if data.get("lat") is not None and data.get("lng") is not None
        else None
    )

    def minor(key):
        value = data.get(key)
        return to_minor(value, currency, field=key) if value is not None and currency else None

    return search.SearchQuery(
        text=data.get("q") or "",
        kind=data.get("kind") or None,
        category=data.get("category") or None,
        currency=currency,
        price_min=minor("price_min"),
        price_max=minor("price_max"),
        max_delivery_days=data.get("max_delivery_days"),
        min_rating=data.get("min_rating"),
        seller_level=data.get("seller_level") or None,
        near=near,
        radius_km=data.get("radius_km") if near else None,
        available_from=data.get("available_from"),
        available_to=data.get("available_to"),
        language=data.get("language") or None,
        sort=data.get("sort") or "best",
        page=data.get("page") or 1,
    )


def search_page(request):
    form = SearchForm(request.GET or None)
    context = {
        "form": form,
        "categories": selectors.categories_tree(),
        "default_currency": getattr(request.user, "preferred_currency", settings.DEFAULT_CURRENCY),
    }
    if form.is_valid() or not request.GET:
        try:
            query = _search_query(form) if request.GET else search.SearchQuery()
            result = search.search(query)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            context.update(
                query=query,
                result=result,
                offers=selectors.offers_by_ids(ids=result.offer_ids),
            )
    template = "catalog/search.html#results" if request.htmx else "catalog/search.html"
    return render(request, template, context)


def suggest(request):
    prefix = (request.GET.get("q") or "").strip()[:100]
    suggestions = search.suggest(prefix) if len(prefix) >= 2 else []
    return render(request, "catalog/search.html#suggestions", {"suggestions": suggestions})


def offer_detail(request, pk: int):
    try:
        offer = selectors.offer_get_visible(offer_id=pk, viewer=request.user)
    except NotFound as exc:
        _not_found(exc)
    # What the buyer pays on top of the price (the fees in effect now), before they order.
    quotes: dict[int, payment_selectors.FeeQuote] = {}

    def quote(price: int) -> payment_selectors.FeeQuote:
        if price not in quotes:
            quotes[price] = payment_selectors.fee_quote(
                subtotal=price,
                currency=offer.currency,
                category_id=offer.category_id,
                parent_category_id=offer.category.parent_id,
            )
        return quotes[price]

    packages = list(offer.packages.all()) if offer.kind == Kind.SERVICE else []
    return render(
        request,
        "catalog/offer_detail.html",
        {
            "offer": offer,
            "can_manage": selectors.can_manage(offer=offer, user=request.user),
            "fee_quote": quote(offer.price_from) if offer.price_from else None,
            "package_quotes": [(p, quote(p.price)) for p in packages],
            "fee_terms": payment_selectors.currency_terms(currency=offer.currency)
            if offer.price_from
            else None,
            # The order box: upcoming sessions with the places still free.
            "order_sessions": orders_selectors.sessions_open(offer=offer)
            if offer.kind == Kind.EXPERIENCE
            else [],
            # "Usually responds within …" beside "Contact seller" (shown once there are inquiries).
            "response_stats": messaging_selectors.seller_response_stats(seller_id=offer.seller_id),
        },
    )


def shop_detail(request, slug: str):
    try:
        shop = accounts_selectors.shop_get_public(slug=slug)
    except NotFound as exc:
        _not_found(exc)
    return render(
        request,
        "catalog/shop_detail.html",
        {
            "shop": shop,
            "seller": shop.owner,
            "is_owner": shop.owner_id == request.user.pk,
            "offers": selectors.shop_offers_public(shop_id=shop.pk),
            "response_stats": messaging_selectors.seller_response_stats(seller_id=shop.owner_id),
        },
    )


def file_download(request, token: str):
    try:
        item = services.digital_file_from_token(token=token, user=request.user)
    except NotFound as exc:
        _not_found(exc)
    except DomainError as exc:
        return render(
            request,
            "error.html",
            {"status": 410, "title": "Link expired", "message": exc.message},
            status=410,
        )
    response = FileResponse(item.file.open("rb"), as_attachment=True, filename=item.name)
    response["Content-Type"] = item.content_type
    response["Cache-Control"] = "private, no-store"
    return response


# --- selling --------------------------------------------------------------------------------


@login_required
def dashboard(request):
    status = request.GET.get("status") or None
    if status not in {None, *Offer.Status.values}:
        status = None
    return render(
        request,
        "catalog/dashboard.html",
        {
            "offers": selectors.offers_for_seller(seller=request.user, status=status),
            "status": status,
            "statuses": Offer.Status.choices,
            "has_shop": accounts_selectors.shop_for_user(user=request.user) is not None,
        },
    )


@login_required
def offer_new_choose(request):
    if accounts_selectors.shop_for_user(user=request.user) is None:
        messages.info(request, "Open your shop first.")
        return redirect("accounts:become_seller")
    return render(request, "catalog/offer_kind_choice.html", {"kinds": Kind.choices})


def _offer_form_page(request, *, kind: str, offer: Offer | None):
    if request.method == "POST":
        form = OfferForm(request.POST)
        detail, formsets = build_forms(kind, request.POST, request.FILES)
        forms_ok = form.is_valid()
        forms_ok = (detail is None or detail.is_valid()) and forms_ok
        forms_ok = all([fs.is_valid() for fs in formsets.values()]) and forms_ok
        if forms_ok:
            data = dict(form.cleaned_data)
            try:
                details = details_from_forms(kind, detail, formsets, data["currency"])
                if offer is None:
                    offer = services.offer_create(
                        seller=request.user, kind=kind, details=details, **data
                    )
                    upload = detail.cleaned_data.get("file") if detail is not None else None
                    if upload:
                        services.digital_file_add(
                            offer_id=offer.pk, actor=request.user, upload=upload
                        )
                    messages.success(request, "Draft saved. Add pictures, then publish it.")
                else:
                    services.offer_update(
                        offer_id=offer.pk, actor=request.user, details=details, **data
                    )
                    messages.success(request, "Offer saved.")
            except DomainError as exc:
                target = detail if detail is not None and exc.field in detail.fields else form
                form_add_domain_error(target, exc)
            else:
                return redirect("catalog:offer_images", pk=offer.pk)
        status = 400
    else:
        status = 200
        if offer is None:
            form = OfferForm(initial={"currency": request.user.preferred_currency})
            detail, formsets = build_forms(kind)
        else:
            form = OfferForm(initial=OfferForm.initial_for(offer))
            detail, formsets = build_forms(kind, initial=initial_from_offer(offer))
    return render(
        request,
        "catalog/offer_form.html",
        {
            "form": form,
            "detail": detail,
            "formsets": formsets,
            "kind": kind,
            "kind_label": Kind(kind).label,
            "offer": offer,
        },
        status=status,
    )


@login_required
def offer_new(request, kind: str):
    if kind not in KIND_FORMS:
        raise Http404("No such kind of offer.")
    if accounts_selectors.shop_for_user(user=request.user) is None:
        return redirect("accounts:become_seller")
    return _offer_form_page(request, kind=kind, offer=None)


def _own_offer(request, pk: int) -> Offer:
    try:
        offer = selectors.offer_get_visible(offer_id=pk, viewer=request.user)
    except NotFound as exc:
        _not_found(exc)
    if offer.seller_id != request.user.pk:
        raise Http404("There is no such offer.")
    return offer


@login_required
def offer_edit(request, pk: int):
    offer = _own_offer(request, pk)
    return _offer_form_page(request, kind=offer.kind, offer=offer)


@login_required
def offer_images(request, pk: int):
    offer = _own_offer(request, pk)
    form = ImageForm()
    status = 200
    if request.method == "POST":
        try:
            if "remove" in request.POST:
                services.offer_image_remove(
                    offer_id=pk, actor=request.user, image_id=int(request.POST["remove"])
                )
                messages.success(request, "Picture removed.")
                return redirect("catalog:offer_images", pk=pk)
            if "move" in request.POST:
                image_id, direction = request.POST["move"].split(":")
                services.offer_image_move(
                    offer_id=pk, actor=request.user, image_id=int(image_id), direction=direction
                )
                return redirect("catalog:offer_images", pk=pk)
            form = ImageForm(request.POST, request.FILES)
            if form.is_valid():
                services.offer_image_add(
                    offer_id=pk,
                    actor=request.user,
                    upload=form.cleaned_data["image"],
                    alt_text=form.cleaned_data["alt_text"],
                )
                messages.success(request, "Picture added.")
                return redirect("catalog:offer_images", pk=pk)
        except (ValueError, KeyError):
            raise Http404("There is no such picture.") from None
        except DomainError as exc:
            form_add_domain_error(form, exc)
        status = 400
    offer = _own_offer(request, pk)
    return render(
        request, "catalog/offer_images.html", {"offer": offer, "form": form}, status=status
    )


@login_required
def offer_files(request, pk: int):
    offer = _own_offer(request, pk)
    if offer.kind != Kind.DIGITAL:
        raise Http404("Only digital products have files.")
    form = DigitalFileForm()
    status = 200
    if request.method == "POST":
        try:
            if "remove" in request.POST:
                services.digital_file_remove(
                    offer_id=pk, actor=request.user, file_id=int(request.POST["remove"])
                )
                return redirect("catalog:offer_files", pk=pk)
            form = DigitalFileForm(request.POST, request.FILES)
            if form.is_valid():
                services.digital_file_add(
                    offer_id=pk, actor=request.user, upload=form.cleaned_data["file"]
                )
                messages.success(request, "File uploaded.")
                return redirect("catalog:offer_files", pk=pk)
        except ValueError:
            raise Http404("There is no such file.") from None
        except DomainError as exc:
            form_add_domain_error(form, exc)
        status = 400
    offer = _own_offer(request, pk)
    files = [
        (item, services.digital_file_link(file=item, for_user=request.user))
        for item in offer.files.all()
    ]
    return render(
        request,
        "catalog/offer_files.html",
        {"offer": offer, "form": form, "files": files},
        status=status,
    )


@login_required
@require_POST
def offer_action(request, pk: int, action: str):
    try:
        if action == "duplicate":
            copy = services.offer_duplicate(offer_id=pk, actor=request.user)
            messages.success(request, f"Copied as a new draft: “{copy.title}”.")
            return redirect("catalog:offer_edit", pk=copy.pk)
        offer = services.offer_transition(offer_id=pk, actor=request.user, action=action)
    except NotFound as exc:
        _not_found(exc)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(request.POST.get("next") or reverse("catalog:dashboard"))
    done = {
        Offer.Status.ACTIVE: "is live",
        Offer.Status.PENDING: "is waiting for review",
        Offer.Status.PAUSED: "is paused",
        Offer.Status.ARCHIVED: "is archived",
    }.get(offer.status, f"is {offer.get_status_display().lower()}")
    messages.success(request, f"“{offer.title}” {done}.")
    return redirect(request.POST.get("next") or reverse("catalog:dashboard"))


# --- operators ------------------------------------------------------------------------------


@staff_member_required(login_url="accounts:login")
def moderation(request):
    settings_row = services.catalog_settings()
    if request.method == "POST" and "require_approval" in request.POST:
        services.catalog_settings_update(
            actor=request.user, require_approval=request.POST["require_approval"] == "1"
        )
        messages.success(request, "Catalog settings saved.")
        return redirect("catalog:moderation")
    return render(
        request,
        "catalog/moderation.html",
        {
            "queue": selectors.moderation_queue(),
            "settings_row": settings_row,
            "reject_form": RejectForm(),
        },
    )


@staff_member_required(login_url="accounts:login")
@require_POST
def moderation_decide(request, pk: int):
    action = request.POST.get("action")
    if action not in {"approve", "reject"}:
        raise Http404("Unknown decision.")
    try:
        offer = services.offer_transition(
            offer_id=pk, actor=request.user, action=action, reason=request.POST.get("reason", "")
        )
    except NotFound as exc:
        _not_found(exc)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"“{offer.title}” {'approved' if action == 'approve' else 'rejected'}."
        )
    return redirect("catalog:moderation")
