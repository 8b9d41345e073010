from django.urls import path

from micromarket.orders import views

app_name = "orders"

urlpatterns = [
    path("offers/<int:offer_id>/order/", views.offer_order, name="offer_order"),
    path(
        "custom-offers/<int:custom_offer_id>/checkout/",
        views.custom_offer_checkout,
        name="custom_offer_checkout",
    ),
    path("checkout/", views.checkout, name="checkout"),
    path("checkout/return/<str:key>/", views.checkout_return, name="checkout_return"),
    path("cart/", views.cart, name="cart"),
    path("cart/<int:item_id>/remove/", views.cart_remove, name="cart_remove"),
    path("orders/", views.order_list, name="list"),
    path("orders/<int:order_id>/", views.order_detail, name="detail"),
    path(
        "orders/<int:order_id>/transitions/<str:name>/",
        views.order_transition,
        name="transition",
    ),
    path(
        "orders/<int:order_id>/files/<int:file_id>/",
        views.delivery_file,
        name="delivery_file",
    ),
    path("ops/orders/", views.ops_orders, name="ops"),
    path("sales/", views.sales, name="sales"),
    path("sales/calendar/", views.calendar, name="calendar"),
    path(
        "sales/sessions/<int:session_id>/cancel/",
        views.session_cancel,
        name="session_cancel",
    ),
]
