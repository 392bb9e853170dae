"""Lesson jobs a class shares: the first learner's job, watched or given to the rest.

Thirty learners reaching chapter 5 or 6 within a minute would otherwise queue thirty identical
jobs on the same data. The first learner's job is kept here by a key of its settings (None:
never shared, e.g. an upload); a learner who asks the same while it runs watches it, and one
who asks within SHARE_S of its start is given its result. At most MAX_SHARED per kind.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from nameclf.serve.engine import JobHandle
from nameclf.serve.jobs import Job
from nameclf.ui.cache import server_wide

SHARE_S = 600.0  # a finished shared job is given to later learners for this long
MAX_SHARED = 16  # shared jobs remembered per kind and server (one per dataset and setup)


@dataclass
class Shared:
    """A lesson job some learner started, as every learner with its settings sees it."""

    job: JobHandle  # a Job here, or a RayJob on the cluster
    entry: dict  # the starter's session entry for it (the race's setup, turns, …)
    started: float  # time.time()

    @property
    def usable(self) -> bool:
        """Running, or finished with a result, not stopped or failed, and recent enough."""
        job = self.job
        broken = job.stop_event.is_set() or job.error or (job.done and not job.result)
        return not broken and time.time() - self.started <= SHARE_S

    @property
    def place(self) -> str:
        """Where it ran, for the note a learner given its result reads."""
        return "on this server" if isinstance(self.job, Job) else "on the shared training cluster"


def _store(kind: str) -> tuple[dict, threading.Lock]:
    return server_wide(kind, dict), server_wide(f"{kind}_lock", threading.Lock)


def find(kind: str, key: tuple | None) -> Shared | None:
    """The usable shared job of this kind with this key, if any."""
    if key is None:
        return None
    store, lock = _store(kind)
    with lock:
        found = store.get(key)
    return found if found is not None and found.usable else None


def start_or_find(kind: str, key: tuple | None, start: Callable[[], dict | None]) -> Shared | None:
    """The usable shared job with this key (nothing started), else None after `start()` started
    the learner's own, returning its session entry, which is offered to the class. Under one
    lock: two learners asking at once start one job."""
    store, lock = _store(kind)
    with lock:
        found = store.get(key) if key is not None else None
        if found is not None and found.usable:
            return found
        entry = start()
        if key is not None and entry is not None:
            store[key] = Shared(entry["job"], entry, time.time())
            for old in sorted(store, key=lambda k: store[k].started)[:-MAX_SHARED]:
                del store[old]
    return None
