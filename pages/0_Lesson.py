"""The lesson: one path through batching, where the learner predicts before the app reveals."""

import streamlit as st

from nameclf.ui.page import init_page

init_page("Lesson", ":material/school:")

from nameclf.ui import classroom, lesson, views  # noqa: E402
from nameclf.ui.cache import current_dataset  # noqa: E402
from nameclf.ui.state import preload_heavy, preload_torch  # noqa: E402


def main() -> None:
    st.title("The lesson: how a batch of names goes through an RNN")
    if "key" not in st.query_params:  # the teacher link shows the class view instead
        st.caption("Predict first, then see the real tensors of your own names. Your place and "
                   "answers live in this page's address: reload it, or share it, to resume here.")
    classroom.arrive(lesson.chapters())  # a class link fixes the dataset: before reading it
    lesson.main(current_dataset())


views.run_page(main)
preload_torch()  # chapter 1's first reveal counts a one-hot tensor: torch loads meanwhile
preload_heavy()  # and draws a chart: numpy, pandas and plotly load after torch
