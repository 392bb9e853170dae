"""Identical runs shared between visitors: the key of a Train run, the store, the notes.

The rule (docs/reliability.md, "Shared runs"): a Train run whose result is a pure function of
its settings (a built-in dataset, a CPU or deterministic GPU, no time limit) gets a key.
A visitor asking for a run whose key is training joins it live; one whose key finished
recently gets it at once from the server's store; an upload is never shared.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.logger import get_logger

from nameclf.serve.runstore import RunStore, dataset_digest, not_reproducible, run_key
from nameclf.serve.shared_runs import Given, SharedRuns
from nameclf.ui.cache import THREADS_PER_JOB, current_dataset, server_wide

_log = get_logger(__name__)
STORE_BYTES = 64 * 2**20  # finished runs kept for everyone: 64 MB (a fast GRU is ~0.4 MB)
STORE_AGE_S = 15 * 60  # ... and for 15 minutes, about a lesson's exercise
GIVEN = ("Trained {age} ago on this server with exactly these settings; the same seed gives "
         "the same model — change the seed to train your own.")
JOINED_DONE = ("This run was trained once for everyone on this server who asked for exactly "
               "these settings; the same seed gives the same model — change the seed to train "
               "your own.")
DETACHED = ("You stopped watching: you keep the model as it was then, marked stopped; the run "
            "went on for the others watching it.")
JOINED = ("Someone on this server is training exactly these settings, so you are watching "
          "that run: the same seed gives the same model — change the seed to train your own. "
          "Stop detaches only you (you keep the model so far).")


def run_store() -> RunStore:
    """Finished shareable runs, server-wide, bounded in bytes and age."""
    return server_wide("run_store", lambda: RunStore(STORE_BYTES, STORE_AGE_S))


def shared_runs() -> SharedRuns:
    """Shareable runs being trained (or queued) right now, server-wide."""
    return server_wide("shared_runs", SharedRuns)


def key_for(values: dict, model_cfg: Any, train_cfg: Any, split: str) -> str | None:
    """The run key of these settings for the current visitor, or None if not shared."""
    import torch

    source = st.session_state["dataset_source"]
    if source == "upload":  # an upload is the visitor's alone, and never shared
        return None
    if not_reproducible(values["device"], train_cfg.time_budget,
                        torch.are_deterministic_algorithms_enabled()):
        return None
    ds = current_dataset()  # about 30 ms to hash 20,000 names, once per Start
    digest = dataset_digest(ds.names, ds.labels, ds.ascii_fold)
    # the threads the server gives a training, not torch.get_num_threads(): with OpenMP that
    # is per thread, and each session's script thread reads its own
    return run_key(digest, model_cfg, train_cfg, split, values["device"], THREADS_PER_JOB)


def log_start(key: str, how: str, registry: SharedRuns) -> None:
    """One line in the server's log per shared Start: which run, and how it was served."""
    _log.info("run %s %s (%d live shared runs, %d visitors watching)", key[:12], how,
              len(registry), registry.watchers())


def where(engine: Any):
    """How a note names the place runs are shared: this server, or the training cluster."""
    from nameclf.serve.engine import LocalEngine

    if isinstance(engine, LocalEngine):
        return lambda text: text
    return lambda text: text.replace("on this server", "on the shared training cluster")


def age_text(seconds: float) -> str:
    return f"{seconds:,.0f} s" if seconds < 90 else f"{seconds / 60:,.0f} min"


def given_note(given: Given) -> str:
    return GIVEN.format(age=age_text(given.age_s))


def watching_text(job: Any) -> str:
    """Who else watches a shared run, for its live panel ('' for a visitor's own run)."""
    shared = getattr(job, "shared", None)
    others = shared.watching - 1 if shared is not None else 0
    if others <= 0:
        return ""
    return f"{others:,} other visitor{'s' if others > 1 else ''} watching this run too."
