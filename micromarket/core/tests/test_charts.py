"""Server-rendered charts: the figures are there for people who cannot see the bars."""

from __future__ import annotations

from micromarket.core.charts import bar_chart, share_bar


def test_a_bar_chart_carries_its_figures_as_a_table_and_titles():
    html = bar_chart(
        ["Jan", "Feb"],
        {"Income": [12000, 8000], "Expenses": [3000, 4500]},
        title="Income by month",
        fmt=lambda v: f"${v / 100:,.2f}",
    )

    assert "<figcaption>Income by month</figcaption>" in html
    assert "<th scope='row'>Feb</th><td>$80.00</td><td>$45.00</td>" in html
    assert "<title>Jan — Income: $120.00</title>" in html
    assert html.count("<rect x=") == 4  # one bar per month and series


def test_negative_values_are_drawn_below_zero_and_labels_are_escaped():
    html = bar_chart(["<b>Q1</b>"], {"Profit": [-500]}, title="P&L")

    assert "&lt;b&gt;Q1&lt;/b&gt;" in html
    assert "<b>Q1</b>" not in html
    assert "P&amp;L" in html


def test_a_share_bar_gives_each_part_its_width_and_lists_every_part():
    html = share_bar([("Taxes", 2500), ("Owner pay", 7500), ("Empty", 0)], title="Envelopes")

    assert "width='25.00'" in html
    assert "width='75.00'" in html
    assert "Empty: 0" in html  # listed, though it takes no width
