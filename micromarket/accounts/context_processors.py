from micromarket.accounts.selectors import shop_for_user


def navigation(request):
    """The signed-in user's shop (or None), for navigation that changes with the role."""
    user = getattr(request, "user", None)
    return {"nav_shop": shop_for_user(user=user) if user is not None else None}
