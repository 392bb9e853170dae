"""Plotly figures for the app: pure functions from data to figures, no Streamlit. (Data's two
charts are HTML instead, from nameclf.charts.html: the page's first view loads no plotly.js.)

Labels, names and file names come from visitors' files, and plotly.js reads a little HTML in
every piece of text it draws (tick labels, legend entries, hover text, bar text, annotations,
titles): `<b>` turns bold, `<br>` breaks the line, `<a href>` links, `<sup>` raises, and
entities such as `&lt;` are decoded. So every figure builder passes visitors' text through
`plain`, which escapes `&`, `<` and `>`: plotly.js then decodes the entities back and draws
exactly the characters typed (checked in Chromium: `<b>x</b>` shows as `<b>x</b>`, not bold).
Only the builders' own markup (a `<br>` between two lines of a bar label) stays HTML.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import plotly.graph_objects as go

from nameclf.charts import html as html_chart

if TYPE_CHECKING:  # only an annotation here: the pages that draw no table load no pandas
    import pandas as pd

HEIGHT = 340  # default figure height in pixels
# st.plotly_chart(fig, config=CHART_CONFIG): plotly's toolbar appears over the top right
# corner on hover, exactly where the legends sit; zoom (drag) and reset (double-click) remain
CHART_CONFIG = {"displayModeBar": False}
MARGIN = dict(l=10, r=10, t=40, b=10)
CURVE_COLORS = ("#0068c9", "#83c9ff")  # the first two of Streamlit's chart colours


def plain(text: object) -> str:
    """`text` as plotly.js should show it: literally, tags and entities included."""
    if text is None:
        return ""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plains(texts: Iterable[object]) -> list[str]:
    """`plain` of each."""
    return [plain(t) for t in texts]


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = HEIGHT) -> go.Figure:
    """The common look: title, axis titles, tight margins, legend on top.

    The legend sits at the left, between the title and the plot: plotly's toolbar appears
    over the top right corner on hover, and would cover a legend there.
    """
    margin = MARGIN if title else dict(MARGIN, t=10)
    legend = len(fig.data) > 1 or any(t.showlegend for t in fig.data)
    if legend:
        margin = dict(margin, t=margin["t"] + 28)
    fig.update_layout(title=dict(text=plain(title), y=1, yref="container", yanchor="top",
                                 pad=dict(t=10)),
                      xaxis_title=plain(x), yaxis_title=plain(y), height=height, margin=margin,
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, xanchor="left"))
    return fig


def class_counts(counts: Mapping[str, int]) -> str:
    """Column chart of names per label, largest first, as HTML (drawn on Data's first view:
    nameclf.charts.html says why not plotly)."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return html_chart.columns([k for k, _ in items], [v for _, v in items], "Names per label",
                              "label", "names",
                              tips=[f"{k}: {v:,} names" for k, v in items])


def name_lengths(names: Sequence[str]) -> str:
    """Histogram of name lengths in characters, as HTML: one bar per length from the
    shortest to the longest, an empty one where no name has that length."""
    counts = Counter(len(n) for n in names)
    lengths = list(range(min(counts, default=0), max(counts, default=0) + 1))
    return html_chart.columns(lengths, [counts[k] for k in lengths], "Name length",
                              "characters", "names", color="#72b7b2", upright=True,
                              tips=[f"{k} characters: {counts[k]:,} names" for k in lengths])


def loss_curve(history: Mapping[str, list], title: str = "Training loss") -> go.Figure:
    """Per-step loss (faint) and its running mean (bold)."""
    fig = go.Figure()
    fig.add_scatter(x=history.get("step", []), y=history.get("loss", []), mode="lines",
                    name="loss per step", line=dict(width=1, color="rgba(76,120,168,0.35)"))
    fig.add_scatter(x=history.get("step", []), y=history.get("running_loss", []), mode="lines",
                    name="running mean", line=dict(width=3, color="#4c78a8"))
    return _layout(fig, title, "step", "loss (NLL)")


def accuracy_curve(history: Mapping[str, list], title: str = "Test accuracy",
                   mixed: tuple[float, float] | None = None) -> go.Figure:
    """Top-1 and top-2 accuracy at each evaluation step; `mixed`: a mixture's final top-1 and
    top-2, drawn as stars at the last step beside its recurrent part's curves."""
    fig = go.Figure()
    x = history.get("eval_step", [])
    fig.add_scatter(x=x, y=history.get("top1", []), mode="lines+markers", name="top-1")
    fig.add_scatter(x=x, y=history.get("top2", []), mode="lines+markers", name="top-2")
    if mixed is not None and x:
        for name, value, color in zip(("top-1 mixed", "top-2 mixed"), mixed, CURVE_COLORS):
            fig.add_scatter(x=[x[-1]], y=[value], mode="markers", name=name,
                            marker=dict(symbol="star", size=14, color=color),
                            cliponaxis=False)  # whole at 100%
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    return _layout(fig, title, "step", "accuracy")


def confusion_heatmap(confusion: pd.DataFrame) -> go.Figure:
    """Row-normalized confusion matrix: each true label's names spread over predictions."""
    totals = confusion.sum(axis=1).replace(0, 1)
    share = confusion.div(totals, axis=0)
    fig = go.Figure(go.Heatmap(
        z=share.values, x=plains(confusion.columns), y=plains(confusion.index),
        colorscale="Blues", zmin=0, zmax=1, customdata=confusion.values,
        hovertemplate=("true %{y}<br>predicted %{x}<br>%{z:.0%} (%{customdata} names)"
                       "<extra></extra>"),
    ))
    fig.update_yaxes(autorange="reversed", dtick=1)
    fig.update_xaxes(dtick=1)  # every label, not every other one
    size = max(360, min(900, 24 * len(confusion) + 160))
    return _layout(fig, "Confusion matrix (each row sums to 100%)", "predicted", "true", size)


def topk_bars(top: Sequence[tuple[str, float]], title: str = "") -> go.Figure:
    """Horizontal bars of the top-k labels and their probabilities, best on top."""
    labels = plains(label for label, _ in top)[::-1]
    probs = [p for _, p in top][::-1]
    fig = go.Figure(go.Bar(x=probs, y=labels, orientation="h", marker_color="#f58518",
                           text=[f"{p:.0%}" for p in probs], textposition="auto"))
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    return _layout(fig, title, "probability", "", height=max(160, 48 * len(top) + 80))


def compare_curves(histories: Mapping[str, Mapping[str, list]], metric: str) -> go.Figure:
    """One line per run: the running loss (`metric="loss"`) or top-1 accuracy (`"top1"`)."""
    fig = go.Figure()
    for name, hist in histories.items():
        if metric == "loss":
            fig.add_scatter(x=hist.get("step", []), y=hist.get("running_loss", []),
                            mode="lines", name=plain(name))
        else:
            fig.add_scatter(x=hist.get("eval_step", []), y=hist.get(metric, []),
                            mode="lines+markers", name=plain(name))
    if metric == "loss":
        return _layout(fig, "Training loss (running mean)", "step", "loss (NLL)")
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    return _layout(fig, f"Test {metric.replace('top', 'top-')} accuracy", "step", "accuracy")


def prefix_lines(steps: Sequence[tuple[str, Sequence[tuple[str, float]]]], top: int = 3,
                 max_lines: int = 6) -> go.Figure:
    """Each leading label's probability against the characters read so far (S, Sc, Sch, ...).

    `steps` is `classify.prefix.prefix_predictions` output; give it every label (k = number of
    labels) so each line is complete. The lines are the union of every prefix's top `top`
    labels, the `max_lines` with the highest peak kept.
    """
    prefixes = plains(prefix for prefix, _ in steps)
    rows = [dict(row) for _, row in steps]
    leaders = {label for _, row in steps for label, _ in row[:top]}
    peak = {label: max(r.get(label, 0.0) for r in rows) for label in leaders}
    chosen = sorted(leaders, key=lambda label: (-peak[label], label))[:max_lines]
    fig = go.Figure()
    for label in chosen:
        fig.add_scatter(x=prefixes, y=[r.get(label) for r in rows], mode="lines+markers",
                        name=plain(label), hovertemplate="%{y:.0%} after %{x}")
    # prefixes such as "1" and "12" stay text; each tick shows only the character just read
    # (a space as ␣), level, so a long name's ticks stay one line under the chart
    last = plains("␣" if prefix[-1:] == " " else prefix[-1:] for prefix, _ in steps)
    fig.update_xaxes(type="category", tickmode="array", tickvals=prefixes, ticktext=last,
                     tickangle=0)
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    return _layout(fig, "Prediction as each character is read",
                   "the character just read (hover: everything read so far)", "probability")


def word_frequencies(names: Sequence[str], zipf: Sequence[Sequence[float]],
                     languages: Sequence[str]) -> go.Figure:
    """Heatmap of each name's Zipf frequency as a word in each language (blank: unlisted)."""
    z = [[v if v > 0 else None for v in row] for row in zipf]
    text = [["" if v is None else f"{v:.1f}" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(
        z=z, x=plains(languages), y=plains(names), text=text, texttemplate="%{text}",
        colorscale="Greens", zmin=0, zmax=7, hoverongaps=False,
        hovertemplate="%{y} in %{x} text: Zipf %{z:.2f}<extra></extra>",
        colorbar=dict(title="Zipf"),
    ))
    fig.update_yaxes(autorange="reversed", type="category", dtick=1)
    fig.update_xaxes(type="category")
    height = max(200, 30 * len(names) + 120)
    return _layout(fig, "How common each name is as a word, by language", "", "", height)
