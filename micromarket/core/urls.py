from django.urls import path

from micromarket.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("ops/", views.ops_dashboard, name="ops"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
]
