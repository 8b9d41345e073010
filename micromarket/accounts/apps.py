from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """People: users, profiles, roles, shops, sign-in security and API tokens."""

    name = "micromarket.accounts"
    label = "accounts"
    verbose_name = "Accounts"
