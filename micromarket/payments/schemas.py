"""API shapes of the money endpoints. Amounts are integers in minor units (cents)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class BalanceOut(Schema):
    currency: str
    pending: int = Field(description="Released earnings still clearing.")
    available: int = Field(description="Ready to pay out.")
    in_payout: int = Field(description="Requested payouts not yet paid.")
    credit: int = Field(description="Buyer credit usable at checkout.")
    next_clearing_at: datetime | None = None


class WalletOut(Schema):
    balances: list[BalanceOut]


class WalletLine(Schema):
    id: int
    created_at: datetime
    account: str
    currency: str
    kind: str
    description: str
    reference: str
    amount: int = Field(description="Change of the balance (+ in, − out).")
    balance: int = Field(description="The balance after this line.")


class WalletLinePage(Schema):
    items: list[WalletLine]
    count: int
    limit: int
    offset: int
    next: str | None
    previous: str | None


class PayoutIn(Schema):
    amount: int = Field(description="Minor units taken from the available balance.")
    currency: str = Field(min_length=3, max_length=3)
    method_id: int


class PayoutOut(Schema):
    id: int
    amount: int
    fee: int
    net: int
    currency: str
    status: str
    method_id: int
    failure_message: str
    created_at: datetime
    settled_at: datetime | None


class PayoutMethodIn(Schema):
    destination: str = Field(
        description="Sandbox: a bank account number (test: 000123456789 pays, 000111111116 "
        "fails). Stripe: your Connect account id acct_…",
        max_length=100,
    )
    label: str = Field("", max_length=80)


class PayoutMethodOut(Schema):
    id: int
    provider: str
    label: str
    destination_last4: str
    created_at: datetime


class FeeQuoteOut(Schema):
    currency: str
    subtotal: int
    service_fee: int
    small_order_fee: int
    total: int
    commission: int
    seller_net: int
    commission_percent: str
    buyer_fee_percent: str


class ReceiptLine(Schema):
    reference: str
    description: str
    subtotal: int
    service_fee: int
    total: int
    card_amount: int
    credit_amount: int


class RefundOut(Schema):
    id: int
    order_reference: str
    amount: int = Field(description="Of the price.")
    fee_amount: int = Field(description="Of the buyer's service fee, returned with it.")
    destination: str
    status: str
    reason: str
    created_at: datetime

    @staticmethod
    def resolve_order_reference(obj) -> str:
        return obj.line.reference


class PaymentOut(Schema):
    id: int
    status: str
    currency: str
    total: int
    card_amount: int
    credit_amount: int
    description: str
    decline_message: str
    action_url: str
    created_at: datetime
    paid_at: datetime | None
    lines: list[ReceiptLine]
    refunds: list[RefundOut]


class WebhookOut(Schema):
    received: bool
    outcome: str


class StripeOnboardingIn(Schema):
    country: str = Field(min_length=2, max_length=2, description="ISO 3166 country of the bank")


class StripeOnboardingOut(Schema):
    method: PayoutMethodOut
    onboarding_url: str
