"""Training in the background: start one Job per visitor, collect its runs exactly once.

The Job's thread only calls `fit` and appends progress under a lock; it never calls st.*.
Pages read `job.snapshot()` and call `collect()`, which moves finished runs into the history.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import streamlit as st

from nameclf.errors import ConfigError
from nameclf.serve.jobs import Job
from nameclf.serve.train_job import JobSpec, Phase, Tick
from nameclf.ui import params, sharing
from nameclf.ui.cache import THREADS_PER_JOB, current_dataset, current_prepared, own
from nameclf.ui.estimates import expected_seconds, learned_speed
from nameclf.ui.state import add_run, dataset_name, next_run_id, relabel

if TYPE_CHECKING:  # torch loads when a job starts, not when a page with a Start button draws
    from nameclf.classify.pipeline import Prepared, Run

__all__ = ["Phase", "Tick"]  # the live panel's items, defined with the job (serve.train_job)

CELLS = ("rnn", "lstm", "gru")


@dataclass
class JobMeta:
    """What a visitor's job is doing, attached to the Job as `job.meta`."""

    kind: str  # train | compare
    run_ids: list[str]  # one per model the job trains, in order
    data: tuple  # (NameDataset, split kind, seed): what the runs are evaluated on
    models: list[str] = field(default_factory=list)  # ModelConfig.kind of each, in order
    collected: bool = False  # runs moved into the history already
    error: str = ""  # the job's error line, if it failed
    stopped: bool = False  # the visitor pressed Stop
    empty: list[str] = field(default_factory=list)  # n-gram fits ended early: nothing kept
    untrained: list[str] = field(default_factory=list)  # a Stop came before they started
    shared: str = ""  # "" (the visitor's own run), "joined" (live) or "given" (from the store)
    note: str = ""  # what the visitor is told about how it was shared


def current_job() -> Job | None:
    """The visitor's job, finished or not."""
    return st.session_state.get("job")


def is_running() -> bool:
    """Whether the visitor has a job still running (of any page)."""
    job = current_job()
    return job is not None and job.running


_ELSEWHERE = {  # a visitor's job kinds: (where it runs, what it is)
    "generate": ("Generate", "Your generator {name} is still training on Generate"),
    "race": ("Speed race", "Your speed race is still running on Speed race"),
    "train": ("Train", "Your training job {name} is still running"),
    "gradients": ("Batch size & gradients",
                  "Your {name} is still running on Batch size & gradients"),
}


def other_job(here: str) -> str:
    """Why no job may start on page `here` ("train", "generate", "race", "gradients"): another
    job of this visitor runs (one job per visitor, whichever page started it). Empty when none
    does."""
    jobs = {"generate": st.session_state.get("gen_job"),  # nameclf.ui.generate's key
            "race": (st.session_state.get("race_job") or {}).get("job"),  # nameclf.ui.race's
            "train": current_job(),
            "gradients": (st.session_state.get("grad_job") or {}).get("job")}  # ui.gradients
    for kind, job in jobs.items():
        if kind != here and job is not None and job.running:
            text = _ELSEWHERE[kind][1].format(name=getattr(job, "name", ""))
            return (f"{text}: one job per visitor. Stop it there or wait for it to finish, "
                    "then start this one.")
    return ""


def generator_busy() -> str:
    """Why no classifier job may start now: this visitor's generator or race runs."""
    return other_job("train")


def _refuse_second_job() -> None:
    if is_running():
        raise ConfigError("a training job is already running; stop it first")
    if why := generator_busy():
        raise ConfigError(why)


def _run_info(values: dict) -> dict:
    """What a run records about its data, so it can be evaluated again later."""
    ds = current_dataset()
    name = dataset_name()  # `data` and `seed` as the CLI writes them, so either can reload
    return dict(dataset=name, data=name, ascii_fold=ds.ascii_fold, seed=int(values["seed"]),
                device=values["device"], preset=values.get("preset"))


def _start(kind: str, values: dict, model_cfgs, train_cfg, prep: Prepared,
           key: str | None = None) -> Job:
    """Start a job training one model per config in sequence; refuses a second job.

    It runs where nameclf.ui.engines says (this server, or a Ray cluster for a built-in
    dataset). With a run `key` (nameclf.ui.sharing) the job is shared: a run finished
    recently with it is given at once, one training or queued with it is joined, and its
    completed runs are kept for the next visitor asking the same.
    """
    from nameclf.ui.engines import engine_for

    _refuse_second_job()
    info = _run_info(values)
    spec = JobSpec(prep, list(model_cfgs), train_cfg, info, THREADS_PER_JOB)

    def on_step(i: int, p, model, expected: float) -> None:
        if model_cfgs[i].cell != "ngram" and p.step > 1:
            learned_speed(model_cfgs[i], train_cfg, p.names_per_second)

    def so_far(model, items):
        return stopped_run(model, prep, train_cfg, dict(info), items)

    labels = [model_cfg.kind for model_cfg in model_cfgs]  # lstm, ngram, lstm+ngram
    expected = expected_seconds(model_cfgs, train_cfg, len(prep.train))
    engine, where = engine_for(st.session_state.get("dataset_source") == "upload")
    job, how = engine.submit(spec, key, expected, f"{kind}-{labels[0]}", so_far, on_step)
    if key is not None:
        sharing.log_start(key, how, sharing.shared_runs())
    here = sharing.where(engine)  # "on this server", or on the cluster
    if how == "given":
        return _attach(kind, values, job, labels, "given", here(sharing.given_note(job)))
    if how == "joined":
        return _attach(kind, values, job, labels, "joined", here(sharing.JOINED))
    return _attach(kind, values, job, labels, "", where)


def _attach(kind: str, values: dict, job, labels: list[str], shared: str = "",
            note: str = ""):
    """Make `job` (a Job, a Watcher or a Given) the visitor's job, with their own run ids."""
    run_ids = [next_run_id(label) for label in labels]
    job.meta = JobMeta(kind, run_ids, (current_dataset(), values["split"], int(values["seed"])),
                       labels, shared=shared, note=note)
    st.session_state["job"] = own(job)
    return job


def start_training(values: dict) -> Job:
    """Train one model with the Train page's settings.

    Identical settings are shared (nameclf.ui.sharing): a run finished recently with them
    is given at once, one training or queued with them is joined; anything else trains.
    """
    why = params.problem(values)
    if why:
        raise ConfigError(why)
    _refuse_second_job()
    prep = current_prepared(values["split"], int(values["seed"]), values["device"])
    model_cfg, train_cfg, split = params.configs(values, len(prep.train))
    key = sharing.key_for(values, model_cfg, train_cfg, split)
    return _start("train", values, [model_cfg], train_cfg, prep, key)


def start_on_arrival(values: dict) -> bool:
    """Start training if Home's recommended button sent the visitor here; True if started.

    The flag is used once: a reload of the Train page afterwards starts nothing.
    """
    if not st.session_state.pop("train_on_arrival", False) or is_running():
        return False
    _refuse_second_job()  # the visitor's generator trains: say so, start nothing
    if params.problem(values):
        return False
    start_training(values)
    return True


def start_comparison(values: dict, seconds: float = 0.0, ngram: bool = False,
                     steps: int | None = None) -> Job:
    """Train RNN, LSTM and GRU (and the n-gram baseline) with the same data, seed and budget.

    Like for like: with `steps`, every recurrent cell takes exactly that many steps (batches)
    and no time limit, so the time each takes is the result; otherwise each gets `seconds`.
    Each recurrent model races alone: no n-gram model is mixed into it, whatever the Train
    page's mix weight, so that the n-gram baseline is beaten (or not) by the cell itself. The
    baseline reads word frequencies if the Train page's checkbox says so."""
    values = dict(values, time=seconds)
    if steps is not None:
        values.update(budget="steps", steps=int(steps), time=0)
    if values["batching"] == "padded" and values["bidir"]:
        values["batching"] = "packed"
    prep = current_prepared(values["split"], int(values["seed"]), values["device"])
    model_cfg, train_cfg, _ = params.configs(values, len(prep.train))
    cells = [*CELLS, "ngram"] if ngram else list(CELLS)
    words = bool(values.get("lexicon"))
    cfgs = [replace(model_cfg, cell=cell, ngram_weight=0.0, lexicon=words and cell == "ngram")
            for cell in cells]
    return _start("compare", values, cfgs, train_cfg, prep)


def collect() -> JobMeta | None:
    """Move a finished job's runs into the history, exactly once; returns its meta."""
    job = current_job()
    meta = getattr(job, "meta", None)
    if not isinstance(meta, JobMeta) or not job.done or meta.collected:
        return None
    meta.collected = True
    meta.error = job.error or ""
    meta.stopped = job.stop_event.is_set()
    st.session_state[f"last_{meta.kind}_job"] = meta  # outlives a later job of another kind
    results = job.result or []
    if meta.stopped and not meta.error and len(results) < len(meta.run_ids):
        meta.untrained = meta.run_ids[len(results):]  # Stop came between two models
    kept = []
    for run_id, run in zip(meta.run_ids, results, strict=False):
        run_id = relabel(run_id, run.model_config.kind)  # a mixture whose n-gram fit was cut
        if run.learned_nothing:
            meta.empty.append(run_id)
        else:
            add_run(run_id, run, meta.data)
            kept.append(run_id)
    meta.run_ids = kept
    return meta


@dataclass
class Live:
    """What the live panel shows about a job, from its snapshot."""

    items: list = field(default_factory=list)  # the job's snapshot: Ticks and Phases

    @property
    def ticks(self) -> list[Tick]:
        return [t for t in self.items if isinstance(t, Tick)]

    def phase(self) -> Phase | None:
        """The model that started last, if no step of it was reported yet."""
        last = self.items[-1] if self.items else None
        return last if isinstance(last, Phase) else None

    def history(self, model: int) -> dict:
        """Curves of one model so far, shaped like train.History.to_dict()."""
        hist = dict(step=[], loss=[], running_loss=[], eval_step=[], top1=[], top2=[])
        for t in self.ticks:
            if t.model != model:
                continue
            p = t.progress
            hist["step"].append(p.step)
            hist["loss"].append(p.loss)
            hist["running_loss"].append(p.running_loss)
            if p.top1 is not None:
                hist["eval_step"].append(p.step)
                hist["top1"].append(p.top1)
                hist["top2"].append(p.top2)
        return hist

    def latest(self) -> Tick | None:
        return self.ticks[-1] if self.ticks else None


def stopped_run(model, prep: Prepared, train_cfg, info: dict, items: list) -> Run:
    """The Run a detaching watcher keeps: the model as it was at a step, marked stopped."""
    from nameclf.classify.pipeline import finish

    live = Live(items)
    last = live.latest()
    p = last.progress if last is not None else None
    return finish(model, prep, train_cfg, dict(info, detached=True), p.step if p else 0,
                  p.elapsed if p else 0.0, p.names_per_second if p else 0.0, live.history(0),
                  "stopped")
