"""Generating names on the page: pick a run, a label, a temperature; see them judged.

The judge is the visitor's latest classifier run of the same labels, if any: agreement is
the share of samples it assigns to the asked-for label, shown beside its own top-1 on the
real test names of that label (the best agreement to hope for).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from nameclf.ui.state import runs
from nameclf.ui.views import plain

if TYPE_CHECKING:
    from nameclf.classify.pipeline import Run
    from nameclf.generate.train import GenRun


def judge_run(classes: list[str]) -> tuple[str, Run] | None:
    """The visitor's newest classifier run that knows every one of these labels."""
    for run_id in reversed(list(runs())):
        run = runs()[run_id]
        if set(classes) <= set(run.classes):
            return run_id, run
    return None


def choices(run: GenRun) -> dict:
    """Label, temperature, count and the rest, as widgets."""
    left, mid, right = st.columns(3)
    label = left.selectbox("Label", run.classes, key="gs_label")
    n = left.number_input("How many names", 1, 200, 12, key="gs_n")
    temperature = mid.slider("Temperature", 0.0, 2.0, 0.8, 0.05, key="gs_temp",
                             help="below 1: safer, commoner names; above 1: wilder; "
                                  "0: always the likeliest character")
    top_k = mid.number_input("Top-k (0 = all characters)", 0, 60, 0, key="gs_topk")
    prefix = right.text_input("Start with (optional)", "", max_chars=12, key="gs_prefix")
    seed = right.number_input("Seed", 0, 10_000, 0, key="gs_seed")
    return dict(label=label, n=int(n), temperature=float(temperature), top_k=int(top_k),
                prefix=prefix.strip(), seed=int(seed))


def real_top1(judge: Run, label: str) -> float | None:
    """The classifier's top-1 on its own real test names of `label`."""
    from nameclf.data.splits import make_split
    from nameclf.generate.sampling import classifier_top1
    from nameclf.ui.views import run_data

    run_id = next(k for k, v in runs().items() if v is judge)
    ds, split, seed, _ = run_data(run_id, judge)
    sp = make_split(ds, split, seed=seed)
    rows = [i for i in sp.test if ds.labels[i] == label]
    if not rows:
        return None
    return classifier_top1(judge, [ds.names[i] for i in rows], [label] * len(rows))[label]


def show_samples(run: GenRun, values: dict) -> None:
    """Generate, then show the names with novelty and the classifier's verdict."""
    import pandas as pd

    from nameclf.classify.pipeline import predict
    from nameclf.generate.batches import name_hash
    from nameclf.generate.sampling import SampleConfig, novelty, sample_names

    cfg = SampleConfig(values["label"], values["n"], values["temperature"], values["top_k"],
                       values["prefix"], 20, values["seed"])
    names = sample_names(run, cfg)
    if run.ngram_weight:
        st.caption(f"Each character drawn from the {run.model_config.cell.upper()} and the "
                   f"n-gram LM mixed (weight {run.ngram_weight:g}), the model scored above.")
    known = set(run.train_hashes.tolist()) if run.train_hashes is not None else set()
    table = pd.DataFrame({"name": names,
                          "new": ["yes" if name_hash(n) not in known else "a training name"
                                  for n in names]})
    judge = judge_run(run.classes)
    cols = st.columns(3)
    cols[0].metric("Novelty", f"{novelty(names, run.train_hashes):.0%}",
                   help="the share of these names that are not training names")
    if judge is None:
        st.dataframe(table, hide_index=True, key="gs_table")
        st.info("Train a classifier on **Train** (same dataset) and it will judge these "
                "names here: does it read them as the label you asked for?")
        return
    judge_id, judge_model = judge
    preds = predict(judge_model, names, k=1)
    table["classifier says"] = [p.top[0][0] if p.top else "—" for p in preds]
    table["probability"] = [f"{p.top[0][1]:.0%}" if p.top else "" for p in preds]
    agree = sum(t == values["label"] for t in table["classifier says"]) / len(names)
    top1 = real_top1(judge_model, values["label"])
    cols[1].metric("Agreement", f"{agree:.0%}",
                   help=f"the share that {judge_id} assigns to {values['label']}")
    cols[2].metric(f"{judge_id} on real test names", "–" if top1 is None else f"{top1:.0%}",
                   help="its top-1 on the real test names of this label: what agreement "
                        "could hope to reach")
    st.dataframe(table, hide_index=True, key="gs_table")
    st.caption(plain(f"Judged by your latest classifier run of these labels, {judge_id}."))
