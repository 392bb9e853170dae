"""Background jobs: a function run in a thread, its progress read safely from elsewhere."""

import gc
import heapq
import statistics
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

from nameclf.errors import NameclfError


def settle_heap() -> None:
    """Collect once, then freeze every object alive now out of the garbage collector's way.

    Streamlit runs a full `gc.collect(2)` after every script run, fragment reruns included
    (`runner.postScriptGC`). With torch, pandas and plotly loaded that walks some 250,000
    long-lived objects, about 0.3 s holding the GIL each time; eight visitors, four of them
    polling a progress panel twice a second, kept the GIL busy with it alone, and the event
    loop (health check, page HTML, websockets) and the training threads waited seconds for it.
    Frozen objects (modules, classes, caches loaded once per server) are skipped by every later
    collection, so a run's collection only walks what that run allocated. Call it once the
    heavy modules are in, e.g. once per server after torch is imported.
    """
    gc.collect()
    gc.freeze()


def queue_text(ahead: int, wait: float | None) -> str:
    """What a visitor waiting in the server-wide training queue is told."""
    text = f"Waiting for a free training slot: you are number {ahead} in the queue"
    if wait is not None and wait >= 1:
        text += f", about {wait:,.0f} s to go"
    return text + "…"


class Slots:
    """A server-wide cap on jobs running at once; the rest wait first come, first served.

    Every kind of training shares it (a Train run, a comparison, a speed race). A job may say
    how long it expects to hold its slot (`expected_s`, e.g. its time budget) and revise it
    as it runs (`revise`), so a visitor in the queue can be told about how long they will
    wait; a job that said nothing counts as long as the recent jobs held theirs (`typical`).
    """

    RECENT = 20  # finished jobs whose durations make the typical one

    def __init__(self, limit: int = 1, clock: Callable[[], float] = time.monotonic):
        self.limit = max(1, limit)
        self.clock = clock  # injectable for tests
        self._cond = threading.Condition()
        self._running: set[int] = set()
        self._queue: list[int] = []
        self._expected: dict[int, float | None] = {}  # token -> seconds it expects to run
        self._since: dict[int, float] = {}  # running token -> clock() when it got its slot
        self._recent: deque[float] = deque(maxlen=self.RECENT)  # seconds slots were held

    def acquire(self, token: int, stop: threading.Event,
                expected_s: float | None = None) -> bool:
        """Wait for a free slot; False if `stop` was set while waiting."""
        with self._cond:
            self._enter(token, expected_s)
            while not self._take(token):
                if stop.is_set():
                    self._withdraw(token)
                    return False
                self._cond.wait(0.1)
            return True

    def enqueue(self, token: Any, expected_s: float | None = None) -> None:
        """Join the queue without waiting (a cluster's queue: its owner calls `take_next`)."""
        with self._cond:
            self._enter(token, expected_s)

    def take_next(self) -> Any:
        """The token at the head of the queue, now running, if a slot is free; else None."""
        with self._cond:
            head = self._queue[0] if self._queue else None
            return head if head is not None and self._take(head) else None

    def withdraw(self, token: Any) -> None:
        """Leave the queue without running (stopped while waiting)."""
        with self._cond:
            if token in self._queue:
                self._withdraw(token)

    def _enter(self, token: Any, expected_s: float | None) -> None:
        self._queue.append(token)
        self._expected[token] = expected_s

    def _take(self, token: Any) -> bool:
        if not (self._queue[0] == token and len(self._running) < self.limit):
            return False
        self._queue.pop(0)
        self._running.add(token)
        self._since[token] = self.clock()
        self._cond.notify_all()
        return True

    def _withdraw(self, token: Any) -> None:
        self._queue.remove(token)
        self._expected.pop(token, None)
        self._cond.notify_all()

    def release(self, token: int) -> None:
        with self._cond:
            if token in self._running:
                self._recent.append(self.clock() - self._since[token])
            self._running.discard(token)
            self._expected.pop(token, None)
            self._since.pop(token, None)
            self._cond.notify_all()

    def revise(self, token: int, expected_s: float) -> None:
        """A running job's new estimate of its whole time in the slot (from its progress)."""
        with self._cond:
            if token in self._running:
                self._expected[token] = expected_s

    def typical(self) -> float | None:
        """The median time recent jobs held a slot, or None before any has finished."""
        with self._cond:
            return statistics.median(self._recent) if self._recent else None

    def expected_wait(self, token: int) -> float | None:
        """About how many seconds until `token` gets a slot: 0 if running or unknown to the
        queue, None if a job it waits for did not say how long it would take.

        Each slot frees when its job's expected time is up (never before now); the jobs
        ahead in the queue then take the slots in order, each for its expected time.
        """
        with self._cond:
            if token not in self._queue:
                return 0.0
            now = self.clock()
            typical = statistics.median(self._recent) if self._recent else None
            free = []
            for running in self._running:
                expected = self._expected.get(running)
                expected = typical if expected is None else expected
                if expected is None:
                    return None
                free.append(max(0.0, self._since[running] + expected - now))
            free += [0.0] * (self.limit - len(free))
            heapq.heapify(free)
            for ahead in self._queue[: self._queue.index(token)]:
                expected = self._expected.get(ahead)
                expected = typical if expected is None else expected
                if expected is None:
                    return None
                heapq.heappush(free, heapq.heappop(free) + expected)
            return free[0]

    def position(self, token: int) -> int:
        """0 while running (or unknown), else the 1-based place in the queue."""
        with self._cond:
            return self._queue.index(token) + 1 if token in self._queue else 0

    def load(self) -> tuple[int, int]:
        """(running, waiting) right now."""
        with self._cond:
            return len(self._running), len(self._queue)


class Job:
    """Run `target(report, stop)` in a daemon thread; poll progress through a lock.

    The thread never touches the UI: it calls `report(item)`, which appends to a list.
    A page reads `snapshot()` (a copy made under the lock) as often as it likes.
    """

    def __init__(self, target: Callable[[Callable[[Any], None], threading.Event], Any],
                 name: str = "job", slots: Slots | None = None,
                 expected_s: float | None = None):
        self.name = name
        self.slots = slots  # a server-wide cap shared by every visitor's jobs, if any
        self.expected_s = expected_s  # how long it expects to run once it has a slot
        self._target = target
        self._lock = threading.Lock()
        self._items: list[Any] = []
        self.stop_event = threading.Event()
        self.result: Any = None
        self.error: str | None = None  # one readable line if the target raised
        self.started_at: float | None = None
        self.running_since: float | None = None  # when it got its slot (time.time())
        self.finished_at: float | None = None
        self._ended = threading.Event()  # set as the thread's last act
        self._thread = threading.Thread(target=self._run, name=f"nameclf-{name}", daemon=True)

    def _report(self, item: Any) -> None:
        with self._lock:
            self._items.append(item)

    def _run(self) -> None:
        token = id(self)
        try:
            if self.slots is not None and not self.slots.acquire(token, self.stop_event,
                                                                  self.expected_s):
                self.error = "stopped while waiting for a free training slot"
                return
            self.running_since = time.time()
            self.result = self._target(self._report, self.stop_event)
        except NameclfError as err:
            self.error = str(err)
        except Exception as err:  # a bug: keep the server alive, log it, tell the visitor
            traceback.print_exc()
            self.error = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        finally:
            if self.slots is not None:
                self.slots.release(token)
            self.finished_at = time.time()
            # the target's closure (prepared data, configs, the page's bookkeeping) is not
            # needed once it has run; dropping it also breaks the cycle a closure that refers
            # back to its own Job makes, which only a full collection would free
            self._target = None
            self._ended.set()

    def start(self) -> "Job":
        self.started_at = time.time()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the target to stop; it checks the event between steps."""
        self.stop_event.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def queue_position(self) -> int:
        """0 once running, else this job's place in the server-wide queue."""
        return self.slots.position(id(self)) if self.slots is not None else 0

    def expected_wait(self) -> float | None:
        """About how many seconds until it gets a slot (see Slots.expected_wait)."""
        return self.slots.expected_wait(id(self)) if self.slots is not None else 0.0

    @property
    def running(self) -> bool:
        return self.started_at is not None and not self._ended.is_set()

    @property
    def done(self) -> bool:
        """Started and ended. Not `not thread.is_alive()`: between start() setting started_at
        and the thread running, that read "done", and a visitor joining a shared run then
        found it over and started the same run again."""
        return self.started_at is not None and self._ended.is_set()

    def snapshot(self) -> list[Any]:
        """A copy of everything reported so far."""
        with self._lock:
            return list(self._items)

    def latest(self) -> Any:
        """The last item reported, or None."""
        with self._lock:
            return self._items[-1] if self._items else None
