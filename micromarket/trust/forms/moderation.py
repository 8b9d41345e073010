"""Forms of the moderation area: a report, an operator's action, the audit log's filter."""

from __future__ import annotations

from django import forms

from micromarket.trust.models import Report
from micromarket.trust.services import moderation as moderation_services


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label="What is wrong?",
        choices=Report.Reason.choices,
        widget=forms.RadioSelect,
    )
    details = forms.CharField(
        label="Details (optional)",
        required=False,
        max_length=moderation_services.DETAILS_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What should our moderators look at? Only they read this.",
    )


class HandleForm(forms.Form):
    """An operator's decision on a report; ``actions`` are those that fit its target."""

    action = forms.ChoiceField(label="Action", choices=[])
    reason = forms.CharField(
        label="Why",
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the audit log; for a removed offer, the seller reads it too.",
    )
    message = forms.CharField(
        label="Warning to the owner",
        required=False,
        max_length=900,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only for “Warn”: what the owner reads in their notifications.",
    )

    def __init__(self, *args, actions: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = actions


class UserActionForm(HandleForm):
    def __init__(self, *args, suspended: bool, **kwargs):
        actions = (
            [("reinstate", "Reinstate the account"), ("warn", "Warn")]
            if suspended
            else [("warn", "Warn"), ("suspend", "Suspend the account")]
        )
        super().__init__(*args, actions=actions, **kwargs)
        self.fields["message"].label = "Warning to the person"


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label="Action", required=False, choices=[])
    actor = forms.IntegerField(label="Operator (user id)", required=False, min_value=1)
    target_kind = forms.CharField(label="Target kind", required=False, max_length=20)
    target_id = forms.IntegerField(label="Target id", required=False, min_value=1)

    def __init__(self, *args, actions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Any")] + [(a, a) for a in actions]
