"""Background jobs: a function run in a thread, its progress read safely from elsewhere."""

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from nameclf.errors import NameclfError


class Slots:
    """A server-wide cap on jobs running at once; the rest wait first come, first served."""

    def __init__(self, limit: int = 1):
        self.limit = max(1, limit)
        self._cond = threading.Condition()
        self._running: set[int] = set()
        self._queue: list[int] = []

    def acquire(self, token: int, stop: threading.Event) -> bool:
        """Wait for a free slot; False if `stop` was set while waiting."""
        with self._cond:
            self._queue.append(token)
            while not (self._queue[0] == token and len(self._running) < self.limit):
                if stop.is_set():
                    self._queue.remove(token)
                    self._cond.notify_all()
                    return False
                self._cond.wait(0.1)
            self._queue.pop(0)
            self._running.add(token)
            self._cond.notify_all()
            return True

    def release(self, token: int) -> None:
        with self._cond:
            self._running.discard(token)
            self._cond.notify_all()

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
                 name: str = "job", slots: Slots | None = None):
        self.name = name
        self.slots = slots  # a server-wide cap shared by every visitor's jobs, if any
        self._target = target
        self._lock = threading.Lock()
        self._items: list[Any] = []
        self.stop_event = threading.Event()
        self.result: Any = None
        self.error: str | None = None  # one readable line if the target raised
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self._thread = threading.Thread(target=self._run, name=f"nameclf-{name}", daemon=True)

    def _report(self, item: Any) -> None:
        with self._lock:
            self._items.append(item)

    def _run(self) -> None:
        token = id(self)
        try:
            if self.slots is not None and not self.slots.acquire(token, self.stop_event):
                self.error = "stopped while waiting for a free training slot"
                return
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

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def done(self) -> bool:
        return self.started_at is not None and not self._thread.is_alive()

    def snapshot(self) -> list[Any]:
        """A copy of everything reported so far."""
        with self._lock:
            return list(self._items)

    def latest(self) -> Any:
        """The last item reported, or None."""
        with self._lock:
            return self._items[-1] if self._items else None
