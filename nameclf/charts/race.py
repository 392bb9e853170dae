"""Pure helpers for the speed race page: its data, result rows, and figures."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from nameclf.charts import html as html_chart
from nameclf.charts.figures import plain, plains
from nameclf.data.dataset import NameDataset
from nameclf.data.vocab import Vocab
from nameclf.lab.packing import padding_waste  # noqa: F401  (torch-free; ui.race uses it)
from nameclf.lab.speedups import ratios

MODE_COLORS = {"per-sample": "#9ca3af", "padded": "#f59e0b", "packed": "#22c55e",
               "packed-torch": "#86efac"}
MODE_LABELS = {"packed-torch": "packed, PyTorch's cell"}  # the others read as their key
WASTE_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
WASTE_COLORS = {"padded, random batches": "#ef4444", "padded, length-sorted batches": "#f59e0b",
                "packed": "#22c55e"}
TUTORIAL_SPEEDUP = 42  # what the tutorial reports for batched over per-sample training


def race_data(ds: NameDataset, n: int, device: str, seed: int = 0):
    """`n` random names of the dataset encoded on `device` (an Encoded), with vocab size and
    class count."""
    from nameclf.batching.batches import encode_names

    rows = random.Random(seed).sample(range(len(ds)), min(n, len(ds)))
    names = [ds.names[i] for i in rows]
    classes = ds.classes
    label_id = {c: i for i, c in enumerate(classes)}
    vocab = Vocab.build(names)
    enc = encode_names(names, [label_id[ds.labels[i]] for i in rows], vocab, device)
    return enc, len(vocab), len(classes)


def result_row(number: int, speeds: dict[str, float], setup: dict, status: str,
               skipped: float | None = None) -> dict:
    """One row of the session's race table: the setup, names/s per mode, and the ratios."""
    r = ratios(speeds)
    return {"race": number, **setup,
            **{f"{m} names/s": None if m not in speeds else round(speeds[m])
               for m in MODE_COLORS},
            "padded ÷ per-sample": r.get("padded_over_per_sample"),
            "packed ÷ per-sample": r.get("packed_over_per_sample"),
            "packed ÷ padded": r.get("packed_over_padded"),
            "packed ÷ PyTorch's cell": r.get("packed_over_packed_torch"),
            "<pad> share": skipped, "status": status}


def intro(modes: tuple[str, ...]) -> str:
    """The page's opening line, naming every bar the race will draw."""
    words = {"per-sample": "one name at a time (the tutorial's loop)",
             "padded": "as a padded batch", "packed": "as a packed batch",
             "packed-torch": "and as the same packed batch through PyTorch's own cell"}
    count = {2: "two", 3: "three", 4: "four"}.get(len(modes), str(len(modes)))
    order = [m for m in ("per-sample", "padded", "packed", "packed-torch") if m in modes]
    parts = [words[m] for m in order]
    if "packed-torch" not in order and len(parts) > 1:
        parts[-1] = "and " + parts[-1]
    return (f"The same model learns from the same names {count} ways: {', '.join(parts)}. "
            "Which one trains more names per second?")


def verdict(speeds: dict[str, float], skipped: float | None) -> str | None:
    """Why packing won or lost this race, from its share of `<pad>` cells and its speeds.

    Padded runs every cell of the (T, B) grid; packed runs only the real ones, a share
    1 − `skipped`, but pays for sorting the names, slicing each step's rows and gathering the
    last states. With the same cell code (PyTorch's, where `packed-torch` raced), the time it
    took beyond (1 − skipped) of a padded run's is that per-step overhead.
    """
    same_code = "packed-torch" if "packed-torch" in speeds else "packed"
    if skipped is None or not speeds.get("padded") or not speeds.get(same_code):
        return None
    ratio = speeds[same_code] / speeds["padded"]
    overhead = max(0.0, 1 / ratio - (1 - skipped))  # in padded runs' time
    torch_cell = same_code == "packed-torch"
    which = ("with the same code (PyTorch's own cell, which padded uses too)" if torch_cell
             else "with the same cell code")
    head = (f"Packing skipped the {skipped:.0%} of the padded grid's cells that were `<pad>`, "
            f"so {which} it could be at most {1 / (1 - skipped):.1f}× faster than padded; "
            f"it was {ratio:.1f}×.")
    spent = (f"{overhead:.1f}× a padded run's time" if overhead >= 1
             else f"about {overhead:.0%} of a padded run's time")
    work = ("its bookkeeping (sorting the names, slicing each step's rows, gathering each "
            "name's last state)")
    if ratio >= 1:
        cost = (f" The rest went on {work}: {spent}."
                if overhead >= 0.05 else "")
    else:
        cost = (f" {'With the same code, packing' if torch_cell else 'Here packing'} lost: "
                f"{work} cost {spent}, more than the "
                f"{skipped:.0%} it skipped. Cheap cells (a small hidden size, a GPU's fused "
                "kernels) or few `<pad>` cells (short or similar names, small batches) let the "
                "bookkeeping win: try a larger hidden size or batch, or a dataset of more "
                "varied lengths.")
    tail = ""
    if torch_cell and speeds.get("packed"):
        overall = speeds["packed"] / speeds["padded"]
        tail = (f" nameclf's hand-written cells then ran the same packed batches "
                f"{speeds['packed'] / speeds['packed-torch']:.1f}× as fast as PyTorch's, so "
                f"*packed* ended {overall:.1f}× padded.")
    return head + cost + tail


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


def waste_columns(lengths: list[int], sizes: tuple[int, ...] = WASTE_SIZES,
                  seed: int = 0) -> dict[str, list]:
    """Share of padded compute wasted by random and by length-sorted batches of each size, as
    columns (no pandas: the race page draws them before any table)."""
    shuffled = list(lengths)
    random.Random(seed).shuffle(shuffled)
    ordered = sorted(lengths)
    return {"batch size": list(sizes),
            "padded, random batches": [padding_waste(shuffled, b) for b in sizes],
            "padded, length-sorted batches": [padding_waste(ordered, b) for b in sizes],
            "packed": [0.0] * len(sizes)}


def waste_chart(table: Mapping[str, Sequence], chosen: int | None = None) -> str:
    """Wasted share of the recurrent compute against batch size (waste_columns), as HTML: the
    race page's first view draws it, and nameclf.charts.html says why not plotly."""
    series = {column: (table[column], color) for column, color in WASTE_COLORS.items()}
    return html_chart.lines(table["batch size"], series, "", "batch size",
                            "compute spent on <pad>", marked=chosen,
                            marked_name=f"batch of {chosen}" if chosen else "")


def progress(reports: list[dict], turns: int, turn_seconds: float, now: float,
             started: float) -> tuple[float, str]:
    """A 0–1 progress estimate and a line of text from the race's timed reports (one a turn)."""
    done = reports[-1]["done"] if reports else 0
    since = now - (reports[-1]["at"] if reports else started)
    fraction = min(0.99, (done + min(since / max(turn_seconds, 1e-9), 0.95)) / max(turns, 1))
    latest = {r["mode"]: r["names_per_second"] for r in reports}  # each mode's speed so far
    text = " · ".join(f"{MODE_LABELS.get(m, m)}: {v:,.0f} names/s" for m, v in latest.items())
    return fraction, text or "warming up the contestants…"


def row_speeds(row: dict) -> dict[str, float]:
    """The names/s of each mode measured in a result row."""
    return {m: row[f"{m} names/s"] for m in MODE_COLORS if row.get(f"{m} names/s") is not None}
