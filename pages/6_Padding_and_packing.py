"""Padding & packing: how a batch of names of different lengths reaches an RNN, step by step."""

import streamlit as st

from nameclf.ui.page import init_page

init_page("Padding & packing", ":material/view_week:")

from nameclf.lab import packing as ex  # noqa: E402
from nameclf.ui import explainer as ui  # noqa: E402
from nameclf.ui import explainer_steps as steps  # noqa: E402
from nameclf.ui import views  # noqa: E402
from nameclf.ui.cache import current_dataset  # noqa: E402


def main() -> None:
    st.title("Padding & packing")
    st.markdown("Names have different lengths, but a batch is one tensor. Follow a few names "
                "from characters to the classifier's answer: what padding wastes, what packing "
                "skips, and why the answer must be read at each name's own last character.")
    ds = current_dataset()
    names = ui.names_input(ds)
    if names is None:
        return
    model, vocab, classes, which = ui.model_and_vocab(ds)
    data = ui.walkthrough(tuple(names), vocab.chars)

    step = ui.step_nav()
    st.subheader(f"Step {step} · {ex.STEPS[step - 1]}")
    cell = "lstm"
    if step == len(ex.STEPS):
        net = model()
        cell = net.config.cell  # the code below reads the final state as this cell returns it
        steps.answer(data, net, vocab, classes, which)
    else:
        steps.RENDER[step](data)
    st.code(ex.step_code(step, data, cell), language="python")

    st.divider()
    st.markdown(ex.summary(data, ui.dataset_waste(ui.dataset_key(ds), ds, 512)))


views.run_page(main)
