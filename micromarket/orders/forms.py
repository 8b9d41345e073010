"""Input of the order pages: the order box on an offer page, the checkout, and one small form per
kind of transition input (``Transition.form``). The services check everything again; these
forms give the browser its fields, labels and errors."""

from __future__ import annotations

import uuid
from decimal import Decimal
from functools import cache

from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from micromarket.core.errors import ValidationFailed
from micromarket.core.money import currency_exponent, from_minor, to_minor
from micromarket.orders import rules

SANDBOX_CARDS_HELP = (
    "Sandbox test cards: 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 is declined; "
    "4000 0027 6000 3184 asks you to confirm on an extra page. No real money moves."
)


def new_idempotency_key() -> str:
    """A fresh key per rendered checkout page: a second submit of the same page carries the same
    key and gets the first result instead of a second charge."""
    return uuid.uuid4().hex


@cache
def country_choices() -> tuple[tuple[str, str], ...]:
    from babel import Locale

    names = Locale("en").territories
    return tuple(
        sorted(
            ((code, name) for code, name in names.items() if len(code) == 2 and code.isalpha()),
            key=lambda item: item[1],
        )
    )


# --- the order box on an offer page ----------------------------------------------------------


def _moment(value: str) -> str:
    """A datetime-local value ("2026-12-01T10:00", the buyer's time zone) → ISO with offset, so
    the item means the same moment wherever it is priced again. Unparsable text is passed on
    for the pricing to refuse with its own message."""
    try:
        moment = parse_datetime(value.strip()) if value else None
    except ValueError:  # well-formed but impossible, e.g. 30 February
        moment = None
    if moment is None:
        return value.strip()
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment.isoformat()


def _whole(value) -> bool:
    """A plain whole number a person would type (ASCII digits, not absurdly long)."""
    text = str(value)
    return text.isascii() and text.isdigit() and len(text) <= 9


def order_item(offer, data) -> dict:
    """The checkout item (``orders.pricing`` shapes) for ``offer`` from the order box's POST."""
    item: dict = {"offer": offer.pk}
    get = lambda name: (data.get(name) or "").strip()  # noqa: E731
    kind = offer.kind
    if kind == "service":
        item["package"] = get("package") or "basic"
        extras = [x for x in data.getlist("extras") if x.strip()]
        if extras:
            item["extras"] = [int(x) if _whole(x) else x for x in extras]
    elif kind == "experience":
        item["session"] = get("session")
        item["seats"] = get("seats") or "1"
    elif kind == "rental":
        if offer.rental.unit == "hour":
            item["start"] = _moment(get("start"))
            item["hours"] = get("hours")
        else:
            item["start"] = get("start")
            item["end"] = get("end")
    elif kind == "task":
        item["starts_at"] = _moment(get("starts_at"))
        item["hours"] = get("hours")
        item["address"] = get("address")
    elif kind == "physical":
        if get("variation"):
            item["variation"] = get("variation")
        item["quantity"] = get("quantity") or "1"
    for key in ("seats", "quantity"):
        if key in item and _whole(item[key]):
            item[key] = int(item[key])
    if "session" in item and _whole(item["session"]):
        item["session"] = int(item["session"])
    if "variation" in item and _whole(item["variation"]):
        item["variation"] = int(item["variation"])
    return item


# --- checkout ----------------------------------------------------------------------------------


class CardNumberInput(forms.TextInput):
    """A card number is never written back into the page (after a decline the buyer types
    another)."""

    def format_value(self, value):
        return None


class CheckoutForm(forms.Form):
    address = forms.CharField(
        label="Name and address",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "shipping street-address"}),
        help_text="Who receives the parcel and where: name, street, town, postcode.",
    )
    country = forms.ChoiceField(label="Country", required=False, choices=())
    card_number = forms.CharField(
        label="Card number",
        required=False,
        max_length=40,
        widget=CardNumberInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number"}),
    )
    use_credit = forms.BooleanField(label="Use my buyer credit first", required=False)
    note = forms.CharField(
        label="Note for the seller (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    idempotency_key = forms.CharField(max_length=160, widget=forms.HiddenInput)

    def __init__(self, *args, needs_address: bool, credit: int, total: int, sandbox: bool, **kw):
        super().__init__(*args, **kw)
        self.needs_address = needs_address
        self.credit = credit
        self.total = total
        self.fields["country"].choices = [("", "Choose…"), *country_choices()]
        self.fields["country"].widget.attrs["autocomplete"] = "shipping country"
        if sandbox:
            self.fields["card_number"].help_text = SANDBOX_CARDS_HELP
        if not needs_address:
            del self.fields["address"], self.fields["country"]
        if credit <= 0:
            del self.fields["use_credit"]

    @property
    def credit_used(self) -> int:
        if not self.is_bound or "use_credit" not in self.fields:
            return 0
        if not self.cleaned_data.get("use_credit"):
            return 0
        return min(self.credit, self.total)

    def clean_card_number(self) -> str:
        return "".join(
            ch for ch in self.cleaned_data["card_number"] if ch.isascii() and ch.isdigit()
        )

    def clean(self):
        data = super().clean()
        if self.needs_address:
            if not (data.get("address") or "").strip():
                self.add_error("address", "Enter the name and address to ship to.")
            if not data.get("country"):
                self.add_error("country", "Choose the country to ship to.")
        covered = data.get("use_credit") and self.credit >= self.total
        if not covered and not data.get("card_number") and "card_number" not in self.errors:
            self.add_error("card_number", "Enter your card number.")
        return data


# --- transitions: one form per kind of input (processes.Transition.form) -----------------------


class TransitionForm(forms.Form):
    """A transition without input: just its button."""

    def __init__(self, *args, transition, order, **kw):
        kw.setdefault("prefix", transition.name)
        super().__init__(*args, **kw)
        self.transition = transition
        self.order = order

    def service_data(self) -> dict:
        return {}


class MessageForm(TransitionForm):
    message = forms.CharField(
        label="Message",
        max_length=rules.MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        required = self.transition.needs is rules.need_message
        field = self.fields["message"]
        field.required = required
        if not required:
            field.label = "Message (optional)"
        if self.transition.name in ("request_cancellation",):
            field.label = "Why do you want to cancel?"
        elif self.transition.name == "request_revision":
            field.label = "What should change?"
        elif self.transition.name == "dispute":
            field.label = "What went wrong?"

    def service_data(self) -> dict:
        return {"message": self.cleaned_data["message"]}


class RequirementsForm(TransitionForm):
    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        for i, question in enumerate(self.order.requirements or []):
            self.fields[f"answer_{i}"] = forms.CharField(
                label=question.get("question", f"Question {i + 1}"),
                required=bool(question.get("required")),
                max_length=rules.MAX_MESSAGE,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
        self.fields["message"] = forms.CharField(
            label="Anything else the seller should know (optional)",
            required=False,
            max_length=rules.MAX_MESSAGE,
            widget=forms.Textarea(attrs={"rows": 2}),
        )

    def service_data(self) -> dict:
        answers = [
            self.cleaned_data.get(f"answer_{i}", "") for i in range(len(self.order.requirements))
        ]
        return {"answers": answers, "message": self.cleaned_data["message"]}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class DeliveryForm(TransitionForm):
    message = forms.CharField(
        label="Delivery message",
        max_length=rules.MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    files = MultipleFileField(
        label="Files (optional)",
        required=False,
        help_text=(
            f"Up to {rules.MAX_DELIVERY_FILES} files of "
            f"{rules.DELIVERY_FILE_MAX_BYTES // (1024 * 1024)} MB each: PDF, images, audio, "
            "video, office documents, ZIP. Programs are refused whatever they are called."
        ),
    )

    def service_data(self) -> dict:
        return {"message": self.cleaned_data["message"], "files": self.cleaned_data["files"]}


class TrackingForm(TransitionForm):
    carrier = forms.CharField(label="Carrier", max_length=60)
    tracking_number = forms.CharField(label="Tracking number", max_length=80)

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class HoursForm(TransitionForm):
    hours_worked = forms.DecimalField(
        label="Hours worked",
        min_value=Decimal("0.25"),
        max_value=Decimal(24 * 14),
        max_digits=6,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.25", "inputmode": "decimal"}),
        help_text="The buyer pays for the hours worked, never more than were booked.",
    )
    message = forms.CharField(
        label="Message (optional)",
        required=False,
        max_length=rules.MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def service_data(self) -> dict:
        return {
            "hours_worked": str(self.cleaned_data["hours_worked"]),
            "message": self.cleaned_data["message"],
        }


class DepositForm(TransitionForm):
    claim = forms.DecimalField(
        label="Keep from the deposit",
        min_value=Decimal(0),
        initial=Decimal(0),
        widget=forms.NumberInput(attrs={"inputmode": "decimal"}),
    )
    message = forms.CharField(
        label="Why you keep it (required when you keep anything; the renter sees it)",
        required=False,
        max_length=rules.MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        currency, deposit = self.order.currency, self.order.deposit
        field = self.fields["claim"]
        field.max_value = from_minor(deposit, currency)
        field.widget.attrs["max"] = str(field.max_value)
        field.widget.attrs["step"] = str(Decimal(1).scaleb(-currency_exponent(currency)))
        field.initial = from_minor(0, currency)
        field.help_text = (
            f"In {currency}, from 0 to {field.max_value}. The rest of the deposit goes back to "
            "the renter."
        )

    def clean_claim(self) -> int:
        try:
            return to_minor(self.cleaned_data["claim"], self.order.currency, field="claim")
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message) from None

    def service_data(self) -> dict:
        return {"claim": self.cleaned_data["claim"], "message": self.cleaned_data["message"]}


class SplitForm(TransitionForm):
    """An operator's split of a disputed order: the buyer's part in major units, and why."""

    buyer_amount = forms.DecimalField(
        label="Back to the buyer",
        min_value=Decimal(0),
        widget=forms.NumberInput(attrs={"inputmode": "decimal"}),
    )
    message = forms.CharField(
        label="Why (both sides read it)",
        max_length=rules.MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        currency = self.order.currency
        field = self.fields["buyer_amount"]
        field.widget.attrs["step"] = str(Decimal(1).scaleb(-currency_exponent(currency)))
        field.help_text = (
            f"In {currency}, more than 0 and less than what is held; the seller gets the rest "
            "less the commission."
        )

    def clean_buyer_amount(self) -> int:
        try:
            return to_minor(self.cleaned_data["buyer_amount"], self.order.currency, field="amount")
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message) from None

    def service_data(self) -> dict:
        return {
            "buyer_amount": self.cleaned_data["buyer_amount"],
            "message": self.cleaned_data["message"],
        }


TRANSITION_FORMS: dict[str, type[TransitionForm]] = {
    "": TransitionForm,
    "message": MessageForm,
    "requirements": RequirementsForm,
    "delivery": DeliveryForm,
    "tracking": TrackingForm,
    "hours": HoursForm,
    "deposit": DepositForm,
    "split": SplitForm,
}


def transition_form(transition, order, data=None, files=None) -> TransitionForm:
    form_class = TRANSITION_FORMS.get(transition.form, TransitionForm)
    return form_class(data, files, transition=transition, order=order)


class SessionCancelForm(forms.Form):
    message = forms.CharField(
        label="Message to the attendees (optional)",
        required=False,
        max_length=rules.MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Every attendee is refunded in full and emailed.",
    )
