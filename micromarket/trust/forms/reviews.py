"""Forms of the reviews area: a review, a reply, an operator's reason to hide."""

from __future__ import annotations

from django import forms

STARS = [
    ("5", "5 stars — excellent"),
    ("4", "4 stars — good"),
    ("3", "3 stars — okay"),
    ("2", "2 stars — poor"),
    ("1", "1 star — very poor"),
]


def _stars(label: str, help_text: str = "") -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, choices=STARS, widget=forms.RadioSelect, help_text=help_text
    )


class ReviewForm(forms.Form):
    """The buyer's review of the seller; ``role="seller"`` keeps only the overall rating."""

    rating = _stars("Overall")
    communication = _stars("Communication", "Did they answer clearly and in good time?")
    accuracy = _stars("Quality as described", "Was it what the offer promised?")
    value = _stars("Value for money")
    text = forms.CharField(
        label="Your review",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What went well, what could be better. Up to 5,000 characters. "
        "It stays hidden until the other side has reviewed too, or the review window ends.",
    )

    def __init__(self, *args, role: str = "buyer", **kwargs):
        super().__init__(*args, **kwargs)
        self.role = role
        if role == "seller":
            for name in ("communication", "accuracy", "value"):
                del self.fields[name]
            self.fields["rating"].label = "Overall, as a buyer"

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        return {k: (int(v) if k != "text" else v) for k, v in data.items()}


class ReplyForm(forms.Form):
    text = forms.CharField(
        label="Your public reply",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown under the review. You can reply once; up to 2,000 characters.",
    )


class HideForm(forms.Form):
    reason = forms.CharField(
        label="Policy reason (shown to the author, kept in the audit log)",
        max_length=300,
    )
