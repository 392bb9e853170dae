"""Per-visitor session state, initialised the same way at the top of every page.

Imports no torch: the Home page shows its title and dataset without it (see preload_torch).
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING

import streamlit as st

from nameclf.data.dataset import DEFAULT_SOURCE

if TYPE_CHECKING:
    from nameclf.classify.pipeline import Run
    from nameclf.data.dataset import NameDataset

MAX_RUNS = 10  # runs kept per visitor; the oldest is dropped beyond this
# slow imports that every page but Home needs at once: torch (~2 s), and the emoji table
# (~0.3 s) that st.set_page_config loads for an emoji page icon (Home's is a material icon)
PRELOADED = ("torch", "streamlit.emojis")
_preload_lock = threading.Lock()
_preloader: threading.Thread | None = None


def preload_torch() -> None:
    """Start importing torch (and the other PRELOADED) in a background thread, once per process.

    Home calls it once drawn, so the next page a visitor opens finds torch loaded (other pages
    import it at once anyway). The thread only imports modules: it never calls st.*. Code that
    needs torch simply imports it; Python's import lock makes it wait for this import.
    """
    global _preloader
    with _preload_lock:
        if _preloader is not None:
            return
        _preloader = threading.Thread(target=_import_all, name="nameclf-preload", daemon=True)
        _preloader.start()


_heavy_lock = threading.Lock()
HEAVY = ("numpy", "pandas", "plotly.graph_objects")  # what a chart or a table imports first


def heavy_imports(timeout: float = 120.0) -> None:
    """Import numpy, pandas and plotly once per process, never from two threads at once.

    Thirty learners' first reveals at once would otherwise import them in thirty script
    threads while the preloader imports torch (which imports numpy): Python's per-module import
    lock lets such a thread see a half-initialised package ("partially initialized module
    'pandas' has no attribute 'Series'"). So wait for the preloader, then import under a lock;
    later calls find them in sys.modules at once.
    """
    thread = _preloader
    if thread is not None and thread.is_alive():
        thread.join(timeout)
    with _heavy_lock:
        for name in HEAVY:
            importlib.import_module(name)


_heavy_thread: threading.Thread | None = None


def preload_heavy() -> None:
    """heavy_imports() in a background thread, once per process: a page whose next views draw
    charts and tables (the lesson's reveals) calls it once drawn, after preload_torch()."""
    global _heavy_thread
    with _preload_lock:
        if _heavy_thread is not None:
            return
        _heavy_thread = threading.Thread(target=heavy_imports, name="nameclf-heavy",
                                         daemon=True)
        _heavy_thread.start()


def _import_all() -> None:
    for name in PRELOADED:
        try:
            importlib.import_module(name)
        except Exception:  # the page's own import reports it properly
            continue


def runs() -> dict[str, Run]:
    """This visitor's runs, oldest first."""
    return st.session_state["runs"]


def latest_run() -> Run | None:
    """The newest run of this visitor, if any."""
    return next(reversed(runs().values()), None) if runs() else None


def next_run_id(label: str) -> str:
    """A fresh, file-name-safe id such as `run3-gru`."""
    st.session_state["run_counter"] += 1
    return relabel(f"run{st.session_state['run_counter']}", label)


def relabel(run_id: str, label: str) -> str:
    """The id `next_run_id` would have given with `label`, same number: `run3-gru-ngram`
    becomes `run3-gru` when only the GRU of a mixture was kept."""
    number = run_id.split("-", 1)[0]
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in label)[:40]
    return f"{number}-{safe}"


def add_run(run_id: str, run: Run, data: tuple | None = None) -> None:
    """Keep a run (and the data it was trained on), evicting the oldest beyond MAX_RUNS."""
    store = runs()
    store[run_id] = run
    if data is not None:
        st.session_state["run_data"][run_id] = data
    while len(store) > MAX_RUNS:
        oldest = next(iter(store))
        del store[oldest]
        st.session_state["run_data"].pop(oldest, None)
        st.session_state["notes"].append(f"Run {oldest} was dropped: at most {MAX_RUNS} are kept.")


def show_notes() -> None:
    """Show and forget the one-time messages."""
    notes = st.session_state.get("notes", [])
    for note in notes:
        st.info(note)
    notes.clear()


def uploaded_dataset() -> NameDataset | None:
    """The visitor's uploaded dataset, if they chose one."""
    upload = st.session_state.get("upload")
    return upload[1] if upload else None


def dataset_name() -> str:
    """How the visitor's current dataset is named in run info and the URL."""
    source = st.session_state["dataset_source"]
    upload = st.session_state.get("upload")
    if source == "upload" and upload:
        return f"upload:{upload[0]}"
    return source if source != "upload" else DEFAULT_SOURCE
