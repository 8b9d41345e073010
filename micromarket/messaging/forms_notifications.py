"""Forms of the notification pages."""

from __future__ import annotations

from django import forms

MODE_CHOICES = [
    ("instant", "Right away"),
    ("digest", "Daily digest"),
    ("off", "Never"),
]


class NotificationPreferencesForm(forms.Form):
    """One radio group per category the user can receive: how to email it."""

    def __init__(self, *args, preferences, **kwargs):
        super().__init__(*args, **kwargs)
        for category, mode in preferences:
            self.fields[category.key] = forms.ChoiceField(
                label=category.label,
                help_text=category.description,
                choices=MODE_CHOICES,
                initial=mode,
                widget=forms.RadioSelect,
            )
