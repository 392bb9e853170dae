"""Widgets and per-step rendering of the Padding & packing page."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

from nameclf.data.dataset import NameDataset
from nameclf.lab import packing as ex
from nameclf.ui.state import latest_run, runs
from nameclf.ui.views import dataset_key

if TYPE_CHECKING:  # a fresh visitor's steps 1-5 need no torch; step 6's model does
    from nameclf.classify.model import NameClassifier
    from nameclf.classify.pipeline import Run
from nameclf.data.vocab import Vocab

KEY_NAMES, KEY_STEP = "explainer_names", "explainer_step"


@st.cache_data(max_entries=8, show_spinner=False)
def dataset_vocab(key: str, _ds: NameDataset) -> tuple[str, ...]:
    """Characters of a whole dataset (what a model trained on it would know)."""
    return Vocab.build(_ds.names).chars


@st.cache_data(max_entries=8, show_spinner=False)
def dataset_waste(key: str, _ds: NameDataset, batch_size: int) -> float:
    """Padding waste of random batches of the dataset's names."""
    return ex.batch_waste([len(n) for n in _ds.names], batch_size)


@st.cache_data(max_entries=64, show_spinner=False)
def walkthrough(names: tuple[str, ...], chars: tuple[str, ...]) -> dict:
    """The pure step data, computed once per name set and vocabulary."""
    return ex.walkthrough(list(names), Vocab(chars))


@st.cache_resource(max_entries=4, show_spinner=False)
def fresh_model(vocab_size: int, n_classes: int) -> NameClassifier:
    """A random LSTM shared read-only by visitors who have not trained one."""
    return ex.fresh_model(vocab_size, n_classes)


def readout(model: NameClassifier, vocab: Vocab, names: list[str],
            classes: list[str]) -> ex.Readout:
    """The readout comparison, computed once per model and name set in this session."""
    key = (id(model), tuple(names), vocab.chars)
    cached = st.session_state.get("explainer_readout")
    if cached is None or cached[0] != key:
        cached = (key, ex.readout(model, vocab, names, classes))
        st.session_state["explainer_readout"] = cached
    return cached[1]


def _pick_new(ds: NameDataset) -> None:
    seed = st.session_state.get("explainer_seed", 0) + 1
    st.session_state["explainer_seed"] = seed
    st.session_state[KEY_NAMES] = ", ".join(ex.default_names(ds.names, seed))


def names_input(ds: NameDataset) -> list[str] | None:
    """The 2–8 names to walk through, or None after a warning explaining what is wrong."""
    st.session_state.setdefault(KEY_NAMES, ", ".join(ex.default_names(ds.names)))
    left, right = st.columns([5, 1], vertical_alignment="bottom")
    left.text_input("Names (2 to 8, separated by commas)", key=KEY_NAMES)
    right.button("Pick other names", key="explainer_pick", on_click=_pick_new, args=(ds,),
                 width="stretch")
    names, warning = ex.parse_names(st.session_state[KEY_NAMES], ds.ascii_fold)
    if warning:
        st.warning(warning)
        return None
    return names


def latest_recurrent() -> tuple[str, Run] | None:
    """This visitor's newest run that has a hidden state to read (not the n-gram baseline)."""
    if not runs():
        return None
    from nameclf.classify.mixture import Mixture
    from nameclf.classify.model import NameClassifier

    for run_id, run in reversed(runs().items()):
        if isinstance(run.model, Mixture | NameClassifier):
            return run_id, run
    return None


def model_and_vocab(ds: NameDataset) -> tuple[Callable[[], NameClassifier], Vocab, list[str],
                                               str]:
    """The latest recurrent run's model and vocabulary, else a fresh model on the dataset's.

    The model comes as a function: only step 6 runs it, and a fresh one needs torch.
    """
    found, newest = latest_recurrent(), latest_run()
    if found is not None:
        from nameclf.classify.mixture import Mixture

        run_id, run = found
        model = run.model.recurrent if isinstance(run.model, Mixture) else run.model
        mixed = ", without its mixed-in n-gram model" if model is not run.model else ""
        name = (f"your latest trained recurrent run, {run_id} ({run.model_config.cell.upper()}, "
                f"its own vocabulary{mixed})")
        if newest is not run:  # the newest is the n-gram baseline: say why it is not used
            name += ("; your newest run is the n-gram baseline, which has no hidden state to "
                     "pad or pack")
        return (lambda: model), run.vocab, run.classes, name
    vocab = Vocab(dataset_vocab(dataset_key(ds), ds))
    fresh = "a freshly initialised LSTM (random weights: train one to see a real model)"
    if newest is not None:  # only n-gram runs: they have no hidden state to read
        fresh = ("a freshly initialised LSTM: your runs are all the n-gram baseline, which has "
                 "no hidden state to pad or pack (random weights: train a recurrent model to "
                 "see a real one)")
    return (lambda: fresh_model(len(vocab), len(ds.classes))), vocab, ds.classes, fresh


def _go(delta: int) -> None:
    st.session_state[KEY_STEP] = min(len(ex.STEPS), max(1, st.session_state[KEY_STEP] + delta))


def step_nav() -> int:
    """Back/Next buttons and a slider over the steps; returns the current step (1-based)."""
    st.session_state.setdefault(KEY_STEP, 1)
    back, slider, nxt = st.columns([1, 6, 1], vertical_alignment="bottom")
    step = st.session_state[KEY_STEP]
    back.button("← Back", key="explainer_back", on_click=_go, args=(-1,), disabled=step <= 1,
                width="stretch")
    nxt.button("Next →", key="explainer_next", on_click=_go, args=(1,),
               disabled=step >= len(ex.STEPS), width="stretch")
    slider.slider("Step", 1, len(ex.STEPS), key=KEY_STEP,
                  format="%d of " + str(len(ex.STEPS)))
    return st.session_state[KEY_STEP]


def clamp(key: str, low: int, high: int) -> None:
    """Keep a keyed widget's value inside a range that changes with the names."""
    st.session_state[key] = min(high, max(low, st.session_state.get(key, low)))


def counters(data: dict) -> None:
    """Real vs padded cells and the fraction padding wastes."""
    cols = st.columns(4)
    cols[0].metric("Real cells", data["real_cells"])
    cols[1].metric("Padded grid cells (T × B)", data["padded_cells"])
    cols[2].metric("<pad> cells", data["pad_cells"])
    cols[3].metric("Computation wasted", f"{data['wasted_fraction']:.0%}")
