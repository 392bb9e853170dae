"""Pitfalls: the batching bugs tutorials skip, each switched on and measured on real names."""

import streamlit as st

from nameclf.ui.page import init_page

init_page("Pitfalls", ":material/bug_report:")

from nameclf.lab.pitfall_cards import CARDS  # noqa: E402
from nameclf.ui import pitfalls as ui  # noqa: E402
from nameclf.ui import views  # noqa: E402


def main() -> None:
    st.title("Pitfalls")
    st.markdown("The same few batching bugs keep appearing in real code and in PyTorch's issue "
                "tracker. Open a card, guess what its bug will do, then switch it on: the card "
                "runs the buggy and the fixed code side by side on the same names and model.")
    found, slot = {}, st.empty()

    def batch():
        if "batch" not in found:  # made once per page run, and only if a card is on
            with slot.container():
                sub = ui.subject()
            found["batch"] = ui.lab_batch(sub)
            slot.caption(f"Measured on {len(found['batch'].names)} test names, read by "
                         f"{sub.which}.")
        return found["batch"]

    for card in CARDS:
        ui.card(card, batch)


views.run_page(main)
