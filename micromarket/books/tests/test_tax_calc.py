"""Tax arithmetic (``taxcalc``) against the tax-year data files (``taxdata``): worked examples
from IRS Publication 517 and gov.uk, every bracket boundary, the caps and thresholds, the safe
harbour and the due dates. Pure functions: no database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from micromarket.books import taxcalc, taxdata

US25 = taxdata.load("US", 2025)
US26 = taxdata.load("US", 2026)
UK25 = taxdata.load("UK", 2025)
UK26 = taxdata.load("UK", 2026)
STATUSES = ("single", "mfj", "mfs", "hoh")


def D(dollars) -> int:
    return int(Decimal(str(dollars)) * 100)


def by_key(figures) -> dict[str, int]:
    return {f.key: f.value for f in figures}


# --- data files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "year"), [("US", 2025), ("US", 2026), ("UK", 2025), ("UK", 2026)]
)
def test_every_data_file_cites_its_sources(country, year):
    ty = taxdata.load(country, year)
    assert ty.year == year
    assert ty.country == country
    assert ty.sources, "a tax year without sources"
    for src in ty.sources.values():
        assert src["title"]
        assert src["url"].startswith("https://")


def test_data_files_hold_the_published_figures():
    assert US25.standard_deduction("single") == D(15750)  # OBBBA raised Rev. Proc. 2024-40's
    assert US25.standard_deduction("mfj") == D(31500)
    assert US25.standard_deduction("hoh") == D(23625)
    assert US25.standard_deduction("mfs") == D(15750)
    assert US26.standard_deduction("single") == D(16100)
    assert US26.standard_deduction("mfj") == D(32200)
    assert US26.standard_deduction("hoh") == D(24150)
    assert US25.se("social_security_wage_base") == D(176100)
    assert US26.se("social_security_wage_base") == D(184500)
    assert UK25.personal_allowance == UK26.personal_allowance == D(12570)


def test_tax_year_bounds_and_current_year():
    assert taxdata.tax_year_bounds("US", 2025) == (date(2025, 1, 1), date(2025, 12, 31))
    assert taxdata.tax_year_bounds("UK", 2025) == (date(2025, 4, 6), date(2026, 4, 5))
    assert taxdata.current_tax_year("UK", date(2026, 4, 5)) == 2025
    assert taxdata.current_tax_year("UK", date(2026, 4, 6)) == 2026
    assert taxdata.current_tax_year("US", date(2026, 1, 1)) == 2026
    assert taxdata.tax_year_label("UK", 2025) == "2025/26"
    with pytest.raises(taxdata.UnknownTaxYear):
        taxdata.load("US", 1999)


def test_mileage_rates():
    assert taxdata.mileage_rate("US", 2025) == 700  # 70¢, tenths of a cent
    assert taxdata.mileage_rate("US", 2026) == 725
    uk = taxdata.mileage_rate("UK", 2025)
    assert (uk["first"], uk["after"], uk["threshold"]) == (450, 250, 10000)
    detail = taxdata.mileage_rate_detail("UK", 2025)
    # 100 miles straddling the 10,000-mile threshold: 50 at 45p + 50 at 25p
    assert detail.amount(100, miles_so_far=9950) == D(35)
    assert taxdata.mileage_rate_detail("US", 2026).amount(10) == 725


# --- US self-employment tax -------------------------------------------------------------------


def test_publication_517_schedule_se_example():
    """Pub. 517: net profit $43,736 → net earnings $40,390 → SE tax $6,180 → deduction $3,090."""
    f = by_key(taxcalc.us_self_employment_tax(US25, profit=D(43736), whole_dollars=True))
    assert f["net_earnings"] == D(40390)
    assert f["se_tax"] == D(6180)
    assert f["se_deduction"] == D(3090)


def test_se_tax_in_cents_and_explained():
    figures = taxcalc.us_self_employment_tax(US25, profit=D(43736))
    f = by_key(figures)
    assert f["net_earnings"] == D("40390.20")  # 43,736 × 92.35% = 40,390.196
    assert f["se_tax"] == D("6179.70")
    assert all(fig.how for fig in figures)
    assert "92.35%" in figures[0].how


def test_no_se_tax_under_400_of_net_earnings():
    just_under = D(433)  # × 92.35% = 399.88
    f = by_key(taxcalc.us_self_employment_tax(US25, profit=just_under))
    assert f["se_tax"] == 0
    f = by_key(taxcalc.us_self_employment_tax(US25, profit=D(434)))  # 400.80
    assert f["se_tax"] == taxcalc.mul(D("400.80"), Decimal("0.153"))


def test_social_security_stops_at_the_wage_base():
    f = by_key(taxcalc.us_self_employment_tax(US25, profit=D(300000)))
    assert f["social_security"] == D("21836.40")  # 12.4% × 176,100
    assert f["medicare"] == taxcalc.mul(D(277050), Decimal("0.029"))
    f26 = by_key(taxcalc.us_self_employment_tax(US26, profit=D(300000)))
    assert f26["social_security"] == D("22878.00")  # 12.4% × 184,500


def test_wage_base_is_reduced_by_w2_wages():
    f = by_key(taxcalc.us_self_employment_tax(US25, profit=D(100000), wages=D(170000)))
    assert f["social_security"] == D("756.40")  # 12.4% × (176,100 − 170,000)
    assert f["medicare"] == D("2678.15")  # 2.9% × 92,350 — Medicare has no cap
    f = by_key(taxcalc.us_self_employment_tax(US25, profit=D(100000), wages=D(180000)))
    assert f["social_security"] == 0


@pytest.mark.parametrize(
    ("status", "threshold"), [("single", 200000), ("hoh", 200000), ("mfj", 250000), ("mfs", 125000)]
)
def test_additional_medicare_threshold(status, threshold):
    at = taxcalc.us_additional_medicare(US25, status=status, wages=0, net_earnings=D(threshold))
    assert at.value == 0
    over = taxcalc.us_additional_medicare(
        US25, status=status, wages=0, net_earnings=D(threshold + 1000)
    )
    assert over.value == D(9)  # 0.9% × 1,000


def test_additional_medicare_threshold_is_reduced_by_wages():
    fig = taxcalc.us_additional_medicare(
        US25, status="single", wages=D(150000), net_earnings=D(60000)
    )
    assert fig.value == D(90)  # 0.9% × (60,000 − (200,000 − 150,000))
    fig = taxcalc.us_additional_medicare(
        US25, status="single", wages=D(210000), net_earnings=D(10000)
    )
    assert fig.value == D(180)  # wages 10,000 over + all 10,000 of SE earnings


# --- US income tax ----------------------------------------------------------------------------

# Tax at the top of each bracket, from the tables of Rev. Proc. 2024-40 / 2025-32 (single).
PUBLISHED_SINGLE = {
    2025: [1192.50, 5578.50, 17651, 40199, 57231, 188769.75],
    2026: [1240, 5800, 17966, 41024, 58448, 192979.25],
}


@pytest.mark.parametrize("year", [2025, 2026])
def test_single_brackets_match_the_published_tables(year):
    ty = taxdata.load("US", year)
    for bracket, expected in zip(ty.brackets("single"), PUBLISHED_SINGLE[year], strict=False):
        fig = taxcalc.us_income_tax(ty, status="single", taxable=bracket.upper)
        assert fig.value == D(expected), (year, bracket)


@pytest.mark.parametrize("year", [2025, 2026])
@pytest.mark.parametrize("status", STATUSES)
def test_every_bracket_boundary(year, status):
    """At each upper limit the tax is the sum of the full brackets below; one dollar more is
    taxed at the next rate."""
    ty = taxdata.load("US", year)
    brackets = ty.brackets(status)
    assert brackets[-1].upper is None
    assert len(brackets) == 7
    expected, lower = 0, 0
    for i, bracket in enumerate(brackets[:-1]):
        expected += taxcalc.mul(bracket.upper - lower, bracket.rate)
        at = taxcalc.us_income_tax(ty, status=status, taxable=bracket.upper).value
        assert at == expected, (status, bracket.upper)
        above = taxcalc.us_income_tax(ty, status=status, taxable=bracket.upper + D(1)).value
        assert above - at == taxcalc.mul(D(1), brackets[i + 1].rate)
        lower = bracket.upper
    assert taxcalc.us_income_tax(ty, status=status, taxable=0).value == 0


def test_mfj_brackets_are_twice_single_in_the_lower_ones():
    for year in (2025, 2026):
        ty = taxdata.load("US", year)
        for single, joint in list(zip(ty.brackets("single"), ty.brackets("mfj"), strict=True))[:5]:
            assert joint.upper == 2 * single.upper


def test_income_tax_explains_each_bracket_used():
    fig = taxcalc.us_income_tax(US25, status="single", taxable=D(20000))
    assert fig.value == D("2161.50")  # 1,192.50 + 12% × 8,075
    assert "10% × $11,925.00" in fig.how
    assert "12% × $8,075.00" in fig.how


# --- QBI, standard deduction, the whole estimate ----------------------------------------------


def test_qbi_is_capped_at_20_percent_of_taxable_income():
    fig = taxcalc.us_qbi_deduction(US25, status="single", qbi=D(50000), taxable_before_qbi=D(30000))
    assert fig.value == D(6000)
    fig = taxcalc.us_qbi_deduction(US25, status="single", qbi=D(20000), taxable_before_qbi=D(30000))
    assert fig.value == D(4000)


QBI_250K = D(250000)


def qbi(ty, taxable, *, qbi_amount=QBI_250K, status="single", sstb=False):
    return taxcalc.us_qbi_deduction(
        ty, status=status, qbi=qbi_amount, taxable_before_qbi=taxable, sstb=sstb
    )


@pytest.mark.parametrize("sstb", [False, True])
def test_qbi_at_the_threshold_is_the_full_20_percent_for_any_business(sstb):
    at = qbi(US25, D(197300), sstb=sstb)
    assert at.value == D(39460)  # 20% × $197,300 (the taxable-income cap)
    assert "not above the $197,300.00 threshold" in at.how


def test_qbi_phases_out_over_the_range_for_a_business_that_is_not_a_specified_service():
    # 2025 single: threshold $197,300, range $50,000; no W-2 wages or property in the books
    mid = qbi(US25, D(222300))  # halfway: 20% × $250,000 = $50,000 less 50%
    assert mid.value == D(25000)
    assert "$25,000.00 above the $197,300.00 threshold" in mid.how
    assert "= 50%" in mid.how
    assert "not an SSTB" in mid.how
    assert "if your work is an SSTB it would be $12,500.00" in mid.how
    just_under_top = qbi(US25, D(247299))
    assert just_under_top.value == D(1)  # $50,000 × $1 / $50,000
    top = qbi(US25, D(247300))
    assert top.value == 0
    assert "phase-in range ($247,300.00)" in top.how
    assert "W-2 wages" in top.how


def test_qbi_of_a_specified_service_business_also_phases_out_its_income():
    # only 50% of the income counts, then 20% of that is reduced by 50%: 20% × 250,000 × ¼
    mid = qbi(US25, D(222300), sstb=True)
    assert mid.value == D(12500)
    assert "only 50% of the $250,000.00" in mid.how
    assert qbi(US25, D(247300), sstb=True).value == 0


def test_qbi_phase_in_range_is_wider_from_2026_and_doubled_for_joint_returns():
    assert US25.qbi_phase_in_range("single") == D(50000)
    assert US25.qbi_phase_in_range("mfj") == D(100000)
    assert US26.qbi_phase_in_range("single") == D(75000)  # P.L. 119-21
    assert US26.qbi_phase_in_range("mfj") == D(150000)
    threshold = US26.qbi_threshold("mfj")
    assert qbi(US26, threshold, status="mfj", qbi_amount=D(500000)).value == taxcalc.mul(
        threshold, Decimal("0.2")
    )
    mid = qbi(US26, threshold + D(75000), status="mfj", qbi_amount=D(500000))
    assert mid.value == D(50000)  # 20% × $500,000 = $100,000 less 50%
    assert qbi(US26, threshold + D(150000), status="mfj", qbi_amount=D(500000)).value == 0
    assert any("phase_in_range" in item for item in US26.unverified)


def test_qbi_mid_range_is_still_capped_by_taxable_income():
    # a small business income above the threshold: 20% × QBI less the phase-in, then the cap
    fig = qbi(US25, D(222300), qbi_amount=D(240000))
    assert fig.value == D(24000)
    assert fig.value <= taxcalc.mul(D(222300), Decimal("0.2"))


def test_us_estimate_above_the_threshold_keeps_part_of_the_qbi_deduction():
    est = taxcalc.us_estimate(US25, profit=D(240000), status="single")
    v = by_key(est.figures)
    assert D(197300) < v["taxable_before_qbi"] < D(247300)
    assert 0 < v["qbi_deduction"] < taxcalc.mul(v["taxable_before_qbi"], Decimal("0.2"))
    sstb = by_key(taxcalc.us_estimate(US25, profit=D(240000), status="single", sstb=True).figures)
    assert sstb["qbi_deduction"] < v["qbi_deduction"]
    assert sstb["total_tax"] > v["total_tax"]


def test_us_estimate_chains_the_figures():
    est = taxcalc.us_estimate(US25, profit=D(60000), status="single")
    v = {f.key: f.value for f in est.figures}
    assert v["se_deduction"] == D("4238.87")
    assert v["agi"] == D(60000) - D("4238.87")
    assert v["taxable_before_qbi"] == v["agi"] - D(15750)
    assert v["qbi_deduction"] == taxcalc.mul(v["taxable_before_qbi"], Decimal("0.2"))
    assert v["taxable_income"] == v["taxable_before_qbi"] - v["qbi_deduction"]
    assert v["total_tax"] == v["income_tax"] + v["se_tax"] + v["additional_medicare"]
    assert all(f.how for f in est.figures)


# --- safe harbour and installments ------------------------------------------------------------


def required(**kw):
    args = {
        "status": "single",
        "total_tax": D(20000),
        "withholding": 0,
        "prior_year_tax": D(15000),
        "prior_year_agi": D(100000),
    }
    args.update(kw)
    return taxcalc.us_required_annual_payment(US25, **args)


def test_safe_harbour_100_percent_of_last_year():
    fig = required()
    assert fig.value == D(15000)
    assert "100% of last year's tax" in fig.how


def test_safe_harbour_110_percent_when_last_years_agi_was_over_150000():
    assert required(prior_year_agi=D(150000)).value == D(15000)  # not over
    fig = required(prior_year_agi=D(150001))
    assert fig.value == D(16500)
    assert "110%" in fig.how


def test_safe_harbour_110_percent_threshold_is_75000_when_filing_separately():
    assert required(status="mfs", prior_year_agi=D(75000)).value == D(15000)
    assert required(status="mfs", prior_year_agi=D(75001)).value == D(16500)


def test_safe_harbour_90_percent_of_this_year_when_smaller():
    assert required(prior_year_tax=D(19000)).value == D(18000)
    assert required(prior_year_tax=None).value == D(18000)
    assert required(prior_year_full_year=False).value == D(18000)
    assert required(prior_year_tax=0).value == 0  # no tax last year: nothing required


def test_no_estimated_payments_under_1000_after_withholding():
    assert required(total_tax=D(5000), withholding=D(4001)).value == 0
    assert required(total_tax=D(5000), withholding=D(4000), prior_year_tax=None).value == D(4500)


def test_installments_split_exactly_and_apply_payments_earliest_first():
    dues = taxcalc.us_installments(US25, required=D(1000) + 3, withholding=0, paid_total=D(300))
    assert [d.amount for d in dues] == [D(250) + 1, D(250) + 1, D(250) + 1, D(250)]
    assert [d.paid for d in dues] == [D(250) + 1, D(50) - 1, 0, 0]
    assert sum(d.remaining for d in dues) == D(1000) + 3 - D(300)


def test_withholding_counts_as_paid_evenly():
    dues = taxcalc.us_installments(US25, required=D(8000), withholding=D(4000), paid_total=0)
    assert [d.amount for d in dues] == [D(1000)] * 4


def test_due_dates_roll_over_a_weekend():
    dues = taxcalc.us_installments(US25, required=D(4000), withholding=0, paid_total=0)
    assert [d.due_date for d in dues] == [
        date(2025, 4, 15),
        date(2025, 6, 16),  # 15 June 2025 is a Sunday
        date(2025, 9, 15),
        date(2026, 1, 15),
    ]
    assert dues[1].rolled
    assert "Sunday" in dues[1].how
    dues26 = taxcalc.us_installments(US26, required=D(4000), withholding=0, paid_total=0)
    assert [d.due_date for d in dues26] == [
        date(2026, 4, 15),
        date(2026, 6, 15),
        date(2026, 9, 15),
        date(2027, 1, 15),
    ]


def test_due_dates_roll_over_federal_and_dc_holidays():
    # 16 April 2022 (DC Emancipation Day) was a Saturday, observed Friday the 15th → Monday 18th
    assert taxcalc.roll_forward(date(2022, 4, 15)) == date(2022, 4, 18)
    # 15 January 2024 was Martin Luther King Jr. Day → Tuesday 16th
    assert taxcalc.roll_forward(date(2024, 1, 15)) == date(2024, 1, 16)
    # Saturday 15 April 2023 → Monday 17 April is Emancipation Day (observed) → Tuesday 18th
    assert taxcalc.roll_forward(date(2023, 4, 15)) == date(2023, 4, 18)
    assert taxcalc.roll_forward(date(2025, 4, 15)) == date(2025, 4, 15)


# --- UK ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("ty", [UK25, UK26], ids=["2025/26", "2026/27"])
def test_class4_thresholds(ty):
    c4 = lambda p: taxcalc.uk_class4(ty, profit=D(p)).value  # noqa: E731
    assert c4(12570) == 0
    assert c4(12670) == D(6)  # 6% × 100
    assert c4(50270) == D(2262)  # 6% × 37,700
    assert c4(50370) == D(2264)  # + 2% × 100
    assert c4(0) == 0


def test_personal_allowance_taper():
    pa = lambda income: taxcalc.uk_personal_allowance(UK25, income=D(income)).value  # noqa: E731
    assert pa(100000) == D(12570)
    assert pa(100001) == D(12570)  # £1 for every full £2
    assert pa(100002) == D(12569)
    assert pa(110000) == D(7570)
    assert pa(125139) == D(1)
    assert pa(125140) == 0
    assert pa(200000) == 0


def test_uk_income_tax_bands():
    tax = lambda income: by_key(taxcalc.uk_income_tax(UK25, income=D(income)))  # noqa: E731
    assert tax(12570)["income_tax"] == 0
    assert tax(50270)["income_tax"] == D(7540)  # 20% × 37,700
    assert tax(60000)["income_tax"] == D(7540) + D("3892")  # + 40% × 9,730
    # at £125,140 the allowance is gone: 20% × 37,700 + 40% × 87,440
    assert tax(125140)["income_tax"] == D(7540) + D(34976)
    assert tax(135140)["income_tax"] == D(7540) + D(34976) + D(4500)  # + 45% × 10,000


def test_govuk_payments_on_account_example():
    """gov.uk: last year's bill £3,000 with payments on account of £900 each made → 31 January
    £1,200 balancing + £1,500 first payment on account = £2,700; 31 July £1,500."""
    dues = taxcalc.uk_payment_schedule(
        UK25, bill=D(3000), last_year_bill=D(3000), last_year_paid=D(1800)
    )
    by_period = {d.period: d for d in dues}
    assert by_period["prev_bal"].amount == D(1200)
    assert by_period["POA1"].amount == D(1500)
    assert by_period["POA2"].amount == D(1500)
    totals = {day: amount for day, amount, _left in taxcalc.totals_by_date(dues)}
    assert totals[date(2026, 1, 31)] == D(2700)
    assert totals[date(2026, 7, 31)] == D(1500)


def test_no_payments_on_account_under_1000_or_mostly_collected_at_source():
    dues = taxcalc.uk_payment_schedule(UK25, bill=D(999), last_year_bill=D(999))
    assert {d.period: d.amount for d in dues}["POA1"] == 0
    assert "under £1,000.00" in dues[1].how
    dues = taxcalc.uk_payment_schedule(
        UK25, bill=D(2000), last_year_bill=D(2000), last_year_collected_at_source=D(8001)
    )
    assert {d.period: d.amount for d in dues}["POA1"] == 0  # 8,001 of 10,001 > 80%
    dues = taxcalc.uk_payment_schedule(
        UK25, bill=D(2000), last_year_bill=D(2000), last_year_collected_at_source=D(8000)
    )
    assert {d.period: d.amount for d in dues}["POA1"] == D(1000)  # exactly 80%: still due


def test_uk_balancing_payment_and_next_years_first_payment():
    dues = taxcalc.uk_payment_schedule(UK25, bill=D(5000), last_year_bill=D(3000), poa_paid=D(1500))
    p = {d.period: d for d in dues}
    assert p["POA1"].remaining == 0
    assert p["POA2"].remaining == D(1500)
    assert p["balancing"].amount == D(2000)
    assert p["balancing"].due_date == date(2027, 1, 31)
    assert p["next_POA1"].amount == D(2500)
    assert p["next_POA1"].due_date == date(2027, 1, 31)
    assert p["next_POA2"].due_date == date(2027, 7, 31)


def test_uk_estimate_adds_class4_and_subtracts_paye():
    est = taxcalc.uk_estimate(UK25, profit=D(30000), other_income=D(10000), tax_deducted=D(500))
    v = {f.key: f.value for f in est.figures}
    assert v["total_income"] == D(40000)
    assert v["income_tax"] == D("5486")  # 20% × 27,430
    assert v["class4"] == D("1045.80")  # 6% × 17,430 (Class 4 on profits only)
    assert v["bill"] == D("5486") + D("1045.80") - D(500)


# --- projection -------------------------------------------------------------------------------


def test_projection_annualises_year_to_date():
    fig = taxcalc.project_annual_profit(
        ytd_profit=D(10000),
        start=date(2025, 1, 1),
        end=date(2025, 12, 31),
        today=date(2025, 3, 31),  # day 90 of 365
        previous_year_profit=None,
    )
    assert fig.value == taxcalc.mul(D(10000), Decimal(365) / 90)
    assert "scaled to the full year" in fig.how


def test_projection_blends_with_last_year():
    fig = taxcalc.project_annual_profit(
        ytd_profit=D(10000),
        start=date(2025, 1, 1),
        end=date(2025, 12, 31),
        today=date(2025, 3, 31),
        previous_year_profit=D(30000),
    )
    annualised = Decimal(D(10000)) * 365 / 90
    expected = Decimal(90) / 365 * annualised + (1 - Decimal(90) / 365) * D(30000)
    assert abs(fig.value - expected) <= 1
    assert "last year's profit $30,000.00" in fig.how


def test_projection_after_the_year_is_the_actual_profit():
    fig = taxcalc.project_annual_profit(
        ytd_profit=D(42000),
        start=date(2025, 1, 1),
        end=date(2025, 12, 31),
        today=date(2026, 2, 1),
        previous_year_profit=D(1),
    )
    assert fig.value == D(42000)
