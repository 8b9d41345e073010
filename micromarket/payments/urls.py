from django.urls import path

from micromarket.payments import views

app_name = "payments"

urlpatterns = [
    # sellers
    path("earnings/", views.earnings, name="earnings"),
    path("earnings/payout-methods/", views.payout_methods, name="payout_methods"),
    path(
        "earnings/payout-methods/stripe/",
        views.payout_method_stripe_connect,
        name="payout_method_stripe_connect",
    ),
    path(
        "earnings/payout-methods/<int:pk>/remove/",
        views.payout_method_remove,
        name="payout_method_remove",
    ),
    # buyers
    path("payments/", views.payments_list, name="payments"),
    path("payments/<int:pk>/", views.receipt, name="receipt"),
    path(
        "payments/sandbox/authenticate/<str:reference>/",
        views.sandbox_authenticate,
        name="sandbox_authenticate",
    ),
    # operators
    path("ops/finance/", views.finance, name="finance"),
    path("ops/finance/sandbox/", views.finance_sandbox, name="finance_sandbox"),
    path("ops/finance/accounts/", views.finance_accounts, name="finance_accounts"),
    path("ops/finance/accounts/<int:pk>/", views.finance_account, name="finance_account"),
    path(
        "ops/finance/reconciliation/",
        views.finance_reconciliation,
        name="finance_reconciliation",
    ),
    path(
        "ops/finance/reconciliation/<int:pk>/",
        views.finance_reconciliation_run,
        name="finance_reconciliation_run",
    ),
    path("ops/finance/fees/", views.finance_fees, name="finance_fees"),
]
