"""Generate: train a label-conditioned name generator, then sample names and judge them."""

import streamlit as st

from nameclf.ui.page import init_page

init_page("Generate", ":material/auto_awesome:")

from nameclf.ui import generate as gen  # noqa: E402
from nameclf.ui import generate_samples as samples  # noqa: E402
from nameclf.ui import views  # noqa: E402


def main() -> None:
    st.title("Generate")
    st.markdown("The other half of batching: a network that **writes** names of a label, one "
                "character at a time. Its targets are padded too, and every padded target "
                "cell must be left out of the loss — see *Padding the targets* for how.")
    gen.collect()
    st.subheader("1 · Train a generator")
    values = gen.settings()
    gen.controls(values)
    gen.live_panel()
    gen.finished()
    store = gen.gen_runs()
    if not store:
        job = gen.gen_job()
        if job is None or not job.running:
            st.info("No generator yet: press **Train the generator** (gen-tiny takes seconds).")
        return
    run_id = gen.choose_run(store)
    gen.run_result(run_id, store[run_id])
    st.subheader("2 · Generate names")
    run = store[run_id]
    choice = samples.choices(run)
    samples.show_samples(run, choice)


views.run_page(main)
