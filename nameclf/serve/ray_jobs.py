"""The web replica's side of the Ray engine: connect once, submit a job, watch it like a Job.

`connect` runs `ray.init` once per process (guarded by a lock, never again on a rerun) and
finds or creates the hub (nameclf.serve.ray_hub). `submit` hands a JobSpec to the hub and
returns what the pages use exactly like an in-process Job: a `RayJob` (trained on the
cluster, or joined live from any replica) or a `shared_runs.Given` (finished on the cluster
in the last 15 minutes).
"""

from __future__ import annotations

import pickle
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import ray

from nameclf.errors import ClusterError
from nameclf.serve.engine import Work
from nameclf.serve.ray_hub import HUB_NAME, NAMESPACE, HubActor
from nameclf.serve.shared_runs import Given
from nameclf.serve.train_job import JobSpec

POLL_S = 0.2  # a RayJob asks the hub at most this often, however often a page reads it
CALL_TIMEOUT_S = 30.0  # a hub that does not answer in this long is treated as lost
UNREACHABLE = "the training cluster does not answer; press Start to train again"
LOCAL_OBJECT_STORE = 100_000_000  # bytes, when a replica starts its own Ray (Ray's least: 75 MB)
PROBE_S = 2.0  # how long the first Start waits to hear the cluster's address answer

_lock = threading.Lock()
_hub: list = []  # the hub's handle, once connected


def connect(address: str, store_bytes: int, store_age_s: float) -> Any:
    """The hub's handle; the first call in a process joins the cluster at `address`.

    A replica needs the cluster's token when token authentication is on (Ray's default): the
    same RAY_AUTH_TOKEN in its environment, or ~/.ray/auth_token (docs/scaling.md).
    """
    with _lock:
        if not _hub:
            if not ray.is_initialized():
                probe(address)  # ray.init retries an unreachable address for minutes
                # no address: a Ray of this replica's own, with a small object store (a
                # cluster's head sets its own: --object-store-memory, docs/scaling.md)
                own = {} if address else dict(object_store_memory=LOCAL_OBJECT_STORE)
                ray.init(address=address or None, namespace=NAMESPACE, log_to_driver=False,
                         configure_logging=False, include_dashboard=False, **own)
            limit = max(1, int(ray.cluster_resources().get("CPU", 1)))
            _hub.append(HubActor.options(
                name=HUB_NAME, namespace=NAMESPACE, lifetime="detached", get_if_exists=True,
                max_concurrency=64, num_cpus=0).remote(limit, store_bytes, store_age_s))
        return _hub[0]


def probe(address: str, timeout: float = PROBE_S) -> None:
    """ClusterError, in one line, unless a TCP connection to `host:port` opens in `timeout`
    seconds. An empty address or "auto" is left to ray.init (a local cluster, or the one
    this machine runs)."""
    if address in ("", "auto"):
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"RAY_ADDRESS={address!r} is not host:port")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as err:
        raise ClusterError(f"the training cluster at {address} does not answer "
                           f"({err.strerror or type(err).__name__}); ask whoever runs this "
                           "app, or train without it (NAMECLF_ENGINE unset)") from None


def submit(hub: Any, spec: JobSpec | Work, key: str | None, expected_s: float | None,
           name: str, so_far: Callable[[Any, list], Any] | None = None) -> tuple[Any, str]:
    """Start or join a job on the cluster: (a RayJob or a Given, how: started|joined|given).
    `spec` is a classifier's JobSpec, or any other job's Work (then `key` is None)."""
    # a classifier's model exists between steps, for a detaching watcher (not a lone n-gram)
    partial = isinstance(spec, JobSpec) and spec.model_cfgs[0].cell != "ngram"
    answer = ray.get(hub.submit.remote(key, pickle.dumps(spec), partial, expected_s),
                     timeout=CALL_TIMEOUT_S)
    if "given" in answer:
        return Given(ray.get(answer["given"][0], timeout=CALL_TIMEOUT_S), answer["age"]), "given"
    job = RayJob(hub, answer["job"], answer["watcher"], name, key, expected_s, so_far)
    return job, "joined" if answer["joined"] else "started"


class RayJob:
    """One visitor's view of a job on the cluster; the pages use it exactly like a Job."""

    def __init__(self, hub: Any, job_id: str, watcher: int, name: str, key: str | None,
                 expected_s: float | None, so_far: Callable[[Any, list], Any] | None):
        self.hub, self.job_id, self.watcher, self.name = hub, job_id, watcher, name
        self.key, self.expected_s, self.slots = key, expected_s, None
        self.shared = self if key is not None else None  # sharing.watching_text reads it
        self.meta: Any = None
        self.stop_event = threading.Event()  # this visitor's Stop
        self.started_at = time.time()
        self.finished_at: float | None = None
        self._so_far = so_far
        self._lock = threading.Lock()
        self._items: list = []
        self._state: dict = dict(done=False, error=None, result=[], watching=1, position=0,
                                 wait=None, running_since=None, given=None)
        self._asked = 0.0
        self._frozen: tuple | None = None  # (model or None, items, error) once detached
        self._runs: list | None = None

    def _refresh(self) -> dict:
        with self._lock:
            if self._frozen is not None or self._state["done"]:
                return self._state
            if time.monotonic() - self._asked < POLL_S:
                return self._state
            try:
                state = ray.get(self.hub.poll.remote(self.job_id, self.watcher,
                                                     len(self._items)), timeout=CALL_TIMEOUT_S)
            except (ray.exceptions.RayError, TimeoutError):
                state = dict(self._state, done=True, error=UNREACHABLE, items=[])
            self._asked = time.monotonic()
            self._items.extend(pickle.loads(item) for item in state.pop("items"))
            self._state = state
            if state["given"] is not None:  # detached: the model so far, or nothing
                model, n, error = state["given"]
                self._frozen = (pickle.loads(model) if model else None, self._items[:n], error)
            if state["done"] or self._frozen is not None:
                self.finished_at = time.time()
            return self._state

    @property
    def done(self) -> bool:
        return self._frozen is not None or self._refresh()["done"]

    @property
    def running(self) -> bool:
        return not self.done

    @property
    def running_since(self) -> float | None:
        return self._refresh()["running_since"]

    @property
    def error(self) -> str | None:
        if self._frozen is not None:
            return self._frozen[2]
        return self._refresh()["error"]

    @property
    def watching(self) -> int:
        return self._refresh()["watching"]

    @property
    def result(self) -> list | None:
        """This visitor's own runs: fetched from the object store (so a copy), or the model
        so far if they detached."""
        if self._runs is None:
            if self._frozen is not None:
                model, items, _ = self._frozen
                self._runs = ([self._so_far(model, items)]
                              if model is not None and self._so_far else [])
            elif self.done:
                refs = self._state["result"]
                self._runs = ray.get(refs[0], timeout=CALL_TIMEOUT_S) if refs else []
            else:
                return None
        return self._runs

    def snapshot(self) -> list:
        self._refresh()
        return list(self._frozen[1]) if self._frozen is not None else list(self._items)

    def latest(self) -> Any:
        items = self.snapshot()
        return items[-1] if items else None

    def queue_position(self) -> int:
        return self._refresh()["position"]

    def expected_wait(self) -> float | None:
        return self._refresh()["wait"]

    def stop(self) -> None:
        """Detach this visitor; the last watcher's Stop stops the job on the cluster."""
        if self.stop_event.is_set():
            return
        self.stop_event.set()
        try:
            ray.get(self.hub.detach.remote(self.job_id, self.watcher), timeout=CALL_TIMEOUT_S)
        except (ray.exceptions.RayError, TimeoutError):
            self._frozen = (None, list(self._items), UNREACHABLE)

    def join(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done and (deadline is None or time.monotonic() < deadline):
            time.sleep(POLL_S)



class RayEngine:
    """The Ray engine behind nameclf.serve.engine.Engine: every job kind this serves is
    submitted to the cluster's hub."""

    def __init__(self, hub: Any):
        self.hub = hub

    def submit(self, spec: JobSpec, key: str | None, expected_s: float | None, name: str,
               so_far: Callable[[Any, list], Any] | None = None,
               on_step: Any = None) -> tuple[Any, str]:
        """As Engine.submit; `on_step` runs on the cluster's side of things, not here."""
        return submit(self.hub, spec, key, expected_s, name, so_far)

    def run(self, work: Work, name: str, expected_s: float | None) -> RayJob:
        """`work` as a task on the cluster, in its fair queue; never shared."""
        return submit(self.hub, work, None, expected_s, name)[0]
