"""Training in the background: start one Job per visitor, collect its runs exactly once.

The Job's thread only calls `fit` and appends progress under a lock; it never calls st.*.
Pages read `job.snapshot()` and call `collect()`, which moves finished runs into the history.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import streamlit as st

from nameclf.errors import ConfigError
from nameclf.serve.jobs import Job
from nameclf.serve.shared_runs import Shared
from nameclf.ui import params, sharing
from nameclf.ui.cache import (
    current_dataset,
    current_prepared,
    own,
    training_slots,
)
from nameclf.ui.estimates import expected_seconds, learned_speed
from nameclf.ui.state import add_run, dataset_name, next_run_id, relabel

if TYPE_CHECKING:  # torch loads when a job starts, not when a page with a Start button draws
    from nameclf.classify.pipeline import Prepared, Run
    from nameclf.classify.train import Progress

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
    shared: str = ""  # "" (the visitor's own run), "joined" (live) or "given" (from the store)
    note: str = ""  # what the visitor is told about how it was shared


@dataclass
class Tick:
    """One progress report: which model of the job, and its training Progress."""

    model: int
    progress: Progress


@dataclass
class Phase:
    """Reported as a model of the job starts: the panel shows it working before any step
    (an n-gram fit has no steps at all), never the previous model's "0 s left"."""

    model: int
    started: float  # time.monotonic() when it started


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

    With a run `key` (nameclf.ui.sharing) the job is shared: the visitor gets a Watcher of
    it, others asking the same key join it, and its completed runs go to the server's store.
    """
    from nameclf.classify.pipeline import fit

    _refuse_second_job()
    info = _run_info(values)
    holder: dict = {}  # the Job and its Shared, once made (the target runs after)

    def progress(report, i: int, p: Progress) -> None:
        model, p = p.model, replace(p, model=None)  # a tick keeps numbers, not the model
        report(Tick(i, p))
        if model_cfgs[i].cell != "ngram" and p.step > 1:
            learned_speed(model_cfgs[i], train_cfg, p.names_per_second)
        job, slots = holder["job"], holder["job"].slots
        if slots is not None and job.running_since is not None:  # a better guess for the queue
            held = time.time() - job.running_since
            slots.revise(id(job), held + p.eta + (len(model_cfgs) - i - 1) * (p.elapsed + p.eta))
        if "shared" in holder:
            holder["shared"].on_step(model)

    def target(report, stop):
        out = []
        try:
            for i, model_cfg in enumerate(model_cfgs):
                if stop.is_set() and out:
                    break
                report(Phase(i, time.monotonic()))
                # the n-gram baseline fits in one go, with no half-fitted model a budget
                # could keep: it gets no time budget (Stop still ends it)
                limit = 0.0 if model_cfg.cell == "ngram" else train_cfg.time_budget
                run = fit(prep, model_cfg, replace(train_cfg, time_budget=limit), stop=stop,
                          info=dict(info), callback=lambda p, i=i: progress(report, i, p))
                out.append(run)
            if key is not None:
                sharing.keep(key, out)
            return out
        finally:
            if "shared" in holder:
                sharing.shared_runs().forget(holder["shared"])
                holder["shared"].ended()

    labels = [model_cfg.kind for model_cfg in model_cfgs]  # lstm, ngram, lstm+ngram
    expected = expected_seconds(model_cfgs, train_cfg, len(prep.train))
    job = holder["job"] = Job(target, name=f"{kind}-{labels[0]}", slots=training_slots(),
                              expected_s=expected)
    if key is None:
        _attach(kind, values, job, labels)
        job.start()
        return job

    def so_far(model, items):
        return stopped_run(model, prep, train_cfg, dict(info), items)

    def make() -> Shared:
        holder["shared"] = Shared(key, job, model_cfgs[0].cell != "ngram", so_far)
        return holder["shared"]

    registry = sharing.shared_runs()
    view, joined = registry.join_or_add(key, make)
    sharing.log_start(key, "joined" if joined else "started", registry)
    if joined:  # someone started the same run a moment ago: this job is never started
        return _attach(kind, values, view, labels, "joined", sharing.JOINED)
    _attach(kind, values, view, labels)
    job.start()
    return view


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
    if key is not None:
        labels = [model_cfg.kind]
        if (given := sharing.from_store(key)) is not None:
            sharing.log_start(key, "given", sharing.shared_runs())
            return _attach("train", values, given, labels, "given", sharing.given_note(given))
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
