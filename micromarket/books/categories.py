"""Income and expense categories, each mapped to where it goes on a tax return.

Expense categories follow the lines of IRS Schedule C (Form 1040), Part II, and the expense boxes
of HMRC's SA103F (Self-employment, full), boxes 17–30. Sources:
- https://www.irs.gov/forms-pubs/about-schedule-c-form-1040 (2025 form, lines 8–27b and 30)
- https://www.gov.uk/government/publications/self-assessment-self-employment-full-sa103f

A category is stored on an entry by its ``key``; the labels and the mapping can change here
without a migration. Reports group by key and print the line/box beside it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    kind: str  # "income" or "expense"
    schedule_c: str  # Schedule C line, e.g. "8" or "27a"; "" when not deductible there
    schedule_c_label: str
    uk_box: str  # SA103F box, e.g. "24"; "" when not an allowable expense there
    uk_box_label: str
    help: str = ""


INCOME = "income"
EXPENSE = "expense"

# Schedule C: gross receipts (line 1) and other income (line 6). SA103F: turnover (box 15) and
# other business income (box 16).
INCOME_CATEGORIES: tuple[Category, ...] = (
    Category(
        "platform_sales",
        "Sales on micromarket",
        INCOME,
        "1",
        "Gross receipts or sales",
        "15",
        "Turnover",
        "Added automatically when an order's payment is released to you.",
    ),
    Category("tips", "Tips", INCOME, "1", "Gross receipts or sales", "15", "Turnover"),
    Category(
        "direct_clients",
        "Direct clients",
        INCOME,
        "1",
        "Gross receipts or sales",
        "15",
        "Turnover",
        "Payments on your invoices are recorded here.",
    ),
    Category(
        "other_platforms",
        "Other platforms",
        INCOME,
        "1",
        "Gross receipts or sales",
        "15",
        "Turnover",
        "Fiverr, Etsy, Upwork … (their fees go under Commissions and fees).",
    ),
    Category("cash", "Cash sales", INCOME, "1", "Gross receipts or sales", "15", "Turnover"),
    Category(
        "other_income",
        "Other business income",
        INCOME,
        "6",
        "Other income",
        "16",
        "Any other business income",
    ),
)

EXPENSE_CATEGORIES: tuple[Category, ...] = (
    Category(
        "advertising",
        "Advertising",
        EXPENSE,
        "8",
        "Advertising",
        "24",
        "Advertising and business entertainment costs",
    ),
    Category(
        "car_truck",
        "Car and truck (incl. mileage)",
        EXPENSE,
        "9",
        "Car and truck expenses",
        "20",
        "Car, van and travel expenses",
    ),
    Category(
        "commissions_fees",
        "Commissions and fees",
        EXPENSE,
        "10",
        "Commissions and fees",
        "26",
        "Bank, credit card and other financial charges",
        "Platform commissions are added automatically with each release.",
    ),
    Category(
        "contract_labor",
        "Contract labour",
        EXPENSE,
        "11",
        "Contract labor",
        "19",
        "Wages, salaries and other staff costs",
    ),
    Category(
        "depreciation",
        "Equipment and depreciation",
        EXPENSE,
        "13",
        "Depreciation and section 179 expense",
        "29",
        "Depreciation and loss or profit on sale of assets",
    ),
    Category(
        "insurance",
        "Insurance",
        EXPENSE,
        "15",
        "Insurance (other than health)",
        "21",
        "Rent, rates, power and insurance costs",
    ),
    Category(
        "interest",
        "Interest",
        EXPENSE,
        "16b",
        "Interest (other)",
        "25",
        "Interest on bank and other loans",
    ),
    Category(
        "professional",
        "Legal and professional services",
        EXPENSE,
        "17",
        "Legal and professional services",
        "28",
        "Accountancy, legal and other professional fees",
    ),
    Category(
        "office",
        "Office expenses",
        EXPENSE,
        "18",
        "Office expense",
        "23",
        "Phone, fax, stationery and other office costs",
    ),
    Category(
        "rent",
        "Rent or lease",
        EXPENSE,
        "20b",
        "Rent or lease (other business property)",
        "21",
        "Rent, rates, power and insurance costs",
    ),
    Category(
        "repairs",
        "Repairs and maintenance",
        EXPENSE,
        "21",
        "Repairs and maintenance",
        "22",
        "Repairs and maintenance of property and equipment",
    ),
    Category(
        "supplies",
        "Supplies and materials",
        EXPENSE,
        "22",
        "Supplies",
        "17",
        "Cost of goods bought for resale or goods used",
    ),
    Category(
        "taxes_licenses",
        "Taxes and licences",
        EXPENSE,
        "23",
        "Taxes and licenses",
        "30",
        "Other business expenses",
    ),
    Category("travel", "Travel", EXPENSE, "24a", "Travel", "20", "Car, van and travel expenses"),
    Category(
        "meals",
        "Business meals",
        EXPENSE,
        "24b",
        "Deductible meals",
        "",
        "",
        "US: 50% deductible (the report applies it). UK: not allowable.",
    ),
    Category(
        "utilities",
        "Utilities and phone",
        EXPENSE,
        "25",
        "Utilities",
        "23",
        "Phone, fax, stationery and other office costs",
    ),
    Category(
        "wages",
        "Wages",
        EXPENSE,
        "26",
        "Wages (less employment credits)",
        "19",
        "Wages, salaries and other staff costs",
    ),
    Category(
        "software",
        "Software and subscriptions",
        EXPENSE,
        "27b",
        "Other expenses",
        "23",
        "Phone, fax, stationery and other office costs",
    ),
    Category(
        "education",
        "Training and education",
        EXPENSE,
        "27b",
        "Other expenses",
        "30",
        "Other business expenses",
    ),
    Category(
        "bank_fees",
        "Bank and payment fees",
        EXPENSE,
        "27b",
        "Other expenses",
        "26",
        "Bank, credit card and other financial charges",
    ),
    Category(
        "home_office",
        "Home office",
        EXPENSE,
        "30",
        "Business use of your home",
        "21",
        "Rent, rates, power and insurance costs",
    ),
    Category(
        "other_expense",
        "Other expenses",
        EXPENSE,
        "27b",
        "Other expenses",
        "30",
        "Other business expenses",
    ),
)

ALL: dict[str, Category] = {c.key: c for c in INCOME_CATEGORIES + EXPENSE_CATEGORIES}
MEALS_DEDUCTIBLE_PERCENT = 50  # IRS Publication 463: business meals are 50% deductible


def category_get(key: str) -> Category | None:
    return ALL.get(key)


def choices(kind: str) -> list[tuple[str, str]]:
    source = INCOME_CATEGORIES if kind == INCOME else EXPENSE_CATEGORIES
    return [(c.key, c.label) for c in source]
