"""Money arithmetic: shares of an amount are rounded once, half to even, and a split never
creates or loses a minor unit — whatever the amounts and however a refund is cut up."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from micromarket.ledger.arithmetic import BPS, fee_refund_due, percent, share
from micromarket.ledger.services import MAX_AMOUNT

# Up to ten billion in major units: more than any real order (the last test goes to MAX_AMOUNT).
REALISTIC = 10**12

amounts = st.integers(min_value=0, max_value=REALISTIC)
positive_amounts = st.integers(min_value=1, max_value=REALISTIC)
rates = st.integers(min_value=0, max_value=BPS)


def exact_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half to even, with integers only (the reference)."""
    quotient, remainder = divmod(numerator, denominator)  # floor division, 0 <= remainder
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient


# ---------------------------------------------------------------------------------------------
# Half-even rounding, spelled out


@pytest.mark.parametrize(
    ("amount", "bps", "expected"),
    [
        (1000, 250, 25),  # 2.5% of 10.00 is exactly 0.25
        (50, 100, 0),  # 0.5 → 0 (even)
        (150, 100, 2),  # 1.5 → 2 (even)
        (250, 100, 2),  # 2.5 → 2 (even), not 3
        (350, 100, 4),  # 3.5 → 4
        (1, 5000, 0),  # 50% of 1 cent: 0.5 → 0
        (3, 5000, 2),  # 1.5 → 2
        (5, 5000, 2),  # 2.5 → 2
        (7, 5000, 4),  # 3.5 → 4
        (999, 500, 50),  # 5% of 9.99 = 0.4995 → 0.50
        (10, 5, 0),  # 0.005 → 0
        (10_000, 1000, 1000),  # 10% of 100.00
        (12_345, 1250, 1543),  # 12.5% of 123.45 = 15.43125 → 15.43
        (12_340, 1250, 1542),  # 15.425 → 15.42 (even)
        (12_360, 1250, 1545),  # 15.45 exactly
        (1, BPS, 1),
        (123_456, 0, 0),
    ],
)
def test_percent_rounds_half_to_even(amount, bps, expected):
    assert percent(amount, bps) == expected


@pytest.mark.parametrize(
    ("amount", "numerator", "denominator", "expected"),
    [
        (1, 1, 2, 0),
        (3, 1, 2, 2),
        (5, 1, 2, 2),
        (-1, 1, 2, 0),
        (-3, 1, 2, -2),
        (-5, 1, 2, -2),
        (100, 1, 3, 33),
        (200, 1, 3, 67),
        (50, 333, 999, 17),  # 16.666… → 17
        (0, 7, 9, 0),
    ],
)
def test_share_rounds_half_to_even(amount, numerator, denominator, expected):
    assert share(amount, numerator, denominator) == expected


@pytest.mark.parametrize("denominator", [0, -1])
def test_share_refuses_a_denominator_that_is_not_positive(denominator):
    with pytest.raises(ValueError, match="denominator"):
        share(100, 1, denominator)


# ---------------------------------------------------------------------------------------------
# Properties of share and percent


@given(
    amount=st.integers(min_value=-REALISTIC, max_value=REALISTIC),
    numerator=st.integers(min_value=0, max_value=REALISTIC),
    denominator=st.integers(min_value=1, max_value=REALISTIC),
)
def test_share_is_the_exact_quotient_rounded_half_to_even(amount, numerator, denominator):
    result = share(amount, numerator, denominator)
    assert result == exact_half_even(amount * numerator, denominator)
    assert abs(Fraction(amount * numerator, denominator) - result) <= Fraction(1, 2)


@given(amount=amounts, bps=rates)
def test_percent_is_a_share_of_basis_points_between_zero_and_the_amount(amount, bps):
    result = percent(amount, bps)
    assert result == exact_half_even(amount * bps, BPS)
    assert 0 <= result <= amount
    assert percent(amount, 0) == 0
    assert percent(amount, BPS) == amount


@given(amount=amounts, bps=rates, more=st.integers(min_value=0, max_value=BPS))
def test_percent_never_decreases_when_the_rate_or_the_amount_grows(amount, bps, more):
    higher = min(BPS, bps + more)
    assert percent(amount, bps) <= percent(amount, higher)
    assert percent(amount, bps) <= percent(amount + more, bps)


@given(
    total=positive_amounts,
    numerator=st.integers(min_value=0, max_value=REALISTIC),
    data=st.data(),
)
def test_a_share_of_a_part_never_exceeds_the_amount(total, numerator, data):
    denominator = data.draw(st.integers(min_value=max(1, numerator), max_value=REALISTIC))
    assert 0 <= share(total, numerator, denominator) <= total


# ---------------------------------------------------------------------------------------------
# The buyer's service fee comes back with refunds, exactly


@st.composite
def refund_steps(draw, max_subtotal=REALISTIC):
    """(subtotal, service fee, partial refunds of the subtotal whose sum is at most it)."""
    subtotal = draw(st.integers(min_value=1, max_value=max_subtotal))
    service_fee = draw(st.integers(min_value=0, max_value=max_subtotal))
    cuts = draw(
        st.lists(st.integers(min_value=0, max_value=subtotal), min_size=0, max_size=12).map(sorted)
    )
    points = [0, *cuts, subtotal]
    steps = [b - a for a, b in itertools.pairwise(points) if b > a]
    return subtotal, service_fee, steps


def run_refunds(subtotal: int, service_fee: int, steps: list[int]) -> list[int]:
    refunded = fee_refunded = 0
    fees = []
    for step in steps:
        fee = fee_refund_due(
            service_fee=service_fee,
            subtotal=subtotal,
            refunded_before=refunded,
            refunded_now=step,
            fee_refunded_before=fee_refunded,
        )
        fees.append(fee)
        refunded += step
        fee_refunded += fee
    return fees


@given(refund_steps())
@example((999, 50, [333, 333, 333]))  # thirds of 9.99 with a 0.50 fee
@example((3, 1, [1, 1, 1]))  # a fee of one cent cannot be split in three
@example((10_000, 500, [1] * 12 + [9_988]))  # one cent at a time, then the rest
def test_refunding_the_whole_price_in_any_steps_returns_exactly_the_whole_fee(case):
    subtotal, service_fee, steps = case
    fees = run_refunds(subtotal, service_fee, steps)
    assert sum(steps) == subtotal
    assert sum(fees) == service_fee
    assert all(0 <= fee <= service_fee for fee in fees)


@given(refund_steps(), st.integers(min_value=0, max_value=12))
def test_after_any_partial_refunds_the_fee_returned_is_the_share_of_what_was_refunded(case, keep):
    """No drift: however the refunds were cut, the fee returned so far is the fee's share of
    the total refunded, rounded once."""
    subtotal, service_fee, steps = case
    steps = steps[:keep]
    fees = run_refunds(subtotal, service_fee, steps)
    refunded = sum(steps)
    assert sum(fees) == exact_half_even(service_fee * refunded, subtotal)
    assert sum(fees) <= service_fee


@given(refund_steps(), rates, st.integers(min_value=0, max_value=12))
def test_buyer_refunds_seller_net_and_platform_revenue_add_up_to_what_was_paid(case, bps, keep):
    """Refund some of the price in steps, then release the rest: every minor unit the buyer
    paid ends up with exactly one of buyer, seller or platform."""
    subtotal, service_fee, steps = case
    steps = steps[:keep]
    fees = run_refunds(subtotal, service_fee, steps)
    paid = subtotal + service_fee

    to_buyer = sum(steps) + sum(fees)
    seller_gross = subtotal - sum(steps)
    fee_kept = service_fee - sum(fees)
    commission = percent(seller_gross, bps)
    seller_net = seller_gross - commission
    platform = commission + fee_kept

    assert to_buyer + seller_net + platform == paid
    assert min(to_buyer, seller_net, platform, fee_kept, commission) >= 0
    assert seller_net <= seller_gross


def test_a_fee_of_one_cent_goes_back_with_the_refund_that_crosses_half_the_price():
    # 1 cent fee on a 3-cent price refunded 1 cent at a time: 1/3 → 0, 2/3 → 1, 3/3 → 1.
    assert run_refunds(3, 1, [1, 1, 1]) == [0, 1, 0]
    # Half of it: 0.5 rounds to even 0; the rest brings the whole cent.
    assert run_refunds(2, 1, [1, 1]) == [0, 1]
    # 9.99 with a 0.50 fee, refunded in thirds: 16.67 → 17, then 33.33 → 33 (16 more), then
    # the rest of the 50.
    assert run_refunds(999, 50, [333, 333, 333]) == [17, 16, 17]


# ---------------------------------------------------------------------------------------------
# Exact for every amount the ledger accepts


@given(
    amount=st.integers(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT),
    numerator=st.integers(min_value=0, max_value=MAX_AMOUNT),
    denominator=st.integers(min_value=1, max_value=MAX_AMOUNT),
)
@example(amount=499_999_999_999_999, numerator=999_999_999_999_999, denominator=MAX_AMOUNT)
def test_share_is_exact_up_to_the_largest_amount(amount, numerator, denominator):
    """Products of two amounts near MAX_AMOUNT have 30 digits; nothing may round them before
    the division. (The example is .5 plus a hair above an even number: it must round up to
    499_999_999_999_999; a Decimal in the default 28-digit context gave …998.)"""
    assert share(amount, numerator, denominator) == exact_half_even(amount * numerator, denominator)
