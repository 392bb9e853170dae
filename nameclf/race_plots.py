"""Pure helpers for the speed race page: its data, result rows, and figures."""

import random

import pandas as pd
import plotly.graph_objects as go

from nameclf.batches import Encoded, encode_names
from nameclf.bench import ratios
from nameclf.data import NameDataset
from nameclf.encoding import padding_waste
from nameclf.plots import plain, plains
from nameclf.vocab import Vocab

MODE_COLORS = {"per-sample": "#9ca3af", "padded": "#f59e0b", "packed": "#22c55e",
               "packed-torch": "#86efac"}
MODE_LABELS = {"packed-torch": "packed, PyTorch's cell"}  # the others read as their key
WASTE_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
TUTORIAL_SPEEDUP = 42  # what the tutorial reports for batched over per-sample training


def race_data(ds: NameDataset, n: int, device: str, seed: int = 0) -> tuple[Encoded, int, int]:
    """`n` random names of the dataset encoded on `device`, with vocab size and class count."""
    rows = random.Random(seed).sample(range(len(ds)), min(n, len(ds)))
    names = [ds.names[i] for i in rows]
    classes = ds.classes
    label_id = {c: i for i, c in enumerate(classes)}
    vocab = Vocab.build(names)
    enc = encode_names(names, [label_id[ds.labels[i]] for i in rows], vocab, device)
    return enc, len(vocab), len(classes)


def result_row(number: int, speeds: dict[str, float], setup: dict, status: str) -> dict:
    """One row of the session's race table: the setup, names/s per mode, and the ratios."""
    r = ratios(speeds)
    return {"race": number, **setup,
            **{f"{m} names/s": speeds.get(m) for m in MODE_COLORS},
            "padded ÷ per-sample": r.get("padded_over_per_sample"),
            "packed ÷ per-sample": r.get("packed_over_per_sample"),
            "packed ÷ padded": r.get("packed_over_padded"),
            "packed ÷ PyTorch's cell": r.get("packed_over_packed_torch"), "status": status}


def speed_figure(speeds: dict[str, float], title: str = "") -> go.Figure:
    """Names per second of each batching mode, with the speed-up over per-sample on the bar."""
    modes = [m for m in MODE_COLORS if m in speeds]
    base = speeds.get("per-sample")
    labels = [f"{speeds[m]:,.0f}/s" + (f"<br>{speeds[m] / base:.1f}× per-sample"
                                        if base and m != "per-sample" else "") for m in modes]
    names = [MODE_LABELS.get(m, m) for m in modes]
    fig = go.Figure(go.Bar(x=plains(names), y=[speeds[m] for m in modes], text=labels,
                           textposition="outside", cliponaxis=False,
                           marker_color=[MODE_COLORS[m] for m in modes]))
    fig.update_layout(title=plain(title), height=380, yaxis_title="training names per second",
                      margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return fig


def waste_table(lengths: list[int], sizes: tuple[int, ...] = WASTE_SIZES,
                seed: int = 0) -> pd.DataFrame:
    """Share of padded compute wasted by random and by length-sorted batches of each size."""
    shuffled = list(lengths)
    random.Random(seed).shuffle(shuffled)
    ordered = sorted(lengths)
    rows = [{"batch size": b, "padded, random batches": padding_waste(shuffled, b),
             "padded, length-sorted batches": padding_waste(ordered, b), "packed": 0.0}
            for b in sizes]
    return pd.DataFrame(rows)


def waste_figure(table: pd.DataFrame, chosen: int | None = None) -> go.Figure:
    """Wasted fraction of the recurrent compute against batch size."""
    fig = go.Figure()
    styles = {"padded, random batches": "#ef4444", "padded, length-sorted batches": "#f59e0b",
              "packed": "#22c55e"}
    for column, color in styles.items():
        fig.add_trace(go.Scatter(x=table["batch size"], y=table[column], name=plain(column),
                                 mode="lines+markers", line={"color": color}))
    if chosen:  # a trace, not add_vline: shapes on a log axis take log10 coordinates
        fig.add_trace(go.Scatter(x=[chosen, chosen], y=[0, 1], mode="lines",
                                 name=plain(f"batch of {chosen}"),
                                 line={"color": "#6b7280", "dash": "dot"}))
    fig.update_layout(height=360, xaxis={"type": "log", "title": "batch size"},
                      yaxis={"tickformat": ".0%", "title": plain("compute spent on <pad>"),
                             "range": [0, 1]},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def progress(reports: list[dict], n_modes: int, seconds: float, now: float,
             started: float) -> tuple[float, str]:
    """A 0–1 progress estimate and a line of text from the race's timed reports."""
    done = len(reports)
    since = now - (reports[-1]["at"] if reports else started)
    fraction = min(0.99, (done + min(since / max(seconds, 1e-9), 0.95)) / max(n_modes, 1))
    text = " · ".join(f"{MODE_LABELS.get(r['mode'], r['mode'])}: "
                      f"{r['names_per_second']:,.0f} names/s" for r in reports)
    return fraction, text or "warming up the first contestant…"


def row_speeds(row: dict) -> dict[str, float]:
    """The names/s of each mode measured in a result row."""
    return {m: row[f"{m} names/s"] for m in MODE_COLORS if row.get(f"{m} names/s") is not None}
