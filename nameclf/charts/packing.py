"""Plotly pictures of the padding-and-packing walkthrough, from explainer.walkthrough data."""

import plotly.graph_objects as go

from nameclf.charts.figures import plain, plains
from nameclf.data.vocab import PAD
from nameclf.lab.packing import Readout, onehot_slice

COLORS = {  # cell kind -> colour; the legend shows the kinds a picture uses
    "character": "#bfdbfe",
    "packed at an even step t": "#fde68a",
    "packed at an odd step t": "#93c5fd",
    "<pad>": "#d1d5db",
    "read at this step": "#f59e0b",
    "already read": "#fde68a",
    "still to read": "#dbeafe",
    "finished": "#f3f4f6",
    "answer (its last character)": "#22c55e",
    "naive reads here (after the padding)": "#ef4444",
}
KINDS = list(COLORS)
FONT = {"family": "monospace", "size": 15}


def _discrete_scale() -> list[list]:
    n = len(KINDS)
    scale = []
    for i, kind in enumerate(KINDS):
        scale += [[i / n, COLORS[kind]], [(i + 1) / n, COLORS[kind]]]
    return scale


def grid_figure(data: dict, kinds: list[list[str]], order: list[int] | None = None,
                footer: list[str] | None = None, show_index: bool = False) -> go.Figure:
    """One row per name (in `order`), one column per time step t, cells coloured by kind.

    `kinds` is (B, T) in the original name order, each a key of COLORS.
    """
    order = list(range(len(data["names"]))) if order is None else order
    n_steps = len(data["batch_sizes"])
    z, text, labels = [], [], []
    for b in order:
        z.append([KINDS.index(k) for k in kinds[b]])
        row = []
        for t, ch in enumerate(data["padded"][b]):
            shown = "pad" if ch == PAD else plain(ch)
            row.append(f"{shown}<br>{data['padded_indices'][t][b]}" if show_index else shown)
        text.append(row)
        labels.append(plain(f"b={b} · {data['names'][b]} ({data['lengths'][b]})"))
    ticks = [f"t={t}" + (f"<br><b>{plain(footer[t])}</b>" if footer else "")
             for t in range(n_steps)]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(n_steps)), y=list(range(len(order))), text=text,
        texttemplate="%{text}", textfont=FONT, colorscale=_discrete_scale(), zmin=-0.5,
        zmax=len(KINDS) - 0.5, showscale=False, xgap=3, ygap=3, hoverinfo="skip"))
    used = [k for k in KINDS if any(k in row for row in kinds)]
    for kind in used:  # legend entries only; the heatmap itself has no legend
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=plain(kind),
                                 marker={"size": 14, "symbol": "square", "color": COLORS[kind]}))
    fig.update_layout(
        height=110 + 52 * len(order) + (20 if footer else 0), margin={"l": 10, "r": 10, "t": 10,
                                                                     "b": 10},
        plot_bgcolor="white", legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
        xaxis={"tickvals": list(range(n_steps)), "ticktext": ticks, "showgrid": False,
               "zeroline": False},
        yaxis={"tickvals": list(range(len(order))), "ticktext": labels, "autorange": "reversed",
               "showgrid": False, "zeroline": False})
    return fig


def base_kinds(data: dict) -> list[list[str]]:
    """(B, T) kinds: a character or padding."""
    return [["<pad>" if ch == PAD else "character" for ch in row] for row in data["padded"]]


def packed_kinds(data: dict) -> list[list[str]]:
    """(B, T) kinds coloured like the packed strip: alternating by time step."""
    return [["<pad>" if ch == PAD else f"packed at an {'odd' if t % 2 else 'even'} step t"
             for t, ch in enumerate(row)] for row in data["padded"]]


def step_kinds(data: dict, t: int) -> list[list[str]]:
    """(B, T) kinds at RNN step t: read now, already read, still to read, finished, padding."""
    kinds = []
    for b, n in enumerate(data["lengths"]):
        row = []
        for s, ch in enumerate(data["padded"][b]):
            if ch == PAD:
                row.append("<pad>")
            elif t >= n:
                row.append("finished")
            else:
                row.append("already read" if s < t else "read at this step" if s == t
                           else "still to read")
        kinds.append(row)
    return kinds


def readout_kinds(data: dict) -> list[list[str]]:
    """(B, T) kinds: where the exact answer is read, and where the naive one is."""
    kinds = base_kinds(data)
    last = len(data["batch_sizes"]) - 1
    for b, n in enumerate(data["lengths"]):
        kinds[b][n - 1] = "answer (its last character)"
        if n - 1 < last:
            kinds[b][last] = "naive reads here (after the padding)"
    return kinds


def onehot_figure(data: dict, b: int) -> go.Figure:
    """The (T, V) one-hot slice of name b: one row per time step, one column per token."""
    z = onehot_slice(data, b)  # (T, V)
    rows = [plain(f"t={t} '{'pad' if ch == PAD else ch}'")
            for t, ch in enumerate(data["padded"][b])]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(len(data["vocab"]))), y=rows, colorscale=[[0, "#f8fafc"], [1, "#1d4ed8"]],
        zmin=0, zmax=1, showscale=False, xgap=1, ygap=1,
        customdata=[plains(data["vocab"])] * len(z),
        hovertemplate="%{y} · column %{x} = %{customdata}: %{z}<extra></extra>"))
    fig.update_layout(
        height=90 + 30 * len(z), margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"tickvals": list(range(len(data["vocab"]))), "tickangle": 0,
               # columns 0 and 1 are a character wide: `unk` goes a line lower than `pad`
               "ticktext": ["pad" if v == PAD else "<br>unk" if v == "<unk>" else plain(v)
                            for v in data["vocab"]], "tickfont": {"size": 10}},
        yaxis={"autorange": "reversed", "tickfont": FONT})
    return fig


def packed_figure(data: dict) -> go.Figure:
    """PackedSequence.data as one strip of characters, grouped by time step with batch_sizes."""
    chars, groups, sources, centers = data["packed"], [], [], []
    pos = 0
    for t, size in enumerate(data["batch_sizes"]):
        for j in range(size):
            groups.append(t % 2)
            sources.append(plain(data["names"][data["sorted_indices"][j]]))
        centers.append(pos + (size - 1) / 2)
        pos += size
    fig = go.Figure(go.Heatmap(
        z=[groups], x=list(range(len(chars))), text=[plains(chars)], texttemplate="%{text}",
        textfont=FONT, colorscale=[[0, COLORS[KINDS[1]]], [1, COLORS[KINDS[2]]]], showscale=False,
        xgap=3,
        customdata=[sources],
        hovertemplate="data[%{x}] = %{text} from %{customdata}<extra></extra>"))
    ticks = [f"t={t}<br><b>{plain(s)}</b>" for t, s in enumerate(data["batch_sizes"])]
    fig.update_layout(
        height=190, margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"tickvals": centers, "ticktext": ticks, "showgrid": False, "tickangle": 0,
               "title": "time step t, and batch_sizes[t] in bold"},
        yaxis={"tickvals": [0], "ticktext": ["packed.data"], "showgrid": False})
    return fig


def diff_figure(result: Readout) -> go.Figure:
    """Per name, how far the naive final state is from the exact one."""
    fig = go.Figure(go.Bar(x=plains(result.names), y=result.max_abs_diff, marker_color="#ef4444",
                           text=[f"{d:.3g}" for d in result.max_abs_diff], textposition="outside"))
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      yaxis_title="max |h_packed − h_naive|",
                      title="How much reading the padding changes the final hidden state")
    return fig
