"""Home: what the app teaches, which dataset to use, and where training runs."""

import streamlit as st

from nameclf.ui.state import init_page

init_page("Home", "🔤")

from nameclf.device import describe  # noqa: E402
from nameclf.ui import home, views  # noqa: E402
from nameclf.ui.cache import device  # noqa: E402

INTRO = """
Which language does a surname come from? This app trains small **character-level recurrent
networks** (RNN, LSTM, GRU) that read a name one letter at a time, and shows what matters:

- **Data hygiene**: duplicates, names with two labels, and test names that leak from training.
- **Batching**: padding vs packing, and why the classic one-name-at-a-time loop is slow.
- **Honest evaluation**: top-k accuracy, macro-F1, a confusion matrix, the mistakes themselves.
"""


def main() -> None:
    st.title("nameclf — where is this surname from?")
    st.markdown(INTRO)
    st.subheader("1 · Pick a dataset")
    home.dataset_picker()
    home.current_report()
    st.subheader("2 · Train")
    st.markdown(f"Training runs on **{describe(device())}**.")
    if st.button("Train with the recommended settings", type="primary", key="home_train",
                 icon=":material/rocket_launch:"):
        home.train_recommended()
    st.caption("Or explore the data first, or tune every setting on the Train page.")


views.run_page(main)
