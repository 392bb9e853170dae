"""The Pitfalls page's parts: which model and names the cards measure on, and one card.

The measurements are nameclf.lab.pitfalls; the words and code, nameclf.lab.pitfall_cards.
A card is drawn only once opened and measures only when its bug is switched on, so the
page's first view is eleven titles and runs no model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

from nameclf.lab.pitfall_cards import EFFECTS, Card, feedback
from nameclf.ui.cache import current_dataset
from nameclf.ui.views import plain, run_data

if TYPE_CHECKING:
    from nameclf.classify.pipeline import Run
    from nameclf.data.dataset import NameDataset
    from nameclf.lab.pitfalls import LabBatch

N_NAMES = 256  # test names each card measures on
LAB_STEPS = 300  # the lab's own small GRU: a few seconds on a 2-core CPU


@dataclass
class Subject:
    """What the cards measure on: a recurrent run and where its names come from."""

    run: Run
    which: str  # told to the visitor
    ds: NameDataset
    split: str
    seed: int


def train_lab_run(ds: NameDataset) -> Run:
    """The lab's own small GRU on a dataset: a few seconds, the same for the same data."""
    from nameclf.classify.config import ModelConfig, TrainConfig
    from nameclf.classify.pipeline import fit, prepare
    from nameclf.ui.cache import device

    prep = prepare(ds, "names", seed=0, device=device())
    return fit(prep, ModelConfig(cell="gru", hidden_size=64, embedding_dim=16),
               TrainConfig(optimizer="adamw", lr=0.01, batch_size=64, steps=LAB_STEPS,
                           sampling="bucket", clip_grad=1.0, eval_every=0, seed=0))


@st.cache_resource(max_entries=2, show_spinner=False)
def shared_lab_run(source: str) -> Run:
    """The lab's GRU on a built-in dataset, trained once per server and shared read-only by
    every visitor without a run of their own (the same data and settings: the same model)."""
    from nameclf.ui.cache import builtin_dataset

    return train_lab_run(builtin_dataset(source))


def lab_run(ds: NameDataset) -> Run:
    """The lab's GRU for the visitor's dataset: shared for a built-in one; for an upload,
    trained for this visitor alone and kept in their session (an upload is theirs)."""
    from nameclf.data.dataset import DEFAULT_SOURCE

    source = st.session_state.get("dataset_source") or DEFAULT_SOURCE
    if source != "upload" or st.session_state.get("upload") is None:  # as current_dataset()
        return shared_lab_run(source if source != "upload" else DEFAULT_SOURCE)
    kept = st.session_state.get("pitfall_lab_run")
    if kept is None or kept[0] != id(ds):
        kept = (id(ds), train_lab_run(ds))
        st.session_state["pitfall_lab_run"] = kept
    return kept[1]


def subject() -> Subject:
    """The visitor's latest recurrent run, else the lab's own small model (trained here once)."""
    from nameclf.ui.explainer import latest_recurrent

    found = latest_recurrent()
    if found is not None:
        run_id, run = found
        ds, split, seed, _ = run_data(run_id, run)
        return Subject(run, f"your latest recurrent run, **{plain(run_id)}** "
                            f"({run.model_config.kind})", ds, split, seed)
    ds = current_dataset()
    with st.spinner(f"Training a small GRU for the lab ({LAB_STEPS} steps, a few seconds; "
                    "once per dataset)…"):
        run = lab_run(ds)
    return Subject(run, "the lab's own small GRU (you have no recurrent run yet; "
                        f"top-1 {run.metrics.get('top1', 0):.0%})", ds, "names", 0)


def lab_batch(sub: Subject) -> LabBatch:
    """Up to N_NAMES of the run's test names, with their labels, read by its recurrent part."""
    from nameclf.classify.mixture import Mixture
    from nameclf.data.splits import make_split
    from nameclf.lab.pitfalls import sample_batch

    run = sub.run
    model = run.model.recurrent if isinstance(run.model, Mixture) else run.model
    rows = make_split(sub.ds, sub.split, seed=sub.seed).test
    return sample_batch(model, run.vocab, run.classes, [sub.ds.names[i] for i in rows],
                        [sub.ds.labels[i] for i in rows], N_NAMES)


def measure(card: Card, batch: LabBatch):
    """The card's measurement on this batch (the generator card: the visitor's latest
    generator, else a small untrained one on the classifier's characters)."""
    from nameclf.lab import pitfalls

    if card.needs == "generator":
        gen, vocab, labels = generator(batch)
        return pitfalls.masked_mean(gen, vocab, batch.names[:64], labels[:64])
    return getattr(pitfalls, card.key)(batch)


def measured(card: Card, get_batch):
    """measure(), kept per model in this session: a rerun shows the same numbers (the speed
    card's timings would otherwise change each time another card is switched)."""
    batch = get_batch()
    store = st.session_state.setdefault("pitfall_results", {})
    key = (id(batch.model), tuple(batch.names), card.key)
    if key not in store:
        if len(store) > 4 * 16:  # another model's results: drop them
            store.clear()
        store[key] = measure(card, batch)
    return store[key]


def generator(batch: LabBatch):
    """(model, vocab, label ids of the batch's names) of the generator card."""
    from nameclf.ui.generate import gen_runs

    for gen in reversed(gen_runs().values()):
        if set(gen.classes) >= {batch.classes[i] for i in batch.labels}:
            return gen.model, gen.vocab, [gen.classes.index(batch.classes[i])
                                          for i in batch.labels]
    from nameclf.lab.targets import untrained

    return untrained(batch.vocab, batch.classes), batch.vocab, batch.labels


def card(card: Card, get_batch) -> None:
    """One pitfall in an expander drawn only once opened: the code both ways, then a switch
    that measures the bug against the fix."""
    with st.expander(card.title, key=f"pit_open_{card.key}", on_change="rerun") as box:
        if not box.open:
            return
        st.markdown(card.what)
        wrong, right = st.columns(2)
        wrong.markdown(":red[**With the bug**]")
        wrong.code(card.wrong, language="python", wrap_lines=True)
        right.markdown(":green[**Fixed**]")
        right.code(card.right, language="python", wrap_lines=True)
        guess = st.radio("Before you switch it on: what will this bug do to your names?",
                         list(EFFECTS), format_func=EFFECTS.get, index=None,
                         key=f"pit_guess_{card.key}")
        if st.toggle("Switch the bug on and measure it", key=f"pit_{card.key}",
                     disabled=guess is None, help="Guess first: the switch opens once you have."):
            result = measured(card, get_batch)
            ok, said = feedback(guess, result.effect)
            (st.success if ok else st.warning)(said)
            st.markdown(f"**{plain(result.headline)}**")
            if result.error:
                st.code(result.error, language="text", wrap_lines=True)
            st.table({"": [r[""] for r in result.rows],
                      "with the bug": [r["with the bug"] for r in result.rows],
                      "with the fix": [r["with the fix"] for r in result.rows]})
        st.caption("Reported in: " + " · ".join(f"[{label}]({url})"
                                                for label, url in card.sources))
