"""Charts as server-rendered SVG: no JavaScript, readable by screen readers, fine on a phone.
Colours are SVG attributes, so the strict CSP needs no inline styles.

Each chart is an ``<figure>`` holding an SVG (scaled to its container by ``viewBox``) and the
same figures as a visually hidden ``<table>``, so the numbers are there for assistive
technology and for copying. Values are integers (minor units for money); ``fmt`` turns one into
the label text (e.g. ``lambda v: money_format(v, "USD")``).

    bar_chart(labels, {"Income": [...], "Expenses": [...]}, title=..., fmt=...)
    share_bar([("Taxes", 2500), ("Owner pay", 5000)], title=..., fmt=...)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# Colour-blind-safe palette (Okabe–Ito), in series order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")

_KEY = (
    "<li><svg class='chart-key' viewBox='0 0 1 1' aria-hidden='true'>"
    "<rect width='1' height='1' fill='{}'/></svg>"
)
_W, _H = 640, 260  # the viewBox; the figure scales to its container
_PAD_L, _PAD_R, _PAD_T, _PAD_B = 64, 8, 12, 40


def _nice_max(value: int) -> int:
    """A round upper bound for the axis (1, 2, 2.5, 5 × 10ⁿ)."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        bound = int(step * magnitude)
        if bound >= value:
            return bound
    return 10 * magnitude


def _table(title: str, labels: Sequence[str], series: dict[str, Sequence[int]], fmt) -> SafeString:
    head = format_html_join("", "<th scope='col'>{}</th>", ((name,) for name in series))
    rows = format_html_join(
        "",
        "<tr><th scope='row'>{}</th>{}</tr>",
        (
            (
                label,
                format_html_join(
                    "", "<td>{}</td>", ((fmt(values[i]),) for values in series.values())
                ),
            )
            for i, label in enumerate(labels)
        ),
    )
    return format_html(
        "<table class='visually-hidden'><caption>{}</caption><thead><tr><th scope='col'>"
        "</th>{}</tr></thead><tbody>{}</tbody></table>",
        title,
        head,
        rows,
    )


def bar_chart(
    labels: Sequence[str],
    series: dict[str, Sequence[int]],
    *,
    title: str,
    fmt: Callable[[int], str] = str,
) -> SafeString:
    """Vertical bars, one group per label and one bar per series (negative values go below the
    zero line). Returns the whole ``<figure>``."""
    names = list(series)
    values = [v for vs in series.values() for v in vs]
    top = _nice_max(max([0, *values]))
    bottom = -_nice_max(-min([0, *values])) if min([0, *values]) < 0 else 0
    span = top - bottom or 1
    plot_w, plot_h = _W - _PAD_L - _PAD_R, _H - _PAD_T - _PAD_B

    def y(v: int) -> float:
        return _PAD_T + plot_h * (top - v) / span

    parts: list[str] = []
    for tick in (bottom, (bottom + top) / 2, top) if bottom else (0, top / 2, top):
        ty = y(tick)
        parts.append(
            f"<line x1='{_PAD_L}' x2='{_W - _PAD_R}' y1='{ty:.1f}' y2='{ty:.1f}' "
            f"class='chart-grid'/><text x='{_PAD_L - 6}' y='{ty + 4:.1f}' text-anchor='end' "
            f"class='chart-axis'>{escape(fmt(int(tick)))}</text>"
        )
    group_w = plot_w / max(1, len(labels))
    bar_w = max(2.0, group_w * 0.8 / max(1, len(names)))
    every = max(1, len(labels) // 12)  # at most ~12 axis labels
    for i, label in enumerate(labels):
        gx = _PAD_L + i * group_w + group_w * 0.1
        for j, name in enumerate(names):
            v = series[name][i]
            y0, y1 = sorted((y(0), y(v)))
            parts.append(
                f"<rect x='{gx + j * bar_w:.1f}' y='{y0:.1f}' width='{bar_w - 1:.1f}' "
                f"height='{max(0.5, y1 - y0):.1f}' fill='{PALETTE[j % len(PALETTE)]}'>"
                f"<title>{escape(label)} — {escape(name)}: {escape(fmt(v))}</title></rect>"
            )
        if i % every == 0:
            parts.append(
                f"<text x='{gx + group_w * 0.4:.1f}' y='{_H - _PAD_B + 16}' text-anchor='middle' "
                f"class='chart-axis'>{escape(label)}</text>"
            )
    legend = format_html_join(
        "",
        _KEY + "{}</li>",
        ((PALETTE[j % len(PALETTE)], name) for j, name in enumerate(names)),
    )
    svg = mark_safe(  # noqa: S308 — every text above is escaped; numbers are formatted floats
        f"<svg viewBox='0 0 {_W} {_H}' role='img' aria-hidden='true' class='chart-svg' "
        f"preserveAspectRatio='xMidYMid meet'>{''.join(parts)}</svg>"
    )
    return format_html(
        "<figure class='chart'><figcaption>{}</figcaption>{}<ul class='chart-legend'>{}</ul>"
        "{}</figure>",
        title,
        svg,
        legend,
        _table(title, labels, series, fmt),
    )


def share_bar(
    parts: Sequence[tuple[str, int]], *, title: str, fmt: Callable[[int], str] = str
) -> SafeString:
    """One horizontal bar split into shares (envelopes of a budget, sources of income).
    Non-positive parts are listed but take no width."""
    total = sum(v for _, v in parts if v > 0) or 1
    x = 0.0
    rects: list[str] = []
    for j, (name, v) in enumerate(parts):
        if v <= 0:
            continue
        w = 100 * v / total
        rects.append(
            f"<rect x='{x:.2f}' y='0' width='{w:.2f}' height='10' "
            f"fill='{PALETTE[j % len(PALETTE)]}'><title>{escape(name)}: {escape(fmt(v))}"
            f"</title></rect>"
        )
        x += w
    svg = mark_safe(  # noqa: S308 — names and values escaped above
        "<svg viewBox='0 0 100 10' preserveAspectRatio='none' role='img' aria-hidden='true' "
        f"class='chart-share'>{''.join(rects)}</svg>"
    )
    legend = format_html_join(
        "",
        _KEY + "{}: {}</li>",
        ((PALETTE[j % len(PALETTE)], name, fmt(v)) for j, (name, v) in enumerate(parts)),
    )
    return format_html(
        "<figure class='chart'><figcaption>{}</figcaption>{}<ul class='chart-legend'>{}</ul>"
        "{}</figure>",
        title,
        svg,
        legend,
        _table(title, [name for name, _ in parts], {title: [v for _, v in parts]}, fmt),
    )
