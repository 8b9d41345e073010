"""Demo people: sellers with shops and profiles, buyers, one operator with 2FA."""

from __future__ import annotations

import base64
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image, ImageDraw, ImageFont

from micromarket.accounts import services
from micromarket.accounts.models import User

PASSWORD = "market-demo-2026"
DOMAIN = "demo.micromarket.test"
# A fixed TOTP secret so the printed instructions work with any authenticator app.
OPERATOR_TOTP_KEY = "6d6963726f6d61726b65742d64656d6f2d6f7073"  # hex of b"micromarket-demo-ops"
OPERATOR_BACKUP_CODES = ["opsdemo1", "opsdemo2", "opsdemo3"]

SELLERS = [
    {
        "email": f"maria@{DOMAIN}",
        "display_name": "María Fernández",
        "location": "Valencia, Spain",
        "timezone": "Europe/Madrid",
        "preferred_currency": "EUR",
        "languages": ["Spanish", "English"],
        "skills": ["logo design", "brand identity", "illustration"],
        "bio": "Freelance illustrator for 9 years. I design logos and brand kits for small "
        "businesses, cafés and musicians.",
        "shop": ("Studio Naranja", "Logos and brand kits that feel like you"),
        "colour": (240, 128, 48),
    },
    {
        "email": f"kwame@{DOMAIN}",
        "display_name": "Kwame Mensah",
        "location": "Accra, Ghana",
        "timezone": "Africa/Accra",
        "preferred_currency": "USD",
        "languages": ["English", "Twi"],
        "skills": ["Django", "Python", "web scraping", "APIs"],
        "bio": "Backend developer. Small web apps, data pipelines and integrations, delivered "
        "with tests.",
        "shop": ("Mensah Code Works", "Python and Django jobs, done properly"),
        "colour": (40, 110, 200),
    },
    {
        "email": f"aiko@{DOMAIN}",
        "display_name": "Aiko Tanaka",
        "location": "Kyoto, Japan",
        "timezone": "Asia/Tokyo",
        "preferred_currency": "JPY",
        "languages": ["Japanese", "English"],
        "skills": ["walking tours", "tea ceremony", "photography"],
        "bio": "Licensed guide. Small-group walks through Kyoto's back streets and a tea "
        "ceremony in my family's machiya.",
        "shop": ("Kyoto Slow Walks", "Tours and classes off the tourist trail"),
        "colour": (200, 60, 90),
    },
    {
        "email": f"sam@{DOMAIN}",
        "display_name": "Sam Okafor",
        "location": "Manchester, UK",
        "timezone": "Europe/London",
        "preferred_currency": "GBP",
        "languages": ["English"],
        "skills": ["furniture assembly", "shelving", "small repairs"],
        "bio": "Handyman with 12 years on the tools. Flat-pack, shelves, curtain rails, "
        "the jobs nobody gets round to.",
        "shop": ("Sam Fixes It", "Local odd jobs across Greater Manchester"),
        "colour": (60, 150, 90),
    },
    {
        "email": f"lena@{DOMAIN}",
        "display_name": "Lena Vogel",
        "location": "Leipzig, Germany",
        "timezone": "Europe/Berlin",
        "preferred_currency": "EUR",
        "languages": ["German", "English"],
        "skills": ["ceramics", "hand-thrown pottery", "glazing"],
        "bio": "Potter. Every mug and bowl is thrown, trimmed and glazed by hand in my "
        "courtyard studio.",
        "shop": ("Vogel Keramik", "Hand-thrown stoneware for everyday use"),
        "colour": (120, 90, 160),
    },
    {
        "email": f"priya@{DOMAIN}",
        "display_name": "Priya Raman",
        "location": "Austin, Texas, USA",
        "timezone": "America/Chicago",
        "preferred_currency": "USD",
        "languages": ["English", "Tamil"],
        "skills": ["Notion templates", "budget planners", "printables"],
        "bio": "Former accountant making Notion templates and printable planners for "
        "freelancers who hate spreadsheets.",
        "shop": ("Planned by Priya", "Templates that keep a one-person business tidy"),
        "colour": (30, 140, 150),
    },
]

BUYERS = [
    ("alex@" + DOMAIN, "Alex Johnson", "Chicago, USA", "America/Chicago", "USD"),
    ("chloe@" + DOMAIN, "Chloé Martin", "Lyon, France", "Europe/Paris", "EUR"),
    ("ravi@" + DOMAIN, "Ravi Patel", "Leicester, UK", "Europe/London", "GBP"),
]

OPERATOR = ("ops@" + DOMAIN, "Olu (operations)")


def avatar_image(name: str, colour: tuple[int, int, int]) -> SimpleUploadedFile:
    """A generated initials avatar: no network, no stock photos."""
    size = 256
    img = Image.new("RGB", (size, size), colour)
    draw = ImageDraw.Draw(img)
    initials = "".join(part[0] for part in name.split()[:2]).upper()
    font = ImageFont.load_default(size=110)
    box = draw.textbbox((0, 0), initials, font=font)
    x = (size - (box[2] - box[0])) / 2 - box[0]
    y = (size - (box[3] - box[1])) / 2 - box[1]
    draw.text((x, y), initials, fill=(255, 255, 255), font=font)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return SimpleUploadedFile("avatar.png", buf.getvalue(), content_type="image/png")


def _user(email: str, display_name: str, **extra) -> tuple[User, bool]:
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user, False
    user = User.objects.create_user(
        email=email,
        password=PASSWORD,
        display_name=display_name,
        email_verified_at=timezone.now(),
        **extra,
    )
    return user, True


def build(*, stdout, create: bool = True) -> list[str]:
    if create:
        for spec in SELLERS:
            user, created = _user(spec["email"], spec["display_name"])
            if created:
                services.profile_update(
                    user=user,
                    avatar=avatar_image(spec["display_name"], spec["colour"]),
                    **{
                        k: spec[k]
                        for k in (
                            "location",
                            "timezone",
                            "preferred_currency",
                            "languages",
                            "skills",
                            "bio",
                        )
                    },
                )
                name, tagline = spec["shop"]
                services.shop_create(user=user, name=name, tagline=tagline)
        for email, name, location, tz, currency in BUYERS:
            user, created = _user(email, name)
            if created:
                services.profile_update(
                    user=user, location=location, timezone=tz, preferred_currency=currency
                )
        operator, created = _user(OPERATOR[0], OPERATOR[1], is_staff=True)
        if created:
            TOTPDevice.objects.create(
                user=operator, name="Demo authenticator", key=OPERATOR_TOTP_KEY, confirmed=True
            )
            device = StaticDevice.objects.create(user=operator, name="Backup codes", confirmed=True)
            for code in OPERATOR_BACKUP_CODES:
                StaticToken.objects.create(device=device, token=code)
    secret = base64.b32encode(bytes.fromhex(OPERATOR_TOTP_KEY)).decode()
    return [
        f"Demo logins (password for all: {PASSWORD})",
        "  sellers:  " + ", ".join(s["email"] for s in SELLERS[:3]),
        "            " + ", ".join(s["email"] for s in SELLERS[3:]),
        "  buyers:   " + ", ".join(b[0] for b in BUYERS),
        f"  operator: {OPERATOR[0]} — needs a 2FA code: add the secret {secret} to an",
        "            authenticator app, or use a backup code: " + ", ".join(OPERATOR_BACKUP_CODES),
    ]
