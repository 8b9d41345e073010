"""Books' services, one module per area: entries, imports, budget, tax, insights, invoices,
time, reports. Callers import the area module, e.g.
``from micromarket.books.services import entries as book_entries`` (decision 0010)."""
