"""Catalog pages: what sellers, buyers and operators see and can do."""

from __future__ import annotations

import pytest

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.models import Offer
from micromarket.catalog.tests.factories import make_offer, png, seller

pytestmark = pytest.mark.django_db


def _gig_form(**overrides):
    data = {
        "title": "I will write your product descriptions",
        "description": "Clear, friendly product descriptions that sell.",
        "category": "writing-translation",
        "currency": "USD",
        "tags": "copywriting, ecommerce",
        "languages": "English",
        "packages-TOTAL_FORMS": "3",
        "packages-INITIAL_FORMS": "0",
        "packages-0-name": "Basic",
        "packages-0-price": "25.00",
        "packages-0-delivery_days": "2",
        "packages-0-revisions": "1",
        "packages-0-features": "5 descriptions",
        "packages-1-name": "Standard",
        "packages-1-price": "45.50",
        "packages-1-delivery_days": "3",
        "packages-1-revisions": "2",
        "packages-2-name": "Premium",
        "packages-2-price": "80",
        "packages-2-delivery_days": "5",
        "packages-2-revisions": "3",
        "extras-TOTAL_FORMS": "1",
        "extras-INITIAL_FORMS": "0",
        "extras-0-title": "Express",
        "extras-0-price": "10",
        "extras-0-extra_days": "-1",
        "questions-TOTAL_FORMS": "1",
        "questions-INITIAL_FORMS": "0",
        "questions-0-question": "Which products?",
        "questions-0-required": "on",
    }
    data.update(overrides)
    return data


def test_seller_creates_a_gig_from_the_form(client):
    owner = seller()
    client.force_login(owner)
    response = client.post("/sell/offers/new/service/", _gig_form())
    offer = Offer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/sell/offers/{offer.pk}/images/"
    assert offer.price_from == 2500  # "25.00" USD in cents
    assert sorted(offer.packages.values_list("price", flat=True)) == [2500, 4550, 8000]
    assert offer.extras.get().extra_days == -1


def test_form_errors_are_shown_and_nothing_is_saved(client):
    client.force_login(seller())
    response = client.post("/sell/offers/new/service/", _gig_form(**{"packages-0-price": "-5"}))
    assert response.status_code == 400
    assert "Please fix" in response.text
    assert Offer.objects.count() == 0


def test_too_many_decimals_for_the_currency_are_refused(client):
    client.force_login(seller())
    response = client.post(
        "/sell/offers/new/service/", _gig_form(currency="JPY", **{"packages-0-price": "25.5"})
    )
    assert response.status_code == 400
    assert "JPY amounts have no decimals" in response.text
    assert Offer.objects.count() == 0


def test_buyers_without_a_shop_are_sent_to_open_one(client):
    client.force_login(UserFactory())
    response = client.get("/sell/offers/new/service/")
    assert response.status_code == 302
    assert response["Location"] == "/sell/"


def test_offer_page_shows_packages_and_is_hidden_while_draft(client):
    offer = make_offer()
    assert client.get(f"/offers/{offer.pk}/").status_code == 404
    client.force_login(offer.seller)
    page = client.get(f"/offers/{offer.pk}/")
    assert page.status_code == 200
    assert "not visible to buyers" in page.text
    client.post(f"/sell/offers/{offer.pk}/submit/")
    client.logout()
    page = client.get(f"/offers/{offer.pk}/")
    assert page.status_code == 200
    assert "Premium" in page.text
    assert "$150.00" in page.text


def test_offer_page_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    offer = make_offer(publish=True)
    for _ in range(3):
        from micromarket.catalog import services

        services.offer_image_add(offer_id=offer.pk, actor=offer.seller, upload=png())
    # 16 for the offer itself, 7 for trust's partials (rating, reviews, level, badges, trader)
    with django_assert_max_num_queries(23):
        assert client.get(f"/offers/{offer.pk}/").status_code == 200


def test_search_page_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    owner = seller()
    for i in range(6):
        make_offer(owner=owner, publish=True, title=f"Logo design offer number {i}")
    with django_assert_max_num_queries(12):
        response = client.get("/search/", {"q": "logo"})
    assert response.status_code == 200
    assert "Logo design offer number" in response.text


def test_search_page_answers_htmx_with_the_results_fragment(client):
    make_offer(publish=True, title="Watercolour pet portrait painting")
    response = client.get("/search/", {"q": "watercolour"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="results"' in response.text
    assert "Watercolour pet portrait" in response.text


def test_dashboard_pause_and_resume(client):
    offer = make_offer(publish=True)
    client.force_login(offer.seller)
    assert offer.title in client.get("/sell/offers/").text
    client.post(f"/sell/offers/{offer.pk}/pause/")
    offer.refresh_from_db()
    assert offer.status == "paused"
    response = client.post(f"/sell/offers/{offer.pk}/pause/", follow=True)
    assert "cannot be paused" in response.text


def test_someone_elses_offer_cannot_be_edited_or_paused(client):
    offer = make_offer(publish=True)
    client.force_login(seller())
    assert client.get(f"/sell/offers/{offer.pk}/edit/").status_code == 404
    assert client.post(f"/sell/offers/{offer.pk}/pause/").status_code == 404
    offer.refresh_from_db()
    assert offer.status == "active"


def test_picture_upload_rejects_non_images_with_a_message(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    offer = make_offer()
    client.force_login(offer.seller)
    response = client.post(
        f"/sell/offers/{offer.pk}/images/",
        {"image": SimpleUploadedFile("cat.png", b"not really a png")},
    )
    assert response.status_code == 400
    assert "not an image we can read" in response.text
    assert offer.images.count() == 0


def test_shop_page_lists_active_offers_only(client):
    live = make_offer(publish=True, title="Live logo offer for shops")
    owner = live.seller
    draft = make_offer(owner=owner, title="Draft logo offer hidden")
    page = client.get(f"/shops/{owner.shop.slug}/")
    assert live.title in page.text
    assert draft.title not in page.text


def test_moderation_queue_is_for_operators_only(client):
    client.force_login(seller())
    response = client.get("/ops/moderation/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("kind", ["service", "experience", "rental", "task", "digital", "physical"])
def test_every_kind_has_a_new_offer_form_and_an_edit_form(client, kind):
    offer = make_offer(kind=kind)
    client.force_login(offer.seller)
    assert client.get(f"/sell/offers/new/{kind}/").status_code == 200
    page = client.get(f"/sell/offers/{offer.pk}/edit/")
    assert page.status_code == 200
    assert offer.title in page.text


def test_editing_a_gig_keeps_its_prices(client):
    offer = make_offer(kind="service")
    client.force_login(offer.seller)
    page = client.get(f"/sell/offers/{offer.pk}/edit/")
    assert 'value="50.00"' in page.text  # 5000 cents shown as 50.00
    assert 'value="150.00"' in page.text


def test_search_page_filters_by_distance_from_the_buyer(client):
    near = make_offer(
        kind="task",
        publish=True,
        title="Garden help in Manchester town",
        latitude=53.48,
        longitude=-2.24,
    )
    far = make_offer(
        kind="task",
        publish=True,
        title="Garden help in London town",
        latitude=51.50,
        longitude=-0.12,
    )
    page = client.get(
        "/search/", {"q": "garden", "lat": "53.47", "lng": "-2.23", "radius_km": "25"}
    )
    assert near.title in page.text
    assert far.title not in page.text
    assert "Using your location." in page.text


def test_pictures_can_be_moved_and_the_first_is_the_cover(client):
    from micromarket.catalog import services

    offer = make_offer()
    first = services.offer_image_add(offer_id=offer.pk, actor=offer.seller, upload=png())
    second = services.offer_image_add(offer_id=offer.pk, actor=offer.seller, upload=png())
    client.force_login(offer.seller)
    response = client.post(f"/sell/offers/{offer.pk}/images/", {"move": f"{second.pk}:up"})
    assert response.status_code == 302
    assert list(offer.images.values_list("pk", flat=True)) == [second.pk, first.pk]
    client.force_login(seller())
    assert (
        client.post(f"/sell/offers/{offer.pk}/images/", {"move": f"{first.pk}:up"}).status_code
        == 404
    )
    assert list(offer.images.values_list("pk", flat=True)) == [second.pk, first.pk]
