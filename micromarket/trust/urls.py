"""Trust's pages: every area's urlpatterns under one namespace, ``trust:``."""

from micromarket.trust.views import disputes, levels, moderation, portable, reviews, verification

app_name = "trust"
urlpatterns = [
    *reviews.urlpatterns,
    *levels.urlpatterns,
    *verification.urlpatterns,
    *disputes.urlpatterns,
    *moderation.urlpatterns,
    *portable.urlpatterns,
]
