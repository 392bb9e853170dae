"""The walkthrough of the output side, from the real tensors of the visitor's names."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import streamlit as st

from nameclf.errors import ConfigError
from nameclf.ui.views import plain

DEFAULT = 4  # names taken from the dataset at first
STEPS = (  # the titles of the five steps (nameclf.lab.targets computes them)
    "Inputs and targets, shifted by one",
    "The padded target grid",
    "The loss mask: which cells count",
    "Packed targets: nothing to mask",
    "Teacher forcing and free running",
)
UNTRAINED = "an untrained generator (train one on Generate to see a trained net's losses)"
CACHE_FORMAT = 1


def default_names(ds, k: int = DEFAULT) -> list[str]:
    """k distinct names of k different lengths (short to long), from different labels
    where the data allows: a batch with padding worth looking at."""
    by_length: dict[int, list[str]] = {}
    for name in sorted(set(ds.names)):
        if 2 <= len(name) <= 14:
            by_length.setdefault(len(name), []).append(name)
    lengths = sorted(by_length)
    if not lengths:
        return sorted(set(ds.names))[:k]
    picks = [lengths[round(i * (len(lengths) - 1) / max(1, k - 1))] for i in range(k)]
    out = []
    for i, n in enumerate(dict.fromkeys(picks)):
        pool = by_length[n]
        out.append(pool[(i * 7919) % len(pool)])  # spread over the alphabet
    return out


def names_and_labels(ds) -> tuple[list[str], list[str], bool]:
    """Names typed by the visitor, with their labels from the dataset (a typed name the
    dataset lacks takes the label picked here), and whether they are the default names."""
    label_of = dict(zip(ds.names, ds.labels))
    left, right = st.columns([3, 1])
    default = ", ".join(default_names(ds))
    text = left.text_input("Names (comma-separated, up to 8)", default, key="ge_names")
    other = right.selectbox("Label of names not in the data", ds.classes, key="ge_label")
    names = [" ".join(n.split()) for n in text.split(",") if n.strip()]
    if not names:
        raise ConfigError("type at least one name")
    return names, [label_of.get(n, other) for n in names], ", ".join(names) == default


def walkthrough(ds, source: str, names: list[str], labels: list[str],
                defaults: bool) -> tuple[dict, str]:
    """The five steps' data for these names and what computed it: the visitor's generator,
    else an untrained one.

    A new visitor on a built-in dataset sees the untrained net's walkthrough of the default
    names, the same for everyone: it is kept on disk as JSON (never pickle), so the page's
    first render needs no torch (2.4 s to import here). Uploads and typed names are never
    written there: a visitor's data is theirs alone, and the cache holds one file a dataset.
    """
    found = visitor_run(ds)
    path = None
    if found is None and defaults and not source.startswith("upload:"):
        path = cache_file(ds, source, names, labels)
        if path is not None and (cached := read_cached(path)) is not None:
            return cached, UNTRAINED
    from nameclf.lab import targets as ex

    if found is None:
        from nameclf.data.vocab import Vocab

        vocab = Vocab.build(ds.names)
        model, classes, which = ex.untrained(vocab, ds.classes), ds.classes, UNTRAINED
    else:
        run_id, run = found
        model, vocab, classes, which = run.model, run.vocab, run.classes, described(run_id, run)
    data = ex.explain_targets(names, labels, classes, vocab, model)
    if path is not None:
        from nameclf.data.rows_cache import write_json

        write_json(path, data)
    return data, which


def visitor_run(ds):
    """(id, run) of the generator chosen on Generate, else of the visitor's newest of these
    labels; None if they have none."""
    from nameclf.ui.generate import gen_runs

    runs = gen_runs()
    chosen = st.session_state.get("gen_chosen")  # set on Generate
    for run_id in sorted(list(runs)[::-1], key=lambda r: r != chosen):  # the chosen first
        if set(ds.classes) <= set(runs[run_id].classes):
            return run_id, runs[run_id]
    return None


def described(run_id: str, run) -> str:
    """What computed the walkthrough, in words."""
    which = f"your generator {run_id}"
    if run.ngram_weight:  # these steps are the net's; its samples are the mixture's
        which += (f"'s net (the loss is the net's; on Generate each character is drawn "
                  f"from it and the n-gram LM mixed, weight {run.ngram_weight:g})")
    return which


# the modules whose code decides an untrained walkthrough, hashed into its cache file's name
WALKTHROUGH_CODE = ("nameclf.lab.targets", "nameclf.generate.model", "nameclf.generate.loss",
                    "nameclf.generate.batches", "nameclf.data.vocab", "nameclf.generate.config")


@functools.cache
def code_digest() -> str | None:
    """torch's version and the code that computes a walkthrough (once per process)."""
    h = hashlib.sha256()
    try:
        h.update(version("torch").encode())
        for module in WALKTHROUGH_CODE:  # found without importing them (no torch)
            h.update(Path(importlib.util.find_spec(module).origin).read_bytes())
    except (PackageNotFoundError, OSError, AttributeError, ImportError):
        return None
    return h.hexdigest()


def cache_file(ds, source: str, names: list[str], labels: list[str]) -> Path | None:
    """Where the untrained walkthrough of these names is kept: named after everything that
    makes it (torch's version, the code that computes it, the data's labels and letters)."""
    from nameclf.data import rows_cache

    code = code_digest()
    if code is None:
        return None
    key = [CACHE_FORMAT, code, source, names, labels, ds.classes,
           sorted(set("".join(ds.names)))]
    digest = hashlib.sha256(json.dumps(key, ensure_ascii=False).encode()).hexdigest()
    return rows_cache.cache_dir() / f"targets-walkthrough-{digest[:16]}.json"


def read_cached(path: Path) -> dict | None:
    """The walkthrough kept at `path`, or None if absent, corrupt or not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    keys = {"names", "labels", "inputs", "targets", "mask", "packed_targets", "forcing"}
    return data if isinstance(data, dict) and keys <= set(data) else None


def shifted(data: dict) -> None:
    from nameclf.charts.generate import shifted_grids

    st.markdown("A generator learns to predict each next character. So each name is read "
                "after a start token `<sos>`, and must be written followed by an end token "
                "`<eos>`: the input row is the target row shifted right by one. "
                f"Lengths with the end step: {data['lengths']}.")
    inputs, targets = shifted_grids(data)
    st.html(inputs)
    st.html(targets)


def target_grid(data: dict) -> None:
    n_pad = data["cells"] - data["real_cells"]
    st.markdown(f"In one batch the rows have one length, so the shorter names' targets are "
                f"padded with `<pad>`: **{data['cells']}** cells, **{data['real_cells']}** of "
                f"them real and **{n_pad}** padding ({data['pad_share']:.0%}).")


def mask(data: dict) -> None:
    from nameclf.charts.generate import loss_bars, mask_grid

    st.html(mask_grid(data))
    gap = data["unmasked"] - data["masked"]
    n_pad = data["cells"] - data["real_cells"]
    st.markdown(
        f"The masked loss (PyTorch's `cross_entropy(..., ignore_index=0)`) averages the "
        f"**{data['real_cells']}** real cells: **{data['masked']:.4f}** nats. The unmasked "
        f"loss averages all **{data['cells']}** cells, padding included: "
        f"**{data['unmasked']:.4f}**, {abs(gap):.4f} {'higher' if gap >= 0 else 'lower'}.")
    if n_pad:
        per_cell = data["pad_loss"] / n_pad
        st.markdown(
            f"The difference is what the net predicts at the {n_pad} padding cells: "
            f"{per_cell:.3f} nats each for `<pad>`. A net trained with the mask never learns "
            f"to predict `<pad>`, so there it is costly and the unmasked figure is too high. "
            f"A net trained *without* the mask learns that `<pad>` always follows `<eos>`, "
            f"nearly free, so its reported loss comes out too low, and it spends gradient on "
            f"padding — the bug of PyTorch's own translation tutorial (pytorch/tutorials#2840).")
    else:
        st.markdown("These names have one length, so there is no padding and both losses "
                    "agree: type names of different lengths to see them part.")
    st.html(loss_bars(data))


def packed(data: dict) -> None:
    st.markdown(
        f"Packing keeps only the real cells, time step by time step (batch sizes "
        f"{data['batch_sizes']}, longest name first: {', '.join(data['sorted_names'])}). "
        f"The loss on the packed outputs needs no mask: **{data['packed']:.4f}** nats, the "
        f"masked loss to the last digit (computed live, by the same net).")
    from nameclf.charts.generate import packed_strip

    st.html(packed_strip(data))


FORCING = ("step t", "fed (teacher forcing)", "true next", "net's guess", "p(true next)")


def forcing_table(teacher: list[dict]) -> str:
    """The teacher-forced steps as a markdown table, one row per step, characters as typed.

    Markdown, not st.dataframe: a table of at most 25 short rows, and st.dataframe would load
    pandas (about 0.7 s) during this page's first render.
    """
    lines = ["| " + " | ".join(FORCING) + " |", "|---:|---|---|---|---:|"]
    for t, r in enumerate(teacher):
        cells = [str(t), plain(r["input"]), plain(r["target"]), plain(r["guess"]),
                 f"{r['p_target']:.0%}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def forcing(data: dict) -> None:
    f = data["forcing"]
    st.markdown(
        f"While training, the net is fed the **true** previous character (teacher forcing), "
        f"even where its own guess was wrong. When generating there is no truth to feed: it "
        f"reads its **own** last character (free running), so one early slip changes "
        f"everything after. For **{plain(f['name'])}**, always taking the likeliest token:")
    st.markdown(forcing_table(f["teacher"]))
    free = "".join(t for t in f["free"] if t != "<eos>")
    st.markdown(f"Free running from `<sos>` writes **{plain(free) or '(nothing)'}**"
                + (" and then `<eos>`." if f["free"][-1:] == ["<eos>"]
                   else f", cut at {len(f['free'])} characters without an `<eos>`."))


RENDER = (shifted, target_grid, mask, packed, forcing)
