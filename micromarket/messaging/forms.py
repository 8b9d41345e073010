"""Input of the conversation pages: a message (text and files), a first message to someone,
a custom offer, declining one. The services check the rules; these forms only parse."""

from __future__ import annotations

from django import forms

from micromarket.core.errors import DomainError
from micromarket.core.money import to_minor
from micromarket.messaging.models import MAX_BODY
from micromarket.messaging.services import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    OFFER_VALIDITY_DAYS,
)

# A hint for the browser's file picker only: the server judges files by their content.
ACCEPT = (
    "image/png,image/jpeg,image/gif,image/webp,application/pdf,.zip,.epub,.docx,.xlsx,.pptx,"
    ".txt,.csv,.mp3,.mp4"
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files in one input (the service limits how many and what)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class MessageForm(forms.Form):
    body = forms.CharField(
        label="Your message",
        required=False,
        max_length=MAX_BODY,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "id": "message-body"}),
    )
    files = MultipleFileField(
        label="Attach files",
        required=False,
        help_text=(
            f"Up to {MAX_ATTACHMENTS} files of {MAX_ATTACHMENT_BYTES // 1048576} MB each: images, "
            "PDF, Office documents, ZIP, text. Programs are refused."
        ),
        widget=MultipleFileInput(attrs={"accept": ACCEPT, "id": "message-files"}),
    )

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("body") and not data.get("files"):
            self.add_error("body", "Write a message or attach a file.")
        return data


class ComposeForm(MessageForm):
    """The first message to someone (or the next one in the general conversation with them)."""

    to = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    offer = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Reason (optional)",
        required=False,  # longer reasons are cut to 500 characters by the service
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The seller sees it and may send a better offer.",
    )


class CustomOfferForm(forms.Form):
    """A seller's tailored offer, based on one of their published service gigs; the price is
    typed in the gig's currency ("12.50") and sent in minor units."""

    offer = forms.ChoiceField(label="Based on your gig")
    title = forms.CharField(label="Title", max_length=120)
    description = forms.CharField(
        label="What is included",
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The scope of the work: what you deliver, in how many versions, what not.",
    )
    price = forms.DecimalField(
        label="Price",
        min_value=0,
        max_digits=12,
        decimal_places=3,
        help_text="In the gig's currency, for example 120.00.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    delivery_days = forms.IntegerField(label="Delivery (days)", min_value=1, max_value=365)
    revisions = forms.IntegerField(label="Revisions included", min_value=0, max_value=99, initial=0)
    valid_days = forms.IntegerField(
        label="Valid for (days)",
        min_value=OFFER_VALIDITY_DAYS[0],
        max_value=OFFER_VALIDITY_DAYS[1],
        initial=7,
        help_text="The buyer can accept it until then; afterwards it expires.",
    )

    def __init__(self, *args, gigs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.gigs = {str(gig.pk): gig for gig in gigs}
        self.fields["offer"].choices = [
            (str(gig.pk), f"{gig.title} ({gig.currency})") for gig in gigs
        ]
        if len(self.gigs) == 1:
            self.fields["offer"].initial = next(iter(self.gigs))

    def clean(self):
        data = super().clean()
        gig = self.gigs.get(str(data.get("offer")))
        if gig is not None and data.get("price") is not None:
            try:
                data["price_minor"] = to_minor(data["price"], gig.currency, field="price")
            except DomainError as exc:
                self.add_error("price", exc.message)
        return data

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "offer_id": int(data["offer"]),
            "title": data["title"],
            "description": data["description"],
            "price": data["price_minor"],
            "delivery_days": data["delivery_days"],
            "revisions": data["revisions"],
            "valid_days": data["valid_days"],
        }
