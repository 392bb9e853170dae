"""One function per step of the Padding & packing page: picture, words, the PyTorch call."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from nameclf.charts import packing as xp
from nameclf.data.vocab import Vocab
from nameclf.lab import packing as ex
from nameclf.ui.explainer import clamp, counters, readout

if TYPE_CHECKING:
    import pandas as pd

    from nameclf.classify.model import NameClassifier

KEY_T, KEY_B = "explainer_t", "explainer_b"


def _frame(*args, **kwargs) -> pd.DataFrame:
    """A DataFrame for a step's table; pandas is imported here, not with the page: step 1, the
    page's first view, shows none, and importing pandas takes about 0.6 s of its first render."""
    import pandas as pd

    return pd.DataFrame(*args, **kwargs)


def _chart(fig, key: str) -> None:
    st.plotly_chart(fig, key=key, config={"displayModeBar": False})


def _label(data: dict, b: int) -> str:
    return f"b={b} · {data['names'][b]}"


def characters(data: dict) -> None:
    """Step 1: characters, their indices, and one name's one-hot slice."""
    st.markdown("Each character becomes its index in the vocabulary (0 is `<pad>`, 1 is `<unk>` "
                "for a character the vocabulary never saw), and each index a one-hot row of "
                f"length V = {data['vocab_size']}. The tutorial's input is a **(T, B, V)** tensor: "
                f"time first, then the names, then one column per token — here "
                f"**{tuple(data['shape'])}**.")
    if data["unknown"]:
        st.info(f"Not in the vocabulary, read as `<unk>`: {' '.join(data['unknown'])}")
    _chart(xp.grid_figure(data, xp.base_kinds(data), show_index=True), "explainer_chars")
    batch = len(data["names"])
    clamp(KEY_B, 0, batch - 1)
    b = st.selectbox("Show the (T, V) one-hot slice of", range(batch), key=KEY_B,
                     format_func=lambda i: _label(data, i))
    _chart(xp.onehot_figure(data, b), "explainer_onehot")


def padding(data: dict) -> None:
    """Step 2: the padded (T, B) grid and what it wastes."""
    st.markdown("A tensor must be rectangular, so shorter names are filled with `<pad>` (index 0, "
                "an all-zero one-hot row) up to the longest one. An RNN run over this grid "
                "computes every cell: the grey ones are wasted work.")
    counters(data)
    _chart(xp.grid_figure(data, xp.base_kinds(data)), "explainer_padded")
    st.caption("The (T, B) index tensor itself — one row per time step, one column per name:")
    columns = [_label(data, b) for b in range(len(data["names"]))]
    st.dataframe(_frame(data["padded_indices"], columns=columns).rename_axis("t"),
                 key="explainer_idx_table")


def sorting(data: dict) -> None:
    """Step 3: longest first, and the indices that undo it."""
    st.markdown("`pack_padded_sequence` wants the names longest first, so that the names still "
                "being read at any step are always the first rows. With `enforce_sorted=False` "
                "it sorts for you and remembers `sorted_indices` and `unsorted_indices`.")
    st.markdown(f"`sorted_indices` = **{data['sorted_indices']}** · "
                f"`unsorted_indices` = **{data['unsorted_indices']}** — row i of the sorted batch "
                "is name `sorted_indices[i]`; name b sits at row `unsorted_indices[b]`.")
    order = data["sorted_indices"]
    _chart(xp.grid_figure(data, xp.base_kinds(data), order), "explainer_sorted")
    rows = [{"sorted position": i, "original b": b, "name": data["names"][b],
             "length": data["lengths"][b]} for i, b in enumerate(order)]
    st.dataframe(_frame(rows), hide_index=True, key="explainer_sorted_table")


def packing(data: dict) -> None:
    """Step 4: PackedSequence.data in time-major order, and batch_sizes."""
    st.markdown("Packing keeps only the real characters, column by column: all first characters, "
                "then all second characters, … `batch_sizes[t]` says how many names are still "
                "being read at step t.")
    st.markdown(f"`batch_sizes` = **{data['batch_sizes']}** — {data['real_cells']} rows of data "
                f"instead of {data['padded_cells']}.")
    _chart(xp.packed_figure(data), "explainer_packed")
    footer = [f"{s}" for s in data["batch_sizes"]]
    kinds = xp.packed_kinds(data)
    _chart(xp.grid_figure(data, kinds, data["sorted_indices"], footer), "explainer_packed_grid")
    rows = [{"t": t, "batch_sizes[t]": s, "names read": ", ".join(data["names"][b] for b in act)}
            for t, (s, act) in enumerate(zip(data["batch_sizes"], data["active"], strict=True))]
    st.dataframe(_frame(rows), hide_index=True, key="explainer_batch_table")


def consuming(data: dict) -> None:
    """Step 5: what the RNN does at each time step."""
    n_steps = len(data["batch_sizes"])
    clamp(KEY_T, 0, n_steps - 1)
    t = st.slider("Time step t", 0, n_steps - 1, key=KEY_T)
    active = data["active"][t]
    done = [n for n, length in zip(data["names"], data["lengths"], strict=True) if length <= t]
    st.markdown(f"At **t = {t}**, `batch_sizes[{t}]` = **{len(active)}**: the cell runs on "
                f"{', '.join(data['names'][b] for b in active)} only and updates their hidden "
                f"states. " + (f"Finished, state frozen: {', '.join(done)}." if done else
                               "No name has finished yet."))
    _chart(xp.grid_figure(data, xp.step_kinds(data, t), data["sorted_indices"],
                          [str(s) for s in data["batch_sizes"]]), "explainer_rnn")
    st.dataframe(_frame(ex.step_status(data, t)), hide_index=True, key="explainer_status")


def answer(data: dict, model: NameClassifier, vocab: Vocab, classes: list[str],
           which: str) -> None:
    """Step 6: each name's own last state, unsorted, and the naive answer next to it."""
    st.markdown("The answer for each name is its hidden state after **its own last character** "
                "(green), put back in the original order with `unsorted_indices`. Skip packing "
                "and read the state after the padding (red) and the answer changes.")
    st.caption(f"Model: {which}.")
    result = readout(model, vocab, data["names"], classes)
    cols = st.columns(3)
    cols[0].metric("Largest |Δh|, naive vs packed", f"{max(result.max_abs_diff):.4f}")
    cols[1].metric("Top label changed", f"{result.changed} of {len(result.names)}")
    cols[2].metric("Packed vs one name at a time", f"{result.per_sample_diff:.1e}",
                   help="Packing is exact: the same states as running each name alone.")
    st.markdown(result.change_note())
    _chart(xp.grid_figure(data, xp.readout_kinds(data)), "explainer_readout")
    st.dataframe(_frame(result.rows()), hide_index=True, key="explainer_answer_table",
                 column_config={"packed: p": st.column_config.NumberColumn(format="%.4f"),
                                "naive: p": st.column_config.NumberColumn(format="%.4f"),
                                "max |Δh|": st.column_config.NumberColumn(format="%.4f"),
                                "max |Δp|": st.column_config.NumberColumn(format="%.4f")})
    _chart(xp.diff_figure(result), "explainer_diff")


RENDER = {1: characters, 2: padding, 3: sorting, 4: packing, 5: consuming}
