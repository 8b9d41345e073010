"""Books' pages: every area's urlpatterns under one namespace, ``books:``."""

from micromarket.books.views import (
    budget,
    entries,
    imports,
    insights,
    invoices,
    reports,
    tax,
    time,
)

app_name = "books"
urlpatterns = [
    *insights.urlpatterns,
    *entries.urlpatterns,
    *imports.urlpatterns,
    *budget.urlpatterns,
    *tax.urlpatterns,
    *invoices.urlpatterns,
    *time.urlpatterns,
    *reports.urlpatterns,
]
