"""Speed race: the same model trained per-sample, padded and packed on the same names."""

import streamlit as st

from nameclf.ui.page import init_page

init_page("Speed race", ":material/speed:")

from nameclf.ui import race as ui  # noqa: E402
from nameclf.ui import views  # noqa: E402
from nameclf.ui.cache import current_dataset  # noqa: E402
from nameclf.ui.training import other_job  # noqa: E402


def main() -> None:
    st.title("Speed race")
    intro = st.empty()  # names every bar of the race: known once the device is chosen
    ds = current_dataset()
    ui.finish()
    if error := st.session_state.pop("race_error", None):
        st.warning(f"The last race did not finish: {error}")

    setup = ui.race_form()
    intro.markdown(ui.intro(setup))
    busy = other_job("race")  # one job per visitor: their training or generator runs
    if busy and not ui.running():
        st.info(busy)
    st.button("Start the race", key="race_start", type="primary",
              disabled=ui.running() or bool(busy), on_click=ui.start, args=(ds, setup))
    if ui.running():
        ui.live()
    ui.results()

    st.subheader("What padding wastes on this dataset")
    ui.waste(ds, setup["batch"])


views.run_page(main)
