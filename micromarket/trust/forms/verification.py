"""Forms of the verification area: they shape input; the services decide."""

from __future__ import annotations

from django import forms

from micromarket.trust.selectors import verification as selectors


class PhoneStartForm(forms.Form):
    phone = forms.CharField(
        label="Mobile number",
        max_length=32,
        help_text="With the country code, like +44 7911 123456. We text you a 6-digit code.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )


class PhoneConfirmForm(forms.Form):
    code = forms.CharField(
        label="Code from the text message",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}
        ),
    )


class TraderForm(forms.Form):
    legal_name = forms.CharField(
        label="Legal name",
        max_length=200,
        help_text="Your name, or your business's registered name.",
    )
    address_line = forms.CharField(
        label="Street address",
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    city = forms.CharField(
        label="City",
        max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    postal_code = forms.CharField(
        label="Postal code",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    country = forms.ChoiceField(label="Country")
    trade_register_number = forms.CharField(
        label="Trade register number",
        max_length=80,
        required=False,
        help_text="If your business is registered (company or trade register).",
    )
    payout_method = forms.TypedChoiceField(label="Payout account", coerce=int)
    document = forms.FileField(
        label="Photo or scan of your ID document",
        help_text="Passport, ID card or driving licence: a JPEG, PNG or WebP picture, up to 10 MB. "
        "Only operators see it.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    def __init__(self, *args, methods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "Choose…"), *selectors.countries().items()]
        self.fields["payout_method"].choices = [(m.pk, m.label) for m in methods]


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision",
        choices=[("approve", "Approve: the details match the document"), ("reject", "Reject")],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Reason",
        max_length=500,
        required=False,
        help_text="Required to reject: the seller sees it and what to fix.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
