from django.shortcuts import redirect
from django.urls import reverse

from micromarket.accounts.selectors import user_has_two_factor
from micromarket.core.api import problem_response

# Paths an operator may reach before completing 2FA (to set it up, enter a code, or leave).
_ALLOWED_PREFIXES = (
    "/settings/security/",
    "/accounts/login/",
    "/accounts/logout/",
    "/notifications/unsubscribe/",  # a link from an email works before signing in
    "/static/",
    "/healthz",
    "/readyz",
)


class OperatorTwoFactorMiddleware:
    """Operators must have completed two-factor authentication for this session.

    An operator without an authenticator is sent to set one up; one with an authenticator whose
    session is not verified is asked for a code. API calls get a 403 problem instead.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and user.is_staff
            and not user.is_verified()
            and not request.path.startswith(_ALLOWED_PREFIXES)
        ):
            if request.path.startswith("/api/"):
                return problem_response(
                    request,
                    status=403,
                    code="2fa_required",
                    detail="Operators must complete two-factor authentication first.",
                )
            if user_has_two_factor(user=user):
                return redirect(f"{reverse('accounts:login_code')}?next={request.path}")
            return redirect("accounts:security")
        return self.get_response(request)
