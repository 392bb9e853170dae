"""Padding the targets: the output side of batching for a generator, step by step."""

import streamlit as st

from nameclf.ui.page import init_page

init_page("Padding the targets", ":material/grid_on:")

from nameclf.ui import generate_explain as ui  # noqa: E402
from nameclf.ui import views  # noqa: E402
from nameclf.ui.cache import current_dataset  # noqa: E402
from nameclf.ui.state import dataset_name  # noqa: E402


def main() -> None:
    st.title("Padding the targets")
    st.markdown("A classifier reads a padded batch and gives one answer per name. A "
                "generator *writes* each name, so its targets are padded too — and every "
                "padded target cell must be left out of the loss. Follow a few names, with "
                "the real tensors and losses of a real net.")
    ds = current_dataset()
    names, labels, defaults = ui.names_and_labels(ds)
    data, which = ui.walkthrough(ds, dataset_name(), names, labels, defaults)
    st.caption(views.plain(f"Labels: {', '.join(labels)} · computed by {which}."))
    if data["unknown"]:
        st.caption(views.plain("Characters this net never saw, read as <unk>: "
                               + " ".join(data["unknown"])))
    for i, (title, render) in enumerate(zip(ui.STEPS, ui.RENDER), start=1):
        st.subheader(f"Step {i} · {title}")
        render(data)


views.run_page(main)
