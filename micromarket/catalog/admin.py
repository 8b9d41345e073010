from django.contrib import admin

from micromarket.catalog.models import Category, ModerationEvent, Offer


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "slug", "position"]
    list_filter = ["parent"]


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    """Read-mostly: status changes go through the moderation page (they are audited there)."""

    list_display = ["title", "kind", "status", "shop", "price_from", "currency", "updated_at"]
    list_filter = ["kind", "status"]
    search_fields = ["title", "shop__name", "seller__email"]
    readonly_fields = ["status", "price_from", "delivery_days", "published_at", "description_html"]


@admin.register(ModerationEvent)
class ModerationEventAdmin(admin.ModelAdmin):
    list_display = ["offer", "action", "from_status", "to_status", "actor", "created_at"]
    list_filter = ["action"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
