"""Evaluate's click-through: choose a cell of the confusion matrix, see its test names, and
open one on Predict with its attribution.

A select box, not a click on the heatmap: Streamlit's plotly selection events come back empty
for heatmaps (streamlit/streamlit #8760, #15042).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import streamlit as st
from streamlit.errors import StreamlitAPIException

from nameclf.ui.views import plain

if TYPE_CHECKING:
    from nameclf.ui.analysis import Evaluation

LINKS = 12  # names linked to Predict (the table lists up to 100)
PREDICT = "pages/4_Predict.py"


def default_cell(result: Evaluation, classes: list[str]) -> tuple[str, str]:
    """The most confused pair, else the first label's correct cell."""
    from nameclf.classify.evaluate import most_confused

    pairs = most_confused(result.metrics.confusion, 1)
    if pairs.empty:
        return classes[0], classes[0]
    return str(pairs["true"][0]), str(pairs["predicted"][0])


def cell_picker(run_id: str, result: Evaluation, classes: list[str]) -> None:
    """Two select boxes name a cell; its names, their probabilities, and links to Predict."""
    from nameclf.ui.analysis import cell_names

    st.markdown("**Open a cell of the confusion matrix**")
    ss = st.session_state
    true, predicted = default_cell(result, classes)
    for key, value in (("eval_cell_true", true), ("eval_cell_pred", predicted)):
        if ss.get(key) not in classes:
            ss[key] = value
    left, right = st.columns(2)
    true = left.selectbox("True label", classes, key="eval_cell_true")
    predicted = right.selectbox("Predicted as", classes, key="eval_cell_pred")
    if result.table is None:
        st.info("This evaluation has no per-name table: open Evaluate again to rebuild it.")
        return
    names = cell_names(result.table, true, predicted)
    total = int(((result.table["true"] == true) & (result.table["predicted"] == predicted)).sum())
    if not total:
        st.info(plain(f"No test name labelled {true} was predicted as {predicted}: this cell "
                      "is empty."))
        return
    shown = f"the {len(names)} most confident" if total > len(names) else "all"
    st.caption(plain(f"{total:,} test names labelled {true} were predicted as {predicted}; "
                     f"{shown} below. Open one on Predict to see which letters decided."))
    names = names.drop(columns=["true", "predicted"])  # the cell's, said above
    st.dataframe(names.style.format({"p(predicted)": "{:.1%}", "p(true)": "{:.1%}"}),
                 hide_index=True, key="eval_cell_names", height=min(400, 35 * len(names) + 40))
    st.caption("Open on Predict:")
    links(run_id, names["name"].head(LINKS).tolist())


def links(run_id: str, names: list[str]) -> None:
    """Links that open each name on Predict (same session: the runs come along)."""
    cols = st.columns(4)
    for i, name in enumerate(names):
        with cols[i % 4], contextlib.suppress(StreamlitAPIException):  # a page run alone
            st.page_link(PREDICT, label=name[:40], icon=":material/online_prediction:",
                         query_params={"name": name, "run": run_id})
