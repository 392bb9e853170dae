"""Train: pick settings (kept in the URL), train in the background, watch it learn."""

import streamlit as st

from nameclf.ui.page import init_page

init_page("Train", ":material/model_training:")

from nameclf.ui import classroom, live, params, train_form, training, views  # noqa: E402
from nameclf.ui.state import preload_torch  # noqa: E402


def main() -> None:
    st.title("Train")
    st.caption("Settings live in the page's address: copy it to share this exact setup.")
    # Start, the live progress and the last result sit above the settings, so a run's
    # curves are in view without scrolling; the form is drawn first (Start needs its values)
    # and the block above is filled afterwards.
    classroom.apply_train()  # a class link's fixed settings, before the form reads them
    top = st.container()
    values = train_form.settings_form()
    with top:
        live.controls("Start training", lambda: training.start_training(values),
                      problem=params.problem(values), key="train")
        if training.start_on_arrival(values):  # Home's "Train with the recommended settings"
            st.rerun()
        live.live_panel("train")
        for run_id in live.finished("train"):
            live.run_result(run_id)
            classroom.report_run(run_id, live.runs()[run_id])


views.run_page(main)
preload_torch()  # the form is drawn without torch; Start will need it
