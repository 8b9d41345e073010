from django.apps import AppConfig


class BooksConfig(AppConfig):
    """The seller's back office: books, budget envelopes, tax estimates, invoices, time."""

    name = "micromarket.books"
    label = "books"
    verbose_name = "Seller back office"
