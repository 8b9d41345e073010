"""Books' services, one module per area that writes: entries, imports, budget, tax, invoices,
time (insights and reports only read; their modules are in ``selectors``). Callers import the
area module, e.g. ``from micromarket.books.services import entries as book_entries`` (0010)."""
