"""Home: what the app teaches, which dataset to use, and where training runs.

The first page a visitor sees, so it is light: it imports no torch, pandas or plotly of its
own. The device line is filled in last, in its place on the page; on a CPU-only build of torch
it needs no torch at all. Once the page is drawn, torch starts loading in the background so
that the next page finds it ready.
"""

import streamlit as st

from nameclf.ui.page import init_page

init_page("Home", ":material/abc:")

from nameclf.device import cpu_name, cpu_only_build, describe  # noqa: E402  (torch only when called)
from nameclf.ui import home, views  # noqa: E402
from nameclf.ui.cache import THREADS_PER_JOB, device  # noqa: E402
from nameclf.ui.state import preload_torch  # noqa: E402

INTRO = """
Which language does a surname come from? This app trains small **character-level recurrent
networks** (RNN, LSTM, GRU) that read a name one letter at a time, and shows what matters:

- **Data hygiene**: duplicates, names with two labels, and test names that leak from training.
- **Batching**: padding vs packing, and why the classic one-name-at-a-time loop is slow.
- **Honest evaluation**: top-k accuracy, macro-F1, a confusion matrix, the mistakes themselves.
"""
CAVEAT = ("**What a label means here.** A surname's label is the language or country of the "
          "list it came from, not a person's nationality or ethnicity: many names belong to "
          "several languages, and people carry names from anywhere. The models are for learning "
          "how sequence models work, not for decisions about people.")


def device_line() -> str:
    """Where training runs, as describe(device()) words it.

    A CPU-only torch build trains on the cpu with the app's THREADS_PER_JOB threads (device()
    sets them), so that needs no torch; anything else asks torch (cuda, then mps).
    """
    if cpu_only_build():
        return cpu_name(THREADS_PER_JOB)
    return describe(device())


def main() -> None:
    st.title("nameclf — where is this surname from?")
    st.markdown(INTRO)
    st.caption(CAVEAT)
    st.subheader("1 · Pick a dataset")
    home.dataset_picker()
    home.current_report()
    st.subheader("2 · Learn, or train")
    where = st.empty()  # the device line, filled in last: it may wait for torch to load
    row = st.container(horizontal=True)
    if row.button("Start the lesson", type="primary", key="home_lesson", icon=":material/school:"):
        st.switch_page("pages/0_Lesson.py")
    if row.button("Train with the recommended settings", key="home_train",
                  icon=":material/rocket_launch:"):
        home.train_recommended()
    st.caption("The lesson walks through batching with your own names, asking before it shows. "
               "Or train at once, explore the data first, or tune every setting on Train.")
    where.markdown(f"Training runs on **{device_line()}**.")


views.run_page(main)
preload_torch()  # after the page: every other page needs torch, and it takes seconds to load
