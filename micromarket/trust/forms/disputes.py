"""Input of the resolution center's pages. The services check everything again; these forms
give the browser its fields, labels and errors."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from micromarket.core.errors import ValidationFailed
from micromarket.core.money import currency_exponent, to_minor
from micromarket.trust.models import Dispute
from micromarket.trust.services.disputes import MAX_EVIDENCE_FILES, MAX_TEXT


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (each judged by its content by the service)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


FILES_HELP = (
    f"Up to {MAX_EVIDENCE_FILES} files, 10 MB each: photos, PDF, documents, text. "
    "Programs are refused whatever they are called."
)


class EvidenceMixin(forms.Form):
    """Files and messages of the order's conversation to cite (``messages`` is a list of
    (id, label) choices set by the view)."""

    files = MultipleFileField(label="Files (optional)", help_text=FILES_HELP)
    message_ids = forms.TypedMultipleChoiceField(
        label="Cite messages from your conversation (optional)",
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, messages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["message_ids"].choices = list(messages)
        if not messages:
            del self.fields["message_ids"]

    def evidence(self) -> dict:
        return {
            "files": self.cleaned_data.get("files") or [],
            "message_ids": self.cleaned_data.get("message_ids") or [],
        }


class OpenForm(EvidenceMixin):
    reason = forms.ChoiceField(label="What is the problem?", choices=Dispute.Reason.choices)
    description = forms.CharField(
        label="Describe what went wrong and what you would like",
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    field_order = ["reason", "description", "files", "message_ids"]


class RespondForm(EvidenceMixin):
    message = forms.CharField(
        label="Your answer", max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4})
    )

    field_order = ["message", "files", "message_ids"]


class CommentForm(EvidenceMixin):
    message = forms.CharField(
        label="Comment",
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    field_order = ["message", "files", "message_ids"]


class _AmountForm(forms.Form):
    """An amount in major units (12.50), turned into minor units for the order's currency."""

    buyer_amount = forms.DecimalField(
        label="Back to the buyer",
        min_value=Decimal(0),
        max_digits=14,
        widget=forms.NumberInput(attrs={"inputmode": "decimal"}),
    )

    def __init__(self, *args, currency: str, held: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        field = self.fields["buyer_amount"]
        field.widget.attrs["step"] = str(Decimal(1).scaleb(-currency_exponent(currency)))
        field.help_text = f"In {currency}; the seller gets the rest, less the commission."

    def clean_buyer_amount(self):
        value = self.cleaned_data.get("buyer_amount")
        if value is None:
            return None
        try:
            return to_minor(value, self.currency, field="buyer_amount")
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message) from None


class ProposalForm(_AmountForm):
    message = forms.CharField(
        label="Message (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EscalateForm(forms.Form):
    message = forms.CharField(
        label="What should the operator know? (optional)",
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DecideForm(_AmountForm):
    outcome = forms.ChoiceField(
        label="Decision",
        choices=[
            ("refund", "Full refund to the buyer"),
            ("release", "Pay the seller in full"),
            ("split", "Split: part back to the buyer"),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Why (both sides read it; kept in the audit log)",
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    field_order = ["outcome", "buyer_amount", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["buyer_amount"]
        field.required = False
        field.label = "Back to the buyer (a split only)"

    def clean(self):
        data = super().clean()
        if data.get("outcome") == "split" and data.get("buyer_amount") is None:
            self.add_error("buyer_amount", "Enter the buyer's part of a split.")
        return data
