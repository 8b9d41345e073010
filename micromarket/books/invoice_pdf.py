"""An invoice as a PDF (fpdf2, pure Python) with its Factur-X XML embedded (``facturx``).

The XML is the EN 16931 (Factur-X "EN 16931" profile) Cross Industry Invoice: one line item per
invoice line (net price, billed quantity with its UN/ECE rec 20 unit, the line discount as a
line allowance, the tax rate), one VAT breakdown per rate, the invoice discount as one document
allowance per rate on the discountable lines (a late fee is outside the discount), and the
totals exactly as the invoice computed them (``services.invoices.totals_compute``), so the
figures of the PDF and of the XML are the same and add up: header totals = Σ lines −
allowances + tax.

Seller: the invoice details of ``TaxProfile`` (legal name, VAT number, business address).
Tax category (EN 16931): ``S`` (standard) for a rate above zero — issuing one needs the seller's
VAT number (BR-S-02); at 0%, ``Z`` (zero rated) when the seller has a VAT number (BR-Z-02),
else ``O`` (not subject to VAT, with its exemption reason, no rate and no VAT numbers: BR-O-*).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from xml.sax.saxutils import escape

import facturx
from django.utils import timezone
from fpdf import FPDF

from micromarket.books.models import Invoice, TaxProfile
from micromarket.core.money import from_minor

FLAVOR = "factur-x"
LEVEL = "en16931"


def _amount(minor: int, currency: str) -> str:
    return str(from_minor(minor, currency))


def _percent(bps: int) -> str:
    return f"{Decimal(bps) / 100:.2f}"


def _date102(day: date) -> str:
    return day.strftime("%Y%m%d")


NOT_SUBJECT = "Not subject to VAT"


def _category(rate_bps: int, seller_vat_id: str) -> str:
    if rate_bps > 0:
        return "S"
    return "Z" if seller_vat_id else "O"


def _rate(category: str, rate_bps: int) -> str:
    """The rate element; a "not subject to VAT" (O) item has no rate (BR-O-05/-06/-12)."""
    if category == "O":
        return ""
    return f"<ram:RateApplicablePercent>{_percent(rate_bps)}</ram:RateApplicablePercent>"


def _t(value: str) -> str:
    return escape(value or "")


def seller_country(owner) -> str:
    profile = TaxProfile.objects.filter(owner=owner).only("country").first()
    if profile and profile.country == TaxProfile.Country.UK:
        return "GB"
    return "US"


def seller_details(owner) -> dict:
    """Name, VAT number, address and country the seller's invoices show."""
    profile = TaxProfile.objects.filter(owner=owner).first()
    return {
        "name": (profile and profile.legal_name) or str(owner),
        "vat_id": (profile.vat_id if profile else "").strip(),
        "address": profile.business_address if profile else "",
        "country": "GB" if profile and profile.country == TaxProfile.Country.UK else "US",
    }


def _party(
    tag: str, *, name: str, country: str, address="", city="", postcode="", vat_id="", email=""
) -> str:
    lines = [line.strip() for line in (address or "").splitlines() if line.strip()]
    parts = [f"<ram:{tag}>", f"<ram:Name>{_t(name)}</ram:Name>", "<ram:PostalTradeAddress>"]
    if postcode:
        parts.append(f"<ram:PostcodeCode>{_t(postcode)}</ram:PostcodeCode>")
    for i, element in enumerate(("LineOne", "LineTwo", "LineThree")):
        if i < len(lines):
            parts.append(f"<ram:{element}>{_t(lines[i])}</ram:{element}>")
    if city:
        parts.append(f"<ram:CityName>{_t(city)}</ram:CityName>")
    parts.append(f"<ram:CountryID>{_t(country or 'US')}</ram:CountryID>")
    parts.append("</ram:PostalTradeAddress>")
    if email:
        parts.append(
            "<ram:URIUniversalCommunication>"
            f'<ram:URIID schemeID="EM">{_t(email)}</ram:URIID>'
            "</ram:URIUniversalCommunication>"
        )
    if vat_id:
        parts.append(
            "<ram:SpecifiedTaxRegistration>"
            f'<ram:ID schemeID="VA">{_t(vat_id)}</ram:ID>'
            "</ram:SpecifiedTaxRegistration>"
        )
    parts.append(f"</ram:{tag}>")
    return "".join(parts)


def invoice_xml(invoice: Invoice) -> bytes:
    """The Factur-X EN 16931 CII XML of ``invoice`` (UTF-8 bytes)."""
    from micromarket.books.services.invoices import totals_compute

    cur = invoice.currency
    lines = list(invoice.lines.all())
    client = invoice.client
    owner = invoice.owner
    number = invoice.number or f"DRAFT-{invoice.pk}"
    issued = invoice.issue_date or timezone.localdate()
    seller = seller_details(owner)
    vat = seller["vat_id"]
    # One VAT group per rate; the invoice discount is taken on the discountable lines only
    # (a late fee line is outside it), so each allowance's BasisAmount × percent = its amount.
    totals = totals_compute(lines, discount_bps=invoice.discount_bps)
    groups = {g.rate_bps: g for g in totals.groups}
    not_subject = any(_category(rate, vat) == "O" for rate in groups)

    out = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        "<rsm:CrossIndustryInvoice "
        'xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" '
        'xmlns:ram="urn:un:unece:uncefact:data:standard:'
        'ReusableAggregateBusinessInformationEntity:100" '
        'xmlns:qdt="urn:un:unece:uncefact:data:standard:QualifiedDataType:100" '
        'xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">',
        "<rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>"
        "<ram:ID>urn:cen.eu:en16931:2017</ram:ID>"
        "</ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>",
        "<rsm:ExchangedDocument>",
        f"<ram:ID>{_t(number)}</ram:ID><ram:TypeCode>380</ram:TypeCode>",
        f'<ram:IssueDateTime><udt:DateTimeString format="102">{_date102(issued)}'
        "</udt:DateTimeString></ram:IssueDateTime>",
    ]
    if invoice.notes:
        out.append(
            f"<ram:IncludedNote><ram:Content>{_t(invoice.notes)}</ram:Content></ram:IncludedNote>"
        )
    out.append("</rsm:ExchangedDocument><rsm:SupplyChainTradeTransaction>")
    for i, ln in enumerate(lines, start=1):
        gross = int((ln.quantity * ln.unit_price).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        allowance = gross - ln.amount
        out.append(
            "<ram:IncludedSupplyChainTradeLineItem>"
            f"<ram:AssociatedDocumentLineDocument><ram:LineID>{i}</ram:LineID>"
            "</ram:AssociatedDocumentLineDocument>"
            f"<ram:SpecifiedTradeProduct><ram:Name>{_t(ln.description)}</ram:Name>"
            "</ram:SpecifiedTradeProduct>"
            "<ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice>"
            f"<ram:ChargeAmount>{_amount(ln.unit_price, cur)}</ram:ChargeAmount>"
            "</ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>"
            "<ram:SpecifiedLineTradeDelivery>"
            f'<ram:BilledQuantity unitCode="{_t(ln.unit)}">{ln.quantity:.3f}</ram:BilledQuantity>'
            "</ram:SpecifiedLineTradeDelivery>"
            "<ram:SpecifiedLineTradeSettlement>"
            "<ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode>"
            f"<ram:CategoryCode>{_category(ln.tax_rate_bps, vat)}</ram:CategoryCode>"
            f"{_rate(_category(ln.tax_rate_bps, vat), ln.tax_rate_bps)}"
            "</ram:ApplicableTradeTax>"
        )
        if allowance > 0:
            out.append(
                "<ram:SpecifiedTradeAllowanceCharge>"
                "<ram:ChargeIndicator><udt:Indicator>false</udt:Indicator></ram:ChargeIndicator>"
                f"<ram:CalculationPercent>{_percent(ln.discount_bps)}</ram:CalculationPercent>"
                f"<ram:ActualAmount>{_amount(allowance, cur)}</ram:ActualAmount>"
                "<ram:Reason>Discount</ram:Reason>"
                "</ram:SpecifiedTradeAllowanceCharge>"
            )
        out.append(
            "<ram:SpecifiedTradeSettlementLineMonetarySummation>"
            f"<ram:LineTotalAmount>{_amount(ln.amount, cur)}</ram:LineTotalAmount>"
            "</ram:SpecifiedTradeSettlementLineMonetarySummation>"
            "</ram:SpecifiedLineTradeSettlement></ram:IncludedSupplyChainTradeLineItem>"
        )
    out.append("<ram:ApplicableHeaderTradeAgreement>")
    out.append(
        _party(
            "SellerTradeParty",
            name=seller["name"],
            country=seller["country"],
            address=seller["address"],
            vat_id="" if not_subject else vat,
        )
    )
    out.append(
        _party(
            "BuyerTradeParty",
            name=client.name,
            country=client.country or seller["country"],
            address=client.address,
            city=client.city,
            postcode=client.postcode,
            vat_id="" if not_subject else client.vat_id,  # BR-O-02: no VAT numbers with O
            email=client.email,
        )
    )
    out.append("</ram:ApplicableHeaderTradeAgreement><ram:ApplicableHeaderTradeDelivery/>")
    out.append(
        f"<ram:ApplicableHeaderTradeSettlement><ram:InvoiceCurrencyCode>{cur}"
        "</ram:InvoiceCurrencyCode>"
    )
    for rate in sorted(groups):
        g = groups[rate]
        category = _category(rate, vat)
        exemption = (
            f"<ram:ExemptionReason>{NOT_SUBJECT}</ram:ExemptionReason>" if category == "O" else ""
        )
        exemption_code = (
            "<ram:ExemptionReasonCode>VATEX-EU-O</ram:ExemptionReasonCode>"
            if category == "O"
            else ""
        )
        out.append(
            "<ram:ApplicableTradeTax>"
            f"<ram:CalculatedAmount>{_amount(g.tax, cur)}</ram:CalculatedAmount>"
            "<ram:TypeCode>VAT</ram:TypeCode>"
            f"{exemption}"
            f"<ram:BasisAmount>{_amount(g.basis, cur)}</ram:BasisAmount>"
            f"<ram:CategoryCode>{category}</ram:CategoryCode>"
            f"{exemption_code}"
            f"{_rate(category, rate)}"
            "</ram:ApplicableTradeTax>"
        )
    for rate in sorted(groups):
        g = groups[rate]
        category = _category(rate, vat)
        if g.discount > 0:
            out.append(
                "<ram:SpecifiedTradeAllowanceCharge>"
                "<ram:ChargeIndicator><udt:Indicator>false</udt:Indicator></ram:ChargeIndicator>"
                f"<ram:CalculationPercent>{_percent(invoice.discount_bps)}"
                "</ram:CalculationPercent>"
                f"<ram:BasisAmount>{_amount(g.discountable, cur)}</ram:BasisAmount>"
                f"<ram:ActualAmount>{_amount(g.discount, cur)}</ram:ActualAmount>"
                "<ram:Reason>Discount</ram:Reason>"
                "<ram:CategoryTradeTax><ram:TypeCode>VAT</ram:TypeCode>"
                f"<ram:CategoryCode>{category}</ram:CategoryCode>"
                f"{_rate(category, rate)}"
                "</ram:CategoryTradeTax></ram:SpecifiedTradeAllowanceCharge>"
            )
    out.append("<ram:SpecifiedTradePaymentTerms>")
    out.append(f"<ram:Description>Payment due within {invoice.terms_days} days</ram:Description>")
    if invoice.due_date:
        out.append(
            f'<ram:DueDateDateTime><udt:DateTimeString format="102">'
            f"{_date102(invoice.due_date)}</udt:DateTimeString></ram:DueDateDateTime>"
        )
    out.append("</ram:SpecifiedTradePaymentTerms>")
    line_total = totals.subtotal  # = Σ line amounts
    discount_total = totals.discount_total  # = Σ document allowances
    tax_total = totals.tax_total  # = Σ VAT breakdown amounts
    basis_total = line_total - discount_total  # = Σ VAT breakdown basis amounts
    grand = basis_total + tax_total
    out.append(
        "<ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
        f"<ram:LineTotalAmount>{_amount(line_total, cur)}</ram:LineTotalAmount>"
        f"<ram:ChargeTotalAmount>{_amount(0, cur)}</ram:ChargeTotalAmount>"
        f"<ram:AllowanceTotalAmount>{_amount(discount_total, cur)}</ram:AllowanceTotalAmount>"
        f"<ram:TaxBasisTotalAmount>{_amount(basis_total, cur)}</ram:TaxBasisTotalAmount>"
        f'<ram:TaxTotalAmount currencyID="{cur}">{_amount(tax_total, cur)}</ram:TaxTotalAmount>'
        f"<ram:GrandTotalAmount>{_amount(grand, cur)}</ram:GrandTotalAmount>"
        f"<ram:TotalPrepaidAmount>{_amount(invoice.paid_total, cur)}</ram:TotalPrepaidAmount>"
        f"<ram:DuePayableAmount>{_amount(grand - invoice.paid_total, cur)}"
        "</ram:DuePayableAmount>"
        "</ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
    )
    out.append("</ram:ApplicableHeaderTradeSettlement></rsm:SupplyChainTradeTransaction>")
    out.append("</rsm:CrossIndustryInvoice>")
    return "".join(out).encode("utf-8")


# --- the PDF ------------------------------------------------------------------------------


def _latin1(text: str) -> str:
    """fpdf2's core fonts are Latin-1: other characters are replaced (the XML keeps them)."""
    text = (text or "").replace("–", "-").replace("—", "-").replace("’", "'")
    text = text.replace("“", '"').replace("”", '"').replace("…", "...")
    return text.encode("latin-1", "replace").decode("latin-1")


def _money(minor: int, currency: str) -> str:
    return f"{from_minor(minor, currency):,} {currency}"


def _qty(quantity: Decimal) -> str:
    text = f"{quantity:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def invoice_pdf_plain(invoice: Invoice) -> bytes:
    lines = list(invoice.lines.all())
    client = invoice.client
    cur = invoice.currency
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(f"Invoice {invoice.number or 'draft'}"))
    pdf.set_author(_latin1(str(invoice.owner)))
    pdf.set_creator("micromarket")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    width = pdf.epw

    pdf.set_font("Helvetica", "B", 18)
    title = f"Invoice {invoice.number}" if invoice.number else "Invoice (draft)"
    if invoice.status == Invoice.Status.VOID:
        title += " - VOID"
    pdf.cell(width, 10, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    seller = seller_details(invoice.owner)
    pdf.cell(width, 6, _latin1(f"From: {seller['name']}"), new_x="LMARGIN", new_y="NEXT")
    for row in (seller["address"] or "").splitlines():
        if row.strip():
            pdf.cell(width, 5, _latin1(row.strip()), new_x="LMARGIN", new_y="NEXT")
    if seller["vat_id"]:
        pdf.cell(width, 5, _latin1(f"VAT: {seller['vat_id']}"), new_x="LMARGIN", new_y="NEXT")
    if invoice.issue_date:
        pdf.cell(
            width, 6, f"Issued: {invoice.issue_date.isoformat()}", new_x="LMARGIN", new_y="NEXT"
        )
    if invoice.due_date:
        pdf.cell(
            width,
            6,
            f"Due: {invoice.due_date.isoformat()} ({invoice.terms_days} days)",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(width, 6, "Bill to", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    bill_to = [client.name, *(client.address or "").splitlines()]
    place = " ".join(p for p in (client.postcode, client.city) if p)
    if place:
        bill_to.append(place)
    if client.country:
        bill_to.append(client.country)
    if client.vat_id:
        bill_to.append(f"VAT ID: {client.vat_id}")
    if client.company_id:
        bill_to.append(f"Company ID: {client.company_id}")
    for row in bill_to:
        if row.strip():
            pdf.cell(width, 5, _latin1(row.strip()), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    cols = (0.44, 0.1, 0.16, 0.1, 0.08, 0.12)
    widths = [width * c for c in cols]
    heads = ("Description", "Qty", "Unit price", "Discount", "Tax", "Amount")
    pdf.set_font("Helvetica", "B", 9)
    for w, h, align in zip(widths, heads, "LRRRRR", strict=False):
        pdf.cell(w, 7, h, border="B", align=align)
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for ln in lines:
        unit = " h" if ln.unit == "HUR" else ""
        cells = (
            _latin1(ln.description)[:70],
            _qty(ln.quantity) + unit,
            _money(ln.unit_price, cur),
            f"{Decimal(ln.discount_bps) / 100:g}%" if ln.discount_bps else "",
            f"{Decimal(ln.tax_rate_bps) / 100:g}%",
            _money(ln.amount, cur),
        )
        for w, text, align in zip(widths, cells, "LRRRRR", strict=False):
            pdf.cell(w, 6, text, align=align)
        pdf.ln()
    pdf.ln(3)

    def total_row(label: str, minor: int, bold: bool = False) -> None:
        pdf.set_font("Helvetica", "B" if bold else "", 10)
        pdf.cell(width * 0.7, 6, _latin1(label), align="R")
        pdf.cell(width * 0.3, 6, _money(minor, cur), align="R", new_x="LMARGIN", new_y="NEXT")

    total_row("Subtotal", invoice.subtotal)
    if invoice.discount_total:
        total_row(f"Discount ({Decimal(invoice.discount_bps) / 100:g}%)", -invoice.discount_total)
    total_row("Tax", invoice.tax_total)
    total_row("Total", invoice.total, bold=True)
    if invoice.paid_total:
        total_row("Paid", -invoice.paid_total)
        total_row("Balance due", invoice.balance, bold=True)
    if invoice.notes:
        pdf.ln(4)
        pdf.set_font("Helvetica", "", 9)
        pdf.multi_cell(width, 5, _latin1(invoice.notes))
    return bytes(pdf.output())


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice's PDF with its Factur-X XML embedded (checked against the XSD)."""
    pdf = invoice_pdf_plain(invoice)
    xml = invoice_xml(invoice)
    number = invoice.number or "draft"
    return facturx.generate_from_binary(
        pdf,
        xml,
        flavor=FLAVOR,
        level=LEVEL,
        check_xsd=True,
        pdf_metadata={
            "author": str(invoice.owner),
            "keywords": "Factur-X, Invoice",
            "title": f"{invoice.owner}: Invoice {number}",
            "subject": f"Invoice {number} for {invoice.client.name}",
        },
        lang="en-US",
    )
