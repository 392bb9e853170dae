"""Chapter 5's speed race, shared by a class (nameclf.ui.lesson_share): identical lesson
races run once per server. The first learner's race is the Speed race page's own
(`nameclf.ui.race.start`, a job in the fair queue); the others watch it or are given its
speeds, told so. A race on a visitor's uploaded data is never shared."""

from __future__ import annotations

import time

import streamlit as st

from nameclf.charts import race as rp
from nameclf.ui import race as race_ui
from nameclf.ui.lesson_share import Shared, find, start_or_find
from nameclf.ui.state import dataset_name
from nameclf.ui.views import queue_line

RACES = "lesson_races"  # the kind of shared job (nameclf.ui.lesson_share)


def key(setup: dict) -> tuple | None:
    """What makes two lesson races the same; None for uploaded data (never shared)."""
    source = dataset_name()
    if source.startswith("upload"):
        return None
    return (source, *sorted(setup.items()))


def shared(setup: dict) -> Shared | None:
    """The server's usable lesson race with these settings, if one started recently."""
    return find(RACES, key(setup))


def start(ds, setup: dict) -> None:
    """Start this learner's race and offer it to the class (a button callback too)."""

    def own_race() -> dict | None:
        race_ui.start(ds, setup)
        return st.session_state.get(race_ui.KEY_JOB)

    start_or_find(RACES, key(setup), own_race)


def adopt(race: Shared) -> None:
    """Give this learner the finished shared race's speeds, as a row of their own races."""
    rows = st.session_state["race_results"]
    rows.append(rp.result_row(len(rows) + 1, race.job.result, race_ui.row_setup(race.entry),
                              "completed", race.entry["skipped"]))
    ago = time.time() - race.started
    st.session_state["lesson_race_note"] = (
        f"This race ran {ago:,.0f} s ago {race.place} with exactly these settings, for another "
        "learner: the whole class reads the same measurement.")


@st.fragment(run_every=1.0)
def watch(race: Shared) -> None:
    """Another learner's race with these settings, as it runs; reruns the page when done."""
    job = race.job
    if job.done:
        st.rerun()
    st.caption("Another learner on this server is racing with exactly these settings: you "
               "watch the same race.")
    if job.running_since is None:
        queue_line(job, "Starting the race…")
        return
    fraction, text = rp.progress(job.snapshot(), race.entry["turns"],
                                 race.entry["turn_seconds"], time.time(), job.running_since)
    st.progress(fraction, text=f"Racing… {text}")
