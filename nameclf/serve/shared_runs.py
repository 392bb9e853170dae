"""One training run watched by several visitors: each has a view of it, and their own Stop.

A `Shared` wraps the one Job that trains; every visitor watching it holds a `Watcher`, which
a page uses exactly like a Job (snapshot, done, result, stop). A watcher's Stop detaches
only that visitor: they keep the model as it is at the next step, marked stopped, and the
run goes on for the others. When the last watcher stops or leaves, the run itself stops.
Each watcher's results are its own deep copies: nothing one visitor does to their runs
touches another's, or the copy the server keeps (nameclf.serve.runstore.RunStore).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from nameclf.serve.jobs import Job

QUEUED_STOP = "stopped while waiting for a free training slot"
NGRAM_STOP = "you stopped before the n-gram fit ended, and a fit has no model half-way"


def frozen_copy(model: Any) -> Any:
    """A copy of a model mid-training, as a stopped run keeps it (a mixture's recurrent part
    alone, as pipeline.fit keeps it when stopped before the n-gram fit)."""
    from nameclf.classify.mixture import alone

    snap = copy.deepcopy(model).eval()
    return alone(snap) if getattr(snap.config, "ngram_weight", 0.0) else snap


class Shared:
    """The one Job training a run, and the visitors watching it."""

    def __init__(self, key: str, job: Job, partial: bool,
                 so_far: Callable[[Any, list], Any] | None = None):
        self.key, self.job = key, job
        self.partial = partial  # whether a model so far exists between steps (not n-grams)
        self.so_far = so_far  # (model copy, items so far) -> the stopped Run a detacher keeps
        self._lock = threading.Lock()
        self._watchers: list[Watcher] = []
        self._pending: list[Watcher] = []  # detached, waiting for the next step's model

    def join(self) -> Watcher | None:
        """A new watcher, or None if the run is ending (every watcher left) or over."""
        with self._lock:
            if self.job.stop_event.is_set() or self.job.done:
                return None
            watcher = Watcher(self)
            self._watchers.append(watcher)
            return watcher

    @property
    def watching(self) -> int:
        with self._lock:
            return len(self._watchers)

    def detach(self, watcher: Watcher) -> None:
        """Watcher's Stop: the last one stops the run; any other keeps the model so far."""
        with self._lock:
            if watcher not in self._watchers:
                return
            self._watchers.remove(watcher)
            if not self._watchers:  # nobody watches: the run stops, as a visitor's own would
                self.job.stop()
                watcher.give_end()  # it ends with the run: its join waits for the run alone
                return
            if self.job.running_since is None:  # still queued: nothing trained yet
                watcher.give(None, [], QUEUED_STOP)
            elif not self.partial:
                watcher.give(None, [], NGRAM_STOP)
            else:
                self._pending.append(watcher)

    def on_step(self, model: Any = None) -> None:
        """Called by the training thread after each reported step, with the model it trains
        (nameclf.classify.train.Progress.model): serve detached watchers a copy of it."""
        if not self._pending:  # read without the lock: a list's truth value is atomic
            return
        with self._lock:
            pending, self._pending = self._pending, []
        items = self.job.snapshot()
        for watcher in pending:
            if model is None:  # no model found: they get the run's own end instead
                watcher.give_end()
            else:
                watcher.give(frozen_copy(model), items)

    def ended(self) -> None:
        """Called by the training thread as the run ends: anyone still pending gets its end.

        The watchers are forgotten too: each still reaches the run through its own `shared`,
        but no visitor's session keeps another's watcher (and its runs) alive through here.
        """
        with self._lock:
            pending, self._pending = self._pending, []
            self._watchers = []
            self.so_far = None  # it holds the prepared data; a detached watcher keeps its own
        for watcher in pending:
            watcher.give_end()


class Watcher:
    """One visitor's view of a shared run; used by the pages exactly like a Job."""

    def __init__(self, shared: Shared):
        self.shared = shared
        self.stop_event = threading.Event()  # this visitor's Stop, not the run's
        self.meta: Any = None  # the page's JobMeta, this visitor's own
        self._given = threading.Event()  # set once a detached watcher has what it keeps
        self._frozen: tuple | None = None  # (model copy or None, items so far, error)
        self._copies: list | None = None
        self._so_far: Callable[[Any, list], Any] | None = None

    def __getattr__(self, name: str) -> Any:  # name, slots, expected_s, started_at, ...
        if name == "shared":
            raise AttributeError(name)
        return getattr(self.shared.job, name)

    def stop(self) -> None:
        """Detach this visitor only (see Shared.detach)."""
        if not self.stop_event.is_set():
            self.stop_event.set()
            self.shared.detach(self)

    def give(self, model: Any, items: list, error: str | None = None) -> None:
        self._so_far = self.shared.so_far  # what makes its Run, kept only while it needs it
        self._frozen = (model, items, error)
        self._given.set()

    def give_end(self) -> None:
        """No copy of the model to keep: this watcher ends with the run, like the others."""
        self._given.set()

    @property
    def done(self) -> bool:
        return self._frozen is not None or self.shared.job.done

    @property
    def running(self) -> bool:
        return self.shared.job.started_at is not None and not self.done

    def join(self, timeout: float | None = None) -> None:
        if self.stop_event.is_set() and self._given.wait(timeout) and self._frozen is not None:
            return
        self.shared.job.join(timeout)

    def snapshot(self) -> list:
        return list(self._frozen[1]) if self._frozen is not None else self.shared.job.snapshot()

    def latest(self) -> Any:
        items = self.snapshot()
        return items[-1] if items else None

    @property
    def error(self) -> str | None:
        return self._frozen[2] if self._frozen is not None else self.shared.job.error

    @property
    def result(self) -> list | None:
        """This visitor's own runs: a copy of the run's, or the model so far if detached."""
        if self._copies is None:
            if self._frozen is not None:
                model, items, _ = self._frozen
                so_far, self._so_far = self._so_far, None
                self._copies = [so_far(model, items)] if model is not None and so_far else []
            elif self.shared.job.done:
                self._copies = copy.deepcopy(self.shared.job.result or [])
            else:
                return None
        return self._copies


class Given:
    """A run handed over at once from the server's store; used by the pages like a Job."""

    def __init__(self, runs: list, age_s: float):
        self.result = copy.deepcopy(runs)  # this visitor's own copies
        self.age_s = age_s  # how long ago the run finished
        self.stop_event = threading.Event()
        self.meta: Any = None
        self.error: str | None = None
        self.started_at = self.finished_at = 0.0
        self.running_since = None
        self.slots, self.expected_s, self.name = None, None, "given"
        self.done, self.running = True, False

    def stop(self) -> None:
        """Nothing to stop."""

    def join(self, timeout: float | None = None) -> None:
        """Nothing to wait for."""

    def snapshot(self) -> list:
        return []

    def latest(self) -> None:
        return None

    def queue_position(self) -> int:
        return 0

    def expected_wait(self) -> float:
        return 0.0


class SharedRuns:
    """The server's runs being trained, by key, for visitors asking the same to join."""

    def __init__(self):
        self._lock = threading.Lock()
        self._live: dict[str, Shared] = {}

    def join(self, key: str) -> Watcher | None:
        """A watcher of the live run with this key (queued or training), or None."""
        with self._lock:
            shared = self._live.get(key)
        return shared.join() if shared is not None else None

    def add(self, shared: Shared) -> Watcher:
        """Register a new shared run; returns its first watcher (the visitor who started it)."""
        watcher = shared.join()
        with self._lock:
            self._live[shared.key] = shared
        return watcher

    def join_or_add(self, key: str, make: Callable[[], Shared]) -> tuple[Watcher, bool]:
        """A watcher of the live run with this key, or of a new one `make()` builds: in one
        step, so two visitors pressing Start together never train the same run twice.
        Returns (watcher, whether it joined an existing run)."""
        with self._lock:
            shared = self._live.get(key)
            watcher = shared.join() if shared is not None else None
            if watcher is not None:
                return watcher, True
            shared = make()
            self._live[key] = shared
            return shared.join(), False

    def watchers(self) -> int:
        """Visitors watching a live shared run, all runs together."""
        with self._lock:
            live = list(self._live.values())
        return sum(shared.watching for shared in live)

    def forget(self, shared: Shared) -> None:
        with self._lock:
            if self._live.get(shared.key) is shared:
                del self._live[shared.key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._live)
