from django.contrib import admin

from micromarket.accounts.models import ApiToken, Shop, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "display_name", "is_staff", "is_active", "email_verified_at"]
    list_filter = ["is_staff", "is_active"]
    search_fields = ["email", "display_name"]
    readonly_fields = ["password", "last_login", "date_joined", "deleted_at"]
    exclude = ["user_permissions"]


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "owner", "is_active", "created_at"]
    search_fields = ["name", "slug", "owner__email"]
    readonly_fields = ["slug", "created_at"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["digest", "prefix", "created_at", "last_used_at"]
