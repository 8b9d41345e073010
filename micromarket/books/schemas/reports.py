"""API shapes of the reports area. Amounts are integers in minor units of ``currency``."""

from __future__ import annotations

from datetime import date

from ninja import Field, Schema


class PnlRowOut(Schema):
    label: str
    start: date
    end: date
    income: int
    expenses: int
    deductible_expenses: int = Field(description="After the US 50% meals rule.")
    profit: int


class PnlOut(Schema):
    currency: str
    period: str = Field(description="month, quarter or year.")
    year: int
    rows: list[PnlRowOut]
    total: PnlRowOut


class FormLineOut(Schema):
    line: str = Field(description="Schedule C line or SA103F box.")
    label: str
    amount: int
    note: str
    total: bool = Field(description="A computed line (totals, profit).")
    categories: list[str]


class ScheduleCOut(Schema):
    year: int
    currency: str
    lines: list[FormLineOut]


class Sa103fOut(Schema):
    tax_year: str = Field(description="2025/26 …")
    start: date
    end: date
    currency: str
    lines: list[FormLineOut]
    not_allowable: dict[str, int]


class CategoryOut(Schema):
    key: str
    label: str
    schedule_c: str
    uk_box: str
    amount: int
    deductible_us: int
    share_bps: int


class ExpensesByCategoryOut(Schema):
    currency: str
    start: date
    end: date
    categories: list[CategoryOut]
