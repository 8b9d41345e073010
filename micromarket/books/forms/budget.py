"""Forms of the budget area: the allocation rules, moves between envelopes, spending from one.
Forms check shape only; the services enforce the rules (total 100%, balances never negative)."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from micromarket.core.forms import currency_choices

PERCENT_FIELD = {
    "min_value": Decimal(0),
    "max_value": Decimal(100),
    "decimal_places": 2,
    "max_digits": 5,
}


def percent_to_bps(value: Decimal | None) -> int:
    return int((value or Decimal(0)) * 100)


def bps_to_percent(bps: int) -> Decimal:
    return (Decimal(bps) / 100).quantize(Decimal("0.01")).normalize()


class RulesForm(forms.Form):
    """One row per active envelope (``name_<id>``, ``percent_<id>``, ``remove_<id>``) and one
    row to add an envelope (``name_new``, ``percent_new``)."""

    def __init__(self, *args, envelopes, **kwargs):
        super().__init__(*args, **kwargs)
        self.envelopes = list(envelopes)
        for e in self.envelopes:
            self.fields[f"name_{e.pk}"] = forms.CharField(
                label=f"Name of {e.name}", max_length=60, initial=e.name
            )
            self.fields[f"percent_{e.pk}"] = forms.DecimalField(
                label=f"{e.name} (%)", initial=bps_to_percent(e.percent_bps), **PERCENT_FIELD
            )
            self.fields[f"remove_{e.pk}"] = forms.BooleanField(
                label=f"Remove {e.name}", required=False
            )
        self.fields["name_new"] = forms.CharField(
            label="New envelope's name", max_length=60, required=False
        )
        self.fields["percent_new"] = forms.DecimalField(
            label="New envelope (%)", required=False, **PERCENT_FIELD
        )

    def rows(self):
        """(envelope, name field, percent field, remove field) for the template."""
        return [
            (e, self[f"name_{e.pk}"], self[f"percent_{e.pk}"], self[f"remove_{e.pk}"])
            for e in self.envelopes
        ]

    def clean(self):
        data = super().clean()
        if data.get("percent_new") and not (data.get("name_new") or "").strip():
            self.add_error("name_new", "Give the new envelope a name.")
        return data

    def rules(self):
        from micromarket.books.services.budget import Rule

        data = self.cleaned_data
        out = [
            Rule(
                envelope_id=e.pk,
                name=data[f"name_{e.pk}"],
                percent_bps=percent_to_bps(data[f"percent_{e.pk}"]),
                archive=bool(data.get(f"remove_{e.pk}")),
            )
            for e in self.envelopes
        ]
        name = (data.get("name_new") or "").strip()
        if name:
            out.append(Rule(None, name, percent_to_bps(data.get("percent_new"))))
        return out


def _envelope_choices(envelopes) -> list[tuple[str, str]]:
    return [(str(e.pk), e.name) for e in envelopes]


class MoveForm(forms.Form):
    from_envelope = forms.ChoiceField(label="From")
    to_envelope = forms.ChoiceField(label="To")
    amount = forms.DecimalField(label="Amount", min_value=Decimal("0.001"), max_digits=14)
    currency = forms.ChoiceField(label="Currency")
    note = forms.CharField(label="Note (optional)", max_length=300, required=False)

    def __init__(self, *args, envelopes, currency="USD", **kwargs):
        kwargs.setdefault("initial", {}).setdefault("currency", currency)
        super().__init__(*args, **kwargs)
        choices = _envelope_choices(envelopes)
        self.fields["from_envelope"].choices = choices
        self.fields["to_envelope"].choices = choices
        if len(choices) > 1 and not self.is_bound:
            owner_pay = next((str(e.pk) for e in envelopes if e.role == "owner_pay"), choices[0][0])
            self.initial.setdefault("from_envelope", owner_pay)
            other = next(c for c, _ in choices if c != owner_pay)
            self.initial.setdefault("to_envelope", other)
        self.fields["currency"].choices = currency_choices()


class SpendForm(forms.Form):
    envelope = forms.ChoiceField(label="From envelope")
    amount = forms.DecimalField(label="Amount", min_value=Decimal("0.001"), max_digits=14)
    currency = forms.ChoiceField(label="Currency")
    note = forms.CharField(
        label="What for", max_length=300, required=False, help_text="e.g. Q2 estimated tax"
    )

    def __init__(self, *args, envelopes, currency="USD", **kwargs):
        kwargs.setdefault("initial", {}).setdefault("currency", currency)
        super().__init__(*args, **kwargs)
        self.fields["envelope"].choices = _envelope_choices(envelopes)
        self.fields["currency"].choices = currency_choices()
