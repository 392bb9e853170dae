"""Every job other than a classifier's is picklable Work (nameclf.lab.jobs) that an Engine runs:
the same object gives the same result after a trip through pickle (as to a Ray worker), goes
through the fair queue, and a cluster that does not answer is one line, at once, not a hang.
The same jobs on a real Ray cluster: tests/test_ray_engine.py."""

import pickle
import socket
import threading
import time

import pytest

from nameclf.errors import ClusterError
from nameclf.serve.engine import LocalEngine
from nameclf.serve.jobs import Job, Slots
from nameclf.serve.runstore import RunStore
from nameclf.serve.shared_runs import SharedRuns
from tests.conftest import TINY, app, gen_tiny, no_exception, tiny_names


def engine(limit: int = 1) -> LocalEngine:
    return LocalEngine(Slots(limit), SharedRuns(), RunStore(2**20, 60))


@pytest.fixture(scope="module")
def classifier_prep():
    from nameclf.classify.pipeline import prepare
    from nameclf.data.dataset import load_bytes

    return prepare(load_bytes(tiny_names(per_label=30), "tiny.txt"), "names", 0)


def test_a_noise_measurement_is_the_same_after_pickling(classifier_prep):
    from nameclf.classify.config import ModelConfig, TrainConfig
    from nameclf.lab.gradnoise import NoiseConfig
    from nameclf.lab.jobs import NoiseMeasurement

    prep = classifier_prep
    model_cfg = ModelConfig(cell="gru", vocab_size=len(prep.vocab), n_classes=len(prep.classes),
                            hidden_size=16, embedding_dim=8)
    work = NoiseMeasurement(NoiseConfig(pool=64, draws=4, batch_sizes=(1, 4, 16)), prep.train,
                            model_cfg=model_cfg, train_cfg=TrainConfig(batch_size=16, seed=3),
                            quick_steps=5, quick_name="tiny")
    here = work(lambda item: None, threading.Event())
    job = engine().run(pickle.loads(pickle.dumps(work)), "noise", None)
    job.join(60)
    assert job.error is None
    assert job.result["source"] == here["source"] == "a quick tiny run of 5 steps"
    assert list(job.result["curves"]) == ["at init", "after 5 steps"]
    for label, curve in here["curves"].items():
        assert job.result["curves"][label]["mse"] == curve["mse"]  # bit for bit
    assert any(item["phase"] == "train" for item in job.snapshot())  # progress was reported


def test_a_generator_job_is_the_same_after_pickling(lm_prep):
    from nameclf.lab.jobs import GeneratorTraining

    model_cfg, train_cfg = gen_tiny(6)
    work = GeneratorTraining(lm_prep, model_cfg, train_cfg, {"data": "tiny"})
    here = work(lambda item: None, threading.Event())
    job = engine().run(pickle.loads(pickle.dumps(work)), "gen", None)
    job.join(120)
    assert job.error is None and job.result.status == "completed"
    assert job.result.info["steps"] == here.info["steps"] == 6
    assert job.result.metrics["net_bits_per_char"] == here.metrics["net_bits_per_char"]


def test_a_race_job_reports_when_each_turn_was_taken(classifier_prep):
    from nameclf.classify.config import ModelConfig
    from nameclf.lab.jobs import SpeedRace
    from nameclf.lab.race import RaceConfig

    prep = classifier_prep
    model_cfg = ModelConfig(cell="rnn", vocab_size=len(prep.vocab), n_classes=len(prep.classes),
                            hidden_size=16)
    seen = []
    before = time.time()
    speeds = pickle.loads(pickle.dumps(SpeedRace(model_cfg, prep.train, RaceConfig(
        n_names=32, batch_size=32, seconds=0.2, rounds=2))))(seen.append, threading.Event())
    assert set(speeds) >= {"per-sample", "padded", "packed"} and min(speeds.values()) > 0
    assert seen and all(before <= item["at"] <= time.time() for item in seen)


def test_work_waits_its_turn_in_the_fair_queue():
    slots = Slots(1)
    local = LocalEngine(slots, SharedRuns(), RunStore(2**20, 60))
    release = threading.Event()
    first = Job(lambda report, stop: release.wait(30), slots=slots).start()
    deadline = time.monotonic() + 10
    while first.running_since is None and time.monotonic() < deadline:
        time.sleep(0.01)
    second = local.run(lambda report, stop: "done", "second", 2.0)
    deadline = time.monotonic() + 10  # its thread joins the queue (a busy machine: later)
    while second.queue_position() != 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert second.queue_position() == 1 and second.running_since is None
    release.set()
    second.join(10)
    assert second.result == "done" and second.error is None


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once it is closed


def test_a_cluster_address_that_does_not_answer_is_one_line_at_once():
    from nameclf.serve.ray_jobs import probe

    started = time.monotonic()
    with pytest.raises(ClusterError, match=r"the training cluster at 127\.0\.0\.1:\d+ does not "
                                           r"answer \(Connection refused\)"):
        probe(f"127.0.0.1:{closed_port()}")
    assert time.monotonic() - started < 30  # not ray.init's minutes of retrying
    with pytest.raises(ClusterError, match="is not host:port"):
        probe("my-cluster")
    probe("auto")  # left to ray.init
    probe("")


def test_train_and_the_speed_race_say_so_when_the_cluster_does_not_answer(monkeypatch):
    from nameclf.ui.cache import forget_server_wide

    monkeypatch.setenv("NAMECLF_ENGINE", "ray")
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{closed_port()}")
    forget_server_wide("ray_engine")
    at = app("pages/2_Train.py")  # the built-in dataset: its jobs go to the cluster
    at.query_params.update(TINY)
    at.run()
    at.button(key="train_start").click().run()
    no_exception(at)
    assert any("does not answer" in e.value for e in at.error)
    assert at.session_state["runs"] == {} and not at.button(key="train_start").disabled
    race = app("pages/7_Speed_race.py").run()
    race.number_input(key="race_n").set_value(16).run()
    race.button(key="race_start").click().run()
    no_exception(race)
    assert any("does not answer" in w.value for w in [*race.warning, *race.error])


def test_a_race_on_another_engine_says_whose_cpu_raced(monkeypatch):
    """A race the cluster ran names its worker, under the progress bar and in the results."""
    import nameclf.ui.race as race_ui
    from nameclf.ui.engines import local_engine

    class Elsewhere:  # any engine but this server's own (the Ray engine in production)
        def run(self, work, name, expected_s):
            return local_engine().run(work, name, expected_s)

    monkeypatch.setattr(race_ui, "engine_for", lambda upload: (Elsewhere(), ""))
    at = app("pages/7_Speed_race.py").run()
    at.number_input(key="race_n").set_value(16).run()
    at.button(key="race_start").click().run()
    assert any(c.value == race_ui.ON_CLUSTER for c in at.caption)
    deadline = time.monotonic() + 120
    while at.session_state["race_job"] is not None and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
    no_exception(at)
    assert at.session_state["race_results"][-1]["device"] == "cpu of a cluster worker"


def test_an_upload_measures_on_its_own_server_and_is_told_so(tiny_bytes, monkeypatch):
    """With the cluster on, an upload's gradient measurement still runs here (never sent),
    and the page says so while it runs."""
    from nameclf.ui import gradients
    from nameclf.ui.engines import UPLOAD_HERE
    from tests.conftest import use_tiny

    monkeypatch.setenv("NAMECLF_ENGINE", "ray")
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{closed_port()}")  # never contacted
    at = use_tiny(app("pages/10_Batch_size_and_gradients.py"), tiny_bytes).run()
    at.select_slider(key="gn_pool").set_value(512)
    at.select_slider(key="gn_draws").set_value(8)
    at.button(key="gn_start").click().run()
    assert isinstance(at.session_state[gradients.KEY_JOB]["job"], Job)  # this server's own
    assert any(c.value == UPLOAD_HERE for c in at.caption)
    deadline = time.monotonic() + 120
    while at.session_state[gradients.KEY_JOB] is not None and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
    no_exception(at)
    assert at.session_state[gradients.KEY_NOISE]["curves"]


def test_a_race_row_names_the_cluster_worker_only_for_a_race_that_ran_there():
    from nameclf.ui.race import ON_CLUSTER, row_setup

    entry = {"setup": {"device": "cpu", "names": 16}, "where": ON_CLUSTER}
    assert row_setup(entry) == {"device": "cpu of a cluster worker", "names": 16}
    assert entry["setup"]["device"] == "cpu"  # the entry itself is left as it was
    assert row_setup({"setup": {"device": "cpu"}, "where": ""})["device"] == "cpu"


def test_a_class_shares_one_lesson_job_per_setup_and_keeps_at_most_a_few():
    from nameclf.ui import lesson_share as ls
    from nameclf.ui.cache import forget_server_wide

    forget_server_wide("test_share", "test_share_lock")
    started = []

    def start_one():
        job = engine().run(lambda report, stop: "measured", "x", None)
        job.join(10)
        started.append(job)
        return {"job": job}

    assert ls.start_or_find("test_share", ("a",), start_one) is None  # the first one starts
    found = ls.start_or_find("test_share", ("a",), start_one)  # the second is given it
    assert found is not None and found.job is started[0] and len(started) == 1
    assert found.place == "on this server"
    assert ls.start_or_find("test_share", None, start_one) is None and len(started) == 2
    started[0].stop_event.set()  # a stopped job is not given to anyone
    assert ls.find("test_share", ("a",)) is None
    for i in range(ls.MAX_SHARED + 3):
        ls.start_or_find("test_share", (i,), start_one)
    kept = [i for i in range(ls.MAX_SHARED + 3) if ls.find("test_share", (i,)) is not None]
    assert kept == list(range(3, ls.MAX_SHARED + 3))  # the oldest forgotten
