"""What is cached, and with which intent: data by value, read-only resources shared.

torch is imported inside the functions that need it, so the Home page can show the dataset
before torch has loaded (see nameclf.ui.state.preload_torch).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from nameclf.data import builtin
from nameclf.data.dataset import DEFAULT_SOURCE, NameDataset, load_dataset
from nameclf.serve.jobs import Job, Slots, settle_heap
from nameclf.ui.state import uploaded_dataset

if TYPE_CHECKING:
    import torch

    from nameclf.classify.pipeline import Prepared

DATA_DIR = Path("data")  # where downloaded datasets are kept
MAX_SESSION_PREPARED = 2  # encoded uploads kept per visitor
CORES = os.cpu_count() or 2
MAX_TRAINING_JOBS = max(1, CORES // 2)  # trainings at once, all visitors
# torch's intra-op pool is process-wide, so this is set once per server. Half the cores train
# (MAX_TRAINING_JOBS), the rest serve pages; a job gets the training cores // jobs, i.e. one
# thread: the app's small recurrent nets gain little from more, and on a busy 2-core machine a
# second thread made a tiny GRU 10-20x slower (docs/reliability.md)
THREADS_PER_JOB = max(1, CORES // (2 * MAX_TRAINING_JOBS))


@st.cache_resource(show_spinner=False)
def device() -> torch.device:
    """The device every visitor trains on: cuda, then mps, then cpu."""
    import torch

    from nameclf.device import pick_device

    torch.set_num_threads(THREADS_PER_JOB)  # once per server, before anything trains
    found = pick_device("auto")
    settle_heap()  # torch is in: keep its objects out of every script run's gc (nameclf.serve.jobs)
    return found


_server_wide: dict[str, Any] = {}
_server_wide_lock = threading.Lock()


def server_wide(name: str, make: Callable[[], Any]) -> Any:
    """One object per server process, made exactly once, for every visitor.

    For objects that hold state every visitor relies on (the queue, the registry of shared
    runs): a plain object kept here, which no `st.cache_resource.clear()` and no cache
    eviction can replace while visitors hold the old one.
    """
    with _server_wide_lock:
        if name not in _server_wide:
            _server_wide[name] = make()
        return _server_wide[name]


def forget_server_wide(*names: str) -> None:
    """Drop server-wide objects, to be made afresh (tests)."""
    with _server_wide_lock:
        for name in names:
            _server_wide.pop(name, None)


def training_slots() -> Slots:
    """The server-wide queue every visitor's training jobs wait in (one object, shared)."""
    def make() -> Slots:
        device()  # sets torch's threads for the server, should a training come first
        settle_heap()  # once more, with the pages' plotly and pandas loaded by now
        return Slots(MAX_TRAINING_JOBS)

    return server_wide("training_slots", make)


def training_speeds() -> dict:
    """Names per second each kind of model trained at on this server ("any": the latest of
    all), so a visitor queued behind a job can be told about how long it will take."""
    return server_wide("training_speeds", dict)


def stop_jobs(jobs: list[Job]) -> None:
    """Stop every job in `jobs` (Streamlit calls this when the visitor's session ends)."""
    for job in jobs:
        job.stop()


@st.cache_resource(scope="session", on_release=stop_jobs, show_spinner=False)
def session_jobs() -> list[Job]:
    """This visitor's background jobs; released, and so stopped, when their tab closes.

    Streamlit clears session-scoped resources as soon as the websocket disconnects, so a
    visitor who closes the tab mid-training frees their thread and their training slot.
    """
    return []


def own(job: Job) -> Job:
    """Tie a job to the current session's lifetime; returns it."""
    jobs = session_jobs()
    jobs[:] = [j for j in jobs if j.running]  # forget finished ones
    jobs.append(job)
    return job


@st.cache_resource(show_spinner=False)
def devices() -> tuple[str, ...]:
    """Devices a visitor may pick, the default first (a CPU-only torch: told without it)."""
    from nameclf.device import cpu_only_build

    if cpu_only_build():
        return ("cpu",)
    import torch

    found = [device().type, "cpu"]
    found += ["cuda"] if torch.cuda.is_available() else []
    return tuple(dict.fromkeys(found))


@st.cache_resource(max_entries=4, show_spinner="Loading the dataset…")
def builtin_dataset(source: str, ascii_fold: bool = True) -> NameDataset:
    """A built-in dataset, loaded once per server (it is the same for everyone); never mutated.

    A shared object, not st.cache_data's copy per call: every run a visitor keeps holds its
    dataset (to evaluate it later), and a copy is 1.5 MB for the 20,652 Faker surnames, so
    a class of 30 held 30 copies or more, and each page run unpickled another.
    """
    return load_dataset(source, ascii_fold=ascii_fold, data_dir=DATA_DIR)


def download_builtin(source: str, progress) -> NameDataset:
    """Load a built-in dataset that needs the network, reporting download progress.

    Not cached itself (a cached function must not draw a progress bar); once the file is on
    disk, builtin_dataset() reads it from there.
    """
    load_dataset(source, data_dir=DATA_DIR, progress=progress)
    return builtin_dataset(source)


def is_downloaded(source: str) -> bool:
    """Whether a built-in dataset is available without the network."""
    if source != "builtin:pytorch-names":
        return True
    return (DATA_DIR / getattr(builtin, "PYTORCH_NAMES_FILE", "pytorch-names.zip")).is_file()


@st.cache_resource(max_entries=6, show_spinner="Encoding the dataset…")
def builtin_prepared(source: str, split: str, seed: int, device_name: str) -> Prepared:
    """Split and encoded tensors of a built-in dataset, on the device; never mutated."""
    from nameclf.classify.pipeline import prepare

    return prepare(builtin_dataset(source), split, seed, device=device_name)


def current_dataset() -> NameDataset:
    """The dataset this visitor picked: their upload, or a built-in one."""
    source = st.session_state["dataset_source"]
    if source == "upload" and uploaded_dataset() is not None:
        return uploaded_dataset()
    return builtin_dataset(source if source != "upload" else DEFAULT_SOURCE)


def current_prepared(split: str, seed: int, device_name: str) -> Prepared:
    """The current dataset split and encoded: shared for built-ins, per visitor for uploads."""
    source = st.session_state["dataset_source"]
    upload = st.session_state.get("upload")
    if source != "upload" or upload is None:
        return builtin_prepared(source if source != "upload" else DEFAULT_SOURCE, split, seed,
                                device_name)
    from nameclf.classify.pipeline import prepare

    store = st.session_state.setdefault("prepared", {})
    key = (upload[0], id(upload[1]), split, seed, device_name)
    if key not in store:
        with st.spinner("Encoding your dataset…"):
            store[key] = prepare(upload[1], split, seed, device=device_name)
        while len(store) > MAX_SESSION_PREPARED:
            del store[next(iter(store))]
    return store[key]
