from django.urls import path

from micromarket.messaging import views

app_name = "messaging"

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/new/", views.compose, name="compose"),
    path("inbox/blocked/", views.blocked, name="blocked"),
    path("inbox/blocked/<int:user_id>/unblock/", views.unblock, name="unblock"),
    path("inbox/<int:conversation_id>/", views.thread, name="thread"),
    path("inbox/<int:conversation_id>/messages/", views.messages_since, name="messages"),
    path("inbox/<int:conversation_id>/send/", views.send, name="send"),
    path("inbox/<int:conversation_id>/archive/", views.archive, name="archive"),
    path("inbox/<int:conversation_id>/block/", views.block, name="block"),
    path("inbox/<int:conversation_id>/offer/", views.custom_offer_new, name="custom_offer_new"),
    path(
        "inbox/offers/<int:custom_offer_id>/decline/",
        views.custom_offer_decline,
        name="custom_offer_decline",
    ),
    path(
        "inbox/offers/<int:custom_offer_id>/withdraw/",
        views.custom_offer_withdraw,
        name="custom_offer_withdraw",
    ),
    path("inbox/orders/<int:order_id>/send/", views.order_send, name="order_send"),
    path("inbox/attachments/<int:attachment_id>/", views.attachment, name="attachment"),
    path("ops/messages/", views.ops_messages, name="ops"),
    path("ops/messages/<int:message_id>/reviewed/", views.ops_review, name="review"),
]
