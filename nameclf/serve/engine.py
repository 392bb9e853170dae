"""Where training jobs run, behind one small interface: this process, or a Ray cluster.

An `Engine` takes a classifier `JobSpec` (nameclf.serve.train_job) with its run key (None: not
shared) and returns a `JobHandle`, which the pages read while it runs, and how it was served:
"started", "joined" (an identical run in progress) or "given" (an identical run finished
recently). Every other job (a generator, the Speed race, the batch-size race, the gradient
noise measurement: nameclf.lab.jobs) is `Work`, a picklable `work(report, stop)`, which
`Engine.run` runs in the same fair queue, unshared.

`LocalEngine` is the embedded default: a thread per job in this server's fair queue
(jobs.Slots), identical runs shared in this process (shared_runs, runstore). The Ray
engine (nameclf.serve.ray_jobs.RayEngine, opt-in with NAMECLF_ENGINE=ray) implements the same
for every web replica of a cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from nameclf.serve.jobs import Job, Slots
from nameclf.serve.runstore import RunStore, run_nbytes
from nameclf.serve.shared_runs import Given, Shared, SharedRuns
from nameclf.serve.train_job import JobSpec, StepHook, train_models

ENGINES = ("local", "ray")


class JobHandle(Protocol):
    """What a page reads from a job, wherever it runs (Job, Watcher, Given, RayJob)."""

    name: str
    meta: Any  # the page's own record of the job (nameclf.ui.training.JobMeta)
    stop_event: Any  # set once this visitor pressed Stop
    started_at: float | None
    running_since: float | None  # when it got a training slot
    finished_at: float | None
    error: str | None  # one readable line if it failed
    result: Any  # this visitor's own runs, once done

    @property
    def running(self) -> bool: ...
    @property
    def done(self) -> bool: ...
    def snapshot(self) -> list: ...
    def latest(self) -> Any: ...
    def stop(self) -> None: ...
    def join(self, timeout: float | None = None) -> None: ...
    def queue_position(self) -> int: ...
    def expected_wait(self) -> float | None: ...


# A job other than a classifier's: called as work(report, stop) and returns its result. It
# must pickle (a dataclass of its inputs, not a closure) to run on a cluster's worker.
Work = Callable[[Callable[[Any], None], Any], Any]


class Engine(Protocol):
    """Runs jobs: `submit` a classifier job, returning (a JobHandle, "started"|"joined"|"given");
    `run` any other Work, returning its JobHandle, started (or queued)."""

    def submit(self, spec: JobSpec, key: str | None, expected_s: float | None, name: str,
               so_far: Callable[[Any, list], Any] | None = None,
               on_step: StepHook | None = None) -> tuple[JobHandle, str]: ...

    def run(self, work: Work, name: str, expected_s: float | None) -> JobHandle: ...


def engine_from_env(env: Mapping[str, str]) -> str:
    """The engine NAMECLF_ENGINE names ("local" when unset); ValueError for another name."""
    name = env.get("NAMECLF_ENGINE", "").strip().lower() or "local"
    if name not in ENGINES:
        raise ValueError(f"NAMECLF_ENGINE={name!r}: use one of {', '.join(ENGINES)}")
    return name


def keep_runs(store: RunStore, key: str, runs: list) -> bool:
    """Store finished runs for the next identical request; only completed ones."""
    if not runs or any(run.status != "completed" for run in runs):
        return False  # a stopped or time-limited run is not what these settings give
    return store.put(key, runs, sum(run_nbytes(run) for run in runs))


class LocalEngine:
    """The embedded default: jobs in this process's threads, in its own fair queue."""

    def __init__(self, slots: Slots, registry: SharedRuns, store: RunStore):
        self.slots, self.registry, self.store = slots, registry, store

    def run(self, work: Work, name: str, expected_s: float | None) -> Job:
        """`work` in a thread of this server, once the fair queue gives it a slot."""
        return Job(work, name=name, slots=self.slots, expected_s=expected_s).start()

    def submit(self, spec: JobSpec, key: str | None, expected_s: float | None, name: str,
               so_far: Callable[[Any, list], Any] | None = None,
               on_step: StepHook | None = None) -> tuple[JobHandle, str]:
        if key is not None and (found := self.store.get(key)) is not None:
            return Given(found[0], found[1]), "given"
        holder: dict = {}  # the Job and its Shared, once made (the target runs after)

        def step(i: int, p: Any, model: Any, expected: float) -> None:
            if on_step is not None:
                on_step(i, p, model, expected)
            job = holder["job"]
            if job.running_since is not None:  # a better guess for the queue behind it
                self.slots.revise(id(job), expected)
            if "shared" in holder:
                holder["shared"].on_step(model)

        def target(report, stop):
            try:
                out = train_models(spec, report, stop, step)
                if key is not None:
                    keep_runs(self.store, key, out)
                return out
            finally:
                if "shared" in holder:
                    self.registry.forget(holder["shared"])
                    holder["shared"].ended()

        job = holder["job"] = Job(target, name=name, slots=self.slots, expected_s=expected_s)
        if key is None:
            return job.start(), "started"

        def make() -> Shared:
            holder["shared"] = Shared(key, job, spec.model_cfgs[0].cell != "ngram", so_far)
            return holder["shared"]

        view, joined = self.registry.join_or_add(key, make)
        if joined:  # someone started the same run a moment ago: this job is never started
            return view, "joined"
        job.start()
        return view, "started"
