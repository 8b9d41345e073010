"""Messaging in Django's admin: to look, never to change.

People's conversations are private: operators read a conversation only where they need to
(an order's thread on the order page, a flagged message in /ops/messages/). Here they can
look up custom offers and notifications when helping someone; every model is read-only, and
message bodies are not listed.
"""

from django.contrib import admin

from micromarket.messaging.models import CustomOffer, Notification


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CustomOffer)
class CustomOfferAdmin(ReadOnlyAdmin):
    list_display = ("id", "title", "seller", "buyer", "price", "currency", "state", "expires_at")
    list_filter = ("state",)
    search_fields = ("title",)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "category", "title", "created_at", "read_at", "email_state")
    list_filter = ("category", "email_state")
    exclude = ("email_text", "email_html")
