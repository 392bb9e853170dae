"""A name as a strip of coloured letters: how much each one moved the model's answer.

Green pushed towards the label explained, red away from it, the colour's strength relative
to the strongest letter of the strip. Plain HTML; every letter is escaped (names are typed by
visitors) and keeps its value as a tooltip.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from nameclf.charts.token_grid import MUTED

FOR, AGAINST = (22, 163, 74), (220, 38, 38)  # green, red


def shade(value: float, top: float) -> str:
    """The background of one letter: its colour, as opaque as |value| is to `top`."""
    r, g, b = FOR if value >= 0 else AGAINST
    alpha = min(1.0, abs(value) / top) if top > 0 else 0.0
    return f"rgba({r},{g},{b},{0.85 * alpha:.2f})"


def strip(name: str, values: Sequence[float], method: str, unit: str) -> str:
    """One row: the method's name, then each letter of `name` on its attribution's colour."""
    if len(values) != len(name):
        raise ValueError(f"{len(values)} values for a name of {len(name)} characters")
    top = max((abs(v) for v in values), default=0.0)
    cells = "".join(
        f'<span title="{escape(repr(c))}: {v:+.3f} {escape(unit)}" style="display:inline-block;'
        f"min-width:1.4em;padding:0.2em 0.25em;margin:1px;text-align:center;border-radius:4px;"
        f'font-family:monospace;font-size:1.2em;background:{shade(v, top)}">'
        f"{escape(c) if c.strip() else '&nbsp;'}</span>"
        for c, v in zip(name, values, strict=True))
    return (f'<div style="margin:0.2em 0"><div style="font-size:12px;color:{MUTED}">'
            f"{escape(method)}</div>{cells}</div>")
