"""Off-platform detector benchmark: time per message for ``contact_details_find``.

    .venv/bin/python bench/contact_details.py [--repeat 20]

Every message sent before an order exists goes through the detector, so it must stay linear in
the text. Messages: ordinary 300-character and 5,000-character chats (with and without contact
details) and the adversarial 5,000-character shapes from the tests (repetitions that make
careless patterns backtrack). Baseline measured in the same run: one simple compiled email
regex (``\\S+@\\S+``) over the same text — the cheapest check anyone would write.
Prints the median and worst time per message in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "micromarket.settings.test")

CHAT = (
    "Hi! I loved your portfolio. Could you design a logo for my bakery in Lyon? We open on "
    "12 March and need the files by the 1st. Budget is around €150, 3 concepts would be great. "
)
WITH_DETAILS = CHAT + "Write to me at chloe at gmail dot com or call +33 6 12 34 56 78. "
ADVERSARIAL = [
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
]


def _time(fn, text: str, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn(text)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    import django

    django.setup()
    from micromarket.messaging.contact_details import contact_details_find

    baseline = re.compile(r"\S+@\S+").findall
    cases = {
        "chat 300 chars": CHAT[:300],
        "chat 5,000 chars": (CHAT * 40)[:5000],
        "chat 5,000 chars with details": (WITH_DETAILS * 25)[:5000],
        **{f"adversarial {i + 1}": text[:5000] for i, text in enumerate(ADVERSARIAL)},
    }
    print(f"{'message':34} {'detector p50':>13} {'max':>8} {'baseline p50':>13}   (ms)")
    worst = 0.0
    for n, (name, text) in enumerate(cases.items(), start=1):
        ours = _time(contact_details_find, text, args.repeat)
        base = _time(baseline, text, args.repeat)
        worst = max(worst, max(ours))
        print(
            f"{name:34} {statistics.median(ours):13.2f} {max(ours):8.2f} "
            f"{statistics.median(base):13.3f}",
            file=sys.stdout,
        )
        print(f"  {n}/{len(cases)}", end="\r", file=sys.stderr)
    print(f"worst single message: {worst:.2f} ms")


if __name__ == "__main__":
    main()
