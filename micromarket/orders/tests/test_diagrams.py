"""docs/orders.md shows the processes as declared: its diagrams and tables are generated from
``orders.processes`` and must be regenerated (``micromarket orders_diagrams``) when they change."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from micromarket.orders import diagrams
from micromarket.orders.processes import PROCESSES


def test_committed_page_is_up_to_date_with_the_declarations():
    text = diagrams.DOC_PATH.read_text(encoding="utf-8")
    assert diagrams.doc_render(text) == text, (
        "docs/orders.md is stale: run `micromarket orders_diagrams` and commit it"
    )


@pytest.mark.parametrize("process", PROCESSES.values(), ids=list(PROCESSES))
def test_every_diagram_names_every_transition_and_state(process):
    mermaid = diagrams.process_mermaid(process)
    table = diagrams.process_table(process)
    assert mermaid.startswith("stateDiagram-v2\n")
    for name, transition in process.transitions.items():
        if transition.sources:  # shared steps declared without a source never apply
            assert f" {name} (" in mermaid, name
            assert f"`{name}`" in table, name
    for state, label in process.states.items():
        assert f'state "{label}" as {state}' in mermaid
    for state in process.terminal:
        assert f"{state} --> [*]" in mermaid


def test_automatic_steps_are_marked_with_their_timing():
    service = diagrams.process_mermaid(PROCESSES["service"])
    assert "delivered --> completed: ⏱ auto_complete (system, after 3 days)" in service
    assert "delivered --> completed: accept (buyer)" in service
    rental = diagrams.process_mermaid(PROCESSES["rental"])
    assert "requested --> declined: ⏱ expire (system, after 24 hours)" in rental
    physical = diagrams.process_mermaid(PROCESSES["physical"])
    assert "received --> completed: ⏱ complete (system, at once)" in physical
    # asking to cancel keeps the state: drawn as one loop per state
    assert "paid --> paid: ↻ request_cancellation (buyer, seller)" in physical


def test_durations_read_naturally():
    assert diagrams._duration(timedelta(days=14)) == "14 days"
    assert diagrams._duration(timedelta(hours=48)) == "48 hours"
    assert diagrams._duration(timedelta(hours=1)) == "1 hour"
    assert diagrams._duration(timedelta(minutes=30)) == "30 minutes"


def test_command_rewrites_the_block_and_check_fails_when_stale(tmp_path):
    page = tmp_path / "orders.md"
    page.write_text(f"# Orders\n\nWords.\n\n{diagrams.START}\nold\n{diagrams.END}\n\nAfter.\n")
    with pytest.raises(CommandError, match="out of date"):
        call_command("orders_diagrams", "--check", "--path", str(page), stdout=io.StringIO())
    assert "old" in page.read_text()

    call_command("orders_diagrams", "--path", str(page), stdout=io.StringIO())
    text = page.read_text()
    assert text.startswith("# Orders\n\nWords.\n\n")
    assert text.endswith(f"{diagrams.END}\n\nAfter.\n")
    assert "### Service gig (`service`)" in text
    call_command("orders_diagrams", "--check", "--path", str(page), stdout=io.StringIO())


def test_command_refuses_a_page_without_markers(tmp_path):
    page = tmp_path / "orders.md"
    page.write_text("# Orders\n")
    with pytest.raises(CommandError, match="processes:start"):
        call_command("orders_diagrams", "--path", str(page), stdout=io.StringIO())
