from django.apps import AppConfig


class LedgerConfig(AppConfig):
    """The marketplace's books: double-entry accounts, transactions, escrow and clearing."""

    name = "micromarket.ledger"
    label = "ledger"
    verbose_name = "Ledger"
