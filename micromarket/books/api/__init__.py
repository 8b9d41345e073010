"""Books' API: one router per area, mounted together at /api/v1/books/."""

from ninja import Router

from micromarket.books.api import budget, entries, imports, insights, invoices, reports, tax, time

router = Router(tags=["books"])
for area in (entries, imports, budget, tax, insights, invoices, time, reports):
    router.add_router("", area.router)
