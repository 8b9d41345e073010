from django.urls import path

from micromarket.payments import views

app_name = "payments"

urlpatterns = [
    path(
        "payments/sandbox/authenticate/<str:reference>/",
        views.sandbox_authenticate,
        name="sandbox_authenticate",
    ),
]
