"""Demo offers: dozens of realistic listings of every kind, with pictures drawn locally."""

from __future__ import annotations

import io
import random
from datetime import date, datetime, time, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from micromarket.accounts import selectors as accounts_selectors
from micromarket.catalog import services
from micromarket.catalog.models import Offer

DOMAIN = "demo.micromarket.test"


def picture(title: str, seed: int) -> SimpleUploadedFile:
    """A 1200×900 picture: a two-colour gradient with the offer's title."""
    rng = random.Random(seed)
    top = tuple(rng.randint(40, 200) for _ in range(3))
    bottom = tuple(min(255, c + rng.randint(30, 80)) for c in top)
    img = Image.new("RGB", (1200, 900))
    draw = ImageDraw.Draw(img)
    for y in range(900):
        t = y / 899
        draw.line(
            [(0, y), (1200, y)],
            fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    for _ in range(6):
        x, y, r = rng.randint(0, 1200), rng.randint(0, 900), rng.randint(60, 220)
        draw.ellipse([x - r, y - r, x + r, y + r], outline=(255, 255, 255), width=4)
    font = ImageFont.load_default(size=64)
    words, lines, line = title.split(), [], ""
    for word in words:
        if len(line) + len(word) > 24:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    y = 450 - 40 * len(lines)
    for text in lines[:4]:
        draw.text((80, y), text, fill=(255, 255, 255), font=font)
        y += 84
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=80)
    return SimpleUploadedFile("picture.jpg", buf.getvalue(), content_type="image/jpeg")


def _future(days: int, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(date.today() + timedelta(days=days), time(hour, 0)))


def _gig(
    title, category, currency, tags, basic, standard=None, premium=None, extras=(), questions=()
):
    packages = []
    for tier, spec in (("basic", basic), ("standard", standard), ("premium", premium)):
        if spec:
            name, price, days, revisions, features = spec
            packages.append(
                {
                    "tier": tier,
                    "name": name,
                    "price": price,
                    "delivery_days": days,
                    "revisions": revisions,
                    "features": features,
                }
            )
    return {
        "kind": "service",
        "title": title,
        "category": category,
        "currency": currency,
        "tags": tags,
        "details": {
            "packages": packages,
            "extras": [{"title": t, "price": p, "extra_days": d} for t, p, d in extras],
            "questions": [{"question": q, "required": True} for q in questions],
        },
    }


# seller email → offers
OFFERS: dict[str, list[dict]] = {
    "maria": [
        _gig(
            "I will create a month of Instagram posts for your café",
            "social-media-content",
            "EUR",
            ["instagram", "social media", "content"],
            ("12 posts", 15000, 7, 1, ["12 designed posts", "Captions"]),
            ("20 posts", 23000, 10, 2, ["20 designed posts", "Captions", "Stories"]),
        ),
        _gig(
            "I will design a modern minimalist logo for your brand",
            "logo-brand-design",
            "EUR",
            ["logo", "branding", "minimalist"],
            ("Basic", 4500, 3, 2, ["1 concept", "PNG + JPG"]),
            ("Standard", 9000, 4, 3, ["3 concepts", "Vector files", "Social media kit"]),
            ("Premium", 18000, 6, 5, ["5 concepts", "Brand guide", "Stationery"]),
            extras=[("Delivery in 24 hours", 3000, -2), ("Extra concept", 2000, 1)],
            questions=["What is your business name?", "Which colours do you like?"],
        ),
        _gig(
            "I will illustrate a children's book page in watercolour",
            "illustration",
            "EUR",
            ["illustration", "watercolour", "children's book"],
            ("One page", 12000, 7, 2, ["1 full-page illustration"]),
            ("Spread", 22000, 10, 2, ["Double-page spread"]),
        ),
        _gig(
            "I will draw a custom pet portrait",
            "illustration",
            "EUR",
            ["portrait", "pet", "gift"],
            ("Head only", 3500, 5, 1, ["Digital file"]),
            ("Full body", 6000, 6, 2, ["Digital file", "Print-ready"]),
        ),
        {
            "kind": "digital",
            "title": "Brand kit template for Canva (40 pages)",
            "category": "templates",
            "currency": "EUR",
            "tags": ["canva", "branding", "template"],
            "details": {"price": 1900},
        },
    ],
    "kwame": [
        _gig(
            "I will teach you Python in one-to-one online lessons",
            "tutoring",
            "USD",
            ["python", "lessons", "programming"],
            ("One hour", 4000, 1, 0, ["60-minute video call", "Exercises"]),
            ("Five hours", 18000, 14, 0, ["5 × 60 minutes", "Code reviews"]),
        ),
        _gig(
            "I will build a Django web app with tests",
            "web-app-development",
            "USD",
            ["django", "python", "web app"],
            ("Starter", 30000, 7, 1, ["Up to 3 pages", "Admin"]),
            ("Business", 75000, 14, 2, ["Up to 10 pages", "REST API", "Tests"]),
            ("Platform", 150000, 30, 3, ["Payments", "Background jobs", "Deployment"]),
            extras=[("Deployment to your server", 10000, 2)],
            questions=["Describe what the app should do.", "Do you have designs?"],
        ),
        _gig(
            "I will write a Python web scraper that exports CSV",
            "web-app-development",
            "USD",
            ["python", "scraping", "csv", "automation"],
            ("One site", 8000, 3, 1, ["1 website", "CSV export"]),
            ("Three sites", 20000, 5, 2, ["3 websites", "Scheduled runs"]),
        ),
        _gig(
            "I will fix bugs in your Django or Flask project",
            "web-app-development",
            "USD",
            ["django", "flask", "bug fix"],
            ("One bug", 5000, 2, 1, ["Diagnosis", "Fix + test"]),
        ),
        {
            "kind": "digital",
            "title": "Django SaaS starter kit with billing and teams",
            "category": "software-plugins",
            "currency": "USD",
            "tags": ["django", "saas", "starter"],
            "details": {"price": 9900},
        },
    ],
    "aiko": [
        _gig(
            "I will teach you conversational Japanese online",
            "languages",
            "JPY",
            ["japanese", "language lessons", "conversation"],
            ("Trial", 2500, 1, 0, ["30-minute lesson"]),
            ("Monthly", 20000, 30, 0, ["8 × 45-minute lessons", "Notes after each lesson"]),
        ),
        {
            "kind": "experience",
            "title": "Gion and Higashiyama back-streets walking tour",
            "category": "walking-tours",
            "currency": "JPY",
            "tags": ["kyoto", "walking tour", "history"],
            "place_name": "Kyoto, Japan",
            "latitude": 35.0037,
            "longitude": 135.7788,
            "details": {
                "meeting_point": "Yasaka Shrine main gate",
                "sessions": [
                    {
                        "starts_at": _future(d, 9),
                        "duration_minutes": 180,
                        "capacity": 8,
                        "price_per_person": 6500,
                    }
                    for d in (3, 5, 8, 12)
                ],
            },
        },
        {
            "kind": "experience",
            "title": "Tea ceremony in a 100-year-old machiya",
            "category": "arts-culture",
            "currency": "JPY",
            "tags": ["kyoto", "tea ceremony", "culture"],
            "place_name": "Kyoto, Japan",
            "latitude": 35.0116,
            "longitude": 135.7681,
            "details": {
                "meeting_point": "Machiya on Takatsuji-dori (address after booking)",
                "sessions": [
                    {
                        "starts_at": _future(d, 14),
                        "duration_minutes": 90,
                        "capacity": 6,
                        "price_per_person": 8000,
                    }
                    for d in (2, 4, 6, 9)
                ],
            },
        },
        {
            "kind": "experience",
            "title": "Kyoto photography walk at sunrise",
            "category": "photography",
            "currency": "JPY",
            "tags": ["kyoto", "photography", "sunrise"],
            "place_name": "Kyoto, Japan",
            "latitude": 34.9671,
            "longitude": 135.7727,
            "details": {
                "meeting_point": "Fushimi Inari station exit",
                "sessions": [
                    {
                        "starts_at": _future(d, 5),
                        "duration_minutes": 150,
                        "capacity": 5,
                        "price_per_person": 9000,
                    }
                    for d in (7, 14)
                ],
            },
        },
        {
            "kind": "rental",
            "title": "Quiet tatami room near Kyoto station",
            "category": "rooms-stays",
            "currency": "JPY",
            "tags": ["kyoto", "room", "tatami"],
            "place_name": "Kyoto, Japan",
            "latitude": 34.9858,
            "longitude": 135.7588,
            "details": {
                "unit": "night",
                "price_per_unit": 7500,
                "min_units": 2,
                "max_units": 14,
                "security_deposit": 10000,
                "cancellation_policy": "moderate",
                "instant_booking": False,
                "blocks": [
                    {
                        "start": date.today() + timedelta(days=10),
                        "end": date.today() + timedelta(days=13),
                        "note": "family visit",
                    }
                ],
            },
        },
    ],
    "sam": [
        {
            "kind": "rental",
            "title": "Cargo bike for moving day, by the hour",
            "category": "cars-bikes",
            "currency": "GBP",
            "tags": ["cargo bike", "moving", "bike"],
            "place_name": "Manchester, UK",
            "latitude": 53.4839,
            "longitude": -2.2446,
            "details": {
                "unit": "hour",
                "price_per_unit": 900,
                "min_units": 2,
                "max_units": 10,
                "security_deposit": 10000,
                "cancellation_policy": "flexible",
                "instant_booking": True,
            },
        },
        {
            "kind": "rental",
            "title": "Hot desk in a quiet Ancoats workshop",
            "category": "desks-workspaces",
            "currency": "GBP",
            "tags": ["desk", "coworking", "ancoats"],
            "place_name": "Manchester, UK",
            "latitude": 53.4831,
            "longitude": -2.2266,
            "details": {
                "unit": "day",
                "price_per_unit": 1500,
                "min_units": 1,
                "max_units": 20,
                "security_deposit": 0,
                "cancellation_policy": "strict",
                "instant_booking": True,
            },
        },
        {
            "kind": "task",
            "title": "Flat-pack furniture assembly (IKEA and others)",
            "category": "handyman-assembly",
            "currency": "GBP",
            "tags": ["furniture assembly", "ikea", "handyman"],
            "place_name": "Manchester, UK",
            "latitude": 53.4808,
            "longitude": -2.2426,
            "details": {"hourly_rate": 2800, "min_hours": 2, "radius_km": 15},
        },
        {
            "kind": "task",
            "title": "Shelves, curtain rails and TV wall mounting",
            "category": "handyman-assembly",
            "currency": "GBP",
            "tags": ["shelves", "tv mount", "drilling"],
            "place_name": "Manchester, UK",
            "latitude": 53.4808,
            "longitude": -2.2426,
            "details": {"hourly_rate": 3200, "min_hours": 1, "radius_km": 20},
        },
        {
            "kind": "task",
            "title": "Garden clearance and hedge trimming",
            "category": "gardening",
            "currency": "GBP",
            "tags": ["garden", "hedge", "clearance"],
            "place_name": "Salford, UK",
            "latitude": 53.4875,
            "longitude": -2.2901,
            "details": {"hourly_rate": 2500, "min_hours": 3, "radius_km": 12},
        },
        {
            "kind": "rental",
            "title": "Cordless drill and tool kit to borrow",
            "category": "equipment-tools",
            "currency": "GBP",
            "tags": ["tools", "drill", "diy"],
            "place_name": "Manchester, UK",
            "latitude": 53.4794,
            "longitude": -2.2453,
            "details": {
                "unit": "day",
                "price_per_unit": 1200,
                "min_units": 1,
                "max_units": 7,
                "security_deposit": 5000,
                "cancellation_policy": "flexible",
                "instant_booking": True,
            },
        },
    ],
    "lena": [
        {
            "kind": "physical",
            "title": "Vintage 1970s East German coffee set",
            "category": "collectibles",
            "currency": "EUR",
            "tags": ["vintage", "coffee set", "ddr"],
            "place_name": "Leipzig, Germany",
            "latitude": 51.3397,
            "longitude": 12.3731,
            "details": {
                "price": 6500,
                "stock": 1,
                "processing_days": 2,
                "shipping": [{"country": "DE", "price": 690}, {"country": "AT", "price": 1290}],
            },
        },
        {
            "kind": "physical",
            "title": "Hand-thrown stoneware mug, speckled glaze",
            "category": "ceramics-pottery",
            "currency": "EUR",
            "tags": ["mug", "ceramic", "handmade"],
            "place_name": "Leipzig, Germany",
            "latitude": 51.3397,
            "longitude": 12.3731,
            "details": {
                "price": 3200,
                "stock": 0,
                "processing_days": 3,
                "variations": [
                    {"name": "Small / Sand", "price": 3200, "stock": 6},
                    {"name": "Large / Sand", "price": 3800, "stock": 4},
                    {"name": "Large / Ink blue", "price": 3800, "stock": 0},
                ],
                "shipping": [
                    {"country": "DE", "price": 590, "free_over": 6000},
                    {"country": "*", "price": 1490},
                ],
            },
        },
        {
            "kind": "physical",
            "title": "Set of four ceramic breakfast bowls",
            "category": "ceramics-pottery",
            "currency": "EUR",
            "tags": ["bowls", "ceramic", "set"],
            "place_name": "Leipzig, Germany",
            "latitude": 51.3397,
            "longitude": 12.3731,
            "details": {
                "price": 8900,
                "stock": 3,
                "processing_days": 5,
                "shipping": [{"country": "DE", "price": 690}, {"country": "*", "price": 1890}],
            },
        },
        {
            "kind": "experience",
            "title": "Pottery wheel taster class for two",
            "category": "crafts-cooking-classes",
            "currency": "EUR",
            "tags": ["pottery class", "ceramics", "date idea"],
            "place_name": "Leipzig, Germany",
            "latitude": 51.3397,
            "longitude": 12.3731,
            "details": {
                "meeting_point": "Vogel Keramik studio, Karl-Heine-Straße",
                "sessions": [
                    {
                        "starts_at": _future(d, 18),
                        "duration_minutes": 120,
                        "capacity": 6,
                        "price_per_person": 4500,
                    }
                    for d in (4, 11, 18)
                ],
            },
        },
    ],
    "priya": [
        {
            "kind": "digital",
            "title": "Bookkeeping for freelancers: a 2-hour video course",
            "category": "online-courses",
            "currency": "USD",
            "tags": ["bookkeeping", "course", "freelancer"],
            "details": {"price": 4900},
        },
        {
            "kind": "experience",
            "title": "Small-business budgeting workshop in Austin",
            "category": "tutoring",
            "currency": "USD",
            "tags": ["budgeting", "workshop", "austin"],
            "place_name": "Austin, Texas, USA",
            "latitude": 30.2672,
            "longitude": -97.7431,
            "details": {
                "meeting_point": "East Austin library, meeting room B",
                "sessions": [
                    {
                        "starts_at": _future(d, 18),
                        "duration_minutes": 120,
                        "capacity": 15,
                        "price_per_person": 3500,
                    }
                    for d in (6, 20)
                ],
            },
        },
        {
            "kind": "digital",
            "title": "Freelancer budget planner for Notion",
            "category": "templates",
            "currency": "USD",
            "tags": ["notion", "budget", "freelancer", "planner"],
            "details": {"price": 1500},
        },
        {
            "kind": "digital",
            "title": "Printable quarterly tax tracker for self-employed",
            "category": "printables",
            "currency": "USD",
            "tags": ["tax", "printable", "tracker"],
            "details": {"price": 700},
        },
        {
            "kind": "digital",
            "title": "Invoice and client CRM template for Google Sheets",
            "category": "templates",
            "currency": "USD",
            "tags": ["invoice", "crm", "google sheets"],
            "details": {"price": 1200},
        },
        _gig(
            "I will set up your Notion workspace for your small business",
            "templates",
            "USD",
            ["notion", "setup", "small business"],
            ("Essentials", 9000, 4, 1, ["Tasks", "Clients"]),
            ("Complete", 20000, 7, 2, ["Tasks", "Clients", "Finances", "Training call"]),
        ),
    ],
}

DESCRIPTIONS = {
    "service": "**What you get**\n\n- Clear communication from the first message\n- Work delivered "
    "on time, with the revisions in your package\n- Files you own outright\n\nMessage me before "
    "ordering if you are unsure which package fits.",
    "experience": "A small-group experience led by a local. Comfortable shoes recommended.\n\n"
    "**Included:** guide, tea or refreshments.\n**Not included:** transport to the meeting point.",
    "rental": "Clean, well looked after and ready to use. Pick-up and return times are agreed "
    "after booking. The deposit is released when the item comes back as it left.",
    "task": "Insured, reliable and tidy. I bring my own tools. Tell me what needs doing and I "
    "will confirm the estimate before starting.",
    "digital": "Instant download after payment. Includes a short guide to get started. Personal "
    "and commercial use for your own business.",
    "physical": "Made by hand in small batches, so each piece is a little different. Dishwasher "
    "safe. Carefully packed in recycled material.",
}


def _sample_file(title: str) -> SimpleUploadedFile:
    text = f"{title}\n\nThank you for your purchase from a micromarket demo shop.\n"
    return SimpleUploadedFile("guide.txt", text.encode(), content_type="text/plain")


def build(*, stdout, create: bool = True) -> list[str]:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    if create and not Offer.objects.exists():
        seed = 0
        total = sum(len(v) for v in OFFERS.values())
        for name, specs in OFFERS.items():
            seller = User.objects.get(email=f"{name}@{DOMAIN}")
            if accounts_selectors.shop_for_user(user=seller) is None:
                continue
            for spec in specs:
                seed += 1
                spec = dict(spec)
                kind, details = spec.pop("kind"), spec.pop("details")
                spec.setdefault("description", f"{spec['title']}.\n\n{DESCRIPTIONS[kind]}")
                spec.setdefault("languages", list(seller.languages))
                offer = services.offer_create(seller=seller, kind=kind, details=details, **spec)
                services.offer_image_add(
                    offer_id=offer.pk,
                    actor=seller,
                    upload=picture(offer.title, seed),
                    alt_text=offer.title,
                )
                if kind == "digital":
                    services.digital_file_add(
                        offer_id=offer.pk, actor=seller, upload=_sample_file(offer.title)
                    )
                services.offer_transition(offer_id=offer.pk, actor=seller, action="submit")
                stdout.write(f"  offers {seed}/{total}\r")
        stdout.write("\n")
    count = Offer.objects.filter(status=Offer.Status.ACTIVE).count()
    return [f"Catalog: {count} active offers — browse them at /search/"]
