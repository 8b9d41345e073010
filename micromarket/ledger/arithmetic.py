"""Exact money arithmetic on integer minor units: shares of an amount, rounded once.

Every function returns integers whose parts add up to the whole they were taken from, so a
split never creates or loses a cent.
"""

from __future__ import annotations

BPS = 10_000  # basis points in 100%


def share(amount: int, numerator: int, denominator: int) -> int:
    """``amount × numerator / denominator`` rounded half-even to a whole minor unit.

    Integer arithmetic throughout: exact for amounts of any size (a Decimal in the default
    28-digit context would round the product of two large amounts before dividing).
    """
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    product = amount * numerator
    sign = -1 if product < 0 else 1
    quotient, remainder = divmod(abs(product), denominator)
    if 2 * remainder > denominator or (2 * remainder == denominator and quotient % 2):
        quotient += 1
    return sign * quotient


def percent(amount: int, bps: int) -> int:
    """``bps`` basis points (1/100 of a percent) of ``amount``: percent(1000, 250) == 25."""
    return share(amount, bps, BPS)


def fee_refund_due(
    *,
    service_fee: int,
    subtotal: int,
    refunded_before: int,
    refunded_now: int,
    fee_refunded_before: int,
) -> int:
    """The part of the buyer's service fee returned with a refund of ``refunded_now``.

    The fee is refunded in proportion to the refunded part of the subtotal, computed on the
    running total so that refunding everything in several steps returns exactly the whole fee.
    """
    total_refunded = refunded_before + refunded_now
    return share(service_fee, total_refunded, subtotal) - fee_refunded_before
