"""Figures of the generator: pure functions from data (lm_explain, histories) to plotly
figures, and to HTML (nameclf.charts.token_grid, nameclf.charts.html) for the walkthrough's tables
and its loss bars: that page's first view loads no plotly.js."""

import math
from collections.abc import Mapping

import plotly.graph_objects as go

from nameclf.charts import html as html_chart

# pages pass CHART_CONFIG to st.plotly_chart with these figures: no toolbar over a legend
from nameclf.charts.figures import CHART_CONFIG, HEIGHT, _layout, plain, plains  # noqa: F401
from nameclf.charts.token_grid import token_grid

LN2 = math.log(2)
REAL, PAD, SPECIAL = "#bfdbfe", "#e5e7eb", "#fde68a"  # character, <pad>, <sos>/<eos>


def _kind(token: str) -> str:
    return PAD if token == "<pad>" else SPECIAL if token in ("<sos>", "<eos>") else REAL


def shifted_grids(data: dict) -> tuple[str, str]:
    """The input grid (<sos> + name) and the target grid (name + <eos>), padded (HTML)."""
    grids = []
    for key, title in (("inputs", "Inputs: what the net reads at step t"),
                       ("targets", "Targets: what it must predict at step t")):
        cells = data[key]
        grids.append(token_grid(cells, [[_kind(c) for c in row] for row in cells],
                                data["names"], title))
    return grids[0], grids[1]


def mask_grid(data: dict) -> str:
    """Each target cell with its loss in nats; padding greyed out (the mask leaves it out)."""
    cells, colors, hover = [], [], []
    top = max(max(row) for row in data["cell_losses"]) or 1.0
    for row, losses, keep in zip(data["targets"], data["cell_losses"], data["mask"]):
        cells.append(list(row))
        colors.append([_heat(x / top) if k else PAD for x, k in zip(losses, keep)])
        hover.append([f"{tok}: {x:.2f} nats" + ("" if k else " (padding: masked out)")
                      for tok, x, k in zip(row, losses, keep)])
    title = (f"Loss per target cell (darker = higher); grey cells are padding, "
             f"{data['pad_share']:.0%} of the grid")
    return token_grid(cells, colors, data["names"], title, hover)


def _heat(share: float) -> str:
    """White to deep orange."""
    share = min(max(share, 0.0), 1.0)
    r, g, b = 255, int(247 - 140 * share), int(237 - 200 * share)
    return f"rgb({r},{g},{b})"


def packed_strip(data: dict) -> str:
    """The packed targets, one box per real cell, grouped by time step (batch_sizes) (HTML)."""
    cells, colors, labels = [], [], []
    pos = 0
    for t, size in enumerate(data["batch_sizes"]):
        for j in range(size):
            token = data["packed_targets"][pos]
            cells.append(token)
            colors.append(SPECIAL if t % 2 else REAL)
            labels.append(f"t={t}: {data['sorted_names'][j]}")
            pos += 1
    return token_grid([cells], [colors], ["packed"], "Packed targets (time-major, longest "
                      "name first); colours alternate with t", [labels], small=True,
                      columns=[str(i) for i in range(len(cells))], axis="position in .data")


def loss_bars(data: dict) -> str:
    """Masked, packed and unmasked loss of this batch, side by side, as HTML: the page's first
    view draws it, and nameclf.charts.html says why not plotly."""
    keys = [("masked (padded, ignore_index)", "masked", "#0068c9"),
            ("packed", "packed", "#29b09d"), ("unmasked (the mistake)", "unmasked", "#ff4b4b")]
    values = [data[v] for _, v, _ in keys]
    return html_chart.columns([k for k, _, _ in keys], values,
                              "This batch's loss, nats per cell", "", "nats",
                              color=[c for _, _, c in keys], upright=True,
                              tips=[f"{k}: {data[v]:.4f} nats per cell" for k, v, _ in keys],
                              fmt=lambda v: f"{v:g}", on_top=lambda v: f"{v:.4f}")


def bpc_curve(history: Mapping[str, list], baseline: float | None = None,
              title: str = "Bits per character", mixed: float | None = None) -> go.Figure:
    """Training loss in bits (running mean) and test bits per character; the n-gram LM's line;
    with `mixed`, the net and the n-gram LM mixed, a point at the last step."""
    fig = go.Figure()
    if history.get("step"):
        fig.add_trace(go.Scatter(x=history["step"], y=[x / LN2 for x in history["running_loss"]],
                                 name="training (running mean)", line=dict(color="#83c9ff")))
    if history.get("eval_step"):
        fig.add_trace(go.Scatter(x=history["eval_step"], y=history["test_bpc"],
                                 name="test (the net)", mode="lines+markers",
                                 line=dict(color="#0068c9")))
    steps = history.get("step") or history.get("eval_step") or [0, 1]
    if baseline is not None:  # a legend entry, not an annotation, which sat on the curve
        fig.add_trace(go.Scatter(x=[steps[0], steps[-1]], y=[baseline, baseline], mode="lines",
                                 name=f"n-gram LM {baseline:.3f}",
                                 line=dict(color="#ff4b4b", dash="dash")))
    if mixed is not None:
        fig.add_trace(go.Scatter(x=[steps[-1]], y=[mixed], mode="markers",
                                 name=f"net + n-gram LM {mixed:.3f}",
                                 marker=dict(color="#29b09d", size=12, symbol="star")))
    return _layout(fig, title, "step", "bits per character", height=HEIGHT)


def per_label_bars(generator: Mapping[str, float],
                   baseline: Mapping[str, float] | None = None) -> go.Figure:
    """Test bits per character of each label: the generator beside the n-gram LM."""
    labels = sorted(generator)
    fig = go.Figure(go.Bar(x=plains(labels), y=[generator[k] for k in labels],
                           name="generator", marker_color="#0068c9"))
    if baseline:
        fig.add_trace(go.Bar(x=plains(labels), y=[baseline.get(k) for k in labels],
                             name="n-gram LM", marker_color="#ff8700"))
    return _layout(fig, "Test bits/char by label", "",
                   "bits per character")
