"""Small static charts as HTML and CSS: the browser draws them at once, with no JavaScript.

For the charts of a page's first view (Data's two, the speed race's waste chart). As plotly
figures they made the browser fetch and compile plotly.js (about 4.6 MB) before the page
settled: 0.4 s of a 3 s first render on a 2-core machine, and 0.17 s of the server's script
building the first figures (docs/benchmarks.md, *First render*). Every bar and point keeps its
figures as a tooltip (the `title` attribute), and every text is escaped: labels are visitors'.

Geometry is in percent of the plot area, so a chart fills its column at any width and its
text stays at the page's size; the lines of `lines` are an SVG stretched to the plot area,
drawn with `vector-effect: non-scaling-stroke` so that stretching does not thicken them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from html import escape
from urllib.parse import quote

from nameclf.charts.token_grid import MUTED  # axis text, as in the token grids

GRID = "#e5e7eb"  # gridlines
AXIS = "#9ca3af"  # the zero line
HEIGHT = 240  # plot area height in pixels (the figure adds its title, ticks and labels)
GUTTER = "3.4em"  # room for the y tick labels
TICK = f"font-size:11px;color:{MUTED};white-space:nowrap"
COLUMN = "flex:1;min-width:0;max-width:{}px"  # a bar and its label: few labels, no slabs


def nice_ticks(top: float, most: int = 5) -> list[float]:
    """0 and evenly spaced round values (1, 2 or 5 times a power of ten) covering `top`."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def count(value: float) -> str:
    """A count as people read it: 1,234."""
    return f"{value:,.0f}"


def percent(value: float) -> str:
    """A share as people read it: 37%."""
    return f"{value:.0%}"


def _frame(title: str, y_title: str, plot: str, below: str, x_title: str, summary: str,
           legend: str = "") -> str:
    """Title, legend, the y title beside the plot area, then the x ticks and the x title; to
    a screen reader, one image whose label is `summary` (every bar's or point's tooltip)."""
    y_label = (f'<div style="writing-mode:vertical-rl;transform:rotate(180deg);{TICK};'
               f'font-size:12px;text-align:center">{escape(y_title)}</div>')
    return (f'<div role="img" aria-label="{escape(summary)}" '
            f'style="margin:0.25rem 0 1rem 0;font-size:14px">'
            f'<div style="font-weight:600;margin-bottom:4px">{escape(title)}</div>{legend}'
            f'<div style="display:flex;align-items:stretch;gap:4px">{y_label}'
            f'<div style="flex:1;min-width:0">{plot}{below}'
            f'<div style="text-align:center;{TICK};font-size:12px;margin-top:2px">'
            f"{escape(x_title)}</div></div></div></div>")


def _grid(ticks: Sequence[float], top: float, fmt: Callable[[float], str]) -> str:
    """Horizontal gridlines at `ticks` (of an axis from 0 to `top`), labelled in the gutter."""
    lines = []
    for tick in ticks:
        line = AXIS if tick == 0 else GRID
        lines.append(f'<div style="position:absolute;left:0;right:0;bottom:{tick / top:.4%};'
                     f'border-top:1px solid {line}"><span style="position:absolute;right:100%;'
                     f'transform:translateY(-50%);padding-right:6px;{TICK}">{escape(fmt(tick))}'
                     f"</span></div>")
    return "".join(lines)


def columns(labels: Sequence[object], values: Sequence[float], title: str, x_title: str,
            y_title: str, color: str | Sequence[str] = "#4c78a8",
            tips: Sequence[str] | None = None, upright: bool = False,
            fmt: Callable[[float], str] = count,
            on_top: Callable[[float], str] | None = None) -> str:
    """A column chart: one bar per label in `color` (one for all, or one each), labels under
    the bars (read bottom to top unless `upright`), each bar's tooltip `tips[i]` (default
    "label: value"), `on_top(value)` written above each bar if given; `fmt` writes the y ticks.
    Integer labels make a histogram: bars that touch, and past 12 labels only multiples of k
    written (k = 2, 5, 10, ...); past 40 other labels, every k-th: they never overlap."""
    colors = [color] * len(values) if isinstance(color, str) else list(color)
    top = max([*values, 0]) * (1.15 if on_top else 1) or 1  # room for the text on top
    ticks = nice_ticks(top)
    top = ticks[-1]
    tips = tips or [f"{label}: {fmt(v)}" for label, v in zip(labels, values)]
    histogram = all(isinstance(label, int) for label in labels)
    gap = "1px" if len(values) > 40 else "2px" if histogram or len(values) > 12 else "10px"
    column = COLUMN.format(110 if len(values) <= 6 and not histogram else 72)  # room to wrap
    bars = []
    for v, tip, c in zip(values, tips, colors):
        text = (f'<span style="position:absolute;bottom:100%;left:50%;transform:translateX(-50%);'
                f'padding-bottom:2px;{TICK}">{escape(on_top(v))}</span>' if on_top else "")
        bars.append(f'<div title="{escape(tip)}" style="{column};height:{v / top:.4%};'
                    f'position:relative;background:{escape(c)};border-radius:2px 2px 0 0">'
                    f"{text}</div>")
    plot = (f'<div style="position:relative;height:{HEIGHT}px;margin-left:{GUTTER}">'
            f"{_grid(ticks, top, fmt)}"
            f'<div style="position:absolute;inset:0;display:flex;align-items:flex-end;'
            f'justify-content:center;gap:{gap}">{"".join(bars)}</div></div>')
    every = max(1, math.ceil(len(labels) / (12 if histogram else 40)))
    if every > 1:  # round steps (5, 10, ...) read better than 3 or 7
        every = next(s for s in (2, 5, 10, 20, 50, 100, every) if s >= every)
    # turned labels are cut at 7.5em; upright ones wrap under their bar
    turn = ("white-space:normal;text-align:center;" if upright else
            "writing-mode:vertical-rl;transform:rotate(180deg);max-height:7.5em;"
            "overflow:hidden;text-overflow:ellipsis;")
    cells = []
    for i, label in enumerate(labels):
        shown = label % every == 0 if histogram else i % every == 0  # 5, 10, 15 for lengths
        cells.append(f'<div title="{escape(str(label))}" style="{column};display:flex;'
                     f'justify-content:center"><span style="{"" if upright else "flex:none;"}'
                     f'{TICK};{turn}line-height:1.25;padding-top:4px">'
                     f'{escape(str(label)) if shown else ""}</span></div>')
    below = (f'<div style="display:flex;justify-content:center;gap:{gap};'
             f'margin-left:{GUTTER}">{"".join(cells)}</div>')
    return _frame(title, y_title, plot, below, x_title, f"{title or y_title}: {'; '.join(tips)}")


def _svg_uri(shapes: Sequence[str]) -> str:
    """An SVG of `shapes` in a 100 x 100 box, stretched to whatever box shows it, as a data
    URI: Streamlit's st.html keeps no inline <svg> (its sanitiser allows HTML only), but an
    image of one, which cannot run anything."""
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" '
           f'preserveAspectRatio="none" overflow="visible">{"".join(shapes)}</svg>')
    return "data:image/svg+xml," + quote(svg)


def _swatch(name: str, color: str, dashed: bool = False) -> str:
    """A legend entry: a short line in the series' colour, then its name."""
    stroke = f"2px {'dotted' if dashed else 'solid'} {escape(color)}"
    return (f'<span style="display:inline-flex;align-items:center;gap:6px;margin-right:16px">'
            f'<span style="display:inline-block;width:22px;border-top:{stroke}"></span>'
            f'<span style="font-size:12px">{escape(name)}</span></span>')


def lines(x: Sequence[float], series: Mapping[str, tuple[Sequence[float], str]], title: str,
          x_title: str, y_title: str, marked: float | None = None, marked_name: str = "",
          x_fmt: Callable[[float], str] = count, y_fmt: Callable[[float], str] = percent,
          y_top: float = 1.0) -> str:
    """Lines with markers over a log x axis from 0 to `y_top`: `series` maps a name to its
    values (one per x) and colour; `marked` draws a dotted vertical line at that x. Each
    marker's tooltip gives the series, x and y."""
    ends = [*x, marked] if marked else list(x)
    lo, hi = min(ends), max(ends)

    def left(v: float) -> float:  # percent of the plot's width, a margin each side
        return 3 + 94 * (math.log(v / lo) / math.log(hi / lo) if hi > lo else 0.5)

    xs = [left(a) for a in x]
    svg, dots, tips = [], [], []
    for name, (values, color) in series.items():
        ys = [100 * b / y_top for b in values]  # percent of the plot's height
        points = " ".join(f"{a:.3f},{100 - b:.3f}" for a, b in zip(xs, ys))
        svg.append(f'<polyline points="{points}" fill="none" stroke="{escape(color)}" '
                   f'stroke-width="2" vector-effect="non-scaling-stroke"/>')
        for a, b, at, up in zip(x, values, xs, ys):
            tip = f"{name} · {x_title} {x_fmt(a)}: {y_fmt(b)}"
            tips.append(tip)
            dots.append(f'<div title="{escape(tip)}" style="position:absolute;left:{at:.3f}%;'
                        f'bottom:{up:.3f}%;width:8px;height:8px;margin:0 0 -4px -4px;'
                        f'border-radius:50%;background:{escape(color)}"></div>')
    mark = ""
    if marked:
        mark = (f'<div title="{escape(marked_name)}" style="position:absolute;top:0;bottom:0;'
                f'left:{left(marked):.3f}%;border-left:2px dotted {MUTED}"></div>')
    ticks = [0, y_top / 4, y_top / 2, 3 * y_top / 4, y_top]
    plot = (f'<div style="position:relative;height:{HEIGHT}px;margin-left:{GUTTER}">'
            f"{_grid(ticks, y_top, y_fmt)}{mark}"
            f'<img alt="" src="{_svg_uri(svg)}" style="position:absolute;inset:0;width:100%;'
            f'height:100%">'
            f'{"".join(dots)}</div>')
    below = "".join(f'<span style="position:absolute;left:{at:.3f}%;'
                    f'transform:translateX(-50%);{TICK};padding-top:4px">{escape(x_fmt(a))}'
                    f"</span>" for a, at in zip(x, xs))
    below = f'<div style="position:relative;height:1.6em;margin-left:{GUTTER}">{below}</div>'
    legend = [_swatch(name, color) for name, (_, color) in series.items()]
    if marked:
        legend.append(_swatch(marked_name, MUTED, dashed=True))
    legend = f'<div style="margin:2px 0 10px {GUTTER}">{"".join(legend)}</div>'
    summary = f"{title or y_title} by {x_title}: {'; '.join(tips)}"
    return _frame(title, y_title, plot, below, x_title, summary, legend)
