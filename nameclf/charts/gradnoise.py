"""Charts of the gradient half of batching: the noise curve and the batch-size race.

Pure functions of the plain dicts `lab.gradnoise.NoiseResult.to_dict()` and
`lab.batch_race.race_batch_sizes` return; no trainer is imported here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from nameclf.charts.figures import CURVE_COLORS, _layout, plain

LANE_COLORS = ("#9ca3af", "#f59e0b", "#22c55e", "#0068c9", "#a855f7", "#ef4444")


def ratio_text(ratio: float) -> str:
    """A ratio as words a learner reads at a glance: '4.1× smaller', '1.3× larger'."""
    if not math.isfinite(ratio) or ratio <= 0:
        return "not measurable"
    return f"{ratio:.1f}× smaller" if ratio >= 1 else f"{1 / ratio:.1f}× larger"


def noise_figure(curves: Mapping[str, Mapping], title: str = "") -> go.Figure:
    """|g_B - G|² against B on log-log axes, one series per measurement ("at init", ...), each
    with its 1/B line from its B = 1 point and its B_simple marked where it falls in range."""
    fig = go.Figure()
    for i, (label, r) in enumerate(curves.items()):
        color = CURVE_COLORS[i % len(CURVE_COLORS)] if i == 0 else "#f59e0b"
        bs, err = r["batch_sizes"], r["mse_corrected"]
        pts = [(b, e) for b, e in zip(bs, err, strict=True) if e is not None and e > 0
               and math.isfinite(e)]
        if not pts:
            continue
        fig.add_trace(go.Scatter(
            x=[b for b, _ in pts], y=[e for _, e in pts], mode="markers+lines",
            name=f"{plain(label)}: measured", line=dict(color=color, width=2),
            marker=dict(size=8), hovertemplate="B = %{x}<br>|g_B − G|² = %{y:.3g}<extra></extra>"))
        b0, e0 = pts[0]
        fig.add_trace(go.Scatter(
            x=[b for b, _ in pts], y=[e0 * b0 / b for b, _ in pts], mode="lines",
            name=f"{plain(label)}: 1/B", line=dict(color=color, width=1, dash="dash"),
            hoverinfo="skip"))
        b_simple = r.get("b_simple")
        if b_simple and math.isfinite(b_simple) and bs[0] <= b_simple <= bs[-1]:
            low = min(e for _, e in pts)
            fig.add_trace(go.Scatter(  # a trace, not add_vline: its label sits in log units
                x=[b_simple, b_simple], y=[low, e0], mode="lines+text",
                line=dict(color=color, width=1, dash="dot"), showlegend=False,
                text=["", f"B_simple ≈ {b_simple:,.0f}"], textposition="top center",
                textfont=dict(color=color), hoverinfo="skip"))
    sizes = sorted({b for r in curves.values() for b in r["batch_sizes"]})
    fig.update_xaxes(type="log", tickvals=sizes, ticktext=[str(b) for b in sizes])
    fig.update_yaxes(type="log", exponentformat="power")
    return _layout(fig, title, "batch size B (names per step)", "|g_B − G|²")


def cosine_figure(curves: Mapping[str, Mapping]) -> go.Figure:
    """Mean cosine of g_B with G against B: how well one batch points the way of the pool."""
    fig = go.Figure()
    for i, (label, r) in enumerate(curves.items()):
        color = CURVE_COLORS[0] if i == 0 else "#f59e0b"
        fig.add_trace(go.Scatter(x=r["batch_sizes"], y=r["cosine"], mode="markers+lines",
                                 name=plain(label), line=dict(color=color, width=2),
                                 hovertemplate="B = %{x}<br>cosine %{y:.2f}<extra></extra>"))
    sizes = sorted({b for r in curves.values() for b in r["batch_sizes"]})
    fig.update_xaxes(type="log", tickvals=sizes, ticktext=[str(b) for b in sizes])
    fig.update_yaxes(range=[0, 1.02])
    return _layout(fig, "Does one batch point where the whole pool does?",
                   "batch size B", "cosine of g_B with G", height=300)


def lane_color(i: int) -> str:
    return LANE_COLORS[i % len(LANE_COLORS)]


def race_curves(result: Mapping, x: str) -> go.Figure:
    """Held-out loss against names seen (`x` = "examples") or training seconds ("seconds"),
    one line per batch size, the target as a horizontal line."""
    fig = go.Figure()
    for i, lane in enumerate(result["lanes"]):
        if not lane["examples"]:
            continue
        fig.add_trace(go.Scatter(
            x=lane[x], y=lane["loss"], mode="lines+markers", name=f"B = {lane['batch_size']}",
            line=dict(color=lane_color(i), width=2), marker=dict(size=4),
            hovertemplate=(f"B = {lane['batch_size']}<br>"
                           + ("%{x:,} names" if x == "examples" else "%{x:.1f} s")
                           + "<br>loss %{y:.3f}<extra></extra>")))
    target = result.get("target_loss")
    if target:
        fig.add_hline(y=target, line=dict(color="#1f2933", width=1, dash="dash"),
                      annotation_text=f"target {target:.3f}", annotation_position="top right")
    label = "names seen" if x == "examples" else "training seconds"
    fig.update_yaxes(rangemode="tozero")
    return _layout(fig, f"Held-out loss against {label}", label, "held-out loss", height=320)


def steps_figure(result: Mapping) -> go.Figure:
    """Steps to reach the target against batch size (Shallue et al.'s steps-to-result), with
    the perfect-scaling line (steps halve as B doubles) from the smallest batch that got there;
    batch sizes that did not reach it are marked at the top as 'not reached'."""
    lanes = result["lanes"]
    hit = [(lane["batch_size"], lane["steps_to_target"]) for lane in lanes if lane["reached"]]
    miss = [lane["batch_size"] for lane in lanes if not lane["reached"]]
    fig = go.Figure()
    if hit:
        fig.add_trace(go.Scatter(x=[b for b, _ in hit], y=[s for _, s in hit],
                                 mode="markers+lines+text", name="steps to the target",
                                 text=[f"{s:,}" for _, s in hit], textposition="top center",
                                 line=dict(color="#0068c9", width=2), marker=dict(size=9)))
        b0, s0 = hit[0]
        xs = [lane["batch_size"] for lane in lanes if lane["batch_size"] >= b0]
        fig.add_trace(go.Scatter(x=xs, y=[s0 * b0 / b for b in xs], mode="lines",
                                 name="perfect scaling (steps × B constant)",
                                 line=dict(color="#9ca3af", width=1, dash="dash"),
                                 hoverinfo="skip"))
    top = max([s for _, s in hit] or [1]) * 3
    if miss:
        fig.add_trace(go.Scatter(x=miss, y=[top] * len(miss), mode="markers+text",
                                 name="not reached", text=["not reached"] * len(miss),
                                 textposition="bottom center",
                                 marker=dict(symbol="x", size=10, color="#ef4444")))
    sizes = [lane["batch_size"] for lane in lanes]
    fig.update_xaxes(type="log", tickvals=sizes, ticktext=[str(b) for b in sizes])
    fig.update_yaxes(type="log")
    return _layout(fig, "Steps to reach the target", "batch size B", "optimizer steps",
                   height=320)


def race_rows(result: Mapping) -> list[dict]:
    """The race as table rows: one per batch size, numbers rounded for reading."""
    rows = []
    for lane in result["lanes"]:
        hit = lane["reached"]
        rows.append({"batch size": lane["batch_size"], "learning rate": f"{lane['lr']:.4f}",
                     "result": lane["status"],
                     "steps to target": f"{lane['steps_to_target']:,}" if hit else "—",
                     "names to target": f"{lane['examples_to_target']:,}" if hit else "—",
                     "seconds to target": f"{lane['seconds_to_target']:.1f}" if hit else "—",
                     "names per second": f"{lane['names_per_second']:,.0f}"})
    return rows


def noise_rows(curves: Mapping[str, Mapping]) -> list[dict]:
    """The measurements side by side as table rows (B, error and cosine per measurement)."""
    labels = list(curves)
    sizes: Sequence[int] = curves[labels[0]]["batch_sizes"]
    rows = []
    for i, b in enumerate(sizes):
        row = {"B": b}
        for label in labels:
            r = curves[label]
            if i < len(r["batch_sizes"]):
                row[f"|g_B − G|², {label}"] = f"{r['mse'][i]:.3g}"
                row[f"cosine, {label}"] = f"{r['cosine'][i]:.2f}"
        rows.append(row)
    return rows


def race_progress(item: dict | None, elapsed: float,
                  pace_steps: int = 600) -> tuple[float, str]:
    """(fraction, text) for the race's progress bar."""
    if not item or item.get("phase") == "target":
        return 0.02, f"Training the target run ({pace_steps} steps of fast)… " \
                     f"{elapsed:.0f} s"
    lanes = item["lanes"]
    done = sum(lane["status"] not in ("waiting", "running") for lane in lanes)
    now = next((lane for lane in lanes if lane["status"] == "running"), None)
    text = f"{done} of {len(lanes)} batch sizes done"
    if now is not None and now["examples"]:
        text += f"; B = {now['batch_size']}: {now['examples'][-1]:,} names seen"
    return min(1.0, 0.05 + 0.95 * done / max(1, len(lanes))), text + f" · {elapsed:.0f} s"
