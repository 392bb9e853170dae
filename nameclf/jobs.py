"""Background jobs: a function run in a thread, its progress read safely from elsewhere."""

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from nameclf.errors import NameclfError


class Job:
    """Run `target(report, stop)` in a daemon thread; poll progress through a lock.

    The thread never touches the UI: it calls `report(item)`, which appends to a list.
    A page reads `snapshot()` (a copy made under the lock) as often as it likes.
    """

    def __init__(self, target: Callable[[Callable[[Any], None], threading.Event], Any],
                 name: str = "job"):
        self.name = name
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
        try:
            self.result = self._target(self._report, self.stop_event)
        except NameclfError as err:
            self.error = str(err)
        except Exception as err:  # a bug: keep the server alive, log it, tell the visitor
            traceback.print_exc()
            self.error = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        finally:
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
