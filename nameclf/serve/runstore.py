"""Identical runs, recognised and kept: a run's key, and a bounded server-wide store of runs.

On a CPU a training run is a pure function of its inputs: the dataset's content, the model
and training configs (seed included), the split, the device, the kernel and the library
versions. `run_key` hashes exactly those, so two visitors asking for the same run get the
same key and can share one run. A run that is not reproducible bit for bit gets no key:
`not_reproducible` says why (a GPU without deterministic algorithms, a time limit, which
ends a run wherever the clock says). An upload never gets a key either: the app does not
call `run_key` for one (see nameclf.ui.sharing).
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

LIBRARIES = ("torch", "numpy", "scikit-learn", "nameclf")  # versions that change the numbers


def dataset_digest(names: list[str], labels: list[str], ascii_fold: bool) -> str:
    """SHA-256 of a dataset's content: every (name, label) pair in order, and its folding."""
    if len(names) != len(labels):
        raise ValueError("names and labels differ in length")
    # each text led by its length, so no name can fake a boundary
    text = "".join(f"{len(n)}:{n}{len(lb)}:{lb}" for n, lb in zip(names, labels, strict=True))
    return hashlib.sha256(f"fold={int(ascii_fold)};{text}".encode("utf-8", "surrogatepass")
                          ).hexdigest()


def versions() -> dict[str, str]:
    """The library versions, Python and the machine a run's numbers depend on."""
    found = {}
    for lib in LIBRARIES:
        try:
            found[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            found[lib] = "?"
    found.update(python=sys.version.split()[0], machine=platform.machine())
    return found


def not_reproducible(device: str, time_budget: float, deterministic: bool) -> str:
    """Why a run with these settings is not a pure function of them, or ''."""
    if device != "cpu" and not deterministic:
        return f"{device} without deterministic algorithms is not reproducible bit for bit"
    if time_budget:
        return "a time limit ends the run wherever the clock says"
    return ""


def run_key(digest: str, model_config: Any, train_config: Any, split: str, device: str,
            threads: int, env: dict[str, str] | None = None) -> str:
    """A key that is equal exactly when two runs would give the same model.

    `model_config` and `train_config` are dataclasses (classify.config); `threads` is torch's
    intra-op thread count, which can change the order of a sum and so the last bits.
    """
    parts = dict(data=digest, model=asdict(model_config), train=asdict(train_config),
                 split=split, device=device, threads=threads, env=env or versions())
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def tensor_bytes(module: Any) -> int:
    """Bytes held by a torch module's tensors (parameters and buffers, persistent or not)."""
    tensors = {id(t): t for t in [*module.parameters(), *module.buffers()]}
    return sum(t.numel() * t.element_size() for t in tensors.values())


def run_nbytes(run: Any) -> int:
    """About how many bytes a finished Run holds: its model's tensors, curves and info."""
    curves = sum(len(v) for v in run.history.values() if isinstance(v, list))
    return tensor_bytes(run.model) + 8 * curves + len(repr(run.info)) + 4096


@dataclass
class Entry:
    value: Any
    nbytes: int
    stored_at: float  # the store's clock when it was put


class RunStore:
    """Finished runs by key, bounded in bytes and in age, the oldest dropped first.

    Server-wide (one per process) and thread-safe. `clock` is injectable for tests.
    """

    def __init__(self, max_bytes: int, max_age_s: float,
                 clock: Callable[[], float] = time.monotonic):
        self.max_bytes, self.max_age_s, self.clock = max_bytes, max_age_s, clock
        self._entries: OrderedDict[str, Entry] = OrderedDict()  # oldest first
        self._lock = threading.Lock()

    def put(self, key: str, value: Any, nbytes: int) -> bool:
        """Keep `value` under `key`; False (nothing kept) if it alone is over the byte limit."""
        with self._lock:
            self._entries.pop(key, None)
            if nbytes > self.max_bytes:
                return False
            self._entries[key] = Entry(value, nbytes, self.clock())
            self._evict()
            return True

    def get(self, key: str) -> tuple[Any, float] | None:
        """(value, seconds since it was stored), or None if absent or too old."""
        with self._lock:
            self._evict()
            entry = self._entries.get(key)
            return None if entry is None else (entry.value, self.clock() - entry.stored_at)

    def _evict(self) -> None:
        now = self.clock()
        for key in [k for k, e in self._entries.items() if now - e.stored_at > self.max_age_s]:
            del self._entries[key]
        while self._entries and self.nbytes_unlocked() > self.max_bytes:
            self._entries.popitem(last=False)

    def nbytes_unlocked(self) -> int:
        return sum(e.nbytes for e in self._entries.values())

    @property
    def nbytes(self) -> int:
        """Bytes held now (as the entries were sized when stored)."""
        with self._lock:
            self._evict()
            return self.nbytes_unlocked()

    def __len__(self) -> int:
        with self._lock:
            self._evict()
            return len(self._entries)
