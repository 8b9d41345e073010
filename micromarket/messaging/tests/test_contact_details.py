"""Contact details that would take a deal off the platform, found in message text."""

from __future__ import annotations

import dataclasses
import itertools
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micromarket.messaging.contact_details import (
    IBAN_LENGTHS,
    KIND_LABELS,
    Finding,
    contact_details_find,
    contact_kinds,
    iban_valid,
)


def found(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in contact_details_find(text)]


# --------------------------------------------------------------------------- emails


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to ana.smith@example.com please", "ana.smith@example.com"),
        ("<ana+shop@mail.example.org>", "ana+shop@mail.example.org"),
        ("mail me: ana at gmail dot com", "ana at gmail dot com"),
        ("ANA AT GMAIL DOT COM", "ANA AT GMAIL DOT COM"),
        ("ana[at]gmail[dot]com", "ana[at]gmail[dot]com"),
        ("ana [at] gmail [dot] com", "ana [at] gmail [dot] com"),
        ("ana (at) gmail.com", "ana (at) gmail.com"),
        ("ana{at}proton{dot}me", "ana{at}proton{dot}me"),
        ("ana @ gmail.com", "ana @ gmail.com"),
        ("ana@ gmail.com", "ana@ gmail.com"),
        ("reach me: ana at gmail.com", "ana at gmail.com"),
        ("ana at yahoo dot co dot uk.", "ana at yahoo dot co dot uk"),
        ("ana at example dot com", "ana at example dot com"),
        ("it is ana@gmail", "ana@gmail"),
        ("it is ana@gmail.", "ana@gmail"),
        ("ana [at] hotmail", "ana [at] hotmail"),
        ("Ana.Smith-99@Example.COM.", "Ana.Smith-99@Example.COM"),
    ],
)
def test_emails_and_their_disguises_are_found(text, expected):
    assert found(text) == [("email", expected)]


@pytest.mark.parametrize(
    "text",
    [
        "@ana",
        "thanks @ana, see you tomorrow",
        "meet at 5 at the cafe",
        "v1.2",
        "upgrade from v1.2 to v1.3 at 10.30",
        "take a look at example.com",
        "I'm at home at 6",
        "ana@",
        "@gmail.com",
        "a@b",
        "ana@localhost",
        "the logo at 300 dot per inch",
    ],
)
def test_things_that_only_look_like_emails_are_not_found(text):
    assert found(text) == []


# --------------------------------------------------------------------------- phones


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call +44 20 7946 0958 tonight", "+44 20 7946 0958"),
        ("+1 (415) 555-2671", "+1 (415) 555-2671"),
        ("415-555-2671", "415-555-2671"),
        ("(415) 555 2671", "(415) 555 2671"),
        ("(415)555-2671", "(415)555-2671"),
        ("06 12 34 56 78", "06 12 34 56 78"),
        ("06.12.34.56.78", "06.12.34.56.78"),
        ("my number is 0612345678.", "0612345678"),
        ("phone no. 0612345678", "0612345678"),
        ("4 1 5 5 5 5 2 6 7 1", "4 1 5 5 5 5 2 6 7 1"),
        ("text 415.555.2671", "415.555.2671"),
        ("tel: 020 7946 0958", "020 7946 0958"),
        ("tel:+33612345678", "+33612345678"),
        ("+49 (0) 30 123456", "+49 (0) 30 123456"),
        ("0044 20 7946 0958", "0044 20 7946 0958"),
        ("98765 43210", "98765 43210"),
        ("4155552671", "4155552671"),
        ("or just 555-2671", "555-2671"),
        ("whatsapp +44 7700 900123", "+44 7700 900123"),
        (
            "four one five five five five two six seven one",
            "four one five five five five two six seven one",
        ),
        ("Zero six 1 2 three 4 5 6 7 8", "Zero six 1 2 three 4 5 6 7 8"),
        ("https://wa.me/14155552671", "https://wa.me/14155552671"),
        ("٠٦١٢٣٤٥٦٧٨", "٠٦١٢٣٤٥٦٧٨"),  # Arabic-Indic digits
    ],
)
def test_phone_numbers_are_found(text, expected):
    assert found(text) == [("phone", expected)]


def test_two_phone_numbers_in_a_row_are_both_found():
    assert found("call 0612345678 0698765432") == [
        ("phone", "0612345678"),
        ("phone", "0698765432"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "€1,250.00",
        "€1.250,00",
        "$ 1250",
        "price: 1 250 000",
        "€ 1 250 000",
        "USD 12 500 000",
        "2026-11-21",
        "21/11/2026",
        "21.11.2026",
        "21-11-2026",
        "2026-11-21T10:30:00Z",
        "2026-11-21 10:30",
        "10:30",
        "10:30:45.123456",
        "order 12345",
        "order #12345678",
        "order number 12345678",
        "invoice no. 2026004217",
        "ref: 12345678",
        "ISBN 978-3-16-148410-0",
        "#20261121",
        "2026",
        "in 2019 2020 2021",
        "2019-2021",
        "500 words",
        "1500 words",
        "1000-2000 words",
        "10000000 views",
        "1 000 000",
        "1 000 000 followers",
        "75011",
        "4111 1111 1111 1111",
        "4111111111111111",
        "4111-1111-1111-1111",
        "12345678",
        "1234567890",
        "1700000000",
        "192.168.1.1",
        "3.14159265",
        "1920 1080",
        "Steps: 1. 2. 3. 4. 5. 6. 7. done",
        "v1.2.3.4",
        "python 3.11.7 and node v20.10.0",
        "12 months = 599.88 total",
        "https://example.com/page/12345678",
        "I work 9-5, timezone UTC+2",
        "room 101 at 6",
        "SKU-12345678",
    ],
)
def test_numbers_that_are_not_phone_numbers_are_not_found(text):
    assert found(text) == []


# --------------------------------------------------------------------------- payment


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("paypal.me/xyz", [("payment", "paypal.me/xyz")]),
        ("pay at https://www.paypal.me/Ana.", [("payment", "https://www.paypal.me/Ana")]),
        ("paypal: ana@x.com", [("payment", "paypal"), ("email", "ana@x.com")]),
        ("PayPal me at ana@x.com", [("payment", "PayPal"), ("email", "ana@x.com")]),
        ("I can't use PayPal here, right?", [("payment", "PayPal")]),
        ("my venmo is @Ana_Smith99", [("payment", "venmo"), ("payment", "@Ana_Smith99")]),
        ("@ana-smith on Venmo", [("payment", "@ana-smith"), ("payment", "Venmo")]),
        ("venmo.com/u/ana-smith", [("payment", "venmo.com/u/ana-smith")]),
        ("account.venmo.com/u/ana", [("payment", "account.venmo.com/u/ana")]),
        ("send it to $anasmith", [("payment", "$anasmith")]),
        ("my cashtag is $Ana_99.", [("payment", "$Ana_99")]),
        ("cash.app/$ana", [("payment", "cash.app/$ana")]),
        ("Cash App or cashapp", [("payment", "Cash App"), ("payment", "cashapp")]),
        ("I use Zelle", [("payment", "Zelle")]),
        ("Revolut: revolut.me/ana", [("payment", "Revolut"), ("payment", "revolut.me/ana")]),
        ("wise.com/pay/me/anas", [("payment", "wise.com/pay/me/anas")]),
        ("via Western Union", [("payment", "Western Union")]),
        ("MoneyGram works", [("payment", "MoneyGram")]),
        ("buy.stripe.com/abc123", [("payment", "buy.stripe.com/abc123")]),
        ("ko-fi.com/ana", [("payment", "ko-fi.com/ana")]),
        (
            "BTC: 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
            [("payment", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2")],
        ),
        ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", [("payment", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy")]),
        (
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            [("payment", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")],
        ),
        (
            "0x52908400098527886E0F7030069857D2E4169EE7",
            [("payment", "0x52908400098527886E0F7030069857D2E4169EE7")],
        ),
        ("pay me outside the platform", [("payment", "pay me outside the platform")]),
        ("we can pay off fiverr", [("payment", "pay off fiverr")]),
        ("payment outside of this site?", [("payment", "payment outside of this site")]),
        ("let's do the deal outside of Fiverr", [("payment", "deal outside of Fiverr")]),
        ("send me the money directly", [("payment", "send me the money directly")]),
        ("just pay me directly", [("payment", "pay me directly")]),
        ("straight directly to my bank", [("payment", "directly to my bank")]),
        ("send me your bank details", [("payment", "bank details")]),
        ("what's the routing number", [("payment", "routing number")]),
        ("bank transfer to my account", [("payment", "bank transfer")]),
        ("wire transfer, beneficiary: Ana", [("payment", "wire transfer")]),
        ("I accept payment in USDT", [("payment", "accept payment in USDT")]),
        ("my BTC wallet", [("payment", "BTC wallet")]),
    ],
)
def test_payment_handles_links_and_phrases_are_found(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "$50",
        "$ 50",
        "$1,000",
        "$1,000.50 for the logo",
        "US$ 20",
        "$USD 20",
        "echo $HOME",
        "$AAPL is up",
        "use $this->name in the view",
        "$value = 3",
        "$x",
        "@ana thanks!",
        "can you write an article about bitcoin and crypto?",
        "do you know Swift?",
        "that is very wise",
        "can I pay by bank transfer?",
        "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3",  # checksum broken
        "0x52908400098527886E0F7030069857D2E4169EE",  # 39 hex digits
        "the platform is great, I'll pay for the gig here",
        "send me the files directly",
        "ana@paypal.com.example",
    ],
)
def test_prices_code_and_common_words_are_not_payment(text):
    assert "payment" not in contact_kinds(text)


def test_a_venmo_handle_counts_only_near_the_word_venmo():
    far = "venmo is something I used years ago for lunch; anyway, ping @ana"
    assert found(far) == [("payment", "venmo")]
    assert found("ping @ana") == []


# --------------------------------------------------------------------------- IBANs


@pytest.mark.parametrize(
    "iban",
    [
        "DE89 3704 0044 0532 0130 00",
        "DE89370400440532013000",
        "GB82WEST12345698765432",
        "gb82west12345698765432",
        "gb82 west 1234 5698 7654 32",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NL91ABNA0417164300",
        "BE68539007547034",
    ],
)
def test_ibans_are_found_whole_and_as_nothing_else(iban):
    assert found(f"Account: {iban}. Thanks") == [("iban", iban)]


@pytest.mark.parametrize(
    "text",
    [
        "DE89 3704 0044 0532 0130 01",  # wrong check digits
        "DE00370400440532013000",
        "GB82WEST1234569876543",  # one character short for GB
        "AB12CDEFGHIJKLMNOP",
        "XY45 ABCD EFGH IJKL MN",
        "SKU AB12 CD34 EF56 GH78",
    ],
)
def test_iban_shaped_text_failing_the_check_is_not_an_iban(text):
    assert "iban" not in contact_kinds(text)


def test_two_ibans_side_by_side_are_both_found():
    text = "DE89 3704 0044 0532 0130 00 GB82WEST12345698765432"
    assert found(text) == [
        ("iban", "DE89 3704 0044 0532 0130 00"),
        ("iban", "GB82WEST12345698765432"),
    ]


def test_iban_valid_checks_country_length_and_mod_97():
    assert iban_valid("GB82 WEST 1234 5698 7654 32")
    assert iban_valid("gb82west12345698765432")
    assert not iban_valid("GB82WEST123456987654321")
    assert not iban_valid("GB83WEST12345698765432")
    assert not iban_valid("GB82-WEST-1234-5698-7654-32")
    assert not iban_valid("")


def _iban_check_digits(country: str, bban: str) -> int:
    rearranged = bban + country + "00"
    return 98 - int("".join(str(int(c, 36)) for c in rearranged)) % 97


_BBAN_ALPHABET = string.digits + string.ascii_uppercase


def _format_iban(value: str, spaced: bool, lower: bool) -> str:
    if spaced:
        value = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    return value.lower() if lower else value


@given(
    country=st.sampled_from(sorted(IBAN_LENGTHS)),
    data=st.data(),
    spaced=st.booleans(),
    lower=st.booleans(),
)
def test_a_random_iban_with_a_wrong_check_digit_is_not_an_iban(country, data, spaced, lower):
    size = IBAN_LENGTHS[country] - 4
    bban = data.draw(st.text(alphabet=_BBAN_ALPHABET, min_size=size, max_size=size))
    good = _iban_check_digits(country, bban)
    wrong = data.draw(st.integers(min_value=0, max_value=99).filter(lambda n: n != good))
    assert iban_valid(f"{country}{good:02d}{bban}")  # the generator does make real IBANs
    iban = _format_iban(f"{country}{wrong:02d}{bban}", spaced, lower)
    assert "iban" not in contact_kinds(f"My account: {iban}")


@given(
    country=st.sampled_from(sorted(IBAN_LENGTHS)),
    data=st.data(),
    spaced=st.booleans(),
    lower=st.booleans(),
)
def test_a_random_valid_iban_is_found_whole(country, data, spaced, lower):
    size = IBAN_LENGTHS[country] - 4
    bban = data.draw(st.text(alphabet=_BBAN_ALPHABET, min_size=size, max_size=size))
    iban = _format_iban(f"{country}{_iban_check_digits(country, bban):02d}{bban}", spaced, lower)
    assert found(f"My account: {iban}, thanks") == [("iban", iban)]


# --------------------------------------------------------------------------- together


def test_findings_are_ordered_and_point_at_the_text():
    text = "Email ana@x.com, call +44 20 7946 0958, IBAN GB82WEST12345698765432, or paypal.me/ana"
    findings = contact_details_find(text)
    assert [f.kind for f in findings] == ["email", "phone", "iban", "payment"]
    assert [f.start for f in findings] == sorted(f.start for f in findings)
    assert all(text[f.start : f.end] == f.text for f in findings)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ana.paypal@gmail.com", [("email", "ana.paypal@gmail.com")]),
        ("ana@paypal.com", [("email", "ana@paypal.com")]),
        ("paypal.me/ana", [("payment", "paypal.me/ana")]),
        ("GB82WEST12345698765432", [("iban", "GB82WEST12345698765432")]),
    ],
)
def test_overlapping_candidates_give_one_finding(text, expected):
    assert found(text) == expected


def test_contact_kinds_are_sorted_and_unique():
    text = "paypal: ana@x.com or ana2@x.com, +44 20 7946 0958"
    assert contact_kinds(text) == ["email", "payment", "phone"]
    assert contact_kinds("GB82WEST12345698765432 and DE89370400440532013000") == ["iban"]
    assert contact_kinds("") == []
    assert contact_kinds("Hi! Can you deliver 1500 words by 21.11.2026 for $50?") == []


def test_every_kind_has_a_label_and_findings_are_frozen():
    assert set(KIND_LABELS) == {"email", "phone", "payment", "iban"}
    finding = contact_details_find("ana@x.com")[0]
    assert finding == Finding(kind="email", text="ana@x.com", start=0, end=9)
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.kind = "phone"  # type: ignore[misc]


_TRICKY = st.text(
    alphabet="0123456789 +-().,:/#@$€abtdoATDOxXvenmoplbc1[]{}<>\n\u00a0",
    max_size=400,
)
_FRAGMENTS = st.lists(
    st.sampled_from(
        [
            "ana",
            "@",
            " at ",
            " dot ",
            "[at]",
            "(dot)",
            ".",
            "com",
            "gmail",
            "+44",
            " ",
            "-",
            "(",
            ")",
            "0612",
            "345678",
            "2026-11-21",
            "10:30",
            "$",
            "$ana",
            "venmo",
            "paypal.me/",
            "GB82",
            "WEST",
            "1234",
            "DE89",
            "0x",
            "bc1",
            "1Bv",
            "one",
            "€",
            "words",
            "order",
        ]
    ),
    max_size=60,
).map("".join)


@given(st.one_of(st.text(max_size=400), _TRICKY, _FRAGMENTS))
def test_never_raises_and_findings_are_in_bounds_and_disjoint(text):
    findings = contact_details_find(text)
    previous_end = 0
    for f in findings:
        assert f.kind in KIND_LABELS
        assert previous_end <= f.start < f.end <= len(text)
        assert text[f.start : f.end] == f.text
        previous_end = f.end
    assert contact_kinds(text) == sorted({f.kind for f in findings})


@pytest.mark.parametrize(
    "text",
    [
        "1 " * 2500,
        "1" * 5000,
        "a@" * 2500,
        "a." * 2500,
        "ana at " * 700,
        "a dot " * 1000,
        "$ab " * 1250,
        "DE89 " * 1000,
        "a" * 4999 + "@",
        ("a" * 60 + ".") * 80,
        "a[at]b[dot]" * 450,
        "+1 " * 1666,
        "(1) " * 1250,
        "venmo @ab " * 500,
        "one two " * 625,
        "bank transfer account " * 227,
        "ana@gmail.com " * 357,
        "+44 20 7946 0958, " * 277,
    ],
)
def test_a_long_adversarial_message_is_checked_whole(text):
    # Shapes that make careless patterns backtrack; bench/contact_details.py times them.
    text = text[:5000]
    findings = contact_details_find(text)
    assert all(0 <= f.start < f.end <= len(text) for f in findings)
    assert all(a.end <= b.start for a, b in itertools.pairwise(findings))
