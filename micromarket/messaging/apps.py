from django.apps import AppConfig


class MessagingConfig(AppConfig):
    """Conversations between users, custom offers, off-platform warnings and notifications."""

    name = "micromarket.messaging"
    label = "messaging"
    verbose_name = "Messaging and notifications"
