"""Input of the projects pages. Amounts are typed as decimals ("40.00") and handed to the
services in minor units of the project's currency; the services check every rule again, these
forms give the browser its fields, labels and errors."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms

from micromarket.catalog import selectors as catalog_selectors
from micromarket.core.errors import ValidationFailed
from micromarket.core.forms import currency_choices
from micromarket.core.money import currency_exponent, from_minor, to_minor
from micromarket.projects.models import Project, Task

SANDBOX_CARDS_HELP = (
    "Sandbox test cards: 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 is declined; "
    "4000 0027 6000 3184 asks you to confirm on an extra page. No real money moves."
)
AMOUNT = {"max_digits": 16, "decimal_places": 3, "min_value": Decimal("0")}
SORTS = [
    ("best", "Best match"),
    ("newest", "Newest"),
    ("budget_desc", "Budget: high to low"),
    ("deadline", "Deadline: soonest first"),
]


def new_idempotency_key() -> str:
    """A fresh key per rendered payment page: the same page sent twice carries the same key
    and gets the first result instead of a second charge (as orders' checkout does)."""
    return uuid.uuid4().hex


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _amount_widget(currency: str) -> forms.NumberInput:
    step = str(Decimal(1).scaleb(-currency_exponent(currency))) if currency else "any"
    return forms.NumberInput(attrs={"inputmode": "decimal", "step": step, "min": "0"})


def _minor(form: forms.Form, name: str, currency: str) -> int | None:
    """The decimal field ``name`` in minor units of ``currency`` (an error on the field when
    the currency has fewer decimals)."""
    value = form.cleaned_data.get(name)
    if value is None:
        return None
    try:
        return to_minor(value, currency, field=name)
    except ValidationFailed as exc:
        form.add_error(name, exc.message)
        return None


def category_choices() -> list:
    """Categories grouped under their top level, by id (what a project stores)."""
    return [
        (top.name, [(child.pk, child.name) for child in top.children.all()])
        for top in catalog_selectors.categories_tree()
    ]


class ProjectForm(forms.Form):
    title = forms.CharField(label="Title", max_length=140)
    description = forms.CharField(
        label="Description",
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What the whole job is about: sellers read it before each task's brief.",
    )
    category = forms.TypedChoiceField(label="Category", coerce=int)
    currency = forms.ChoiceField(label="Currency")
    budget = forms.DecimalField(
        label="Budget",
        help_text="The most you will pay sellers for the whole project (the service fee is "
        "added at payment). The tasks' budgets must fit in it.",
        **AMOUNT,
    )
    deadline = forms.DateField(label="Deadline", widget=_date_input())
    visibility = forms.ChoiceField(
        label="Who can see it",
        choices=Project.Visibility.choices,
        initial=Project.Visibility.PUBLIC,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "Choose a category"), *category_choices()]
        self.fields["currency"].choices = currency_choices()
        self.fields["budget"].widget = _amount_widget("")

    @classmethod
    def initial_for(cls, project: Project) -> dict:
        return {
            "title": project.title,
            "description": project.description,
            "category": project.category_id,
            "currency": project.currency,
            "budget": from_minor(project.budget, project.currency),
            "deadline": project.deadline,
            "visibility": project.visibility,
        }

    def clean(self):
        data = super().clean()
        if data.get("currency") and "budget" in data:
            data["budget_minor"] = _minor(self, "budget", data["currency"])
        return data

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data["description"],
            "category_id": data["category"],
            "currency": data["currency"],
            "budget": data["budget_minor"],
            "deadline": data["deadline"],
            "visibility": data["visibility"],
        }


class TaskForm(forms.Form):
    title = forms.CharField(label="Title", max_length=140)
    brief = forms.CharField(
        label="Brief",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What one unit of work is, and how you will judge it done.",
    )
    budget = forms.DecimalField(label="Budget per unit", **AMOUNT)
    quantity = forms.IntegerField(
        label="Units",
        min_value=1,
        max_value=1000,
        initial=1,
        help_text="How many times this task is done, e.g. 10 pages to translate.",
    )
    per_seller_limit = forms.IntegerField(
        label="Most units one seller may take", min_value=1, max_value=1000, initial=1
    )
    deadline = forms.DateField(label="Deadline", widget=_date_input())
    skills = forms.CharField(
        label="Skills (optional)",
        required=False,
        max_length=500,
        help_text="Separated by commas, e.g. spanish, translation. Sellers with these skills "
        "are told about the task.",
    )
    delivery_days = forms.IntegerField(
        label="Days to deliver a claimed unit",
        min_value=1,
        max_value=365,
        initial=3,
        help_text="Proposals name their own days.",
    )
    revisions = forms.IntegerField(label="Revisions included", min_value=0, max_value=10, initial=1)
    claimable = forms.BooleanField(
        label="Sellers may take a unit directly at the budget price (no proposal)",
        required=False,
    )
    depends_on = forms.TypedChoiceField(
        label="Starts after",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="Sellers cannot propose on or take this task until that task's work is done.",
    )

    def __init__(self, *args, project: Project, task: Task | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        currency = project.currency
        self.fields["budget"].widget = _amount_widget(currency)
        self.fields["budget"].help_text = (
            f"In {currency}, what one unit pays the seller. Budget × units of all tasks must "
            f"fit in the project's budget."
        )
        others = project.tasks.all()
        if task is not None:
            others = others.exclude(pk=task.pk)
        self.fields["depends_on"].choices = [
            ("", "Nothing — it can start at once"),
            *((t.pk, t.title) for t in others),
        ]

    @classmethod
    def initial_for(cls, task: Task) -> dict:
        return {
            "title": task.title,
            "brief": task.brief,
            "budget": from_minor(task.budget, task.project.currency),
            "quantity": task.quantity,
            "per_seller_limit": task.per_seller_limit,
            "deadline": task.deadline,
            "skills": ", ".join(task.skills),
            "delivery_days": task.delivery_days,
            "revisions": task.revisions,
            "claimable": task.claimable,
            "depends_on": task.depends_on_id,
        }

    def clean(self):
        data = super().clean()
        if "budget" in data:
            data["budget_minor"] = _minor(self, "budget", self.project.currency)
        return data

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "brief": data["brief"],
            "budget": data["budget_minor"],
            "quantity": data["quantity"],
            "per_seller_limit": data["per_seller_limit"],
            "deadline": data["deadline"],
            "skills": data["skills"],
            "delivery_days": data["delivery_days"],
            "revisions": data["revisions"],
            "claimable": data["claimable"],
            "depends_on_id": data["depends_on"],
        }


class ProposalForm(forms.Form):
    price = forms.DecimalField(label="Your price for one unit", **AMOUNT)
    days = forms.IntegerField(label="Days to deliver", min_value=1, max_value=365)
    message = forms.CharField(
        label="Message to the buyer",
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Why you are right for it: similar work, how you will go about it.",
    )

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["price"].widget = _amount_widget(currency)
        self.fields["price"].help_text = f"In {currency}; the buyer's service fee comes on top."

    def clean(self):
        data = super().clean()
        if "price" in data:
            data["price_minor"] = _minor(self, "price", self.currency)
        return data

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {"price": data["price_minor"], "days": data["days"], "message": data["message"]}


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="Seller's email",
        max_length=254,
        help_text="The email of their micromarket account.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label="File",
        help_text="Documents, images or text, up to 20 MB; at most 10 per project.",
    )


class CardNumberInput(forms.TextInput):
    """A card number is never written back into the page."""

    def format_value(self, value):
        return None


class FundForm(forms.Form):
    """What to pay for (the buyer's awards and claims waiting for funding) and the card."""

    assignments = forms.TypedMultipleChoiceField(
        label="Work to fund",
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose the work to fund."},
    )
    card_number = forms.CharField(
        label="Card number",
        required=False,
        max_length=40,
        widget=CardNumberInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number"}),
    )
    use_credit = forms.BooleanField(label="Use my buyer credit first", required=False)
    idempotency_key = forms.CharField(max_length=160, widget=forms.HiddenInput)

    def __init__(self, *args, lines: list, credit: int, sandbox: bool, **kwargs):
        """``lines``: (assignment, fee quote) of each piece of work that can be funded."""
        super().__init__(*args, **kwargs)
        self.lines = lines
        self.credit = credit
        self.fields["assignments"].choices = [(a.pk, str(a.pk)) for a, _ in lines]
        if sandbox:
            self.fields["card_number"].help_text = SANDBOX_CARDS_HELP
        if credit <= 0:
            del self.fields["use_credit"]

    @property
    def total(self) -> int:
        """What the chosen work costs with the service fee."""
        chosen = set(self.cleaned_data.get("assignments") or [])
        return sum(q.total for a, q in self.lines if a.pk in chosen)

    @property
    def credit_used(self) -> int:
        if "use_credit" not in self.fields or not self.cleaned_data.get("use_credit"):
            return 0
        return min(self.credit, self.total)

    def clean_card_number(self) -> str:
        return "".join(
            ch for ch in self.cleaned_data["card_number"] if ch.isascii() and ch.isdigit()
        )

    def clean(self):
        data = super().clean()
        covered = data.get("use_credit") and self.credit >= self.total
        if not covered and not data.get("card_number") and "card_number" not in self.errors:
            self.add_error("card_number", "Enter your card number.")
        return data


class TaskSearchForm(forms.Form):
    q = forms.CharField(label="Search tasks", required=False, max_length=200)
    category = forms.ChoiceField(label="Category", required=False)
    skill = forms.CharField(label="Skill", required=False, max_length=40)
    claimable = forms.BooleanField(label="Direct claim only", required=False)
    sort = forms.ChoiceField(label="Sort by", required=False, choices=SORTS)
    page = forms.IntegerField(required=False, min_value=1, max_value=1000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "Any category")]
        for top in catalog_selectors.categories_tree():
            choices.append((top.slug, f"{top.name} (all)"))
            choices.extend((child.slug, f"— {child.name}") for child in top.children.all())
        self.fields["category"].choices = choices

    def query(self) -> dict:
        """The ``selectors.tasks_search`` arguments (defaults for anything invalid)."""
        self.is_valid()  # a field with a bad value falls back to its default; the rest apply
        data = self.cleaned_data
        return {
            "text": data.get("q") or "",
            "category": data.get("category") or "",
            "skill": data.get("skill") or "",
            "claimable": True if data.get("claimable") else None,
            "sort": data.get("sort") or "best",
            "page": data.get("page") or 1,
        }
