"""Offers of every kind: what is accepted, what is refused (with nothing saved), who may act."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog import services
from micromarket.catalog.models import ModerationEvent, Offer, OfferImage
from micromarket.catalog.tests.factories import common, details, make_offer, png, seller
from micromarket.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db
KINDS = ["service", "experience", "rental", "task", "digital", "physical"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_can_be_created_and_published(kind):
    offer = make_offer(kind=kind, publish=True)
    assert offer.status == Offer.Status.ACTIVE
    assert offer.published_at is not None
    assert offer.price_from > 0


def test_service_price_from_and_fastest_delivery_come_from_the_packages():
    offer = make_offer(kind="service")
    assert offer.price_from == 5000
    assert offer.delivery_days == 3
    assert [p.tier for p in offer.packages.order_by("price")] == ["basic", "standard", "premium"]


def test_markdown_description_is_rendered_and_sanitised():
    offer = make_offer(
        description="Hello **world** <script>alert(1)</script> [site](javascript:alert(1)) "
        "[ok](https://example.org)"
    )
    assert "<strong>world</strong>" in offer.description_html
    assert "<script" not in offer.description_html
    assert 'href="javascript' not in offer.description_html
    assert 'rel="nofollow ugc noopener noreferrer"' in offer.description_html


def _refused(kind, mutate, field=None, message=None):
    owner = seller()
    d = details(kind)
    mutate(d)
    fields = common(
        category={
            "service": "logo-brand-design",
            "experience": "walking-tours",
            "rental": "rooms-stays",
            "task": "handyman-assembly",
            "digital": "templates",
            "physical": "ceramics-pottery",
        }[kind],
        latitude=53.4,
        longitude=-2.2,
    )
    with pytest.raises(ValidationFailed) as err:
        services.offer_create(seller=owner, kind=kind, details=d, **fields)
    assert Offer.objects.count() == 0, "nothing may be saved"
    if field:
        assert err.value.field == field
    if message:
        assert message in err.value.message
    return err.value


def test_negative_package_price_is_refused():
    _refused("service", lambda d: d["packages"][0].update(price=-500), "packages", "more than zero")


def test_non_integer_amount_is_refused():
    _refused("service", lambda d: d["packages"][0].update(price=12.5), "packages", "whole number")


def test_service_needs_a_package():
    _refused("service", lambda d: d.update(packages=[]), "packages", "at least one package")


def test_premium_cheaper_than_basic_is_refused():
    _refused("service", lambda d: d["packages"][2].update(price=100), "packages")


def test_zero_capacity_is_refused():
    _refused(
        "experience",
        lambda d: d["sessions"][0].update(capacity=0),
        "sessions",
        "Capacity must be at least 1",
    )


def test_session_ending_before_it_starts_is_refused():
    def end_before(d):
        s = d["sessions"][0]
        s["ends_at"] = s["starts_at"] - timedelta(hours=1)

    _refused("experience", end_before, "sessions", "end after it starts")


def test_rental_max_below_min_is_refused():
    _refused("rental", lambda d: d.update(min_units=5, max_units=2), "max_units")


def test_rental_needs_a_known_policy():
    _refused("rental", lambda d: d.update(cancellation_policy="lenient"), "cancellation_policy")


def test_blocked_period_ending_before_start_is_refused():
    today = timezone.localdate()
    _refused("rental", lambda d: d.update(blocks=[{"start": today, "end": today}]), "blocks")


def test_negative_stock_is_refused():
    _refused("physical", lambda d: d.update(stock=-1), "stock", "at least 0")


def test_negative_variation_stock_is_refused():
    _refused(
        "physical",
        lambda d: d.update(variations=[{"name": "Large", "price": 3000, "stock": -2}]),
        "variations",
    )


def test_bad_shipping_country_is_refused():
    _refused(
        "physical", lambda d: d.update(shipping=[{"country": "Germany", "price": 5}]), "shipping"
    )


def test_task_needs_a_location():
    owner = seller()
    with pytest.raises(ValidationFailed) as err:
        services.offer_create(
            seller=owner,
            kind="task",
            details=details("task"),
            **common(category="handyman-assembly"),
        )
    assert err.value.field == "latitude"
    assert Offer.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "Hi"}, "title"),
        ({"description": "too short"}, "description"),
        ({"category": "creative-services"}, "category"),  # a top-level category is not enough
        ({"currency": "XYZ"}, "currency"),
        ({"tags": [f"t{i}" for i in range(11)]}, "tags"),
        ({"latitude": 95, "longitude": 0}, "latitude"),
    ],
)
def test_common_fields_are_validated(overrides, field):
    owner = seller()
    with pytest.raises(ValidationFailed) as err:
        services.offer_create(
            seller=owner, kind="service", details=details("service"), **common(**overrides)
        )
    assert err.value.field == field
    assert Offer.objects.count() == 0


def test_only_sellers_with_a_shop_can_list():
    buyer = UserFactory()
    with pytest.raises(PermissionDenied):
        services.offer_create(seller=buyer, kind="service", details=details("service"), **common())


def test_only_the_owner_edits_and_others_get_not_found():
    offer = make_offer()
    stranger = seller()
    with pytest.raises(NotFound):
        services.offer_update(offer_id=offer.pk, actor=stranger, title="Stolen offer title")
    offer.refresh_from_db()
    assert offer.title == "I will design a logo for your bakery"


def test_update_keeps_unmentioned_fields_and_replaces_details():
    offer = make_offer()
    d = details("service")
    d["packages"] = d["packages"][:1]
    services.offer_update(
        offer_id=offer.pk, actor=offer.seller, title="A new better title", details=d
    )
    offer.refresh_from_db()
    assert offer.title == "A new better title"
    assert offer.currency == "USD"
    assert offer.packages.count() == 1


def test_invalid_update_changes_nothing():
    offer = make_offer()
    with pytest.raises(ValidationFailed):
        services.offer_update(
            offer_id=offer.pk, actor=offer.seller, title="Okay title here", currency="nope"
        )
    offer.refresh_from_db()
    assert offer.title == "I will design a logo for your bakery"


# --- lifecycle ------------------------------------------------------------------------------


def test_lifecycle_pause_resume_archive_is_recorded():
    offer = make_offer(publish=True)
    owner = offer.seller
    for action, status in [("pause", "paused"), ("resume", "active"), ("archive", "archived")]:
        offer = services.offer_transition(offer_id=offer.pk, actor=owner, action=action)
        assert offer.status == status
    actions = list(
        ModerationEvent.objects.filter(offer=offer)
        .order_by("created_at")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "submit", "pause", "resume", "archive"]


def test_illegal_transition_is_refused_and_changes_nothing():
    offer = make_offer()  # draft
    with pytest.raises(Conflict) as err:
        services.offer_transition(offer_id=offer.pk, actor=offer.seller, action="pause")
    assert err.value.code == "invalid_transition"
    offer.refresh_from_db()
    assert offer.status == Offer.Status.DRAFT


def test_approval_queue_when_operators_require_it():
    operator = UserFactory(operator=True)
    services.catalog_settings_update(actor=operator, require_approval=True)
    offer = make_offer(publish=True)
    assert offer.status == Offer.Status.PENDING
    with pytest.raises(PermissionDenied):
        services.offer_transition(offer_id=offer.pk, actor=offer.seller, action="approve")
    with pytest.raises(ValidationFailed):
        services.offer_transition(offer_id=offer.pk, actor=operator, action="reject")
    rejected = services.offer_transition(
        offer_id=offer.pk, actor=operator, action="reject", reason="Pictures are missing."
    )
    assert rejected.rejection_reason == "Pictures are missing."
    again = services.offer_transition(offer_id=offer.pk, actor=offer.seller, action="submit")
    approved = services.offer_transition(offer_id=again.pk, actor=operator, action="approve")
    assert approved.status == Offer.Status.ACTIVE
    assert approved.rejection_reason == ""


def test_only_operators_change_the_approval_setting():
    with pytest.raises(PermissionDenied):
        services.catalog_settings_update(actor=UserFactory(), require_approval=True)
    assert services.catalog_settings().require_approval is False


def test_experience_without_upcoming_session_cannot_be_published():
    owner = seller()
    d = details("experience")
    d["sessions"][0]["starts_at"] = timezone.now() - timedelta(days=1)
    offer = services.offer_create(
        seller=owner,
        kind="experience",
        details=d,
        **common(category="walking-tours", latitude=1, longitude=1),
    )
    with pytest.raises(ValidationFailed, match="upcoming session"):
        services.offer_transition(offer_id=offer.pk, actor=owner, action="submit")


def test_digital_product_needs_a_file_before_publishing():
    owner = seller()
    offer = services.offer_create(
        seller=owner, kind="digital", details=details("digital"), **common(category="templates")
    )
    with pytest.raises(ValidationFailed, match="Upload the file"):
        services.offer_transition(offer_id=offer.pk, actor=owner, action="submit")


def test_duplicate_copies_details_as_a_new_draft():
    offer = make_offer(publish=True)
    copy = services.offer_duplicate(offer_id=offer.pk, actor=offer.seller)
    assert copy.pk != offer.pk
    assert copy.status == Offer.Status.DRAFT
    assert copy.packages.count() == 3
    assert set(copy.tags.values_list("name", flat=True)) == {"logo", "branding"}


# --- images and files -----------------------------------------------------------------------


def test_images_are_checked_resized_and_ordered():
    offer = make_offer()
    first = services.offer_image_add(
        offer_id=offer.pk, actor=offer.seller, upload=png((3000, 2000))
    )
    second = services.offer_image_add(offer_id=offer.pk, actor=offer.seller, upload=png())
    assert first.image.name.endswith(".webp")
    assert max(first.image.width, first.image.height) == 1600
    services.offer_images_reorder(
        offer_id=offer.pk, actor=offer.seller, image_ids=[second.pk, first.pk]
    )
    assert list(offer.images.values_list("pk", flat=True)) == [second.pk, first.pk]


def test_non_image_upload_is_refused_and_nothing_saved():
    offer = make_offer()
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 this is an exe", "image/jpeg")
    with pytest.raises(ValidationFailed) as err:
        services.offer_image_add(offer_id=offer.pk, actor=offer.seller, upload=fake)
    assert err.value.code == "image_invalid"
    assert OfferImage.objects.count() == 0


def test_oversize_image_is_refused(monkeypatch):
    monkeypatch.setattr(services, "IMAGE_MAX_BYTES", 1000)
    offer = make_offer()
    with pytest.raises(ValidationFailed) as err:
        services.offer_image_add(offer_id=offer.pk, actor=offer.seller, upload=png((800, 800)))
    assert err.value.code == "image_too_large"
    assert OfferImage.objects.count() == 0


def test_renamed_executable_is_refused_as_a_digital_file():
    offer = make_offer(kind="digital")
    with pytest.raises(ValidationFailed) as err:
        services.digital_file_add(
            offer_id=offer.pk,
            actor=offer.seller,
            upload=SimpleUploadedFile(
                "guide.pdf", b"\x7fELF\x02\x01\x01 binary", "application/pdf"
            ),
        )
    assert err.value.code == "file_type_not_allowed"
    assert offer.files.count() == 1  # only the PDF from the factory


def test_download_links_are_personal_and_expire(time_machine):
    offer = make_offer(kind="digital")
    item = offer.files.get()
    link = services.digital_file_link(file=item, for_user=offer.seller)
    token = link.strip("/").split("/")[-1]
    assert services.digital_file_from_token(token=token, user=offer.seller) == item
    with pytest.raises(NotFound):
        services.digital_file_from_token(token=token, user=UserFactory())
    time_machine.move_to(timezone.now() + timedelta(hours=25))
    with pytest.raises(ValidationFailed, match="expired"):
        services.digital_file_from_token(token=token, user=offer.seller)


def test_renaming_a_shop_makes_its_offers_findable_by_the_new_name():
    from micromarket.accounts import services as account_services
    from micromarket.catalog import search

    offer = make_offer(publish=True)
    account_services.shop_update(user=offer.seller, name="Quokka Design Studio")
    found = search.search(search.SearchQuery(text="quokka"))
    assert found.offer_ids == [offer.pk]


def test_closing_an_account_withdraws_its_offers():
    from micromarket.accounts import services as account_services
    from micromarket.accounts.tests.factories import DEFAULT_PASSWORD
    from micromarket.catalog import search

    offer = make_offer(publish=True, title="Axolotl themed logo design")
    account_services.account_delete(user=offer.seller, password=DEFAULT_PASSWORD)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.ARCHIVED
    assert search.search(search.SearchQuery(text="axolotl")).offer_ids == []
