"""Orders: what a buyer bought or booked, where it stands in its process, and its history.

An order belongs to one seller and follows the transaction process of its kind
(``orders.processes``). Its ``state`` changes only in ``services.order_transition``, which
records an ``OrderEvent`` for every change. Prices are snapshots taken at checkout, so later
edits to the offer never change an order.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now


class Checkout(models.Model):
    """One payment for one or more orders (a cart may hold orders from several sellers).

    ``idempotency_key`` makes placing the same checkout twice return the first one."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting payment"
        PAID = "paid", "Paid"
        FAILED = "failed", "Payment failed"

    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="checkouts"
    )
    idempotency_key = models.CharField(max_length=160)
    fingerprint = models.CharField(max_length=64)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    payment = models.ForeignKey(
        "payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    failure_message = models.CharField(max_length=300, blank=True)
    from_cart = models.BooleanField(default=False)
    cart_item_ids = models.JSONField(default=list, blank=True)  # emptied from the cart when paid
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "idempotency_key"], name="orders_checkout_key_unique"
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"Checkout {self.pk}"


class Order(models.Model):
    class Kind(models.TextChoices):  # the process; the same names as catalog.Offer.Kind
        SERVICE = "service", "Service gig"
        EXPERIENCE = "experience", "Experience"
        RENTAL = "rental", "Rental"
        TASK = "task", "Local task"
        DIGITAL = "digital", "Digital product"
        PHYSICAL = "physical", "Physical product"
        MILESTONE = "milestone", "Project task"  # a unit of a buyer's project (projects app)

    checkout = models.ForeignKey(Checkout, on_delete=models.PROTECT, related_name="orders")
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders_bought"
    )
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders_sold"
    )
    offer = models.ForeignKey(
        "catalog.Offer", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )  # the first item's offer (an order of products may hold several); none for a milestone
    # What the order was placed for when it is not an offer: a milestone's category (its fees)
    # and its origin — the key and page of what it pays for (``projects.assignment:12``).
    category = models.ForeignKey(
        "catalog.Category", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    origin = models.CharField(max_length=60, blank=True, db_index=True)
    origin_url = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    state = models.CharField(max_length=24, default="pending_payment")
    title = models.CharField(max_length=200)
    currency = models.CharField(max_length=3)
    subtotal = models.BigIntegerField(help_text="The seller's price, shipping included")
    shipping = models.BigIntegerField(default=0)
    deposit = models.BigIntegerField(default=0, help_text="Rental security deposit, held apart")
    service_fee = models.BigIntegerField(default=0, help_text="The buyer's fee, known once paid")
    # The next automatic transition, applied by the sweeper when due.
    deadline_at = models.DateTimeField(null=True, blank=True)
    deadline_transition = models.CharField(max_length=40, blank=True)
    # Service gigs: delivery promise and revisions.
    requirements = models.JSONField(default=list, blank=True)
    delivery_days = models.PositiveSmallIntegerField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    revisions_allowed = models.PositiveSmallIntegerField(default=0)
    revisions_used = models.PositiveSmallIntegerField(default=0)
    # Bookings (experience sessions, rentals, local tasks): the booked period.
    session = models.ForeignKey(
        "catalog.ExperienceSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    seats = models.PositiveSmallIntegerField(default=0)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    cancellation_policy = models.CharField(max_length=10, blank=True)
    instant_booking = models.BooleanField(default=False)
    # Local tasks: time booked (and authorised) and time worked, in minutes.
    hourly_rate = models.BigIntegerField(null=True, blank=True)
    minutes_booked = models.PositiveIntegerField(null=True, blank=True)
    minutes_worked = models.PositiveIntegerField(null=True, blank=True)
    address = models.TextField(blank=True, help_text="Where the task is done / shipping address")
    ship_country = models.CharField(max_length=2, blank=True)
    # Physical products.
    carrier = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=80, blank=True)
    # Rentals: what the owner kept of the deposit.
    deposit_claimed = models.BigIntegerField(default=0)
    deposit_claim_reason = models.TextField(blank=True)
    # Mutual cancellation: who asked (the other party accepts or declines).
    cancellation_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True, help_text="The buyer's note at checkout")
    stock_released = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=now)
    placed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["deadline_at"]),
            models.Index(fields=["buyer", "state"]),
            models.Index(fields=["seller", "state"]),
            models.Index(fields=["offer", "state", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(subtotal__gt=0, shipping__gte=0, deposit__gte=0),
                name="orders_order_amounts",
            ),
            models.CheckConstraint(
                condition=Q(deposit_claimed__gte=0, deposit_claimed__lte=models.F("deposit")),
                name="orders_order_deposit_claim",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="orders_order_period",
            ),
            models.CheckConstraint(
                condition=Q(offer__isnull=False) | Q(category__isnull=False, kind="milestone"),
                name="orders_order_offer_or_milestone",
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.pk}"

    @property
    def reference(self) -> str:
        """The escrow and ledger reference of the order's price."""
        return f"order:{self.pk}"

    @property
    def deposit_reference(self) -> str:
        return f"order:{self.pk}:deposit"

    @property
    def total(self) -> int:
        """What the seller's price and the deposit come to (the seller's view)."""
        return self.subtotal + self.deposit

    @property
    def buyer_total(self) -> int:
        """What the buyer was charged: price, deposit and the service fee."""
        return self.subtotal + self.deposit + self.service_fee


class OrderItem(models.Model):
    """A line of an order with its price snapshot."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    offer = models.ForeignKey("catalog.Offer", on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=300)
    package = models.ForeignKey(
        "catalog.GigPackage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    variation = models.ForeignKey(
        "catalog.Variation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    extras = models.JSONField(default=list, blank=True)  # [{"title", "price", "extra_days"}]
    unit_price = models.BigIntegerField()
    quantity = models.PositiveIntegerField(default=1)
    amount = models.BigIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_price__gte=0, amount__gt=0, quantity__gte=1),
                name="orders_item_amounts",
            )
        ]


class OrderEvent(models.Model):
    """One transition of an order: who, when, from → to, and what came with it."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    transition = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=10)  # buyer, seller, operator, system
    from_state = models.CharField(max_length=24)
    to_state = models.CharField(max_length=24)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["created_at", "id"]


def delivery_file_path(item: DeliveryFile, filename: str) -> str:
    return f"deliveries/{item.delivery.order_id}/{item.sha256[:16]}-{filename[-80:]}"


class Delivery(models.Model):
    """What a seller delivered for a service gig (a message and files)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="deliveries")
    event = models.OneToOneField(OrderEvent, on_delete=models.CASCADE, related_name="delivery")
    message = models.TextField()
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["created_at", "id"]


class DeliveryFile(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to=delivery_file_path)
    name = models.CharField(max_length=200)
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)


class CartItem(models.Model):
    """Something a buyer means to order; checked again (price, stock, dates) at checkout."""

    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart_items"
    )
    offer = models.ForeignKey("catalog.Offer", on_delete=models.CASCADE, related_name="+")
    spec = models.JSONField(default=dict)  # the choices: package, extras, quantity, dates …
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["created_at", "id"]

    def as_item(self) -> dict:
        """The checkout item (``orders.pricing`` shape) this cart line stands for."""
        return {"offer": self.offer_id, **self.spec}
