"""Tax-year figures, loaded from the versioned data files in ``books/tax_years/``.

Each file (``us-2025.json``, ``uk-2026.json``, …) holds one country's figures for one tax year
in whole dollars/pounds, with the official source of every group of figures and notes on what
is not modelled or could not be verified. A new tax year is a new file — no code change.

``TaxYear`` converts amounts to minor units (cents/pence) and rates to ``Decimal``. The UK tax
year runs 6 April – 5 April and is named by the calendar year it starts in (2025 = 2025/26).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "tax_years"
COUNTRIES = ("US", "UK")
CURRENCY = {"US": "USD", "UK": "GBP"}


class UnknownTaxYear(LookupError):
    """No data file for that country and year."""


def _country(country: str) -> str:
    code = (country or "").upper()
    if code == "GB":
        code = "UK"
    if code not in COUNTRIES:
        raise UnknownTaxYear(f"No tax data for country {country!r}.")
    return code


@dataclass(frozen=True)
class Bracket:
    upper: int | None  # minor units of taxable income; None = no upper limit
    rate: Decimal
    name: str = ""


@dataclass(frozen=True)
class Installment:
    period: str  # "Q1".."Q4"
    label: str
    statutory_due: date  # before the weekend/holiday roll (taxcalc rolls it)


@dataclass(frozen=True)
class TaxYear:
    country: str
    year: int
    currency: str
    version: str
    label: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    # -- generic ---------------------------------------------------------------------------
    @property
    def sources(self) -> dict[str, dict[str, str]]:
        return self.raw.get("sources", {})

    @property
    def notes(self) -> list[str]:
        return list(self.raw.get("notes", []))

    @property
    def unverified(self) -> list[str]:
        return list(self.raw.get("unverified", []))

    def source(self, key: str) -> str:
        src = self.sources.get(key)
        return src["title"] if src else ""

    def money(self, whole: int | None) -> int | None:
        return None if whole is None else int(whole) * 100

    # -- US --------------------------------------------------------------------------------
    def se(self, key: str) -> Any:
        value = self.raw["self_employment"][key]
        return Decimal(value) if isinstance(value, str) else value * 100

    def additional_medicare_threshold(self, status: str) -> int:
        return self.raw["additional_medicare"]["threshold"][status] * 100

    @property
    def additional_medicare_rate(self) -> Decimal:
        return Decimal(self.raw["additional_medicare"]["rate"])

    def standard_deduction(self, status: str) -> int:
        return self.raw["standard_deduction"][status] * 100

    def brackets(self, status: str | None = None) -> list[Bracket]:
        rows = (
            self.raw["brackets"][status] if self.country == "US" else self.raw["income_tax_bands"]
        )
        return [
            Bracket(
                upper=self.money(row[0]),
                rate=Decimal(row[1]),
                name=row[2] if len(row) > 2 else f"{Decimal(row[1]) * 100:.0f}%",
            )
            for row in rows
        ]

    @property
    def qbi_rate(self) -> Decimal:
        return Decimal(self.raw["qbi"]["rate"])

    def qbi_threshold(self, status: str) -> int:
        return self.raw["qbi"]["threshold"][status] * 100

    def qbi_phase_in_range(self, status: str) -> int:
        """Section 199A(b)(3)(B): how far above the threshold the wage/property limit and the
        specified-service-business exclusion are phased in (fully applied at its top)."""
        return self.raw["qbi"]["phase_in_range"][status] * 100

    def estimated(self, key: str) -> Any:
        value = self.raw["estimated_tax"][key]
        if isinstance(value, str):
            return Decimal(value)
        if isinstance(value, int):
            return value * 100
        return value

    def high_agi(self, status: str) -> int:
        return self.raw["estimated_tax"]["high_agi"][status] * 100

    @property
    def installments(self) -> list[Installment]:
        return [
            Installment(
                period=row["period"],
                label=row["label"],
                statutory_due=date.fromisoformat(row["due"]),
            )
            for row in self.raw["estimated_tax"]["installments"]
        ]

    # -- UK --------------------------------------------------------------------------------
    @property
    def personal_allowance(self) -> int:
        return self.raw["personal_allowance"]["amount"] * 100

    @property
    def taper_threshold(self) -> int:
        return self.raw["personal_allowance"]["taper_threshold"] * 100

    @property
    def taper_ratio(self) -> int:
        return int(self.raw["personal_allowance"]["taper_ratio"])

    def class4(self, key: str) -> Any:
        value = self.raw["class4"][key]
        return Decimal(value) if isinstance(value, str) else value * 100

    def poa(self, key: str) -> Any:
        value = self.raw["payments_on_account"][key]
        if key.endswith("_due"):
            return date.fromisoformat(value)
        return Decimal(value) if isinstance(value, str) else value * 100


def _path(country: str, year: int) -> Path:
    return DATA_DIR / f"{country.lower()}-{int(year)}.json"


@cache
def load(country: str, year: int) -> TaxYear:
    """The figures for ``country`` ("US"/"UK") and ``year``; ``UnknownTaxYear`` if none."""
    code = _country(country)
    path = _path(code, year)
    if not path.exists():
        raise UnknownTaxYear(f"No {code} tax data for {year}.")
    raw = json.loads(path.read_text(encoding="utf-8"))
    label = raw.get("label") or str(raw["year"])
    return TaxYear(
        country=code,
        year=int(raw["year"]),
        currency=raw["currency"],
        version=str(raw.get("version", "")),
        label=label,
        raw=raw,
    )


def available_years(country: str) -> list[int]:
    code = _country(country)
    years = []
    for path in DATA_DIR.glob(f"{code.lower()}-*.json"):
        try:
            years.append(int(path.stem.split("-", 1)[1]))
        except ValueError:
            continue
    return sorted(years)


def has_year(country: str, year: int) -> bool:
    try:
        return _path(_country(country), year).exists()
    except UnknownTaxYear:
        return False


def tax_year_bounds(country: str, year: int) -> tuple[date, date]:
    """First and last day (inclusive) of the tax year: US the calendar year; UK 6 April of
    ``year`` to 5 April of the next."""
    if _country(country) == "UK":
        return date(year, 4, 6), date(year + 1, 4, 5)
    return date(year, 1, 1), date(year, 12, 31)


def current_tax_year(country: str, today: date) -> int:
    """The tax year ``today`` falls in (UK: the year it started in)."""
    if _country(country) == "UK" and today < date(today.year, 4, 6):
        return today.year - 1
    return today.year


def tax_year_label(country: str, year: int) -> str:
    if _country(country) == "UK":
        return f"{year}/{str(year + 1)[2:]}"
    return str(year)


@dataclass(frozen=True)
class MileageRate:
    """A business mileage rate, in 1/``scale`` minor units per mile (``scale`` = 10: tenths of
    a cent/penny, so 72.5¢ is 725). UK: ``rate`` for the first ``threshold_miles`` business
    miles in the tax year, ``rate_after`` beyond."""

    country: str
    year: int
    currency: str
    rate: int
    rate_after: int | None = None
    threshold_miles: int | None = None
    unit: str = "mi"
    scale: int = 10
    source: str = ""

    def rate_for(self, miles_so_far: Decimal | int | float = 0) -> int:
        """The rate for the next mile after ``miles_so_far`` business miles this tax year."""
        if self.threshold_miles is not None and Decimal(str(miles_so_far)) >= self.threshold_miles:
            return self.rate_after if self.rate_after is not None else self.rate
        return self.rate

    def amount(self, miles: Decimal | int | float, miles_so_far: Decimal | int | float = 0) -> int:
        """The deduction in minor units for ``miles`` (split across the UK 10,000-mile
        threshold when needed), rounded half up to the minor unit."""
        miles = Decimal(str(miles))
        before = Decimal(str(miles_so_far))
        if self.threshold_miles is None or self.rate_after is None:
            tenths = miles * self.rate
        else:
            first = max(Decimal(0), min(miles, self.threshold_miles - before))
            tenths = first * self.rate + (miles - first) * self.rate_after
        return int((tenths / self.scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def mileage_rate_detail(country: str, year: int) -> MileageRate:
    """The standard business mileage rate of the tax year as a ``MileageRate`` (US IRS rate;
    UK HMRC approved mileage allowance payments for cars: 45p first 10,000 miles, 25p after)."""
    ty = load(country, year)
    m = ty.raw["mileage"]
    return MileageRate(
        country=ty.country,
        year=ty.year,
        currency=ty.currency,
        rate=int(m["rate_tenths"]),
        rate_after=m.get("rate_after_tenths"),
        threshold_miles=m.get("threshold_miles"),
        unit=m.get("unit", "mi"),
        source=ty.source("mileage"),
    )


def mileage_rate(country: str, year: int) -> int | dict:
    """The cross-area contract (docs/books/tax.md): US — the IRS standard mileage rate in
    tenths of a cent per mile (2026: 725 = 72.5¢); UK — ``{"first": 450, "after": 250,
    "threshold": 10000, "scale": 10, "currency": "GBP", "unit": "mi"}`` (HMRC approved
    mileage: 45p a mile for the first 10,000 business miles of the tax year, 25p after).
    ``UnknownTaxYear`` (a ``LookupError``) when there is no data file for that year."""
    detail = mileage_rate_detail(country, year)
    if detail.threshold_miles is None:
        return detail.rate
    return {
        "first": detail.rate,
        "after": detail.rate_after,
        "threshold": detail.threshold_miles,
        "scale": detail.scale,
        "currency": detail.currency,
        "unit": detail.unit,
    }
