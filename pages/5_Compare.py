"""Compare: RNN vs LSTM vs GRU on equal terms, and any runs side by side."""

import streamlit as st

from nameclf.ui.page import init_page

init_page("Compare", ":material/compare_arrows:")

from nameclf.ui import live, train_form, training, views  # noqa: E402
from nameclf.ui.state import dataset_name, runs  # noqa: E402


def dataset_words() -> str:
    """The dataset as a visitor knows it: the uploaded file's name, or the built-in's."""
    name = dataset_name()
    if name.startswith("upload:"):
        return f"the uploaded file `{name.removeprefix('upload:')}`"
    return f"`{name}`"


def race() -> list[str]:
    """One button trains the three cells (and the n-gram baseline) on equal terms."""
    st.subheader("RNN vs LSTM vs GRU vs n-grams")
    values = train_form.load_settings()
    steps = st.slider("Steps per recurrent model (batches)", 50, 3000, 500, step=50,
                      key="compare_steps",
                      help="Every cell takes exactly this many steps on the same batches: "
                           "the time each one needs is part of the result.")
    ngram = st.checkbox("Include the n-gram baseline (TF-IDF + logistic regression)", True,
                        key="compare_ngram",
                        help="Does reading characters in order beat counting letter groups? "
                             "The baseline fits in one go (5–15 s for 20,000 names on a "
                             "2-core CPU), so it has no steps; Stop ends it.")
    st.caption(f"Like for like: RNN, LSTM and GRU each train exactly **{steps:,} steps** of "
               f"{values['batch']} names, with no time limit, so the seconds each takes are "
               f"a result. Uses the Train page's settings — {dataset_words()}, "
               f"{values['split']} split, seed {values['seed']}, hidden {values['hidden']}, "
               f"{values['opt']} at lr {values['lr']:g} — with only the cell changed"
               + (", and each cell alone: no n-gram model mixed in" if values["mix"] else "")
               + ("; the n-gram baseline reads word frequencies, as the Train page's checkbox "
                  "says." if values["lexicon"] and ngram else "."))
    label = "Train RNN, LSTM and GRU" + (" + the n-gram baseline" if ngram else "")
    live.controls(label, lambda: training.start_comparison(values, ngram=ngram, steps=steps),
                  key="compare")
    live.live_panel("compare")
    ids = live.finished("compare")
    for col, run_id in zip(st.columns(max(3, len(ids))), ids, strict=False):
        with col:
            run = runs()[run_id]
            st.markdown(f"**{run_id}** · {run.status}")
            st.metric("Top-1", f"{run.metrics['top1']:.1%}")
            st.metric("Macro-F1", f"{run.metrics['macro_f1']:.1%}")
            st.caption(views.fit_line(run))
    return ids


def main() -> None:
    st.title("Compare")
    ids = race()
    st.subheader("Your runs")
    if not runs():
        st.info("No runs yet: train some here or on the Train page.")
        return
    views.keep_choices("compare_runs", list(runs()), ids or list(runs())[-3:], fresh=ids)
    chosen = st.multiselect("Runs to compare", list(runs()), key="compare_runs")
    if not chosen:
        st.info("Pick at least one run.")
        return
    from nameclf.charts import (
        figures as plots,  # plotly, pandas and torch: only once there are runs
    )
    from nameclf.ui import analysis

    # the n-gram baseline fits in one go: its one point would only add a legend entry
    histories = {r: runs()[r].history for r in chosen
                 if runs()[r].history.get("step") and not views.is_ngram(runs()[r])}
    left, right = st.columns(2)
    left.plotly_chart(plots.compare_curves(histories, "loss"), key="compare_loss",
                      config=plots.CHART_CONFIG)
    right.plotly_chart(plots.compare_curves(histories, "top1"), key="compare_acc",
                       config=plots.CHART_CONFIG)
    fitted = [r for r in chosen if views.is_ngram(runs()[r])]
    if len(histories) + len(fitted) < len(chosen):
        st.caption("Runs loaded from a checkpoint have no curves.")
    if fitted:
        st.caption(f"{', '.join(fitted)}: the n-gram baseline fits in one go, so it has no "
                   "curve; its numbers are in the table.")
    views.settings_table([analysis.settings_row(r, runs()[r]) for r in chosen])


views.run_page(main)
