"""Demo back-office data, built through the real services: each area's ``demo_<area>.build``.

Order matters: entries first (platform earnings copied from the earlier demos' ledger, outside
income, expenses, mileage), then the tax profiles, then the budget (it moves money the envelopes
already hold), then invoices (clients) and time (it bills some of the invoices' clients)."""

from __future__ import annotations

from micromarket.books import demo_budget, demo_entries, demo_invoices, demo_tax, demo_time

PARTS = (demo_entries, demo_tax, demo_budget, demo_invoices, demo_time)


def build(*, stdout, create: bool = True) -> list[str]:
    lines: list[str] = []
    for part in PARTS:
        lines += part.build(stdout=stdout, create=create)
    return lines
