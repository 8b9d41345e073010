"""Offers of six kinds. Shared fields live on ``Offer``; each kind adds its own tables.

Money is integer minor units in ``Offer.currency``. ``Offer.price_from`` and
``Offer.delivery_days`` are derived by ``services`` from the kind's tables (the lowest price a buyer
can pay, the fastest delivery) so search can filter and sort on one table.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now


class Category(models.Model):
    """Two-level taxonomy, seeded by migration 0002. Offers sit in a subcategory."""

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=90, unique=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name


class Tag(models.Model):
    name = models.CharField(max_length=40, unique=True)

    def __str__(self) -> str:
        return self.name


class Offer(models.Model):
    class Kind(models.TextChoices):
        SERVICE = "service", "Service gig"
        EXPERIENCE = "experience", "Experience"
        RENTAL = "rental", "Rental"
        TASK = "task", "Local task"
        DIGITAL = "digital", "Digital product"
        PHYSICAL = "physical", "Physical product"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PENDING = "pending", "Pending review"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        ARCHIVED = "archived", "Archived"
        REJECTED = "rejected", "Rejected"

    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="offers"
    )
    shop = models.ForeignKey("accounts.Shop", on_delete=models.PROTECT, related_name="offers")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    title = models.CharField(max_length=120)
    description = models.TextField(max_length=10_000, help_text="Markdown")
    description_html = models.TextField(blank=True, help_text="Sanitised rendering")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="offers")
    tags = models.ManyToManyField(Tag, blank=True, related_name="offers")
    currency = models.CharField(max_length=3)
    languages = models.JSONField(default=list, blank=True)
    place_name = models.CharField(max_length=120, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    # Derived by services from the kind's tables; used by search filters and sorts.
    price_from = models.BigIntegerField(null=True, blank=True)
    delivery_days = models.PositiveSmallIntegerField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "kind"]),
            models.Index(fields=["seller", "status"]),
            models.Index(fields=["status", "published_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(price_from__isnull=True) | Q(price_from__gt=0),
                name="catalog_offer_price_from_positive",
            ),
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) & Q(longitude__isnull=True))
                | (
                    Q(latitude__gte=-90, latitude__lte=90)
                    & Q(longitude__gte=-180, longitude__lte=180)
                ),
                name="catalog_offer_coordinates_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.ACTIVE


def offer_image_path(image: OfferImage, filename: str) -> str:
    return f"offers/{image.offer_id}/{filename}"


class OfferImage(models.Model):
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to=offer_image_path)
    alt_text = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


# --- service gigs ---------------------------------------------------------------------------


class GigPackage(models.Model):
    class Tier(models.TextChoices):
        BASIC = "basic", "Basic"
        STANDARD = "standard", "Standard"
        PREMIUM = "premium", "Premium"

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="packages")
    tier = models.CharField(max_length=10, choices=Tier.choices)
    name = models.CharField(max_length=60)
    description = models.CharField(max_length=300, blank=True)
    price = models.BigIntegerField()
    delivery_days = models.PositiveSmallIntegerField()
    revisions = models.PositiveSmallIntegerField(default=1)
    features = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["price"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "tier"], name="catalog_package_tier_unique"),
            models.CheckConstraint(condition=Q(price__gt=0), name="catalog_package_price_pos"),
            models.CheckConstraint(condition=Q(delivery_days__gte=1), name="catalog_package_days"),
        ]


class GigExtra(models.Model):
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="extras")
    title = models.CharField(max_length=80)
    price = models.BigIntegerField()
    extra_days = models.SmallIntegerField(
        default=0, help_text="Negative for faster delivery, e.g. -2"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="catalog_extra_price_pos"),
        ]


class RequirementQuestion(models.Model):
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="questions")
    question = models.CharField(max_length=300)
    required = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


# --- experiences ----------------------------------------------------------------------------


class ExperienceDetails(models.Model):
    offer = models.OneToOneField(Offer, on_delete=models.CASCADE, related_name="experience")
    meeting_point = models.CharField(max_length=300)


class ExperienceSession(models.Model):
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField()
    capacity = models.PositiveSmallIntegerField()
    price_per_person = models.BigIntegerField()
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="catalog_session_capacity"),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=15), name="catalog_session_duration"
            ),
            models.CheckConstraint(
                condition=Q(price_per_person__gt=0), name="catalog_session_price_pos"
            ),
        ]

    @property
    def ends_at(self):
        from datetime import timedelta

        return self.starts_at + timedelta(minutes=self.duration_minutes)


# --- rentals --------------------------------------------------------------------------------


class RentalDetails(models.Model):
    class Unit(models.TextChoices):
        NIGHT = "night", "per night"
        DAY = "day", "per day"
        HOUR = "hour", "per hour"

    class Policy(models.TextChoices):
        FLEXIBLE = "flexible", "Flexible"
        MODERATE = "moderate", "Moderate"
        STRICT = "strict", "Strict"

    offer = models.OneToOneField(Offer, on_delete=models.CASCADE, related_name="rental")
    unit = models.CharField(max_length=5, choices=Unit.choices)
    price_per_unit = models.BigIntegerField()
    min_units = models.PositiveSmallIntegerField(default=1)
    max_units = models.PositiveSmallIntegerField(default=30)
    security_deposit = models.BigIntegerField(default=0)
    cancellation_policy = models.CharField(max_length=8, choices=Policy.choices)
    instant_booking = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(price_per_unit__gt=0), name="catalog_rental_price"),
            models.CheckConstraint(condition=Q(min_units__gte=1), name="catalog_rental_min"),
            models.CheckConstraint(
                condition=Q(max_units__gte=models.F("min_units")), name="catalog_rental_max"
            ),
            models.CheckConstraint(
                condition=Q(security_deposit__gte=0), name="catalog_rental_deposit"
            ),
        ]


class RentalBlock(models.Model):
    """Dates the owner has blocked (inclusive start, exclusive end), e.g. their own use."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="blocks")
    start = models.DateField()
    end = models.DateField()
    note = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="catalog_block_end")
        ]


# --- local tasks ----------------------------------------------------------------------------


class TaskDetails(models.Model):
    offer = models.OneToOneField(Offer, on_delete=models.CASCADE, related_name="task")
    hourly_rate = models.BigIntegerField()
    min_hours = models.PositiveSmallIntegerField(default=1)
    radius_km = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(hourly_rate__gt=0), name="catalog_task_rate"),
            models.CheckConstraint(condition=Q(min_hours__gte=1), name="catalog_task_min_hours"),
            models.CheckConstraint(condition=Q(radius_km__gte=1), name="catalog_task_radius"),
        ]


# --- digital products -----------------------------------------------------------------------


class DigitalDetails(models.Model):
    offer = models.OneToOneField(Offer, on_delete=models.CASCADE, related_name="digital")
    price = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="catalog_digital_price"),
        ]


def digital_file_path(item: DigitalFile, filename: str) -> str:
    return f"digital/{item.offer_id}/{filename}"


class DigitalFile(models.Model):
    """A file buyers receive. Stored privately; served only through signed, expiring links."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to=digital_file_path)
    name = models.CharField(max_length=200)
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["id"]


# --- physical products ----------------------------------------------------------------------


class PhysicalDetails(models.Model):
    offer = models.OneToOneField(Offer, on_delete=models.CASCADE, related_name="physical")
    price = models.BigIntegerField()
    stock = models.PositiveIntegerField(default=0, help_text="Used when there are no variations")
    processing_days = models.PositiveSmallIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="catalog_physical_price"),
        ]


class Variation(models.Model):
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="variations")
    name = models.CharField(max_length=80, help_text="e.g. “Large / Blue”")
    price = models.BigIntegerField()
    stock = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "name"], name="catalog_variation_unique"),
            models.CheckConstraint(condition=Q(price__gt=0), name="catalog_variation_price"),
        ]


class ShippingRate(models.Model):
    """Shipping to one destination country; country ``*`` is “everywhere else”."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="shipping_rates")
    country = models.CharField(max_length=2)
    price = models.BigIntegerField()
    free_over = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["country"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "country"], name="catalog_shipping_unique"),
            models.CheckConstraint(condition=Q(price__gte=0), name="catalog_shipping_price"),
        ]


class CatalogSettings(models.Model):
    """Operator settings of the catalog (one row)."""

    require_approval = models.BooleanField(
        default=False, help_text="New and edited offers wait for an operator before going live."
    )
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name_plural = "catalog settings"


class ModerationEvent(models.Model):
    """Every status change of an offer: who, when, from → to, why."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="moderation_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=10)
    to_status = models.CharField(max_length=10)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-created_at"]


# The search index table lives in its own module (written only by catalog.search).
from micromarket.catalog.search_models import OfferSearch  # noqa: E402, F401
