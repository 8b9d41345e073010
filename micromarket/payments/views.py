"""Pages of payments: the sandbox's confirmation step (more pages follow)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from micromarket.payments import selectors, services


def sandbox_authenticate(request, reference: str):
    """The sandbox's stand-in for a bank's 3-D Secure page: confirm or refuse the payment."""
    payment = selectors.sandbox_charge_for_confirmation(reference=reference)
    if payment is None:
        raise Http404
    if request.method == "POST":
        approve = request.POST.get("answer") == "confirm"
        back = services.sandbox_authenticate(reference=reference, approve=approve)
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = "/"
        return redirect(back)
    return render(request, "payments/sandbox_authenticate.html", {"charge": payment})
