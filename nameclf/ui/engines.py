"""Which engine runs a visitor's training job: this server (the default) or a Ray cluster.

NAMECLF_ENGINE=ray with RAY_ADDRESS=host:port sends the jobs of built-in datasets to the
cluster (docs/scaling.md); an upload always trains in this server's own queue, and its
visitor is told so. The cluster is joined once per server process, on the first Start.
"""

from __future__ import annotations

import os

from nameclf.serve.engine import Engine, LocalEngine, engine_from_env
from nameclf.ui import sharing
from nameclf.ui.cache import server_wide, training_slots

UPLOAD_HERE = ("Your own file trains on this server, not on the shared training cluster: "
               "uploads never leave the server you are on.")


def local_engine() -> LocalEngine:
    """This server's threads and fair queue, and its shared runs and store (each one object
    per process; looked up on each call, so a test that replaces one is heard)."""
    return LocalEngine(training_slots(), sharing.shared_runs(), sharing.run_store())


def cluster_engine() -> Engine | None:
    """The Ray engine when NAMECLF_ENGINE says so, joined once per process; else None."""
    if engine_from_env(os.environ) != "ray":
        return None

    def make() -> Engine:
        from nameclf.serve.ray_jobs import RayEngine, connect

        return RayEngine(connect(os.environ.get("RAY_ADDRESS", ""), sharing.STORE_BYTES,
                                 sharing.STORE_AGE_S))

    return server_wide("ray_engine", make)


def on_cluster(engine: Engine) -> bool:
    """Whether `engine` sends jobs to the cluster (not this server's own queue)."""
    return not isinstance(engine, LocalEngine)


def engine_for(upload: bool) -> tuple[Engine, str]:
    """(the engine for a visitor's job, what they are told about where it runs, or '')."""
    if upload:  # never joins the cluster for it
        ray = engine_from_env(os.environ) == "ray"
        return local_engine(), UPLOAD_HERE if ray else ""
    cluster = cluster_engine()
    return (local_engine(), "") if cluster is None else (cluster, "")
