"""Forms of the levels area: a seller's appeal, the operators' thresholds, answers and
recomputes. Forms check shape only; the services enforce the rules."""

from __future__ import annotations

from django import forms

from micromarket.trust.selectors import levels as level_selectors


class AppealForm(forms.Form):
    message = forms.CharField(
        label="What do you think is wrong with your level?",
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label="Your answer to the seller",
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class RecomputeForm(forms.Form):
    seller_id = forms.IntegerField(label="Seller's account number", min_value=1)
    reason = forms.CharField(label="Why (kept in the audit log)", max_length=3000)


class ThresholdsForm(forms.Form):
    """One level's thresholds; ``prefix`` is the level, so the page holds one form per level."""

    level = forms.ChoiceField(
        choices=[(d["level"], d["level"]) for d in level_selectors.DEFAULT_THRESHOLDS],
        widget=forms.HiddenInput,
    )
    window_days = forms.IntegerField(label="Window (days)", min_value=30, max_value=730)
    min_completed_orders = forms.IntegerField(label="Completed orders", min_value=0)
    min_earnings = forms.IntegerField(
        label="Earnings (minor units, e.g. cents)",
        min_value=0,
        help_text="The seller's net of completed orders in the currency below.",
    )
    earnings_currency = forms.CharField(label="Earnings currency", min_length=3, max_length=3)
    min_unique_buyers = forms.IntegerField(label="Different buyers", min_value=0)
    min_rating = forms.DecimalField(
        label="Rating (0 = any)", min_value=0, max_value=5, decimal_places=2
    )
    min_response_rate = forms.IntegerField(label="Response rate (%)", min_value=0, max_value=100)
    min_on_time_rate = forms.IntegerField(label="On-time delivery (%)", min_value=0, max_value=100)
    min_completion_rate = forms.IntegerField(
        label="Completion rate (%)", min_value=0, max_value=100
    )
    max_dispute_rate = forms.IntegerField(
        label="Dispute rate, at most (%)", min_value=0, max_value=100
    )
    min_account_age_days = forms.IntegerField(label="Account age (days)", min_value=0)
    clearing_days = forms.IntegerField(
        label="Clearing days (empty = the fee schedule's)",
        min_value=0,
        max_value=90,
        required=False,
    )
    reason = forms.CharField(label="Why (kept in the audit log)", max_length=3000)

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("level")
        data.pop("reason")
        return data

    @classmethod
    def for_row(cls, row, data=None) -> ThresholdsForm:
        initial = {name: getattr(row, name) for name in level_selectors.THRESHOLD_FIELDS}
        initial["level"] = row.level
        return cls(data=data, initial=initial, prefix=row.level)
