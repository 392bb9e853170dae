"""Chapter 5's speed race, shared by a class: identical lesson races run once per server.

Thirty learners reaching chapter 5 within a minute would otherwise queue thirty races of the
same settings on the same data. The first one races (a job in the server's fair queue, through
the Speed race page's own `nameclf.ui.race.start`); a learner who asks while it runs watches
it, and one who asks within SHARE_S of its start gets its speeds at once, told so. A race on a
visitor's uploaded data is never shared (their data is theirs alone).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import streamlit as st

from nameclf.charts import race as rp
from nameclf.serve.engine import JobHandle
from nameclf.ui import race as race_ui
from nameclf.ui.cache import server_wide
from nameclf.ui.state import dataset_name
from nameclf.ui.views import queue_line

SHARE_S = 600.0  # a finished lesson race is given to later learners for this long
MAX_SHARED = 16  # lesson races remembered per server (one per dataset and setup)


@dataclass
class SharedRace:
    """A lesson race some learner started, as every learner with its settings sees it."""

    job: JobHandle  # a Job here, or a RayJob on the cluster
    entry: dict  # nameclf.ui.race's session entry: setup, turns, turn_seconds, skipped
    started: float  # time.time()

    @property
    def usable(self) -> bool:
        """Running, or finished with speeds, and not stopped or failed."""
        job = self.job
        return not job.stop_event.is_set() and not job.error and (not job.done or
                                                                  bool(job.result))


def _store() -> tuple[dict, threading.Lock]:
    return server_wide("lesson_races", dict), server_wide("lesson_races_lock", threading.Lock)


def key(setup: dict) -> tuple | None:
    """What makes two lesson races the same; None for uploaded data (never shared)."""
    source = dataset_name()
    if source.startswith("upload"):
        return None
    return (source, *sorted(setup.items()))


def shared(setup: dict) -> SharedRace | None:
    """The server's usable lesson race with these settings, if one started recently."""
    k = key(setup)
    races, lock = _store()
    with lock:
        found = races.get(k) if k is not None else None
    if found is None or not found.usable or time.time() - found.started > SHARE_S:
        return None
    return found


def start(ds, setup: dict) -> None:
    """Start this learner's race and offer it to the class (a button callback too)."""
    races, lock = _store()
    k = key(setup)
    with lock:  # two learners pressing at once start one race
        found = races.get(k) if k is not None else None
        if found is not None and found.usable and time.time() - found.started <= SHARE_S:
            return
        race_ui.start(ds, setup)
        entry = st.session_state.get(race_ui.KEY_JOB)
        if k is not None and entry is not None:
            races[k] = SharedRace(entry["job"], entry, time.time())
            for old in sorted(races, key=lambda r: races[r].started)[:-MAX_SHARED]:
                del races[old]


def adopt(race: SharedRace) -> None:
    """Give this learner the finished shared race's speeds, as a row of their own races."""
    rows = st.session_state["race_results"]
    rows.append(rp.result_row(len(rows) + 1, race.job.result, race_ui.row_setup(race.entry),
                              "completed", race.entry["skipped"]))
    ago = time.time() - race.started
    where = ("on the shared training cluster" if race.entry.get("where") == race_ui.ON_CLUSTER
             else "on this server")
    st.session_state["lesson_race_note"] = (
        f"This race ran {ago:,.0f} s ago {where} with exactly these settings, for another "
        "learner: the whole class reads the same measurement.")


@st.fragment(run_every=1.0)
def watch(race: SharedRace) -> None:
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
