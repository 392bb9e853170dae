"""Evaluate: every metric of a run on its whole test split, and its mistakes."""

import streamlit as st

from nameclf.ui.page import init_page

init_page("Evaluate", ":material/analytics:")

from nameclf.ui import cells, views  # noqa: E402  (torch, pandas, plotly: once there is a run)


def mistakes(result) -> None:
    """The most confident mistakes, names and top-3 given room; a word when there are none."""
    if result.mistakes.empty:
        st.markdown("**Misclassified test names**")
        st.success(f"No test name was misclassified: all {result.n_test:,} are right.")
        return
    st.markdown(f"**Misclassified test names** ({len(result.mistakes):,} most confident "
                "mistakes)")
    text = st.column_config.TextColumn
    st.dataframe(result.mistakes, hide_index=True, height=380, key="eval_mistakes",
                 column_config={"name": text(width="large"), "top-3": text(width="large")})


def main() -> None:
    st.title("Evaluate")
    picked = views.run_picker("eval_run")
    if picked is None:
        views.no_runs_pointer()
        views.checkpoint_uploader("eval_checkpoint")
        st.stop()
    run_id, run = picked
    from nameclf.charts import figures as plots
    from nameclf.classify.evaluate import most_confused

    result, note = views.evaluation(run_id, run)
    if note:
        st.warning(note)
    summary = result.metrics.summary()
    views.metric_row(summary)
    if result.top1_names is not None:
        st.columns(5)[0].metric(
            "Top-1 per name", f"{result.top1_names:.1%}",
            help="Top-1 above is per row, the headline figure: every test row counts, so a name "
                 "listed many times counts many times. Per name counts each distinct test name "
                 "once, right when the answer is its most frequent label.")
    measured = (f"Measured on all {result.n_test:,} test names ({run.info.get('split')} split, "
                f"seed {run.info.get('seed', run.train_config.seed)}).")
    st.caption(f"{measured} {result.ceiling_note}".strip())
    if result.parts_top1:
        st.caption(views.parts_line(run.model_config, result.parts_top1, summary["top1"]))
    left, right = st.columns([2, 3])
    with left:
        st.markdown("**Per label**")
        st.dataframe(result.metrics.per_class.style.format(
            {"precision": "{:.1%}", "recall": "{:.1%}", "f1": "{:.1%}"}),
            height=min(800, 35 * len(run.classes) + 40))
    right.plotly_chart(plots.confusion_heatmap(result.metrics.confusion), key="eval_confusion",
                       config=plots.CHART_CONFIG)
    cells.cell_picker(run_id, result, run.classes)
    left, right = st.columns([1, 3])  # the mistakes get the room a long name needs
    with left:
        st.markdown("**Most confused pairs**")
        st.dataframe(most_confused(result.metrics.confusion), hide_index=True)
    with right:
        mistakes(result)
    with st.expander("Download or load a checkpoint"):
        views.download_checkpoint(run_id, run, key="eval_download")
        views.checkpoint_uploader("eval_checkpoint")


views.run_page(main)
