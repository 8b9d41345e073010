from django.urls import path

from micromarket.catalog import views

app_name = "catalog"

urlpatterns = [
    path("search/", views.search_page, name="search"),
    path("search/suggest/", views.suggest, name="suggest"),
    path("offers/<int:pk>/", views.offer_detail, name="offer"),
    path("offers/files/<str:token>/", views.file_download, name="file_download"),
    path("shops/<slug:slug>/", views.shop_detail, name="shop"),
    path("sell/offers/", views.dashboard, name="dashboard"),
    path("sell/offers/new/", views.offer_new_choose, name="offer_new_choose"),
    path("sell/offers/new/<str:kind>/", views.offer_new, name="offer_new"),
    path("sell/offers/<int:pk>/edit/", views.offer_edit, name="offer_edit"),
    path("sell/offers/<int:pk>/images/", views.offer_images, name="offer_images"),
    path("sell/offers/<int:pk>/files/", views.offer_files, name="offer_files"),
    path("sell/offers/<int:pk>/<str:action>/", views.offer_action, name="offer_action"),
    path("ops/moderation/", views.moderation, name="moderation"),
    path("ops/moderation/<int:pk>/", views.moderation_decide, name="moderation_decide"),
]
