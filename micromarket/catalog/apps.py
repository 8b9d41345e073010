from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Offers of every kind, their categories and images, moderation, and search."""

    name = "micromarket.catalog"
    label = "catalog"
    verbose_name = "Catalog"
