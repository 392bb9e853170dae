"""The lesson's chapter 6: aggregated gradients, measured once the learner has answered.

The measurement, its progress and its view are the Batch size & gradients page's own
(`nameclf.ui.gradients`: `start_noise`, `live`, `show_noise`, over issue 23's
`nameclf.lab.gradnoise.measure_noise`), a job in the server's fair queue. A learner with no
recurrent run of their own gets the page's quick run (the recommended GRU, seeded), the same
for everyone on a built-in dataset: like the lesson's race, that measurement is made once and
the rest of the class watches it or is given it. A visitor's own run or upload is theirs alone.
"""

from __future__ import annotations

import streamlit as st

from nameclf.lab.lesson import Question
from nameclf.lab.lesson_gradients import gradient_questions
from nameclf.ui import gradients, training
from nameclf.ui.lesson_chapters import Ctx, walk
from nameclf.ui.lesson_share import start_or_find
from nameclf.ui.state import dataset_name
from nameclf.ui.views import queue_line

KEY = "lesson6"  # the widget-state prefix gradients.noise_config reads
SETTINGS = {"pool": 2048, "draws": 16}  # the lesson's measurement: seconds on a 2-core CPU
STARTED, WATCH = "lesson_noise_started", "lesson_noise_watch"
NOISE = "lesson_noise"  # the kind of shared job (nameclf.ui.lesson_share)


def _settings() -> dict:
    """The lesson's pool and draws (a test may set `lesson_noise` in the session)."""
    return {**SETTINGS, **st.session_state.get("lesson_noise", {})}


def _share_key() -> tuple | None:
    """What makes two learners' measurements the same; None when it is theirs alone."""
    source = dataset_name()
    if source.startswith("upload") or gradients.recurrent_run() is not None:
        return None
    return (source, *sorted(_settings().items()))


def start() -> None:
    """Start the measurement, or watch the class's (a button callback too)."""
    ss = st.session_state
    ss[STARTED] = True
    for name, value in _settings().items():
        ss[f"{KEY}_{name}"] = value

    def own_measurement() -> dict | None:
        gradients.start_noise(KEY)
        return gradients.job_entry()

    if (found := start_or_find(NOISE, _share_key(), own_measurement)) is not None:
        ss[WATCH] = found


def result() -> dict | None:
    """The learner's measurement once it has finished (theirs or the class's)."""
    ss = st.session_state
    gradients.collect()
    watched = ss.get(WATCH)
    if watched is not None and watched.job.done:
        ss[WATCH] = None
        if watched.job.result:
            ss[gradients.KEY_NOISE] = watched.job.result
            ss["lesson_noise_note"] = (f"This measurement was made {watched.place} for another "
                                       "learner, with exactly these settings: the whole class "
                                       "reads the same one.")
        else:
            ss[gradients.KEY_ERROR] = "The class's measurement did not finish."
    return ss.get(gradients.KEY_NOISE)


def questions() -> list[Question]:
    return gradient_questions(result())


@st.fragment(run_every=0.5)
def _watch() -> None:
    watched = st.session_state.get(WATCH)
    if watched is None:
        return
    job = watched.job
    if job.done:
        st.rerun()
    st.caption("Another learner on this server is measuring with exactly these settings: "
               "you watch the same measurement.")
    if job.running_since is None:
        queue_line(job, "Starting the measurement…")
        return
    st.progress(*gradients.noise_progress(job.latest()))


def view() -> None:
    """The measurement once both answers are in: its progress, then the page's view of it."""
    if (found := result()) is not None:
        if note := st.session_state.get("lesson_noise_note"):
            st.caption(note)
        gradients.show_noise(found, KEY)
        return
    if error := st.session_state.pop(gradients.KEY_ERROR, None):
        st.warning(error)
    if gradients.running("noise"):
        gradients.live(KEY)
        return
    if st.session_state.get(WATCH) is not None:
        _watch()
        return
    if busy := training.other_job("noise") or (
            "Your batch-size race is still running on Batch size & gradients: one job per "
            "visitor." if gradients.running() else ""):
        st.info(busy)
        return
    if not st.session_state.get(STARTED):
        start()
        st.rerun()
    st.button("Measure the gradients", key="lesson_noise_start", type="primary", on_click=start)


def chapter6(ctx: Ctx, qs: list[Question]) -> None:
    st.markdown("A training step follows the gradient of the loss on one batch, a *mean* over "
                "its B names: an estimate of G, the gradient over every training name. Bigger "
                "batches estimate G better, but each costs more. Answer, then the app measures "
                "it: many batches of each size B, each gradient compared with G, at the "
                "model's first weights and after some training.")
    found = gradients.recurrent_run()
    st.caption(f"Measured on your latest run, {found[0]}, and on the same model at its first "
               "weights." if found else
               f"Measured on a quick run of the recommended GRU ({gradients.QUICK_STEPS} steps, "
               "the same for the whole class), at its first weights and after training.")
    walk(ctx, 6, qs, [lambda: None, view])


RENDER = {6: chapter6}
