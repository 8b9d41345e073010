from django.urls import path

from micromarket.messaging import notification_views as views

app_name = "notifications"

urlpatterns = [
    path("", views.center, name="center"),
    path("<int:pk>/read/", views.mark_read, name="read"),
    path("read-all/", views.mark_all_read, name="read_all"),
    path("settings/", views.preferences, name="settings"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
