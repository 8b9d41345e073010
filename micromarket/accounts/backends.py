from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Sign in with email and password; deactivated and deleted accounts cannot sign in.

    Email matching is case-insensitive (``UserManager.get_by_natural_key``).
    """

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and user.deleted_at is None
