"""Tax arithmetic: pure functions over integers (minor units) and a ``TaxYear``.

Every function returns ``Figure``s — a value plus a plain sentence saying how it was computed
— so the estimate page can show its working. Nothing here touches the database; the selectors
gather the inputs (profit from the books, the tax profile, payments made) and call these.

Rounding: amounts are cents/pence, products are rounded half up to the minor unit, except
where a function says it follows a form's whole-dollar rounding (``whole_dollars=True``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import holidays

from micromarket.books.taxdata import TaxYear


@dataclass(frozen=True)
class Figure:
    """An explained figure: ``value`` in minor units of ``currency`` and how it was computed."""

    key: str
    label: str
    value: int
    how: str
    currency: str = "USD"


@dataclass(frozen=True)
class Due:
    """One payment due: period ("Q1", "POA1", "balancing"…), due date, amount, paid, left."""

    period: str
    label: str
    due_date: date
    amount: int
    paid: int
    remaining: int
    how: str
    statutory_date: date | None = None
    currency: str = "USD"

    @property
    def rolled(self) -> bool:
        return self.statutory_date is not None and self.statutory_date != self.due_date


@dataclass
class Estimate:
    country: str
    year: int
    currency: str
    figures: list[Figure] = field(default_factory=list)
    schedule: list[Due] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def get(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)

    def value(self, key: str) -> int:
        return self.get(key).value


# --- helpers ----------------------------------------------------------------------------------


def mul(amount: int, rate: Decimal) -> int:
    """``amount × rate`` rounded half up to the minor unit."""
    return int((Decimal(amount) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_dollars(amount: int) -> int:
    """Round minor units half up to whole units (still in minor units: 123456 → 123500)."""
    return int((Decimal(amount) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * 100


def fmt(amount: int, currency: str = "USD") -> str:
    symbol = "£" if currency == "GBP" else "$"
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    whole, cents = divmod(amount, 100)
    return f"{sign}{symbol}{whole:,}.{cents:02d}"


def pct(rate: Decimal) -> str:
    text = f"{(rate * 100).normalize():f}"
    return f"{text}%"


def split_evenly(total: int, parts: int) -> list[int]:
    """``total`` in ``parts`` shares that differ by at most one minor unit and sum exactly
    (the extra units go to the earliest shares)."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


# --- US: self-employment tax ------------------------------------------------------------------


def us_self_employment_tax(
    ty: TaxYear, *, profit: int, wages: int = 0, whole_dollars: bool = False
) -> list[Figure]:
    """Schedule SE: net earnings = profit × 92.35%; nothing below $400; Social Security 12.4%
    on net earnings up to the wage base less W-2 wages; Medicare 2.9% on all of it. Returns
    figures ``net_earnings``, ``social_security``, ``medicare``, ``se_tax``, ``se_deduction``.
    ``whole_dollars`` rounds net earnings, the SE tax and the deduction to whole dollars as the
    form does (IRS Publication 517's example: $43,736 → $40,390 → $6,180 → $3,090)."""
    cur = ty.currency
    factor = ty.se("net_earnings_factor")
    floor = ty.se("minimum_net_earnings")
    base = ty.se("social_security_wage_base")
    ss_rate, med_rate = ty.se("social_security_rate"), ty.se("medicare_rate")
    rnd = to_dollars if whole_dollars else (lambda x: x)
    src = ty.source("self_employment")

    net = rnd(mul(max(profit, 0), factor))
    if net < floor:
        how = (
            f"{fmt(max(profit, 0), cur)} net profit × {pct(factor)} = {fmt(net, cur)}, under the "
            f"{fmt(floor, cur)} minimum, so there is no self-employment tax ({src})."
        )
        zero = [
            Figure("net_earnings", "Net earnings from self-employment", net, how, cur),
            Figure("social_security", "Social Security part (12.4%)", 0, how, cur),
            Figure("medicare", "Medicare part (2.9%)", 0, how, cur),
            Figure("se_tax", "Self-employment tax", 0, how, cur),
            Figure("se_deduction", "Deduction for half of SE tax", 0, how, cur),
        ]
        return zero
    room = max(0, base - max(wages, 0))
    ss_base = min(net, room)
    ss = mul(ss_base, ss_rate)
    med = mul(net, med_rate)
    total = rnd(ss + med)
    half = rnd(mul(total, ty.se("half_se_deduction")))
    if wages:
        cap = (
            f"the {ty.year} Social Security wage base {fmt(base, cur)} less your W-2 wages "
            f"{fmt(wages, cur)} leaves {fmt(room, cur)}"
        )
    else:
        cap = f"the {ty.year} Social Security wage base is {fmt(base, cur)}"
    return [
        Figure(
            "net_earnings",
            "Net earnings from self-employment",
            net,
            f"{fmt(max(profit, 0), cur)} net profit × {pct(factor)} (Schedule SE line 4a).",
            cur,
        ),
        Figure(
            "social_security",
            "Social Security part",
            ss,
            f"{pct(ss_rate)} × {fmt(ss_base, cur)} ({cap}; taxed amount is the smaller of that "
            "and net earnings).",
            cur,
        ),
        Figure(
            "medicare",
            "Medicare part",
            med,
            f"{pct(med_rate)} × {fmt(net, cur)} net earnings (no cap).",
            cur,
        ),
        Figure(
            "se_tax",
            "Self-employment tax",
            total,
            f"Social Security {fmt(ss, cur)} + Medicare {fmt(med, cur)} ({src}).",
            cur,
        ),
        Figure(
            "se_deduction",
            "Deduction for half of SE tax",
            half,
            f"{fmt(total, cur)} × 50%, subtracted from income before the standard deduction "
            "(Schedule 1, line 15).",
            cur,
        ),
    ]


def us_additional_medicare(ty: TaxYear, *, status: str, wages: int, net_earnings: int) -> Figure:
    """Form 8959: 0.9% on Medicare wages over the threshold, plus on SE income over the
    threshold reduced (not below zero) by those wages."""
    cur = ty.currency
    threshold = ty.additional_medicare_threshold(status)
    rate = ty.additional_medicare_rate
    over_wages = max(0, wages - threshold)
    se_threshold = max(0, threshold - wages)
    over_se = max(0, net_earnings - se_threshold)
    amount = mul(over_wages + over_se, rate)
    how = (
        f"{pct(rate)} × {fmt(over_wages + over_se, cur)}: wages {fmt(wages, cur)} plus net "
        f"self-employment earnings {fmt(net_earnings, cur)} above the {fmt(threshold, cur)} "
        f"threshold for your filing status (not indexed; {ty.source('additional_medicare')})."
    )
    if over_wages + over_se == 0:
        how = (
            f"Wages {fmt(wages, cur)} plus net self-employment earnings {fmt(net_earnings, cur)} "
            f"do not exceed the {fmt(threshold, cur)} threshold, so none is due."
        )
    return Figure("additional_medicare", "Additional Medicare Tax", amount, how, cur)


# --- US: income tax ---------------------------------------------------------------------------


def us_standard_deduction(ty: TaxYear, *, status: str) -> Figure:
    amount = ty.standard_deduction(status)
    return Figure(
        "standard_deduction",
        "Standard deduction",
        amount,
        f"{ty.year} standard deduction for your filing status ({ty.source('standard_deduction')}).",
        ty.currency,
    )


def _share(part: int, whole: int) -> str:
    """``part ÷ whole`` as a percentage with at most two decimals ("12.5%", "about 0.01%")."""
    exact = Decimal(part) * 100 / Decimal(whole)
    value = exact.quantize(Decimal("0.01"), ROUND_HALF_UP)
    return ("" if value == exact else "about ") + f"{value.normalize():f}%"


def _qbi_tentative(qbi: int, rate: Decimal, over: int, span: int, sstb: bool) -> int:
    """The business's QBI component (Form 8995-A) for taxable income ``over`` above the
    threshold, within a phase-in range of ``span``, with no W-2 wages or property: an SSTB
    first keeps only the applicable percentage (1 − over/span) of its QBI; then 20% of that
    is reduced by the phase-in percentage (over/span) of its excess over the wage/property
    limit ($0)."""
    if over <= 0:
        return mul(qbi, rate)
    if over >= span:
        return 0
    kept = Decimal(span - over) / Decimal(span)
    counted = mul(qbi, kept) if sstb else qbi
    tentative = mul(counted, rate)
    return tentative - mul(tentative, Decimal(over) / Decimal(span))


def us_qbi_deduction(
    ty: TaxYear, *, status: str, qbi: int, taxable_before_qbi: int, sstb: bool = False
) -> Figure:
    """Section 199A for one sole-proprietor business with no W-2 wages paid and no qualified
    property (the usual seller): the smaller of 20% of qualified business income and 20% of
    taxable income before the deduction.

    At or below the threshold that is all. Above it the W-2 wage/property limit ($0 here)
    phases in over the phase-in range (2025: $50,000, $100,000 joint; 2026: $75,000 /
    $150,000): 20% of QBI is reduced by (taxable income − threshold) ÷ range, to $0 at the top.
    For a specified service trade or business (``sstb=True``) only the applicable percentage
    1 − (taxable income − threshold) ÷ range of its QBI counts, before that same reduction.
    The estimate assumes a business that is not an SSTB and says so."""
    cur = ty.currency
    rate = ty.qbi_rate
    threshold = ty.qbi_threshold(status)
    span = ty.qbi_phase_in_range(status)
    qbi = max(qbi, 0)
    taxable = max(taxable_before_qbi, 0)
    over = max(0, taxable - threshold)
    src = ty.source("qbi")
    kind = "a specified service business (SSTB)" if sstb else "a business that is not an SSTB"
    by_income = mul(taxable, rate)
    if over >= span:
        return Figure(
            "qbi_deduction",
            "Qualified business income deduction",
            0,
            f"Taxable income before it ({fmt(taxable, cur)}) is at or above the "
            f"{fmt(threshold, cur)} threshold plus the {fmt(span, cur)} phase-in range "
            f"({fmt(threshold + span, cur)}). "
            + (
                "There a specified service business's income no longer counts at all, so it is "
                f"$0 ({src})."
                if sstb
                else "There the deduction is limited to 50% of W-2 wages paid (or 25% of wages "
                "plus 2.5% of business property); the books show none, so it is $0 (for a "
                "specified service business it is $0 whatever the wages). If your business "
                f"pays W-2 wages or owns property it may be larger — ask a tax professional "
                f"({src})."
            ),
            cur,
        )
    component = _qbi_tentative(qbi, rate, over, span, sstb)
    amount = min(component, by_income)
    cap = (
        f"; capped at {pct(rate)} × {fmt(taxable, cur)} taxable income before it = "
        f"{fmt(by_income, cur)}"
    )
    if over == 0:
        which = "business income" if component <= by_income else "taxable income (the cap)"
        return Figure(
            "qbi_deduction",
            "Qualified business income deduction",
            amount,
            f"Smaller of {pct(rate)} × {fmt(qbi, cur)} qualified business income "
            f"(profit less the half-SE-tax deduction) = {fmt(component, cur)} and {pct(rate)} × "
            f"{fmt(taxable, cur)} taxable income before it = {fmt(by_income, cur)}; the limit "
            f"is {which}. Taxable income is not above the {fmt(threshold, cur)} threshold, so "
            f"the kind of business and W-2 wages do not matter ({src}).",
            cur,
        )
    share = _share(over, span)
    if sstb:
        counted = mul(qbi, Decimal(span - over) / Decimal(span))
        steps = (
            f"as {kind}, only {_share(span - over, span)} of the {fmt(qbi, cur)} qualified "
            f"business income counts ({fmt(counted, cur)}); {pct(rate)} of it = "
            f"{fmt(mul(counted, rate), cur)}"
        )
    else:
        steps = (
            f"{pct(rate)} × {fmt(qbi, cur)} qualified business income = {fmt(mul(qbi, rate), cur)}"
        )
    other = _qbi_tentative(qbi, rate, over, span, not sstb)
    return Figure(
        "qbi_deduction",
        "Qualified business income deduction",
        amount,
        f"Taxable income before it ({fmt(taxable, cur)}) is {fmt(over, cur)} above the "
        f"{fmt(threshold, cur)} threshold, within the {fmt(span, cur)} phase-in range: "
        f"{steps}, reduced by {fmt(over, cur)} ÷ {fmt(span, cur)} = {share} (the W-2 wage "
        f"and property limit, $0 in the books, phases in) = {fmt(component, cur)}{cap}. "
        f"Computed for {kind}; "
        + (
            f"for a business that is not an SSTB it would be {fmt(min(other, by_income), cur)}"
            if sstb
            else f"if your work is an SSTB it would be {fmt(min(other, by_income), cur)}"
        )
        + f" ({src}).",
        cur,
    )


def tax_by_brackets(brackets, taxable: int) -> tuple[int, list[tuple[str, int, int, Decimal]]]:
    """Tax on ``taxable`` over cumulative ``brackets``; returns (total, [(name, slice, tax,
    rate)]) for the brackets that were reached."""
    total = 0
    lower = 0
    parts = []
    for br in brackets:
        if taxable <= lower:
            break
        upper = br.upper if br.upper is not None else taxable
        slice_ = min(taxable, upper) - lower
        if slice_ > 0:
            tax = mul(slice_, br.rate)
            total += tax
            parts.append((br.name, slice_, tax, br.rate))
        lower = upper
    return total, parts


def us_income_tax(ty: TaxYear, *, status: str, taxable: int) -> Figure:
    cur = ty.currency
    total, parts = tax_by_brackets(ty.brackets(status), max(taxable, 0))
    if not parts:
        how = "No taxable income, so no income tax."
    else:
        how = (
            " + ".join(f"{pct(rate)} × {fmt(slice_, cur)}" for _n, slice_, _t, rate in parts)
            + f" on {fmt(taxable, cur)} taxable income ({ty.year} brackets for your filing "
            f"status, {ty.source('brackets')})."
        )
    return Figure("income_tax", "Income tax (by brackets)", total, how, cur)


# --- US: estimated tax ------------------------------------------------------------------------


def us_required_annual_payment(
    ty: TaxYear,
    *,
    status: str,
    total_tax: int,
    withholding: int,
    prior_year_tax: int | None,
    prior_year_agi: int | None,
    prior_year_full_year: bool = True,
) -> Figure:
    """Publication 505: the smaller of 90% of this year's tax and 100% of last year's (110% if
    last year's AGI was over $150,000, $75,000 married filing separately) — last year only
    counts if it was a full 12-month return. No estimated payments are needed if the tax after
    withholding is under $1,000 (the value is then 0)."""
    cur = ty.currency
    this_pct = ty.estimated("current_year_percent")
    this_year = mul(total_tax, this_pct)
    after_wh = total_tax - withholding
    minimum = ty.estimated("minimum_balance")
    if after_wh < minimum:
        return Figure(
            "required_payment",
            "Required annual payment (estimated tax)",
            0,
            f"Tax after withholding ({fmt(total_tax, cur)} − {fmt(withholding, cur)} = "
            f"{fmt(after_wh, cur)}) is under {fmt(minimum, cur)}, so no estimated payments are "
            f"required ({ty.source('estimated_tax')}).",
            cur,
        )
    parts = [
        f"90% of this year's estimated tax: {pct(this_pct)} × {fmt(total_tax, cur)} = "
        f"{fmt(this_year, cur)}"
    ]
    required = this_year
    if prior_year_tax is not None and prior_year_full_year:
        high = ty.high_agi(status)
        is_high = prior_year_agi is not None and prior_year_agi > high
        prior_pct = ty.estimated("prior_year_percent_high_agi" if is_high else "prior_year_percent")
        prior = mul(prior_year_tax, prior_pct)
        reason = (
            f"last year's AGI {fmt(prior_year_agi or 0, cur)} is over {fmt(high, cur)}"
            if is_high
            else f"last year's AGI is not over {fmt(high, cur)}"
        )
        parts.append(f"{pct(prior_pct)} of last year's tax ({reason}): {fmt(prior, cur)}")
        if prior < required:
            required = prior
    elif prior_year_tax is not None:
        parts.append(
            "last year's tax is not used because last year's return did not cover 12 months"
        )
    else:
        parts.append(
            "last year's tax is not known (add it to your tax profile to use the "
            "prior-year safe harbour)"
        )
    return Figure(
        "required_payment",
        "Required annual payment (estimated tax)",
        required,
        "Smaller of " + "; ".join(parts) + f" ({ty.source('estimated_tax')}).",
        cur,
    )


def us_holidays(years) -> holidays.HolidayBase:
    """Federal legal holidays plus District of Columbia ones (Emancipation Day, 16 April,
    can move the April deadline — 26 U.S.C. 7503)."""
    return holidays.US(subdiv="DC", years=years, observed=True)


def roll_forward(day: date, hols=None) -> date:
    """The next day that is not a Saturday, Sunday or legal holiday (``day`` itself if it is
    a business day)."""
    hols = hols if hols is not None else us_holidays(range(day.year, day.year + 2))
    while day.weekday() >= 5 or day in hols:
        day += timedelta(days=1)
    return day


def apply_payments(amounts: list[int], paid_total: int) -> list[tuple[int, int]]:
    """Payments applied to the earliest amounts first (as the IRS and HMRC apply them):
    returns (paid, remaining) per amount."""
    out = []
    left = max(paid_total, 0)
    for amount in amounts:
        used = min(left, amount)
        left -= used
        out.append((used, amount - used))
    return out


def us_installments(ty: TaxYear, *, required: int, withholding: int, paid_total: int) -> list[Due]:
    """Four equal installments of (required annual payment − withholding; withholding counts
    as paid evenly through the year), due 15 April, 15 June, 15 September and 15 January,
    each rolled to the next business day. Payments made apply to the earliest first."""
    cur = ty.currency
    to_pay = max(0, required - withholding)
    shares = split_evenly(to_pay, 4)
    hols = us_holidays(range(ty.year, ty.year + 2))
    applied = apply_payments(shares, paid_total)
    out = []
    for inst, share, (paid, remaining) in zip(ty.installments, shares, applied, strict=True):
        due = roll_forward(inst.statutory_due, hols)
        moved = ""
        if due != inst.statutory_due:
            name = hols.get(inst.statutory_due)
            why = name if name else inst.statutory_due.strftime("%A")
            moved = (
                f" {inst.statutory_due:%B} {inst.statutory_due.day} is a {why}"
                if not name
                else f" {inst.statutory_due:%B} {inst.statutory_due.day} is {why}"
            )
            moved += f", so it moves to {due:%A %B} {due.day}."
        out.append(
            Due(
                period=inst.period,
                label=inst.label,
                due_date=due,
                statutory_date=inst.statutory_due,
                amount=share,
                paid=paid,
                remaining=remaining,
                how=(
                    f"A quarter of {fmt(to_pay, cur)} (required annual payment "
                    f"{fmt(required, cur)} less withholding {fmt(withholding, cur)}).{moved}"
                ),
                currency=cur,
            )
        )
    return out


def us_estimate(
    ty: TaxYear,
    *,
    profit: int,
    status: str = "single",
    wages: int = 0,
    withholding: int = 0,
    prior_year_tax: int | None = None,
    prior_year_agi: int | None = None,
    prior_year_full_year: bool = True,
    paid_total: int = 0,
    sstb: bool = False,
) -> Estimate:
    """The whole US federal estimate for a year's projected self-employment ``profit``
    (``sstb``: the business is a specified service trade or business, for the QBI deduction;
    the pages assume it is not and say so)."""
    cur = ty.currency
    est = Estimate(country="US", year=ty.year, currency=cur, notes=ty.notes)
    se = us_self_employment_tax(ty, profit=profit, wages=wages)
    for f in se:
        est.add(f)
    net, se_tax, half = est.value("net_earnings"), est.value("se_tax"), est.value("se_deduction")
    amt = est.add(us_additional_medicare(ty, status=status, wages=wages, net_earnings=net))
    agi = profit + wages - half
    est.add(
        Figure(
            "agi",
            "Adjusted gross income",
            agi,
            f"Profit {fmt(profit, cur)} + wages {fmt(wages, cur)} − half of SE tax "
            f"{fmt(half, cur)} (other income and adjustments are not included).",
            cur,
        )
    )
    std = est.add(us_standard_deduction(ty, status=status))
    before_qbi = max(0, agi - std.value)
    est.add(
        Figure(
            "taxable_before_qbi",
            "Taxable income before the QBI deduction",
            before_qbi,
            f"AGI {fmt(agi, cur)} − standard deduction {fmt(std.value, cur)} (not below zero).",
            cur,
        )
    )
    qbi = est.add(
        us_qbi_deduction(
            ty,
            status=status,
            qbi=max(0, profit - half),
            taxable_before_qbi=before_qbi,
            sstb=sstb,
        )
    )
    taxable = max(0, before_qbi - qbi.value)
    est.add(
        Figure(
            "taxable_income",
            "Taxable income",
            taxable,
            f"{fmt(before_qbi, cur)} − QBI deduction {fmt(qbi.value, cur)}.",
            cur,
        )
    )
    income_tax = est.add(us_income_tax(ty, status=status, taxable=taxable))
    total = income_tax.value + se_tax + amt.value
    est.add(
        Figure(
            "total_tax",
            "Estimated total federal tax",
            total,
            f"Income tax {fmt(income_tax.value, cur)} + self-employment tax {fmt(se_tax, cur)} + "
            f"Additional Medicare Tax {fmt(amt.value, cur)} (before credits).",
            cur,
        )
    )
    required = est.add(
        us_required_annual_payment(
            ty,
            status=status,
            total_tax=total,
            withholding=withholding,
            prior_year_tax=prior_year_tax,
            prior_year_agi=prior_year_agi,
            prior_year_full_year=prior_year_full_year,
        )
    )
    est.schedule = us_installments(
        ty, required=required.value, withholding=withholding, paid_total=paid_total
    )
    est.add(
        Figure(
            "paid",
            "Estimated payments made",
            paid_total,
            f"Sum of the estimated-tax payments you recorded for {ty.year}.",
            cur,
        )
    )
    still_due = sum(d.remaining for d in est.schedule)
    est.add(
        Figure(
            "still_due",
            "Installments still due",
            still_due,
            f"The four installments total {fmt(sum(d.amount for d in est.schedule), cur)}; "
            f"your payments of {fmt(paid_total, cur)} are applied to the earliest first.",
            cur,
        )
    )
    balance = total - withholding - paid_total
    est.add(
        Figure(
            "balance_with_return",
            "Balance expected with the return",
            balance,
            f"Total tax {fmt(total, cur)} − withholding {fmt(withholding, cur)} − payments "
            f"{fmt(paid_total, cur)}"
            + (" (negative: a refund is expected)." if balance < 0 else "."),
            cur,
        )
    )
    return est


# --- UK ---------------------------------------------------------------------------------------


def uk_personal_allowance(ty: TaxYear, *, income: int) -> Figure:
    """£12,570 reduced by £1 for every £2 of adjusted net income over £100,000 (nil from
    £125,140)."""
    cur = ty.currency
    full = ty.personal_allowance
    over = max(0, income - ty.taper_threshold)
    # £1 for every full £2 over the threshold
    reduction = (over // (ty.taper_ratio * 100)) * 100
    amount = max(0, full - reduction)
    if over == 0:
        how = (
            f"Full allowance {fmt(full, cur)}: income {fmt(income, cur)} is not over "
            f"{fmt(ty.taper_threshold, cur)}."
        )
    else:
        how = (
            f"{fmt(full, cur)} less £1 for every £2 of income over "
            f"{fmt(ty.taper_threshold, cur)}: income {fmt(income, cur)} is {fmt(over, cur)} "
            f"over, reduction {fmt(min(reduction, full), cur)} "
            f"({ty.source('personal_allowance_taper')})."
        )
    return Figure("personal_allowance", "Personal Allowance", amount, how, cur)


def uk_income_tax(ty: TaxYear, *, income: int) -> list[Figure]:
    cur = ty.currency
    pa = uk_personal_allowance(ty, income=income)
    taxable = max(0, income - pa.value)
    total, parts = tax_by_brackets(ty.brackets(), taxable)
    taxable_fig = Figure(
        "taxable_income",
        "Taxable income",
        taxable,
        f"Income {fmt(income, cur)} − Personal Allowance {fmt(pa.value, cur)}.",
        cur,
    )
    how = (
        " + ".join(f"{name} {pct(rate)} × {fmt(slice_, cur)}" for name, slice_, _t, rate in parts)
        + f" ({ty.label} bands, {ty.source('income_tax')})."
        if parts
        else "No taxable income, so no income tax."
    )
    return [pa, taxable_fig, Figure("income_tax", "Income tax", total, how, cur)]


def uk_class4(ty: TaxYear, *, profit: int) -> Figure:
    """Class 4 NIC: 6% of profits between the lower and upper profits limits, 2% above."""
    cur = ty.currency
    lpl, upl = ty.class4("lower_profits_limit"), ty.class4("upper_profits_limit")
    main, upper = ty.class4("main_rate"), ty.class4("upper_rate")
    profit = max(profit, 0)
    main_slice = max(0, min(profit, upl) - lpl)
    upper_slice = max(0, profit - upl)
    amount = mul(main_slice, main) + mul(upper_slice, upper)
    if profit <= lpl:
        how = f"Profits {fmt(profit, cur)} are not over {fmt(lpl, cur)}, so none is due."
    else:
        how = (
            f"{pct(main)} × {fmt(main_slice, cur)} (profits between {fmt(lpl, cur)} and "
            f"{fmt(upl, cur)})"
            + (
                f" + {pct(upper)} × {fmt(upper_slice, cur)} above {fmt(upl, cur)}"
                if upper_slice
                else ""
            )
            + f" ({ty.source('class4')})."
        )
    return Figure("class4", "Class 4 National Insurance", amount, how, cur)


def uk_poa_required(ty: TaxYear, *, bill: int, collected_at_source: int = 0) -> tuple[bool, str]:
    """Whether payments on account are due after a year whose Self Assessment ``bill`` (tax
    and Class 4 not collected at source) was ``bill``: not if under £1,000, nor if more than
    80% of the year's tax was collected at source."""
    cur = ty.currency
    minimum = ty.poa("minimum_bill")
    limit = ty.poa("collected_at_source_limit")
    if bill < minimum:
        return False, f"the bill {fmt(bill, cur)} is under {fmt(minimum, cur)}"
    whole = bill + max(collected_at_source, 0)
    if whole and Decimal(collected_at_source) / Decimal(whole) > limit:
        return False, (
            f"more than {pct(limit)} of the tax ({fmt(collected_at_source, cur)} of "
            f"{fmt(whole, cur)}) was collected at source"
        )
    return True, f"the bill {fmt(bill, cur)} is {fmt(minimum, cur)} or more"


def uk_payment_schedule(
    ty: TaxYear,
    *,
    bill: int,
    last_year_bill: int | None,
    last_year_collected_at_source: int = 0,
    last_year_paid: int = 0,
    collected_at_source: int = 0,
    poa_paid: int = 0,
    balancing_paid: int = 0,
) -> list[Due]:
    """The Self Assessment payments that fall due because of tax year ``ty``, in date order:

    - 31 January after the year starts: last year's balancing payment (last year's bill less
      what was paid towards it, ``last_year_paid``) and the 1st payment on account;
    - 31 July: the 2nd payment on account (each payment on account is half of LAST year's
      bill, none if that bill was under £1,000 or over 80% was collected at source);
    - the following 31 January: this year's balancing payment (``bill`` less the payments on
      account) and next year's 1st payment on account (half of this year's bill);
    - the following 31 July: next year's 2nd payment on account.

    ``poa_paid`` is what was paid towards this year's payments on account (applied to the
    first one first), ``balancing_paid`` towards this year's balancing payment. Rows whose
    period starts with ``next_`` belong to next year (they reappear there as POA1/POA2)."""
    cur = ty.currency
    first_due, second_due = ty.poa("first_due"), ty.poa("second_due")
    balancing_due = ty.poa("balancing_due")
    next_second_due = date(second_due.year + 1, second_due.month, second_due.day)
    prev_label = f"{ty.year - 1}/{str(ty.year)[2:]}"
    next_label = f"{ty.year + 1}/{str(ty.year + 2)[2:]}"
    out = []
    if last_year_bill is None:
        poa_each = [0, 0]
        poa_how = (
            "Last year's bill is not in your tax profile, so no payments on account are assumed."
        )
    else:
        prev_balance = max(0, last_year_bill - max(last_year_paid, 0))
        out.append(
            Due(
                "prev_bal",
                f"Balancing payment for {prev_label}",
                first_due,
                prev_balance,
                0,
                prev_balance,
                f"Last year's bill {fmt(last_year_bill, cur)} − payments you recorded for "
                f"{prev_label} {fmt(max(last_year_paid, 0), cur)}.",
                first_due,
                cur,
            )
        )
        needed, why = uk_poa_required(
            ty, bill=last_year_bill, collected_at_source=last_year_collected_at_source
        )
        if needed:
            poa_each = split_evenly(last_year_bill, 2)
            poa_how = f"Half of last year's bill {fmt(last_year_bill, cur)} ({why})."
        else:
            poa_each = [0, 0]
            poa_how = f"No payments on account: {why}."
    applied = apply_payments(poa_each, poa_paid)
    for period, label, due, amount, (paid, remaining) in zip(
        ("POA1", "POA2"),
        ("1st payment on account", "2nd payment on account"),
        (first_due, second_due),
        poa_each,
        applied,
        strict=True,
    ):
        out.append(
            Due(period, f"{label} for {ty.label}", due, amount, paid, remaining, poa_how, due, cur)
        )
    balancing = max(0, bill - sum(poa_each))
    bal_paid = min(max(balancing_paid, 0), balancing)
    out.append(
        Due(
            "balancing",
            f"Balancing payment for {ty.label}",
            balancing_due,
            balancing,
            bal_paid,
            balancing - bal_paid,
            f"This year's bill {fmt(bill, cur)} − payments on account {fmt(sum(poa_each), cur)}"
            + (
                " (they exceed the bill: the difference is refunded or credited)."
                if bill < sum(poa_each)
                else "."
            ),
            balancing_due,
            cur,
        )
    )
    needed, why = uk_poa_required(ty, bill=bill, collected_at_source=collected_at_source)
    next_each = split_evenly(bill, 2) if needed else [0, 0]
    next_how = f"Half of this year's bill {fmt(bill, cur)} ({why})." if needed else f"None: {why}."
    for period, label, due, amount in zip(
        ("next_POA1", "next_POA2"),
        ("1st payment on account", "2nd payment on account"),
        (balancing_due, next_second_due),
        next_each,
        strict=True,
    ):
        out.append(
            Due(period, f"{label} for {next_label}", due, amount, 0, amount, next_how, due, cur)
        )
    return out


def totals_by_date(schedule: list[Due]) -> list[tuple[date, int, int]]:
    """(due date, amount, still due) summed per date, in date order — what to pay on each
    day (on 31 January a balancing payment and a payment on account fall together)."""
    days: dict[date, list[int]] = {}
    for d in schedule:
        row = days.setdefault(d.due_date, [0, 0])
        row[0] += d.amount
        row[1] += d.remaining
    return [(day, a, r) for day, (a, r) in sorted(days.items())]


def uk_estimate(
    ty: TaxYear,
    *,
    profit: int,
    other_income: int = 0,
    tax_deducted: int = 0,
    last_year_bill: int | None = None,
    last_year_collected_at_source: int = 0,
    last_year_paid: int = 0,
    poa_paid: int = 0,
    balancing_paid: int = 0,
) -> Estimate:
    cur = ty.currency
    est = Estimate(country="UK", year=ty.year, currency=cur, notes=ty.notes)
    income = max(profit, 0) + max(other_income, 0)
    est.add(
        Figure(
            "total_income",
            "Total income",
            income,
            f"Trading profit {fmt(max(profit, 0), cur)} + other income {fmt(other_income, cur)}.",
            cur,
        )
    )
    for f in uk_income_tax(ty, income=income):
        est.add(f)
    c4 = est.add(uk_class4(ty, profit=profit))
    tax = est.value("income_tax")
    total = tax + c4.value
    est.add(
        Figure(
            "total_tax",
            "Income tax and Class 4 NIC",
            total,
            f"Income tax {fmt(tax, cur)} + Class 4 {fmt(c4.value, cur)}.",
            cur,
        )
    )
    bill = max(0, total - tax_deducted)
    est.add(
        Figure(
            "bill",
            "Self Assessment bill",
            bill,
            f"{fmt(total, cur)} − tax already deducted at source (PAYE) {fmt(tax_deducted, cur)}.",
            cur,
        )
    )
    est.schedule = uk_payment_schedule(
        ty,
        bill=bill,
        last_year_bill=last_year_bill,
        last_year_collected_at_source=last_year_collected_at_source,
        last_year_paid=last_year_paid,
        collected_at_source=tax_deducted,
        poa_paid=poa_paid,
        balancing_paid=balancing_paid,
    )
    est.add(
        Figure(
            "paid",
            "Payments made for this year",
            poa_paid + balancing_paid,
            f"Sum of the payments you recorded for {ty.label}.",
            cur,
        )
    )
    still = sum(d.remaining for d in est.schedule if d.period in ("POA1", "POA2", "balancing"))
    est.add(
        Figure(
            "still_due",
            "Still due for this year",
            still,
            "This year's payments on account and balancing payment not yet paid (last "
            "year's balancing payment and next year's payments on account are listed "
            "separately in the schedule).",
            cur,
        )
    )
    return est


# --- projection -------------------------------------------------------------------------------


def project_annual_profit(
    *,
    ytd_profit: int,
    start: date,
    end: date,
    today: date,
    previous_year_profit: int | None,
    currency: str = "USD",
) -> Figure:
    """Projected profit for the tax year ``start``–``end``: year-to-date profit scaled to the
    full year, blended with last year's profit (weight = the share of the year elapsed, so
    early in the year last year counts most). Once the year is over, the actual profit."""
    total_days = (end - start).days + 1
    elapsed = min(max((today - start).days + 1, 0), total_days)
    if elapsed >= total_days:
        return Figure(
            "projected_profit",
            "Projected annual profit",
            ytd_profit,
            f"The tax year is over: actual profit {fmt(ytd_profit, currency)}.",
            currency,
        )
    if elapsed == 0:
        value = previous_year_profit or 0
        return Figure(
            "projected_profit",
            "Projected annual profit",
            value,
            f"The tax year has not started: last year's profit {fmt(value, currency)}.",
            currency,
        )
    annualised = int(
        (Decimal(ytd_profit) * total_days / elapsed).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    )
    base = (
        f"Year-to-date profit {fmt(ytd_profit, currency)} over {elapsed} of {total_days} days, "
        f"scaled to the full year: {fmt(annualised, currency)}"
    )
    if previous_year_profit is None:
        return Figure(
            "projected_profit",
            "Projected annual profit",
            annualised,
            base + " (no earlier year in your books to blend with).",
            currency,
        )
    weight = Decimal(elapsed) / total_days
    value = int(
        (weight * annualised + (1 - weight) * previous_year_profit).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
    )
    share = (weight * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Figure(
        "projected_profit",
        "Projected annual profit",
        value,
        base + f"; blended with last year's profit {fmt(previous_year_profit, currency)}: "
        f"{share}% this year's pace + {100 - share}% last year (the further into the year, "
        "the more this year's pace counts).",
        currency,
    )
