"""The cluster side of the Ray engine: one hub actor, and the task that trains a job.

The hub is a detached named actor (`nameclf-hub` in namespace `nameclf`) that every web replica
finds by name. It holds what one server holds in-process: the fair queue (`jobs.Slots`, one
order for all replicas), the runs being trained by run key (a second replica's visitor joins
one live), every job's progress, and the finished shareable runs (`runstore.RunStore`, by key,
15 minutes). It never trains and never imports torch: progress items travel pickled, as bytes
it only passes on, and a finished job's runs stay in Ray's object store, referenced.

A job runs in a Ray task (`train_task`, one CPU), started by the hub when the queue gives it a
slot: a classifier's JobSpec, or any other job's picklable Work (nameclf.serve.engine). The task
reports every FLUSH_S (and at each model's start) and hears back whether to stop and whether a
detaching watcher wants the model so far. A task whose worker dies never sends its
last report: the hub sees the task end without it and tells its watchers WORKER_STOPPED.
Pickle here only ever carries this package's own objects between its own processes.
"""

from __future__ import annotations

import itertools
import pickle
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import ray

from nameclf.errors import NameclfError
from nameclf.serve.jobs import Slots
from nameclf.serve.runstore import RunStore
from nameclf.serve.shared_runs import NGRAM_STOP, QUEUED_STOP
from nameclf.serve.train_job import JobSpec, Phase, train_models

HUB_NAME, NAMESPACE = "nameclf-hub", "nameclf"
FLUSH_S = 0.25  # how often a training task reports (and hears Stop)
KEEP_DONE_S = 15 * 60  # a finished job's progress, for watchers still to collect it
WORKER_STOPPED = ("the training worker stopped before the run finished (the cluster lost it); "
                  "press Start to train again")


@dataclass
class JobState:
    """One job as the hub sees it."""

    key: str | None  # its run key when shared, else None
    spec: bytes  # the pickled JobSpec, until its task has it
    partial: bool  # a model so far exists between steps (not a lone n-gram fit)
    expected_s: float | None
    items: list[bytes] = field(default_factory=list)  # pickled Phase/Tick, in order
    watchers: set[int] = field(default_factory=set)
    pending: set[int] = field(default_factory=set)  # detached, waiting for the model so far
    given: dict[int, tuple] = field(default_factory=dict)  # watcher -> (model, n items, error)
    stop: bool = False
    running_since: float | None = None  # time.time() when its task started
    finished_at: float | None = None
    error: str | None = None
    result: list = field(default_factory=list)  # [ObjectRef of its runs] once finished
    final: dict | None = None  # the task's last report
    task: Any = None  # the task's ObjectRef while it runs


class Hub:
    """The cluster's queue, shared runs, progress and store (see the module's docstring)."""

    def __init__(self, limit: int, store_bytes: int, store_age_s: float):
        self.slots = Slots(limit)
        self.store = RunStore(store_bytes, store_age_s)
        self.jobs: dict[str, JobState] = {}
        self.live: dict[str, str] = {}  # run key -> job id, while queued or training
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.trained = 0  # tasks started, all jobs together (tests read it)
        threading.Thread(target=self._loop, daemon=True, name="nameclf-hub").start()

    # -- called by the web replicas ----------------------------------------------------------

    def submit(self, key: str | None, spec: bytes, partial: bool,
               expected_s: float | None) -> dict:
        """Join the live run with this key, be given its finished run, or queue a new job."""
        with self.lock:
            if key is not None and (found := self.store.get(key)) is not None:
                return dict(given=found[0], age=found[1])
            job_id = self.live.get(key) if key is not None else None
            joined = job_id is not None and not self.jobs[job_id].stop
            if not joined:
                job_id = f"job-{next(self.ids)}"
                self.jobs[job_id] = JobState(key, spec, partial, expected_s)
                if key is not None:
                    self.live[key] = job_id
                self.slots.enqueue(job_id, expected_s)
            watcher = next(self.ids)
            self.jobs[job_id].watchers.add(watcher)
            return dict(job=job_id, watcher=watcher, joined=joined)

    def poll(self, job_id: str, watcher: int, since: int) -> dict:
        """What a watcher has not seen yet, and where the job stands."""
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None:
                return dict(items=[], done=True, error="the cluster no longer knows this run",
                            result=[], watching=0, position=0, wait=0.0, running_since=None,
                            given=None)
            return dict(items=job.items[since:], done=job.finished_at is not None,
                        error=job.error, result=job.result, watching=len(job.watchers),
                        position=self.slots.position(job_id),
                        wait=self.slots.expected_wait(job_id), running_since=job.running_since,
                        given=job.given.get(watcher))

    def detach(self, job_id: str, watcher: int) -> None:
        """A watcher's Stop: the last one stops the job; another keeps the model so far."""
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None or watcher not in job.watchers:
                return
            job.watchers.discard(watcher)
            if not job.watchers:  # nobody watches: the job stops, as a visitor's own would
                job.stop = True
                if job.key is not None and self.live.get(job.key) == job_id:
                    del self.live[job.key]  # a new Start trains afresh
                if job.running_since is None and job.task is None:  # still queued
                    self.slots.withdraw(job_id)
                    self._end(job, QUEUED_STOP)
            elif job.running_since is None:
                job.given[watcher] = (None, 0, QUEUED_STOP)
            elif not job.partial:
                job.given[watcher] = (None, 0, NGRAM_STOP)
            else:
                job.pending.add(watcher)

    def stats(self) -> dict:
        """Counts for tests and benchmarks: tasks started, live runs, stored runs."""
        with self.lock:
            running, waiting = self.slots.load()
            return dict(trained=self.trained, live=len(self.live), stored=len(self.store),
                        running=running, waiting=waiting)

    # -- called by the training task ---------------------------------------------------------

    def report(self, job_id: str, items: list[bytes], model: bytes | None = None,
               expected_s: float | None = None, final: dict | None = None) -> dict:
        """Progress from the task; returns whether it should stop and whether a detaching
        watcher wants the model so far (sent with the next report)."""
        with self.lock:
            job = self.jobs[job_id]
            job.items.extend(items)
            if model is not None:  # b"": no model at this point; they follow the run's end
                for watcher in job.pending:
                    if model:
                        job.given[watcher] = (model, len(job.items), None)
                job.pending = set() if model else job.pending
            if expected_s is not None:
                self.slots.revise(job_id, expected_s)
            if final is not None:
                job.final = final
            return dict(stop=job.stop, want_model=bool(job.pending))

    # -- the hub's own thread ----------------------------------------------------------------

    def _loop(self) -> None:
        me = ray.get_runtime_context().current_actor
        while True:
            try:
                self._round(me)
            except Exception:  # a bug: keep the hub serving, keep the trace in its log
                traceback.print_exc()
                time.sleep(1.0)

    def _round(self, me: Any) -> None:
        """Start the jobs the queue lets run; collect the tasks that ended."""
        with self.lock:
            while (job_id := self.slots.take_next()) is not None:
                job = self.jobs[job_id]
                job.running_since = time.time()
                job.task = train_task.remote(me, job_id, job.spec)
                job.spec = b""  # the task has it
                self.trained += 1
            tasks = {job.task: job_id for job_id, job in self.jobs.items() if job.task}
        if tasks:
            ready, _ = ray.wait(list(tasks), num_returns=len(tasks), timeout=0.05)
            for ref in ready:
                self._finish(tasks[ref], ref)
        else:
            time.sleep(0.05)
        self._forget_old()

    def _finish(self, job_id: str, ref: Any) -> None:
        with self.lock:
            job = self.jobs[job_id]
            job.task = None
            self.slots.release(job_id)
            final = job.final
            if final is None:  # the task ended without its last report: its worker died
                self._end(job, WORKER_STOPPED)
                return
            job.result = [ref]
            if job.key is not None and final.get("completed"):
                self.store.put(job.key, [ref], final.get("nbytes", 0))
            self._end(job, final.get("error"))

    def _end(self, job: JobState, error: str | None) -> None:
        """The job is over: its error, and the end for anyone still waiting for a model."""
        job.error, job.finished_at, job.pending = error, time.time(), set()
        if job.key is not None:
            for key in [k for k, v in self.live.items() if self.jobs.get(v) is job]:
                del self.live[key]

    def _forget_old(self) -> None:
        now = time.time()
        with self.lock:
            for job_id in [j for j, job in self.jobs.items()
                           if job.finished_at and now - job.finished_at > KEEP_DONE_S]:
                del self.jobs[job_id]


HubActor = ray.remote(Hub)


@ray.remote(max_retries=0, num_cpus=1)
def train_task(hub: Any, job_id: str, spec_bytes: bytes) -> Any:
    """Run a job on a worker, reporting to the hub; returns its result.

    A classifier JobSpec trains its models (and can hand a detaching watcher its model so
    far); any other job is Work, called as work(report, stop). Either way the reports reach
    the hub at least every FLUSH_S, from a thread of their own, and each flush hears Stop.
    """
    import torch

    from nameclf.serve.runstore import run_nbytes
    from nameclf.serve.shared_runs import frozen_copy

    spec = pickle.loads(spec_bytes)
    torch.set_num_threads(max(1, int(getattr(spec, "threads", 1))))
    stop, ended = threading.Event(), threading.Event()
    buffer: list[bytes] = []
    state = dict(flushed=0.0, want=False)
    sending = threading.Lock()  # one flush at a time, so the hub gets the items in order
    buffered = threading.Lock()  # the job's thread appends while the flusher takes

    def flush(model: bytes | None = None, expected: float | None = None,
              final: dict | None = None) -> None:
        with sending:
            with buffered:
                sent = list(buffer)
                buffer.clear()
            reply = ray.get(hub.report.remote(job_id, sent, model, expected, final))
            if reply["stop"]:
                stop.set()
            state.update(flushed=time.monotonic(), want=reply["want_model"])

    def report(item: Any) -> None:
        data = pickle.dumps(item)
        with buffered:
            buffer.append(data)
        if isinstance(item, Phase):
            flush()

    def on_step(i: int, p: Any, model: Any, expected: float) -> None:
        if state["want"]:
            flush(pickle.dumps(frozen_copy(model)) if model is not None else b"", expected)
        elif time.monotonic() - state["flushed"] >= FLUSH_S:
            flush(None, expected)

    def keep_flushing() -> None:  # progress and Stop even while a job reports nothing
        while not ended.wait(FLUSH_S):
            if time.monotonic() - state["flushed"] >= FLUSH_S:
                flush()

    flusher = threading.Thread(target=keep_flushing, daemon=True, name="nameclf-flush")
    flusher.start()
    result: Any = None
    try:
        if isinstance(spec, JobSpec):
            result = train_models(spec, report, stop, on_step)
            final = dict(completed=bool(result) and all(r.status == "completed" for r in result),
                         nbytes=sum(run_nbytes(r) for r in result), error=None)
        else:
            result = spec(report, stop)
            final = dict(completed=False, nbytes=0, error=None)  # never shared
    except NameclfError as err:
        final = dict(completed=False, error=str(err))
    except Exception as err:  # a bug: tell the visitor in one line, keep the trace in the log
        traceback.print_exc()
        final = dict(completed=False,
                     error=f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")
    ended.set()
    flusher.join()
    flush(final=final)
    return result
