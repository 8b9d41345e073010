from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.static import serve
from django_otp.admin import OTPAdminSite

from micromarket.api import api

# The data admin is for operators who completed 2FA in this session.
admin.site.__class__ = OTPAdminSite

handler400 = "micromarket.core.views.bad_request"
handler403 = "micromarket.core.views.permission_denied"
handler404 = "micromarket.core.views.page_not_found"
handler500 = "micromarket.core.views.server_error"

urlpatterns = [
    path("", include("micromarket.core.urls")),
    path("", include("micromarket.accounts.urls")),
    path("", include("micromarket.catalog.urls")),
    path("", include("micromarket.payments.urls")),
    path("", include("micromarket.orders.urls")),
    path("", include("micromarket.messaging.urls")),
    path("notifications/", include("micromarket.messaging.notification_urls")),
    path("", include("micromarket.trust.urls")),
    path("", include("micromarket.books.urls")),
    path("", include("micromarket.projects.urls")),
    path("api/v1/", api.urls),
    path("admin/login/", RedirectView.as_view(url="/accounts/login/?next=/admin/")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG or settings.SERVE_MEDIA:
    # Uploaded files from local disk. In production put them on object storage or let the
    # reverse proxy serve MEDIA_ROOT; SERVE_MEDIA=1 is for a single small host.
    urlpatterns += [
        path(
            f"{settings.MEDIA_URL.strip('/')}/<path:path>",
            serve,
            {"document_root": settings.MEDIA_ROOT},
        )
    ]
