"""Diagrams and tables of the transaction processes, generated from ``orders.processes``.

``docs/orders.md`` holds them between the markers ``<!-- processes:start -->`` and
``<!-- processes:end -->``; ``micromarket orders_diagrams`` rewrites that block (``--check``
fails when it is out of date, and a test does the same), so the page never drifts from the
declarations that ``services.order_transition`` applies.

Nothing here touches the database.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path

from micromarket.orders import processes
from micromarket.orders.processes import PENDING_PAYMENT, SYSTEM, Process, Transition

START, END = "<!-- processes:start -->", "<!-- processes:end -->"
DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "orders.md"
ACTOR_ORDER = ("buyer", "seller", "operator", "system")
TIMER = "⏱"
LOOP = "↻"


def _actors(actors: Iterable[str]) -> str:
    return ", ".join(a for a in ACTOR_ORDER if a in actors)


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 86400 == 0 and seconds >= 3 * 86400:
        n, unit = seconds // 86400, "day"
    elif seconds % 3600 == 0:
        n, unit = seconds // 3600, "hour"
    else:
        n, unit = max(seconds // 60, 1), "minute"
    return f"{n} {unit}{'s' if n != 1 else ''}"


def _first_line(func: Callable) -> str:
    doc = inspect.getdoc(func) or ""
    return doc.strip().splitlines()[0].rstrip(".") if doc.strip() else ""


def when_text(when: Callable) -> str:
    """How a deadline function reads: "after 3 days", "at once", or its docstring or name."""
    if when is processes._now:
        return "at once"
    for cell in getattr(when, "__closure__", None) or ():
        if isinstance(cell.cell_contents, timedelta):
            return f"after {_duration(cell.cell_contents)}"
    return _first_line(when) or when.__name__.replace("_", " ")


def guard_text(transition: Transition) -> str:
    if transition.guard is None:
        return ""
    return _first_line(transition.guard) or f"`{transition.guard.__name__}`"


def _timers(process: Process) -> dict[tuple[str, str], str]:
    """(state, transition name) → when the sweeper applies it."""
    return {
        (state, deadline.transition): when_text(deadline.when)
        for state, deadlines in process.deadlines.items()
        for deadline in deadlines
    }


def _taken(process: Process) -> list[Transition]:
    """The transitions that can happen in ``process`` (the shared ones declared with no source
    state, e.g. mutual cancellation of a booking, never apply and are left out)."""
    return [t for t in process.transitions.values() if t.sources]


def _edge_label(transition: Transition, timer: str | None) -> str:
    if timer is None:
        return f"{transition.name} ({_actors(transition.actors)})"
    return f"{TIMER} {transition.name} ({_actors(transition.actors)}, {timer})"


def process_mermaid(process: Process) -> str:
    """A Mermaid ``stateDiagram-v2`` of ``process``: every state with its label, every
    transition as an edge labelled ``name (who)``; automatic ones marked ⏱ with their timing;
    transitions that keep the state (asking to cancel …) as one ↻ loop per state."""
    timers = _timers(process)
    lines = ["stateDiagram-v2"]
    for state, label in process.states.items():
        lines.append(f'    state "{label}" as {state}')
    lines.append(f"    [*] --> {PENDING_PAYMENT}")
    loops: dict[str, list[str]] = {}
    for transition in _taken(process):
        for source in transition.sources:
            if transition.target is None:
                loops.setdefault(source, []).append(
                    _edge_label(transition, timers.get((source, transition.name)))
                )
                continue
            label = _edge_label(transition, timers.get((source, transition.name)))
            lines.append(f"    {source} --> {transition.target}: {label}")
    for state, labels in loops.items():
        lines.append(f"    {state} --> {state}: {LOOP} {' / '.join(labels)}")
    for state in process.states:
        if state in process.terminal:
            lines.append(f"    {state} --> [*]")
    return "\n".join(lines) + "\n"


def _who(transition: Transition, sources: tuple[str, ...], timers: dict) -> str:
    who = _actors(transition.actors)
    timed = [timers[(s, transition.name)] for s in sources if (s, transition.name) in timers]
    if timed and SYSTEM in transition.actors:
        who = who.replace(SYSTEM, f"system {TIMER} {timed[0]}")
    return who


def process_table(process: Process) -> str:
    """One row per transition: name and button, from, to, who, guard, input, effects."""
    timers = _timers(process)
    rows = [
        "| transition | from | to | who | refused when (guard) | input | effects |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in _taken(process):
        sources = ", ".join(f"`{s}`" for s in t.sources)
        target = f"`{t.target}`" if t.target else "(stays)"
        effects = ", ".join(f"`{e.__name__}`" for e in t.effects) or "—"
        cells = [
            f"`{t.name}` — {t.label}",
            sources,
            target,
            _who(t, t.sources, timers),
            guard_text(t) or "—",
            t.form or "—",
            effects,
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def process_section(process: Process) -> str:
    states = ", ".join(f"`{s}` ({label})" for s, label in process.states.items())
    terminal = ", ".join(f"`{s}`" for s in process.states if s in process.terminal)
    return (
        f"### {process.label} (`{process.name}`)\n\n"
        f"```mermaid\n{process_mermaid(process)}```\n\n"
        f"States: {states}. Final: {terminal}.\n\n"
        f"{process_table(process)}"
    )


def processes_markdown(all_processes: dict[str, Process] | None = None) -> str:
    """The generated block, markers included."""
    all_processes = processes.PROCESSES if all_processes is None else all_processes
    sections = "\n".join(process_section(p) for p in all_processes.values())
    return (
        f"{START}\n"
        "<!-- Generated from micromarket/orders/processes.py by "
        "`micromarket orders_diagrams`; edit the declarations, not this block. -->\n\n"
        f"{sections}\n"
        f"{END}"
    )


def doc_render(text: str, all_processes: dict[str, Process] | None = None) -> str:
    """``text`` (the page) with its generated block replaced by the current one."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"The page has no {START} … {END} block.")
    return text[:start] + processes_markdown(all_processes) + text[end + len(END) :]
