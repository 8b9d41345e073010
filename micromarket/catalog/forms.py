"""Offer forms: a common form, one detail form per kind and formsets for repeated rows.

People type prices as decimals in the offer's currency ("12.50"); ``details_from_forms``
converts them to integer minor units for the services, which do all the rule checking.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.forms import formset_factory

from micromarket.catalog import selectors
from micromarket.catalog.models import GigPackage, Offer, RentalDetails
from micromarket.core.forms import currency_choices
from micromarket.core.money import from_minor, to_minor

PRICE = {"max_digits": 14, "decimal_places": 3, "min_value": Decimal("0")}


def _price_field(label: str, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        **PRICE,
    )


class OfferForm(forms.Form):
    title = forms.CharField(max_length=120, help_text="What you offer, in a few words.")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=10_000,
        help_text="Markdown: **bold**, *italic*, lists, links.",
    )
    category = forms.ChoiceField()
    currency = forms.ChoiceField()
    tags = forms.CharField(required=False, help_text="Up to 10, separated by commas.")
    languages = forms.CharField(required=False, help_text="e.g. English, Spanish")
    place_name = forms.CharField(label="Place", required=False, max_length=120)
    latitude = forms.FloatField(required=False, min_value=-90, max_value=90)
    longitude = forms.FloatField(required=False, min_value=-180, max_value=180)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [
            ("", "Choose a category"),
            *selectors.subcategory_choices(),
        ]
        self.fields["currency"].choices = currency_choices()

    @classmethod
    def initial_for(cls, offer: Offer) -> dict[str, Any]:
        return {
            "title": offer.title,
            "description": offer.description,
            "category": offer.category.slug,
            "currency": offer.currency,
            "tags": ", ".join(t.name for t in offer.tags.all()),
            "languages": ", ".join(offer.languages),
            "place_name": offer.place_name,
            "latitude": offer.latitude,
            "longitude": offer.longitude,
        }


class PackageForm(forms.Form):
    name = forms.CharField(max_length=60, required=False, help_text="e.g. Basic")
    description = forms.CharField(max_length=300, required=False)
    price = _price_field("Price", required=False)
    delivery_days = forms.IntegerField(label="Delivery (days)", required=False, min_value=1)
    revisions = forms.IntegerField(required=False, min_value=0, initial=1)
    features = forms.CharField(required=False, help_text="Separated by commas.")


class ExtraForm(forms.Form):
    title = forms.CharField(max_length=80, required=False, help_text="e.g. Delivery in 24 hours")
    price = _price_field("Price", required=False)
    extra_days = forms.IntegerField(
        required=False, initial=0, help_text="Negative for faster delivery, e.g. -2"
    )


class QuestionForm(forms.Form):
    question = forms.CharField(max_length=300, required=False)
    required = forms.BooleanField(required=False, initial=True)


class ExperienceForm(forms.Form):
    meeting_point = forms.CharField(max_length=300)


class SessionForm(forms.Form):
    starts_at = forms.DateTimeField(
        label="Starts", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    duration_minutes = forms.IntegerField(label="Minutes", required=False, min_value=1)
    capacity = forms.IntegerField(required=False, min_value=0)
    price_per_person = _price_field("Price per person", required=False)


class RentalForm(forms.Form):
    unit = forms.ChoiceField(choices=RentalDetails.Unit.choices)
    price_per_unit = _price_field("Price per unit")
    min_units = forms.IntegerField(label="Minimum length", min_value=1, initial=1)
    max_units = forms.IntegerField(label="Maximum length", min_value=1, initial=30)
    security_deposit = _price_field("Security deposit", required=False)
    cancellation_policy = forms.ChoiceField(
        choices=RentalDetails.Policy.choices,
        help_text="Flexible: full refund up to 24 h before. Moderate: full refund up to 5 days "
        "before, then 50%. Strict: 50% up to 14 days before, then nothing.",
    )
    instant_booking = forms.BooleanField(required=False)


class BlockForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(max_length=120, required=False)


class TaskForm(forms.Form):
    hourly_rate = _price_field("Hourly rate")
    min_hours = forms.IntegerField(label="Minimum hours", min_value=1, initial=1)
    radius_km = forms.IntegerField(label="Service radius (km)", min_value=1)


class DigitalForm(forms.Form):
    price = _price_field("Price")
    file = forms.FileField(
        required=False, help_text="The file buyers receive (PDF, ZIP, image, EPUB …)."
    )


class PhysicalForm(forms.Form):
    price = _price_field("Price")
    stock = forms.IntegerField(
        min_value=0, initial=1, help_text="Used when there are no variations."
    )
    processing_days = forms.IntegerField(label="Processing time (days)", min_value=0, initial=1)


class VariationForm(forms.Form):
    name = forms.CharField(max_length=80, required=False, help_text="e.g. Large / Blue")
    price = _price_field("Price", required=False)
    stock = forms.IntegerField(required=False, min_value=0)


class ShippingForm(forms.Form):
    country = forms.CharField(
        max_length=2, required=False, help_text="Two letters (US, DE), or * for everywhere else."
    )
    price = _price_field("Shipping price", required=False)
    free_over = _price_field("Free over", required=False)


# kind → (detail form or None, {formset name: (form, rows)})
KIND_FORMS: dict[str, tuple[type[forms.Form] | None, dict[str, tuple[type[forms.Form], int]]]] = {
    Offer.Kind.SERVICE: (
        None,
        {"packages": (PackageForm, 3), "extras": (ExtraForm, 3), "questions": (QuestionForm, 3)},
    ),
    Offer.Kind.EXPERIENCE: (ExperienceForm, {"sessions": (SessionForm, 4)}),
    Offer.Kind.RENTAL: (RentalForm, {"blocks": (BlockForm, 3)}),
    Offer.Kind.TASK: (TaskForm, {}),
    Offer.Kind.DIGITAL: (DigitalForm, {}),
    Offer.Kind.PHYSICAL: (
        PhysicalForm,
        {"variations": (VariationForm, 4), "shipping": (ShippingForm, 4)},
    ),
}
PRICE_FIELDS = {
    "price", "price_per_person", "price_per_unit", "security_deposit", "hourly_rate", "free_over",
}  # fmt: skip


def build_forms(kind: str, data=None, files=None, initial: dict | None = None):
    """The detail form and formsets for ``kind`` (bound when ``data`` is given)."""
    initial = initial or {}
    detail_cls, sets = KIND_FORMS[kind]
    detail = (
        detail_cls(data, files, prefix="d", initial=initial.get("detail")) if detail_cls else None
    )
    formsets = {}
    for name, (form_cls, rows) in sets.items():
        rows_initial = initial.get(name) or []
        formset_cls = formset_factory(form_cls, extra=max(rows - len(rows_initial), 1))
        formsets[name] = formset_cls(data, prefix=name, initial=rows_initial)
    return detail, formsets


def _minor(values: dict[str, Any], currency: str) -> dict[str, Any]:
    out = {}
    for key, value in values.items():
        if key in PRICE_FIELDS and value not in (None, ""):
            out[key] = to_minor(value, currency, field=key)
        else:
            out[key] = value
    return out


def _filled(form: forms.Form) -> bool:
    return any(v not in (None, "", False) for k, v in form.cleaned_data.items() if k != "required")


def details_from_forms(kind: str, detail, formsets, currency: str) -> dict[str, Any]:
    """Turn valid bound forms into the ``details`` dict the services take (minor units)."""
    details: dict[str, Any] = {}
    if detail is not None:
        details.update(
            _minor({k: v for k, v in detail.cleaned_data.items() if k != "file"}, currency)
        )
    for name, formset in formsets.items():
        rows = [
            _minor(form.cleaned_data, currency)
            for form in formset
            if form.has_changed() and _filled(form)
        ]
        if name == "packages":
            tiers = list(GigPackage.Tier.values)
            for index, row in enumerate(rows):
                row["tier"] = tiers[index]
                row["features"] = row.get("features") or ""
        if name == "sessions":
            rows = [r for r in rows if r.get("starts_at")]
        details[name] = rows
    return details


def initial_from_offer(offer: Offer) -> dict[str, Any]:
    """Initial data for the edit page (prices back to decimals)."""
    cur = offer.currency

    def major(value):
        return from_minor(value, cur) if value is not None else None

    initial: dict[str, Any] = {}
    if offer.kind == Offer.Kind.SERVICE:
        initial["packages"] = [
            {
                "name": p.name,
                "description": p.description,
                "price": major(p.price),
                "delivery_days": p.delivery_days,
                "revisions": p.revisions,
                "features": ", ".join(p.features),
            }
            for p in sorted(
                offer.packages.all(), key=lambda p: list(GigPackage.Tier.values).index(p.tier)
            )
        ]
        initial["extras"] = [
            {"title": e.title, "price": major(e.price), "extra_days": e.extra_days}
            for e in offer.extras.all()
        ]
        initial["questions"] = [
            {"question": q.question, "required": q.required} for q in offer.questions.all()
        ]
    elif offer.kind == Offer.Kind.EXPERIENCE:
        initial["detail"] = {"meeting_point": offer.experience.meeting_point}
        initial["sessions"] = [
            {
                "starts_at": s.starts_at,
                "duration_minutes": s.duration_minutes,
                "capacity": s.capacity,
                "price_per_person": major(s.price_per_person),
            }
            for s in offer.sessions.all()
        ]
    elif offer.kind == Offer.Kind.RENTAL:
        r = offer.rental
        initial["detail"] = {
            "unit": r.unit,
            "price_per_unit": major(r.price_per_unit),
            "min_units": r.min_units,
            "max_units": r.max_units,
            "security_deposit": major(r.security_deposit),
            "cancellation_policy": r.cancellation_policy,
            "instant_booking": r.instant_booking,
        }
        initial["blocks"] = [
            {"start": b.start, "end": b.end, "note": b.note} for b in offer.blocks.all()
        ]
    elif offer.kind == Offer.Kind.TASK:
        t = offer.task
        initial["detail"] = {
            "hourly_rate": major(t.hourly_rate),
            "min_hours": t.min_hours,
            "radius_km": t.radius_km,
        }
    elif offer.kind == Offer.Kind.DIGITAL:
        initial["detail"] = {"price": major(offer.digital.price)}
    elif offer.kind == Offer.Kind.PHYSICAL:
        p = offer.physical
        initial["detail"] = {
            "price": major(p.price),
            "stock": p.stock,
            "processing_days": p.processing_days,
        }
        initial["variations"] = [
            {"name": v.name, "price": major(v.price), "stock": v.stock}
            for v in offer.variations.all()
        ]
        initial["shipping"] = [
            {"country": s.country, "price": major(s.price), "free_over": major(s.free_over)}
            for s in offer.shipping_rates.all()
        ]
    return initial


class RejectForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ImageForm(forms.Form):
    image = forms.FileField(widget=forms.ClearableFileInput(attrs={"accept": "image/*"}))
    alt_text = forms.CharField(label="Describe the picture", max_length=200, required=False)


class DigitalFileForm(forms.Form):
    file = forms.FileField(help_text="PDF, ZIP, image, EPUB, Office document, MP3, MP4 or text.")


class SearchForm(forms.Form):
    """Search page input; every field optional, all of it kept in the URL."""

    SORTS = [
        ("best", "Best match"),
        ("price_asc", "Price: low to high"),
        ("price_desc", "Price: high to low"),
        ("rating", "Rating"),
        ("newest", "Newest"),
    ]
    q = forms.CharField(label="Search", required=False, max_length=200)
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *Offer.Kind.choices])
    category = forms.CharField(required=False, max_length=90)
    currency = forms.CharField(required=False, max_length=3)
    price_min = forms.DecimalField(label="Min price", required=False, **PRICE)
    price_max = forms.DecimalField(label="Max price", required=False, **PRICE)
    max_delivery_days = forms.IntegerField(
        label="Delivered within (days)", required=False, min_value=0
    )
    min_rating = forms.FloatField(label="Minimum rating", required=False, min_value=0, max_value=5)
    seller_level = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any level"),
            ("new", "New"),
            ("level1", "Level 1"),
            ("level2", "Level 2"),
            ("top", "Top Rated"),
        ],
    )
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    radius_km = forms.FloatField(label="Within (km)", required=False, min_value=1, max_value=1000)
    available_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    available_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    language = forms.CharField(required=False, max_length=40)
    sort = forms.ChoiceField(required=False, choices=SORTS)
    page = forms.IntegerField(required=False, min_value=1, max_value=1000)
