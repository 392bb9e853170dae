"""Batch size & gradients: the second half of batching, measured on the visitor's own model."""

import streamlit as st

from nameclf.ui.page import init_page

init_page("Batch size & gradients", ":material/ssid_chart:")

from nameclf.ui import batch_race as race  # noqa: E402
from nameclf.ui import gradients as ui  # noqa: E402
from nameclf.ui import views  # noqa: E402
from nameclf.ui.training import other_job  # noqa: E402

INTRO = """
Batching is two things. **Vectorisation** computes many names at once: that is speed, and the
*Speed race* measures it. **Aggregated gradients** average many names' gradients into one step:
that is noise. One name's gradient points somewhere near the right way; the mean of B names'
points closer, and its squared error falls as 1/B.
"""


def main() -> None:
    st.title("Batch size & gradients")
    st.markdown(INTRO)
    ui.collect()
    if error := st.session_state.pop(ui.KEY_ERROR, None):
        st.warning(error)
    busy = other_job("gradients")
    if busy and not ui.running():
        st.info(busy)

    st.subheader("1 · How noisy is one batch's gradient?")
    st.markdown(ui.noise_source_line())
    ui.noise_settings()
    st.button("Measure", key="gn_start", type="primary", icon=":material/straighten:",
              disabled=ui.running() or bool(busy), on_click=ui.start_noise)
    if ui.running("noise"):
        ui.live("gn")
    if result := st.session_state.get(ui.KEY_NOISE):
        ui.show_noise(result)

    st.subheader("2 · What that means for training: the batch-size race")
    st.markdown(race.race_intro())
    chosen = race.race_settings()
    st.button("Start the batch-size race", key="br_start", type="primary",
              icon=":material/sprint:", disabled=ui.running() or bool(busy) or not chosen,
              on_click=race.start_race)
    if ui.running("race"):
        ui.live("br")
    if result := st.session_state.get(ui.KEY_RACE):
        race.show_race(result)
    elif not ui.running("race"):
        st.info("No race yet: press **Start the batch-size race** (about a minute at these "
                "settings; the small batches take longest).")


views.run_page(main)
