"""Money as integer minor units + ISO 4217 code (docs/decisions/0002-money.md).

Conversions between what people type ("12.50") and minor units (1250) use the currency's
exponent from Babel (2 for USD, 0 for JPY, 3 for KWD); formatting uses Babel's locale data.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_name, get_currency_precision

from micromarket.core.errors import ValidationFailed


def currency_check(currency: str, *, field: str = "currency") -> str:
    """The upper-case ISO 4217 code, or ValidationFailed for anything Babel does not know."""
    code = (currency or "").strip().upper()
    if len(code) != 3 or not code.isalpha() or get_currency_name(code) == code:
        raise ValidationFailed(f"{currency or 'That'!s} is not a currency we know.", field=field)
    return code


def currency_exponent(currency: str) -> int:
    return get_currency_precision(currency)


def to_minor(amount: Decimal | str | int, currency: str, *, field: str = "amount") -> int:
    """12.50 USD → 1250. Refuses more decimals than the currency has (no silent rounding)."""
    try:
        value = Decimal(str(amount).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed("Enter an amount such as 12.50.", field=field) from None
    if not value.is_finite():
        raise ValidationFailed("Enter an amount such as 12.50.", field=field)
    exponent = currency_exponent(currency)
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        places = "no decimals" if exponent == 0 else f"at most {exponent} decimals"
        raise ValidationFailed(f"{currency} amounts have {places}.", field=field)
    return int(scaled.to_integral_value(rounding=ROUND_HALF_EVEN))


def from_minor(minor: int, currency: str) -> Decimal:
    """1250, USD → Decimal('12.50')."""
    exponent = currency_exponent(currency)
    return (Decimal(minor).scaleb(-exponent)).quantize(Decimal(1).scaleb(-exponent))


def money_format(minor: int | None, currency: str, *, locale: str = "en_US") -> str:
    if minor is None:
        return ""
    return format_currency(from_minor(minor, currency), currency, locale=locale)
