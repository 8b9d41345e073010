"""Ways to take a deal off the platform, found in a message: emails, phones, payment, IBANs.

Before an order exists between two people, a message that carries one of these gets a
warning for both sides (payments made outside the platform are not protected) and is
flagged for the operators. This module only *finds* them; it never changes the text.

Pure and fast: precompiled regexes, no I/O, no database, linear in the message length
(messages are at most 5,000 characters).

What is found (``Finding.kind``):

``email``
    Ordinary addresses, also with spaces around the ``@`` ("ana @ gmail.com") and the usual
    disguises: "ana at gmail dot com", "ana[at]gmail[dot]com", "ana (at) gmail.com",
    "ana{at}gmail{dot}com", and "ana@gmail" / "ana [at] gmail" for a well-known mail provider.
    A bare "at" with real dots ("ana at gmail.com") counts only for a well-known provider,
    so "take a look at example.com" is not an email. Not: "@ana" mentions, "meet at 5 at
    the cafe", versions ("v1.2").
``phone``
    7 to 15 digits written close together: "+44 20 7946 0958", "+1 (415) 555-2671",
    "415-555-2671", "(415) 555 2671", "06 12 34 56 78", "0612345678", digits one by one
    ("4 1 5 5 5 5 2 6 7 1"), digits as words ("four one five five five ..."), wa.me links.
    A run of digits without separators counts only when it starts with "+" or "0" or has
    the shape of a North American number (10 digits, area code and exchange 2-9).
    Not: prices and amounts ("€1,250.00", "$ 1250", "1 000 000", next to a currency or a
    unit such as "words"), dates ("2026-11-21", "21/11/2026", "21.11.2026"), times
    ("10:30"), IP addresses, decimals ("3.14159265"), year ranges ("2019-2021"), numbers
    introduced as references ("order 12345678", "invoice #…", "ref …"), postcodes and
    years (too few digits), and anything with more than 15 digits (a card number is not a
    phone number, and is not reported at all).
``payment``
    *A named payment service is always reported*, even in an innocent question ("I can't
    use PayPal here, right?"): marketplaces flag these, the operator decides, and the
    warning shown to both sides is harmless when nobody meant harm. Reported: PayPal,
    Venmo, Cash App, Zelle, Revolut, (Transfer)Wise, Western Union, MoneyGram, Skrill,
    Payoneer, Neteller, Monzo, Bizum, Twint, Paytm, PhonePe, GPay / Google Pay, Apple Pay,
    Alipay, WeChat Pay, "UPI id"; links to them and to tip/checkout pages (paypal.me/…,
    venmo.com/u/…, cash.app/$…, revolut.me/…, wise.com/pay/…, buy.stripe.com/…, ko-fi,
    buymeacoffee, gumroad, patreon …); Venmo "@handles" within 30 characters of the word
    Venmo; Cash App "$cashtags" (a "$" followed by a letter — never a price like "$50" or
    "$1,000"; not currency codes like "$USD", all-capitals tags that read as tickers or
    variables ("$AAPL", "$HOME"), nor code such as "$this->x" or "$name = 1");
    crypto wallet addresses (Bitcoin legacy addresses verified with their Base58Check
    checksum, bech32 "bc1…" addresses, Ethereum "0x" + 40 hex) and "pay in bitcoin/crypto/
    USDT" style phrases, "BTC wallet"; phrases such as "pay (me) outside/off the
    platform", "send me the money directly", "pay me directly", "bank details", "routing
    number", "sort code", "SWIFT code", and "bank/wire transfer" when an account word
    (account, IBAN, SWIFT, BIC, routing, sort code, beneficiary) is within 40 characters.
    Not: the words "bitcoin"/"crypto" alone (they are common gig topics), "wise" alone,
    "bank transfer" alone, prices.
``iban``
    Two letters, two check digits and up to 30 letters/digits, with or without spaces,
    any case, that pass the ISO 13616 mod-97 check; for countries in the registry the
    length must also be the country's length.

Overlaps: findings never overlap. The longer one wins; at equal length the more specific
kind (iban > payment > email > phone). So an IBAN is never also a phone number, and
"ana.paypal@gmail.com" is one email, not a payment mention.

Messenger apps (WhatsApp, Telegram, Skype, Discord names and handles) and plain website
links are not reported: they are not one of the four kinds.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import unicodedata
from dataclasses import dataclass

KIND_LABELS = {
    "email": "an email address",
    "phone": "a phone number",
    "payment": "a payment handle or link",
    "iban": "a bank account number (IBAN)",
}

# At equal length, the more specific kind wins.
_PRIORITY = {"iban": 0, "payment": 1, "email": 2, "phone": 3}


@dataclass(frozen=True)
class Finding:
    kind: str  # "email" | "phone" | "payment" | "iban"
    text: str  # the matched text as written
    start: int
    end: int


def _words(words: str) -> frozenset[str]:
    return frozenset(words.split())


# --------------------------------------------------------------------------- emails

_MAIL_PROVIDERS = _words(
    """gmail googlemail yahoo ymail hotmail outlook live msn icloud me mac aol protonmail
    proton pm gmx web mail yandex zoho orange wanadoo free sfr laposte libero virgilio
    seznam wp o2 t-online freenet btinternet sky comcast verizon att qq 163 126 naver hey
    fastmail tutanota tuta mailbox rediffmail"""
)

_COMMON_TLDS = _words(
    """com net org info biz io co me app dev xyz online site shop store tech ai email uk de fr
    es it nl be ch at pl se no dk fi pt ie gr cz ru ua eu us ca mx br ar au nz in jp cn kr
    sg za ng ke tr il ae edu gov"""
)
_E_LOCAL = r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}"
_E_SP = r"[ \t\u00a0]"
_E_AT_SYMBOL = rf"{_E_SP}{{0,2}}@{_E_SP}{{0,2}}"
_E_AT_BRACKET = rf"{_E_SP}{{0,2}}[\[({{<]{_E_SP}{{0,2}}at{_E_SP}{{0,2}}[\])}}>]{_E_SP}{{0,2}}"
_E_AT_WORD = rf"{_E_SP}{{1,2}}at{_E_SP}{{1,2}}"
_E_DOT_BRACKET = rf"{_E_SP}{{0,2}}[\[({{<]{_E_SP}{{0,2}}dot{_E_SP}{{0,2}}[\])}}>]{_E_SP}{{0,2}}"
_E_DOT_WORD = rf"{_E_SP}{{1,2}}dot{_E_SP}{{1,2}}"
_E_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"

_EMAIL = re.compile(
    rf"(?<![\w.%+@-])(?P<local>{_E_LOCAL})"
    rf"(?P<at>{_E_AT_SYMBOL}|{_E_AT_BRACKET}|{_E_AT_WORD})"
    rf"(?P<domain>(?:{_E_LABEL}(?:\.|{_E_DOT_BRACKET}|{_E_DOT_WORD}))+[A-Za-z]{{2,24}})"
    r"(?![\w@-]|\.[A-Za-z0-9])",
    re.IGNORECASE,
)
# "ana@gmail", "ana [at] gmail": a strong "at" and a well-known provider, no top-level domain.
_EMAIL_PROVIDER_ONLY = re.compile(
    rf"(?<![\w.%+@-]){_E_LOCAL}(?:{_E_AT_SYMBOL}|{_E_AT_BRACKET})(?P<provider>{_E_LABEL})"
    r"(?![\w@-]|\.[A-Za-z0-9])",
    re.IGNORECASE,
)
_OBFUSCATED_DOT = re.compile(r"[\[({<]\s*dot\s*[\])}>]|\sdot\s", re.IGNORECASE)


def _emails(text: str) -> list[tuple[int, int, str]]:
    found = []
    for m in _EMAIL.finditer(text):
        at = m.group("at").strip().lower()
        if at == "at":  # a bare word: a known provider, or a disguised dot and a common TLD
            domain = m.group("domain")
            first_label = re.split(r"[.\s\[({<]", domain, maxsplit=1)[0].lower()
            tld = re.split(r"[.\s\])}>]", domain)[-1].lower()
            if first_label not in _MAIL_PROVIDERS and not (
                _OBFUSCATED_DOT.search(domain) and tld in _COMMON_TLDS
            ):
                continue
        found.append((m.start(), m.end(), "email"))
    for m in _EMAIL_PROVIDER_ONLY.finditer(text):
        if m.group("provider").lower() in _MAIL_PROVIDERS:
            found.append((m.start(), m.end(), "email"))
    return found


# --------------------------------------------------------------------------- phones

# Digits with short separators between them; "+" and "(" may open it.
_PHONE = re.compile(
    r"(?<![\w+$€£¥/#@.,\-])"
    r"(?:\+[ \t]?)?\(?\d(?:[ \t\u00a0\u202f.\-()]{0,3}\d)*"
    r"(?![\w@])"
)
_DIGIT_WORD = r"(?:zero|one|two|three|four|five|six|seven|eight|nine)"
_PHONE_WORDS = re.compile(
    rf"\b{_DIGIT_WORD}(?:[ \t,.\-]{{1,3}}(?:{_DIGIT_WORD}|\d)){{6,14}}\b", re.IGNORECASE
)
_WHATSAPP_LINK = re.compile(r"(?<![\w.-])(?:https?://)?(?:api\.)?wa\.me/\+?\d{7,15}\b", re.I)

# Masked (same length) before looking for phones: dates, times and IP addresses.
_NOT_PHONE = re.compile(
    r"(?<![\d.])(?:19|20)\d\d([-./])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])(?!\d)"
    r"|(?<![\d.])(?:0?[1-9]|[12]\d|3[01])([-./])(?:0?[1-9]|[12]\d|3[01])\2(?:19|20)\d\d(?!\d)"
    r"|(?<!\d)\d{1,2}:\d\d(?::\d\d)?(?:\.\d+)?(?!\d)"
    r"|(?<![\d.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d.])"
)
_CURRENCY = r"[$€£¥₹₽]|usd|eur|gbp|chf|cad|aud|nzd|jpy|inr|rs\.?|kr|sek|nok|dkk|pln|brl"
_BEFORE_AMOUNT = re.compile(
    rf"(?:{_CURRENCY}|\b(?:budget|price|prices|cost|costs|total|amount|paid|salary)\b)"
    r"\s*[:=~]?\s*$",
    re.IGNORECASE,
)
_AFTER_AMOUNT = re.compile(
    rf"^\s*(?:[$€£¥₹₽%]|(?:{_CURRENCY}|euros?|dollars?|pounds?|cents?|words?|pages?|"
    r"characters?|chars?|items?|units?|pcs|pieces?|views?|followers?|subscribers?|likes?|"
    r"users?|downloads?|visits?|visitors?|clicks?|impressions?|streams?|plays?|"
    r"px|pixels?|kb|mb|gb|tb|k|bn|times?|seconds?|secs?|minutes?|mins?|hours?|hrs?|"
    r"days?|weeks?|months?|years?|kg|km|cm|mm|lbs?|usdt|btc|sats?)\b)",
    re.IGNORECASE,
)
_BEFORE_REFERENCE = re.compile(
    r"(?:#|\b(?:order|orders|invoice|ref|reference|ticket|tracking|transaction|txn|id|sku|"
    r"isbn|case|booking|confirmation|receipt|account|acct|card|serial|model|version|item)\b"
    r"(?:\s*(?:no\.?|number|nr\.?|num\.?|#|id|code))?)\s*[:#.\-]?\s*$",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?:19|20)\d\d")
_THOUSANDS = re.compile(r"\d{1,3}(?P<sep>[ .\u00a0\u202f])\d{3}(?:(?P=sep)\d{3})*")
_DECIMAL = re.compile(r"\d+\.\d+")
_SEPARATORS = re.compile(r"[^\d+]+")
_LIST_DOT = re.compile(r"\.\s")
_LOCAL_NUMBER = re.compile(r"\d{3}-\d{4}")


def _digits(s: str) -> str:
    return "".join(str(unicodedata.decimal(c)) for c in s if c.isdecimal())


def _phone_run_alone(digits: str, plus: bool) -> bool:
    """A run of digits written without separators: a phone only with a telling shape."""
    n = len(digits)
    if plus:
        return 8 <= n <= 15
    if digits.startswith("0"):
        return 9 <= n <= 15
    return n == 10 and digits[0] in "23456789" and digits[3] in "23456789"


def _phone_ok(text: str, start: int, end: int) -> bool:
    span = text[start:end]
    digits = _digits(span)
    plus = span.startswith("+")
    if not 7 <= len(digits) <= 15:
        return False
    before = text[max(0, start - 40) : start]
    after = text[end : end + 16]
    if _BEFORE_AMOUNT.search(before) or _AFTER_AMOUNT.match(after):
        return False
    if not plus and _BEFORE_REFERENCE.search(before):
        return False
    core = span.lstrip("+ \t(")
    if core.isdecimal():
        return _phone_run_alone(digits, plus)
    if plus:
        return True
    if _LIST_DOT.search(span):
        return False  # "1. 2. 3. 4. 5. 6. 7."
    groups = [g for g in _SEPARATORS.split(span) if g]
    if len(groups) >= 2 and all(_YEAR.fullmatch(_digits(g)) for g in groups):
        return False  # "2019-2021", "2024 2025 2026"
    if len(groups) == 2 and len(digits) < 9 and digits[0] != "0" and "(" not in span:
        return bool(_LOCAL_NUMBER.fullmatch(span))  # "555-2671", but not "1920 1080"
    if _THOUSANDS.fullmatch(span) and digits.endswith("000"):
        return False  # "1 000 000", "12.500.000"
    return not _DECIMAL.fullmatch(span)


def _phones(text: str) -> list[tuple[int, int, str]]:
    masked = _NOT_PHONE.sub(lambda m: "x" * len(m.group()), text)
    found = []
    for m in _PHONE.finditer(masked):
        start, end = m.span()
        if _phone_ok(text, start, end):
            found.append((start, end, "phone"))
        elif len(_digits(m.group())) > 15:
            # Several numbers in a row ("0612345678 0698765432"): each stand-alone run.
            for part in re.finditer(r"\+?\d+", m.group()):
                p_start, p_end = start + part.start(), start + part.end()
                digits = _digits(part.group())
                if 7 <= len(digits) <= 15 and _phone_run_alone(digits, part.group()[0] == "+"):
                    found.append((p_start, p_end, "phone"))
    for m in _PHONE_WORDS.finditer(text):
        found.append((m.start(), m.end(), "phone"))
    for m in _WHATSAPP_LINK.finditer(text):
        found.append((m.start(), m.end(), "phone"))
    return found


# --------------------------------------------------------------------------- payment

_PAYMENT_NAMES = re.compile(
    r"\b(?:pay[ \t-]?pal|venmo|cash[ \t]?app|zelle|revolut|transfer[ \t]?wise|"
    r"western[ \t]+union|money[ \t]?gram|skrill|payoneer|neteller|monzo|bizum|twint|paytm|"
    r"phonepe|gpay|google[ \t]+pay|apple[ \t]+pay|alipay|we[ \t]?chat[ \t]+pay|upi[ \t]+id|"
    r"wise[ \t]+(?:transfer|account|tag))\b",
    re.IGNORECASE,
)
_PAYMENT_DOMAINS = (
    r"paypal\.me|paypal\.com|venmo\.com|cash\.app|revolut\.me|revolut\.com|wise\.com|"
    r"transferwise\.com|monzo\.me|bunq\.me|ko-fi\.com|buymeacoffee\.com|patreon\.com|"
    r"gumroad\.com|payoneer\.com|skrill\.com|westernunion\.com|moneygram\.com|"
    r"zellepay\.com|buy\.stripe\.com|donate\.stripe\.com|checkout\.stripe\.com|"
    r"paystack\.com|flutterwave\.com|paytm\.me|lydia-app\.com|paylib\.fr|twint\.ch"
)
_PAYMENT_LINK = re.compile(
    rf"(?<![\w@.\-/])(?:https?://)?(?:www\.|account\.|m\.)?(?:{_PAYMENT_DOMAINS})\b"
    r"(?:/[^\s<>\"'()\[\]{}]*)?",
    re.IGNORECASE,
)
_VENMO = re.compile(r"\bvenmo\b", re.IGNORECASE)
_AT_HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z0-9][A-Za-z0-9_-]{1,29}(?![\w@-])")
_CASHTAG = re.compile(
    r"(?<![\w$])\$(?P<tag>[A-Za-z][A-Za-z0-9_]{1,19})(?![\w$\[(]|->|::|;|\s*=(?!=))"
)
_NOT_CASHTAGS = _words(
    """usd cad aud nzd hkd sgd mxn ars clp cop twd us ca au nz hk sg mx this self"""
)
_CRYPTO = re.compile(
    r"(?<![\w])(?:0x[0-9a-fA-F]{40}"
    r"|(?P<legacy>[13][1-9A-HJ-NP-Za-km-z]{25,34})"
    r"|(?:bc1[02-9ac-hj-np-z]{39}|bc1[02-9ac-hj-np-z]{59}"
    r"|BC1[02-9AC-HJ-NP-Z]{39}|BC1[02-9AC-HJ-NP-Z]{59}))(?!\w)"
)
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_PLATFORM = (
    r"(?:the\s+|this\s+)?(?:platform|site|website|app|fiverr|upwork|marketplace|micromarket)"
)
_PAYMENT_PHRASES = re.compile(
    r"\b(?:pay(?:ing|ment|ments|s)?|paid|money|deal|transaction|order)"
    r"(?:\s+(?:me|you|us|him|her|them|directly))?\s+(?:outside|off)(?:\s+of)?\s+"
    + _PLATFORM
    + r"\b"
    r"|\b(?:send|transfer|wire)\s+(?:me\s+|you\s+|us\s+)?(?:the\s+|your\s+|my\s+)?"
    r"(?:money|payment|funds|cash)\s+directly\b"
    r"|\bpay\s+(?:me|you|us)\s+directly\b"
    r"|\bdirectly\s+(?:to|into)\s+my\s+(?:bank|account|paypal|wallet)\b"
    r"|\bbank\s+(?:account\s+)?(?:details|number|info)\b"
    r"|\b(?:routing\s+number|sort\s+code|swift\s+code|bic\s+code|swift\s*/\s*bic|"
    r"bic\s*/\s*swift)\b"
    r"|\b(?:pay|paid|payment|payments|send|accept|accepts|transfer)\s+(?:\w+\s+){0,3}?"
    r"(?:in|via|with|by|using|through)\s+"
    r"(?:bitcoin|btc|ethereum|eth|crypto(?:currency)?|usdt|usdc|litecoin|ltc)\b"
    r"|\b(?:bitcoin|btc|eth|ethereum|crypto|usdt|usdc)\s+(?:wallet|address)\b",
    re.IGNORECASE,
)
_BANK_TRANSFER = re.compile(r"\b(?:bank|wire)\s+transfers?\b", re.IGNORECASE)
_ACCOUNT_WORDS = re.compile(
    r"\b(?:account|acct|iban|swift|bic|routing|sort\s+code|beneficiary)\b", re.IGNORECASE
)


def _base58check(address: str) -> bool:
    number = 0
    for char in address:
        number = number * 58 + _B58.index(char)
    if number.bit_length() > 200:
        return False
    raw = number.to_bytes(25, "big")
    payload, checksum = raw[:21], raw[21:]
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] == checksum


def _payments(text: str) -> list[tuple[int, int, str]]:
    found = [(m.start(), m.end(), "payment") for m in _PAYMENT_NAMES.finditer(text)]
    for m in _PAYMENT_LINK.finditer(text):
        end = m.end()
        while end > m.start() and text[end - 1] in ".,;:!?":
            end -= 1
        found.append((m.start(), end, "payment"))
    for m in _VENMO.finditer(text):
        window_end = min(len(text), m.end() + 30)
        for h in _AT_HANDLE.finditer(text, max(0, m.start() - 30), min(len(text), m.end() + 62)):
            if h.start() <= window_end:
                found.append((h.start(), h.end(), "payment"))
    for m in _CASHTAG.finditer(text):
        tag = m.group("tag")
        if tag.lower() not in _NOT_CASHTAGS and not tag.isupper():
            found.append((m.start(), m.end(), "payment"))
    for m in _CRYPTO.finditer(text):
        if m.group("legacy") and not _base58check(m.group("legacy")):
            continue
        found.append((m.start(), m.end(), "payment"))
    found.extend((m.start(), m.end(), "payment") for m in _PAYMENT_PHRASES.finditer(text))
    for m in _BANK_TRANSFER.finditer(text):
        if _ACCOUNT_WORDS.search(text, max(0, m.start() - 40), min(len(text), m.end() + 40)):
            found.append((m.start(), m.end(), "payment"))
    return found


# --------------------------------------------------------------------------- IBANs

# Registry lengths (ISO 13616, SWIFT registry); other country codes: 15-34 characters.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip

_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?:[ ]?[A-Za-z0-9]){11,30}", re.ASCII)


def iban_valid(value: str) -> bool:
    """ISO 13616: country length (when known) and the mod-97 check, spaces ignored."""
    compact = value.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", compact, re.ASCII):
        return False
    if not 2 <= int(compact[2:4]) <= 98:  # check digits 00, 01 and 99 never occur
        return False
    expected = IBAN_LENGTHS.get(compact[:2])
    if expected is not None and len(compact) != expected:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _is_ascii_alnum(text: str, i: int) -> bool:
    return i < len(text) and text[i].isascii() and text[i].isalnum()


def _ibans(text: str) -> list[tuple[int, int, str]]:
    found = []
    pos = 0
    while m := _IBAN.search(text, pos):
        start = m.start()
        # Try the longest prefix that ends on a word boundary first.
        ends = [
            i + 1
            for i in range(m.end() - 1, start + 13, -1)
            if text[i] != " " and not _is_ascii_alnum(text, i + 1)
        ]
        for end in ends:
            if iban_valid(text[start:end]):
                found.append((start, end, "iban"))
                pos = end
                break
        else:
            pos = m.end()
    return found


# --------------------------------------------------------------------------- API


def contact_details_find(text: str) -> list[Finding]:
    """Contact details in ``text``, ordered by start, never overlapping."""
    if not text:
        return []
    candidates = _ibans(text) + _payments(text) + _emails(text) + _phones(text)
    candidates.sort(key=lambda c: (c[0] - c[1], _PRIORITY[c[2]], c[0]))
    starts: list[int] = []
    kept: list[tuple[int, int, str]] = []
    for start, end, kind in candidates:
        if start >= end:
            continue
        i = bisect.bisect_left(starts, start)
        if i > 0 and kept[i - 1][1] > start:
            continue
        if i < len(kept) and kept[i][0] < end:
            continue
        starts.insert(i, start)
        kept.insert(i, (start, end, kind))
    return [
        Finding(kind=kind, text=text[start:end], start=start, end=end) for start, end, kind in kept
    ]


def contact_kinds(text: str) -> list[str]:
    """The kinds of contact details in ``text``, sorted and unique."""
    return sorted({f.kind for f in contact_details_find(text)})
