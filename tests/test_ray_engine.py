"""The Ray engine with a real Ray: a 2-CPU head, two web replicas and their visitors.

Everything Ray runs inside a network namespace with only loopback (bench/ray_cluster.py re-runs
itself under `unshare -n`), so no packet leaves the machine and Ray announces 127.0.0.1. Token
authentication stays on: the head and the replicas share a fresh RAY_AUTH_TOKEN. The visitors
are protocol clients of the two Streamlit servers; what they saw comes back as JSON.
"""

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from nameclf.serve.engine import engine_from_env
from nameclf.serve.jobs import Slots

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def seen(tmp_path_factory) -> dict:
    """Run bench/ray_cluster.py's scenarios once for the module; what the visitors saw."""
    out = tmp_path_factory.mktemp("ray") / "seen.json"
    done = subprocess.run([sys.executable, "bench/ray_cluster.py", "scenarios", str(out),
                           "--logs", str(out.parent)], cwd=ROOT, capture_output=True, text=True,
                          timeout=540)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(out.read_text())
    assert "error" not in found, found["error"]
    assert found["exceptions"] == []
    return found


def test_identical_runs_on_two_replicas_train_once_and_a_stop_detaches_only_its_visitor(seen):
    assert seen["b_joined"]  # B, on the other replica, was told it joined a run in progress
    assert seen["b_detached"] and seen["b_result"].startswith("stopped after")
    assert seen["a_result"] == "completed after 4,000 steps"  # A's run went on to the end
    assert seen["after_shared"]["trained"] == 1  # one training for both replicas
    assert seen["after_shared"]["stored"] == 1 and seen["after_shared"]["live"] == 0


def test_a_finished_run_is_given_on_another_replica_without_training_again(seen):
    assert seen["c_given"].startswith("Trained")
    assert seen["after_given"]["trained"] == 1


def test_the_last_watchers_stop_from_either_replica_ends_the_run_on_the_cluster(seen):
    assert seen["e_result"].startswith("stopped after")
    stats = seen["after_stop"]
    assert stats["trained"] == 2 and stats["running"] == 0 and stats["live"] == 0


def test_a_killed_worker_tells_its_visitor_in_one_line_and_start_works_again(seen):
    assert seen["killed_pid"] > 0
    assert seen["f_told"] == "the training worker stopped"
    assert seen["f_can_restart"]


def test_every_other_kind_of_job_runs_on_the_cluster_from_either_replica(seen):
    assert seen["r_on_cluster"]  # the Speed race says whose speeds they are
    assert seen["g_result"] and seen["r_result"] and seen["n_result"] and seen["q_result"]
    # a generator, a race, a measurement, a batch-size race: each one task on the cluster
    assert seen["others_trained"] == 4
    assert seen["after_others"]["running"] == 0 and seen["after_others"]["waiting"] == 0


def test_stop_ends_a_generator_on_the_cluster_and_keeps_what_it_learned(seen):
    steps = seen["h_result"].split("stopped after ")[1].split(" ")[0]  # "gen2-gru: stopped …"
    assert int(steps.replace(",", "")) > 0
    assert seen["after_gen_stop"]["running"] == 0


def test_a_lost_web_replica_leaves_its_run_training_for_whoever_joined_it(seen):
    assert seen["m_result"] == "completed after 4,000 steps"  # replica 1 died mid-run
    assert seen["after_replica_lost"]["running"] == 0 and seen["after_replica_lost"]["live"] == 0
    assert seen["m_can_start"]


def test_the_engine_is_the_in_process_one_unless_asked():
    assert engine_from_env({}) == "local"
    assert engine_from_env({"NAMECLF_ENGINE": " Ray "}) == "ray"
    with pytest.raises(ValueError, match="use one of local, ray"):
        engine_from_env({"NAMECLF_ENGINE": "celery"})


def test_an_upload_trains_on_its_own_server_even_with_the_cluster_on(monkeypatch):
    from nameclf.serve.engine import LocalEngine
    from nameclf.ui.engines import UPLOAD_HERE, engine_for

    monkeypatch.setenv("NAMECLF_ENGINE", "ray")
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")  # never contacted for an upload
    engine, note = engine_for(upload=True)
    assert isinstance(engine, LocalEngine) and note == UPLOAD_HERE
    monkeypatch.delenv("NAMECLF_ENGINE")
    assert engine_for(upload=False)[1] == ""  # the default: no note, this server


def test_the_cluster_queue_hands_out_slots_in_order_without_waiting():
    slots = Slots(1)
    for token in ("a", "b", "c"):
        slots.enqueue(token, 10.0)
    assert slots.take_next() == "a" and slots.take_next() is None  # one slot
    assert slots.position("c") == 2 and slots.expected_wait("c") == pytest.approx(20, abs=1)
    slots.withdraw("b")  # stopped while waiting
    slots.release("a")
    assert slots.take_next() == "c" and slots.load() == (1, 0)


def test_blocking_acquire_still_waits_its_turn():
    slots, stop = Slots(1), threading.Event()
    assert slots.acquire(1, stop)
    stop.set()
    assert slots.acquire(2, stop) is False and slots.load() == (1, 0)
