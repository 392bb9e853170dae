"""Predict: type names, see the model's top guesses and how sure it is."""

import streamlit as st

from nameclf.ui.state import init_page

init_page("Predict", "🔮")

from nameclf import plots  # noqa: E402
from nameclf.pipeline import predict  # noqa: E402
from nameclf.ui import views  # noqa: E402

MAX_NAMES = 20  # names predicted at once
EXAMPLE = "Nakamura\nSchmidt\nO'Brien\nKowalski"


def main() -> None:
    st.title("Predict")
    picked = views.run_picker("predict_run")
    if picked is None:
        views.no_runs_pointer()
        views.checkpoint_uploader("predict_checkpoint")
        st.stop()
    run_id, run = picked
    text = st.text_area("Names, one per line", EXAMPLE, key="predict_text", max_chars=2000)
    k = st.slider("How many guesses per name", 1, min(10, len(run.classes)), 3, key="predict_k")
    names = [line for line in text.splitlines() if line.strip()] or [text]
    if len(names) > MAX_NAMES:
        st.info(f"Showing the first {MAX_NAMES} of {len(names)} names.")
    cols = st.columns(2)
    for i, pred in enumerate(predict(run, names[:MAX_NAMES], k)):
        with cols[i % 2]:
            st.markdown(f"**{pred.name.strip()[:64] or '(empty)'}**")
            if pred.note:
                st.info(pred.note)
            if pred.top:
                st.plotly_chart(plots.topk_bars(pred.top), key=f"predict_{i}")
    with st.expander("Load a checkpoint"):
        views.checkpoint_uploader("predict_checkpoint")


views.run_page(main)
