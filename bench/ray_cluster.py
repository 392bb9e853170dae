"""A Ray cluster, two web replicas and their visitors on one machine, with no packet leaving it.

    python bench/ray_cluster.py scenarios OUT.json        # what tests/test_ray_engine.py checks
    python bench/ray_cluster.py others OUT.json           # its last part: the other job kinds,
                                                          # then a replica lost mid-run
    python bench/ray_cluster.py class OUT.json [--seeds]  # 12 visitors, docs/scaling.md
    python bench/ray_cluster.py speed OUT.json            # `fast`: Ray task vs in-process

Everything runs inside a network namespace that has only loopback (`unshare -n`, then `lo`
up; needs root): there Ray announces 127.0.0.1, not the machine's outward address. The head
is `ray start --head --block` with 2 CPUs and token authentication on (a fresh token, given
to the replicas in RAY_AUTH_TOKEN, as docs/scaling.md says a replica gets it); the replicas
are `streamlit run` with NAMECLF_ENGINE=ray; the visitors are protocol clients
(bench/st_client.py). It writes what it saw as JSON to OUT.
"""

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_test import start_server  # noqa: E402
from localhost import free_port  # noqa: E402
from st_client import Session  # noqa: E402

DONE = r"(completed|stopped) after [\d,]+ steps"
RUNNING = r"names/s"
JOINED = r"Someone on the shared training cluster is training exactly these settings"
GIVEN = r"Trained [\d,]+ (s|min) ago"
DETACHED = r"You stopped watching"
STOPPED_LINE = r"the training worker stopped"
LONG = "preset=fast&hidden=32&emb=16&budget=steps&steps=4000&batch=32&seed={seed}"
SAME = "preset=fast&seed={seed}"  # the class's one preset (the recommended settings)
REPLICAS: list[subprocess.Popen] = []  # the web replicas of the running cluster()


def in_loopback_namespace(argv: list[str]) -> int:
    """Run this script again inside a fresh network namespace with only `lo`, up."""
    env = dict(os.environ, NAMECLF_NETNS="1")
    return subprocess.run(["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
                           sys.executable, __file__, *argv], env=env).returncode


@contextlib.contextmanager
def one_server(logs: Path | None = None):
    """The in-process default, for comparison: one replica, no cluster."""
    os.environ.pop("NAMECLF_ENGINE", None)
    port = free_port()
    server = start_server(port, str(logs / "server.log") if logs else None)
    try:
        yield [f"http://127.0.0.1:{port}"]
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextlib.contextmanager
def cluster(cpus: int = 2, replicas: int = 2, logs: Path | None = None):
    """A head and web replicas; yields the replicas' base URLs. Everything stopped after."""
    temp = Path(tempfile.mkdtemp(prefix="ncr", dir="/tmp"))  # short: Ray's socket paths
    port = free_port()
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32),
                      RAY_USAGE_STATS_ENABLED="0", NAMECLF_ENGINE="ray",
                      RAY_ADDRESS=f"127.0.0.1:{port}")
    logs = logs or temp
    head = subprocess.Popen(
        ["ray", "start", "--head", "--block", f"--port={port}", f"--num-cpus={cpus}",
         "--object-store-memory=80000000", "--include-dashboard=false",
         "--disable-usage-stats", f"--temp-dir={temp}"],
        stdout=open(logs / "head.log", "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
        start_new_session=True)
    servers = []
    try:
        wait_for_head()
        ports = [free_port() for _ in range(replicas)]
        servers = [start_server(p, str(logs / f"replica{i}.log")) for i, p in enumerate(ports)]
        REPLICAS[:] = servers
        yield [f"http://127.0.0.1:{p}" for p in ports]
    finally:
        REPLICAS.clear()
        for server in servers:
            server.terminate()
        for server in servers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=30)
        stop_tree(head)
        shutil.rmtree(temp, ignore_errors=True)


def wait_for_head(timeout: float = 120) -> None:
    import ray

    deadline = time.monotonic() + timeout
    while True:
        try:
            ray.init(address=os.environ["RAY_ADDRESS"], namespace="nameclf", log_to_driver=False)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def stop_tree(head: subprocess.Popen) -> None:
    """Stop the head and every process it started (only those: not `ray stop`)."""
    procs = [head.pid]
    with contextlib.suppress(psutil.Error):
        procs += [p.pid for p in psutil.Process(head.pid).children(recursive=True)]
    head.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        head.wait(timeout=30)
    for pid in procs:
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).kill()


def hub_stats() -> dict:
    import ray

    return ray.get(ray.get_actor("nameclf-hub", namespace="nameclf").stats.remote())


def kill_trainer() -> int:
    """SIGKILL the worker running a training task; its pid (0 if none was found)."""
    for proc in psutil.process_iter(["pid", "cmdline"]):
        if "ray::train_task" in " ".join(proc.info["cmdline"] or []):
            proc.kill()
            return proc.info["pid"]
    return 0


async def visitor(base: str, name: str, query: str) -> Session:
    s = await Session(base, name).connect()
    await s.open("Train", query)
    return s


async def one_run_two_replicas(bases: list[str], names: str, seed: int):
    """A visitor on replica 1 starts a run; one on replica 2 asks the same and joins it live.
    Returns (the starter, the joiner, the joiner's "joined" line)."""
    first = await visitor(bases[0], names[0], LONG.format(seed=seed))
    second = await visitor(bases[1], names[1], LONG.format(seed=seed))
    await first.click("Start training")
    await first.wait_for(RUNNING, timeout=120)
    await second.click("Start training")
    return first, second, await second.wait_for(JOINED, timeout=60)


async def scenarios(bases: list[str], out: dict) -> None:
    """Shared across replicas, Stop from either, a finished run given, a killed worker."""
    one, two = bases
    # 1. A on replica 1 starts; B on replica 2 asks the same and joins it live, then stops
    a, b, out["b_joined"] = await one_run_two_replicas(bases, "AB", 11)
    await b.wait_for(RUNNING, timeout=60)  # B's page draws the same run's progress
    await b.click("Stop")
    out["b_detached"] = await b.wait_for(DETACHED, timeout=60)
    out["b_result"] = await b.wait_for(DONE, timeout=60)
    out["a_result"] = await a.wait_for(DONE, timeout=240)
    out["after_shared"] = hub_stats()
    # 2. C on replica 2 asks the same once it is finished: given at once, not trained again
    c = await visitor(two, "C", LONG.format(seed=11))
    await c.click("Start training")
    out["c_given"] = await c.wait_for(GIVEN, timeout=60)
    out["after_given"] = hub_stats()
    # 3. D on replica 1 starts, E on replica 2 joins; both stop: the run ends on the cluster
    d, e, _ = await one_run_two_replicas(bases, "DE", 12)
    await d.click("Stop")
    await e.click("Stop")
    out["e_result"] = await e.wait_for(DONE, timeout=60)
    await asyncio.sleep(1.0)
    out["after_stop"] = hub_stats()
    # 4. F's worker is killed mid-run: F is told, in one line, and can start again
    f = await visitor(one, "F", LONG.format(seed=13))
    await f.click("Start training")
    await f.wait_for(RUNNING, timeout=120)
    out["killed_pid"] = kill_trainer()
    out["f_told"] = await f.wait_for(STOPPED_LINE, timeout=60)
    await f.open("Train", LONG.format(seed=13))
    start = f.button("Start training")
    out["f_can_restart"] = start is not None and not start.disabled
    out["exceptions"] = [x for s in (a, b, c, d, e, f) for x in s.exceptions]
    for s in (a, b, c, d, e, f):
        await s.close()
    await other_jobs(bases, out)


GEN_DONE = r"gen\d+-\w+\*?\*?: (completed|time budget reached|stopped) after [\d,]+ steps"
RACE_DONE = r"The PyTorch tutorial reports batched training"
NOISE_DONE = r"Measured on a quick fast run of [\d,]+ steps"
BATCH_RACE_DONE = r"Target held-out loss"
ON_CLUSTER = r"Racing on a worker of the shared training cluster"


async def other_jobs(bases: list[str], out: dict) -> None:
    """Every other kind of job on the cluster, from either replica: a generator, the Speed race,
    the gradient noise measurement, the batch-size race; then a generator stopped mid-run."""
    one, two = bases
    try:
        before = hub_stats()["trained"]
    except ValueError:  # no replica has joined the cluster yet: its first Start makes the hub
        before = 0
    g = await Session(one, "G").connect()
    await g.open("Generate")
    r = await Session(two, "R").connect()
    await r.open("Speed_race")
    await g.answer("gw_time_gen-fast", 8, "gen_start")  # 8 s: the n-gram LM, then the net
    await r.click("Start the race")
    out["r_on_cluster"] = await r.wait_for(ON_CLUSTER, timeout=120)
    out["g_result"] = await g.wait_for(GEN_DONE, timeout=180)
    out["r_result"] = await r.wait_for(RACE_DONE, timeout=180)
    n = await Session(one, "N").connect()
    await n.open("Batch_size_and_gradients")
    await n.choose({"gn_pool": ["512"], "gn_draws": ["8"]}, "gn_start")
    q = await Session(two, "Q").connect()
    await q.open("Batch_size_and_gradients")
    await q.choose({"br_sizes": ["64", "256"], "br_seconds": ["10"]}, "br_start")
    out["n_result"] = await n.wait_for(NOISE_DONE, timeout=180)
    out["q_result"] = await q.wait_for(BATCH_RACE_DONE, timeout=240)
    out["after_others"] = hub_stats()
    out["others_trained"] = out["after_others"]["trained"] - before
    # Stop from the page ends a generator on the cluster, and the visitor keeps what it learned
    h = await Session(two, "H").connect()
    await h.open("Generate")
    await h.answer("gw_time_gen-fast", 120, "gen_start")
    await h.wait_for(r"names/s", timeout=120)
    await h.click("Stop")
    out["h_result"] = await h.wait_for(GEN_DONE, timeout=60)
    await asyncio.sleep(1.0)
    out["after_gen_stop"] = hub_stats()
    sessions = (g, r, n, q, h)
    out["exceptions"] += [x for s in sessions for x in s.exceptions]
    for s in sessions:
        await s.close()
    await replica_lost(bases, out)


async def replica_lost(bases: list[str], out: dict) -> None:
    """Replica 1 is killed while its visitor's run trains and a visitor on replica 2 watches
    it: the run trains on to the end for the one left, who can start again."""
    k, m, _ = await one_run_two_replicas(bases, "KM", 14)
    REPLICAS[0].kill()  # the web server, not the cluster: no Stop is ever sent
    REPLICAS[0].wait(timeout=30)
    out["m_result"] = await m.wait_for(DONE, timeout=240)
    out["after_replica_lost"] = hub_stats()
    await m.open("Train", LONG.format(seed=15))
    start = m.button("Start training")
    out["m_can_start"] = start is not None and not start.disabled
    out["exceptions"] += m.exceptions
    await m.close()
    with contextlib.suppress(Exception):
        await k.close()


async def a_class(bases: list[str], out: dict, seeds: bool, n: int = 12) -> None:
    """n visitors split over the replicas press Start on the same preset (or n seeds)."""
    async def one(i: int) -> None:
        s = await Session(bases[i % len(bases)], f"v{i}").connect()
        out["page_s"].append(await s.open("Train", SAME.format(seed=100 + i if seeds else 0)))
        pressed = time.monotonic()
        await s.click("Start training")
        await s.wait_for(DONE + "|" + GIVEN, timeout=900)
        out["model_s"].append(round(time.monotonic() - pressed, 1))
        out["page_s"].append(await s.open("Predict"))
        await s.close()

    await asyncio.gather(*(one(i) for i in range(n)))
    out["stats"] = hub_stats() if os.environ.get("NAMECLF_ENGINE") == "ray" else {}
    out["last_model_s"] = max(out["model_s"])
    pages = sorted(out["page_s"])
    out["page_p95_s"] = round(pages[int(0.95 * (len(pages) - 1))], 2)


def speed(out: dict, rounds: int = 2) -> None:
    """names/s of the `fast` preset trained in this process and as a Ray task, alternated."""
    import torch

    from nameclf.classify.pipeline import fit, prepare
    from nameclf.classify.presets import preset
    from nameclf.data.dataset import load_dataset
    from nameclf.serve.ray_jobs import connect, submit
    from nameclf.serve.train_job import JobSpec

    torch.set_num_threads(1)  # as a server's job and a task get (THREADS_PER_JOB)
    model_cfg, train_cfg, split = preset("fast")
    prep = prepare(load_dataset("builtin:faker-surnames"), split, 0)
    hub = connect(os.environ["RAY_ADDRESS"], 2**26, 900)
    out.update(local=[], ray=[])
    for i in range(rounds):
        out["local"].append(round(fit(prep, model_cfg, train_cfg).info["names_per_second"]))
        spec = JobSpec(prep, [model_cfg], train_cfg, {}, 1)
        job, _ = submit(hub, spec, f"speed-{i}", None, "speed")  # its own key: trained anew
        job.join()
        out["ray"].append(round(job.result[0].info["names_per_second"]))
    out["ratio"] = round(sum(out["ray"]) / sum(out["local"]), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("scenarios", "others", "class", "speed"))
    parser.add_argument("out")
    parser.add_argument("--seeds", action="store_true", help="12 different seeds, not one")
    parser.add_argument("--cpus", type=int, default=2, help="the head's CPUs: trainings at once")
    parser.add_argument("--local", action="store_true",
                        help="class on one server with the in-process engine, no cluster")
    parser.add_argument("--logs", type=Path, help="keep the head's and replicas' logs here")
    args = parser.parse_args()
    if os.environ.get("NAMECLF_NETNS") != "1":
        sys.exit(in_loopback_namespace(sys.argv[1:]))
    out: dict = dict(page_s=[], model_s=[])
    try:
        place = (one_server(args.logs) if args.local else
                 cluster(args.cpus, replicas=0 if args.what == "speed" else 2, logs=args.logs))
        with place as bases:
            if args.what == "speed":
                speed(out)
            elif args.what == "scenarios":
                asyncio.run(scenarios(bases, out))
            elif args.what == "others":  # the other job kinds, then a replica lost
                out["exceptions"] = []
                asyncio.run(other_jobs(bases, out))
            else:
                asyncio.run(a_class(bases, out, args.seeds))
    except Exception as err:
        out["error"] = f"{type(err).__name__}: {err}"
    Path(args.out).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
