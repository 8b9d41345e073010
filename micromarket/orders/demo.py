"""Demo orders: the catalog demo's buyers order its offers through the real checkout (sandbox
card 4242…) and the orders are moved through their processes by the real transition service,
so every seller's board, every buyer's order list and every figure in the books are genuine.

The spread: a gig delivered and awaiting acceptance (after one revision), a gig completed, a gig
in progress, experience bookings, a rental request waiting for the owner, a confirmed rental,
an instant-booking rental, a task done and awaiting approval, digital orders from a two-seller
cart, a parcel shipped and one paid and waiting to be shipped.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from micromarket.catalog import selectors as catalog_selectors
from micromarket.core.errors import DomainError
from micromarket.orders import services
from micromarket.orders.models import Order

DOMAIN = "demo.micromarket.test"
CARD = "4242424242424242"  # the sandbox provider's card that always succeeds
ADDRESSES = {
    "alex": ("1460 N Milwaukee Ave, Chicago, IL 60622", "US"),
    "chloe": ("12 rue Mercière, 69002 Lyon", "FR"),
    "ravi": ("27 Narborough Road, Leicester LE3 0LE", "GB"),
}


def _user(name: str):
    return get_user_model().objects.filter(email=f"{name}@{DOMAIN}").first()


def _offer(seller_name: str, title: str):
    """The seller's active offer with that title, with everything the order needs."""
    seller = _user(seller_name)
    if seller is None:
        return None
    found = (
        catalog_selectors.offers_for_seller(seller=seller, status="active")
        .filter(title=title)
        .first()
    )
    if found is None:
        return None
    return catalog_selectors.offer_get_visible(offer_id=found.pk, viewer=None)


def _session(offer, now):
    """The first session at least a day away (the catalog demo dates them from its build)."""
    upcoming = [s for s in offer.sessions.all() if s.starts_at > now + timedelta(days=1)]
    return min(upcoming, key=lambda s: s.starts_at) if upcoming else None


def _logo_png(text: str, colour: tuple[int, int, int]) -> SimpleUploadedFile:
    """A drawn "logo concept" for a delivery (checked by content like any upload)."""
    img = Image.new("RGB", (800, 600), (250, 246, 240))
    draw = ImageDraw.Draw(img)
    draw.ellipse([250, 100, 550, 400], outline=colour, width=18)
    draw.text((400, 250), text[:1], fill=colour, font=ImageFont.load_default(size=160), anchor="mm")
    draw.text(
        (400, 480), text, fill=(60, 50, 40), font=ImageFont.load_default(size=48), anchor="mm"
    )
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return SimpleUploadedFile(
        f"{text.lower().replace(' ', '-')}-logo.png", buf.getvalue(), content_type="image/png"
    )


@dataclass
class Step:
    """``name`` taken by ``who`` ("buyer" or "seller") with ``data`` (a callable makes fresh
    uploads each time)."""

    name: str
    who: str
    data: dict | Callable[[], dict] = field(default_factory=dict)


@dataclass
class Scenario:
    key: str
    buyer: str
    items: Callable[..., list[dict] | None]  # (now) -> checkout items, None: cannot be built
    steps: list[Step] = field(default_factory=list)
    note: str = ""
    booked_ago: timedelta = timedelta(0)  # placed this long ago (a task done since)


def _gig(seller: str, title: str, package: str, extras: tuple[str, ...] = ()):
    def items(now):
        offer = _offer(seller, title)
        if offer is None:
            return None
        chosen = [e.pk for e in offer.extras.all() if e.title in extras]
        return [{"offer": offer.pk, "package": package, "extras": chosen}]

    return items


def _experience(seller: str, title: str, seats: int):
    def items(now):
        offer = _offer(seller, title)
        session = offer and _session(offer, now)
        if session is None:
            return None
        return [{"offer": offer.pk, "session": session.pk, "seats": seats}]

    return items


def _rental(seller: str, title: str, *, in_days: int, nights: int):
    def items(now):
        offer = _offer(seller, title)
        if offer is None:
            return None
        start = timezone.localdate(now) + timedelta(days=in_days)
        return [
            {"offer": offer.pk, "start": str(start), "end": str(start + timedelta(days=nights))}
        ]

    return items


def _task(seller: str, title: str, *, hours: str, address: str):
    def items(now):
        offer = _offer(seller, title)
        if offer is None:
            return None
        # 15 minutes after booking (4 hours ago): done by now, as the timeline reads.
        starts = (now + timedelta(minutes=15)).replace(second=0, microsecond=0)
        return [
            {"offer": offer.pk, "starts_at": starts.isoformat(), "hours": hours, "address": address}
        ]

    return items


def _products(*picks: tuple[str, str, str | None, int]):
    """(seller, title, variation name or None, quantity) for physical; quantity 0: digital."""

    def items(now):
        chosen = []
        for seller, title, variation, quantity in picks:
            offer = _offer(seller, title)
            if offer is None:
                return None
            item = {"offer": offer.pk}
            if quantity:
                item["quantity"] = quantity
            if variation:
                match = [v.pk for v in offer.variations.all() if v.name == variation]
                if not match:
                    return None
                item["variation"] = match[0]
            chosen.append(item)
        return chosen

    return items


LOGO = "I will design a modern minimalist logo for your brand"

SCENARIOS = [
    Scenario(
        "gig-delivered",
        "chloe",
        _gig("maria", LOGO, "standard", extras=("Delivery in 24 hours",)),
        [
            Step(
                "submit_requirements",
                "buyer",
                {
                    "answers": ["Boulangerie Martin", "Warm browns and cream, nothing neon"],
                    "message": "We bake sourdough and viennoiseries; the logo goes on bags.",
                },
            ),
            Step(
                "deliver",
                "seller",
                lambda: {
                    "message": "Three concepts attached — I like the wheat circle best.",
                    "files": [_logo_png("Martin", (150, 90, 40))],
                },
            ),
            Step("request_revision", "buyer", {"message": "Love the circle! A bit bolder?"}),
            Step(
                "deliver",
                "seller",
                lambda: {
                    "message": "Bolder strokes and a cream variant. Vector files included.",
                    "files": [_logo_png("Martin", (120, 60, 20))],
                },
            ),
        ],
        "gig delivered after a revision, waiting for the buyer",
    ),
    Scenario(
        "gig-completed",
        "alex",
        _gig("kwame", "I will fix bugs in your Django or Flask project", "basic"),
        [
            Step(
                "deliver",
                "seller",
                {"message": "Fixed: the timezone bug in your booking form, with a test."},
            ),
            Step("accept", "buyer"),
        ],
        "gig completed — the seller's earnings are pending",
    ),
    Scenario(
        "gig-in-progress",
        "alex",
        _gig(
            "kwame",
            "I will build a Django web app with tests",
            "basic",
            extras=("Deployment to your server",),
        ),
        [
            Step(
                "submit_requirements",
                "buyer",
                {
                    "answers": [
                        "A booking page for my bike repair shop with an admin for slots.",
                        "No designs, keep it simple and mobile-friendly.",
                    ]
                },
            )
        ],
        "gig in progress",
    ),
    Scenario(
        "experience-pottery",
        "chloe",
        _experience("lena", "Pottery wheel taster class for two", seats=2),
        note="experience booked (2 seats)",
    ),
    Scenario(
        "experience-tea",
        "ravi",
        _experience("aiko", "Tea ceremony in a 100-year-old machiya", seats=1),
        note="experience booked",
    ),
    Scenario(
        "rental-requested",
        "ravi",
        _rental("aiko", "Quiet tatami room near Kyoto station", in_days=24, nights=3),
        note="rental requested, waiting for the owner (expires after 24 hours)",
    ),
    Scenario(
        "rental-accepted",
        "chloe",
        _rental("aiko", "Quiet tatami room near Kyoto station", in_days=16, nights=4),
        [Step("accept", "seller")],
        "rental confirmed by the owner",
    ),
    Scenario(
        "rental-instant",
        "ravi",
        _rental("sam", "Cordless drill and tool kit to borrow", in_days=5, nights=2),
        note="instant-booking rental, confirmed at once",
    ),
    Scenario(
        "task-done",
        "ravi",
        _task(
            "sam",
            "Flat-pack furniture assembly (IKEA and others)",
            hours="3",
            address="27 Narborough Road, Leicester LE3 0LE (ring twice)",
        ),
        [
            Step(
                "complete_work",
                "seller",
                {"hours_worked": "2.5", "message": "Wardrobe and two bedside tables, all level."},
            )
        ],
        "task done, waiting for the buyer's approval of 2.5 hours",
        booked_ago=timedelta(hours=4),
    ),
    Scenario(
        "digital-cart",
        "alex",
        _products(
            ("priya", "Freelancer budget planner for Notion", None, 0),
            ("priya", "Printable quarterly tax tracker for self-employed", None, 0),
            ("kwame", "Django SaaS starter kit with billing and teams", None, 0),
        ),
        note="digital orders from two sellers in one payment, ready to download",
    ),
    Scenario(
        "physical-shipped",
        "chloe",
        _products(
            ("lena", "Hand-thrown stoneware mug, speckled glaze", "Small / Sand", 2),
            ("lena", "Set of four ceramic breakfast bowls", None, 1),
        ),
        [
            Step(
                "ship",
                "seller",
                {"carrier": "DHL", "tracking_number": "JJD0003900078123456"},
            )
        ],
        "parcel shipped",
    ),
    Scenario(
        "physical-paid",
        "ravi",
        _products(("lena", "Hand-thrown stoneware mug, speckled glaze", "Large / Sand", 1)),
        note="paid, waiting to be shipped",
    ),
]


def _run(scenario: Scenario, now) -> list[Order]:
    buyer = _user(scenario.buyer)
    booked_at = now - scenario.booked_ago
    items = scenario.items(booked_at) if buyer is not None else None
    if not items:
        return []
    address, country = ADDRESSES[scenario.buyer]
    checkout = services.checkout_place(
        buyer=buyer,
        items=items,
        payment_method=CARD,
        idempotency_key=f"demo:{scenario.key}",
        return_url="/orders/",
        address=address,
        country=country,
        note="Demo order",
        now=booked_at,
    )
    orders = list(checkout.orders.select_related("buyer", "seller"))
    for order in orders:
        for step in scenario.steps:
            data = step.data() if callable(step.data) else dict(step.data)
            actor = order.buyer if step.who == "buyer" else order.seller
            services.order_transition(order_id=order.pk, name=step.name, actor=actor, data=data)
    return orders


def build(*, stdout, create: bool = True) -> list[str]:
    if create and not Order.objects.exists():
        now = timezone.now()
        for n, scenario in enumerate(SCENARIOS, start=1):
            try:
                with transaction.atomic():
                    placed = _run(scenario, now)
            except DomainError as exc:  # e.g. the catalog demo is older and its dates passed
                stdout.write(f"  orders: skipped {scenario.key}: {exc.message}\n")
                continue
            if not placed:
                stdout.write(f"  orders: skipped {scenario.key} (its offer is missing)\n")
                continue
            stdout.write(f"  orders {n}/{len(SCENARIOS)}\r")
        stdout.write("\n")
    count = Order.objects.count()
    if not count:
        return []
    return [
        f"Orders: {count} demo orders in every stage — buyers see them at /orders/, sellers "
        "(e.g. maria@, kwame@, lena@) at /sales/"
    ]
