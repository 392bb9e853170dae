"""Why this name? on Predict: each character's part in the answer, and the link into it.

The attributions are nameclf.lab.attribution; the strips, nameclf.charts.attribution.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from nameclf.ui.state import runs
from nameclf.ui.views import plain

if TYPE_CHECKING:
    from nameclf.classify.pipeline import Run

CAUTION = ("Attributions explain this model, not the language: a letter matters here because "
           "of what the model learned from its training names.")


def follow_link() -> None:
    """Open the name (and run) a link asked for, e.g. from Evaluate's mistakes: once per
    link, so the visitor can edit the names afterwards. Call before Predict's widgets."""
    ss, params = st.session_state, st.query_params
    name = params.get("name", "")[:64]
    if not name or ss.get("predict_linked") == (name, params.get("run")):
        return
    ss["predict_linked"] = (name, params.get("run"))
    ss["predict_text"] = name
    if params.get("run") in runs():
        ss["predict_run"] = params.get("run")


def why(run: Run, name: str) -> None:
    """The strips of one name: occlusion for every model, integrated gradients for a net."""
    from nameclf.charts.attribution import strip
    from nameclf.classify.pipeline import clean_query
    from nameclf.lab.attribution import IG_STEPS, N_BASELINES, attribute

    st.subheader("Why this name?")
    name, _ = clean_query(name, run.info.get("ascii_fold", True))
    a = attribute(run.model, run.vocab, run.classes, name)
    st.markdown(f"How much each character moved the answer **{plain(a.label)}** "
                f"({a.prob:.0%}): green towards it, red away from it.")
    st.html(strip(name, a.occlusion, "Occlusion: p(label) minus p(label) with this character "
                                     "read as <unk>", "probability"))
    if a.gradients is not None:
        st.html(strip(name, a.gradients, f"Integrated gradients of log p(label) on the input "
                                         f"vectors, from {N_BASELINES} random-letter names "
                                         f"({IG_STEPS} steps each)", "log-probability"))
    st.caption(" ".join(filter(None, [a.note, CAUTION])))
