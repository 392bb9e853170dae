"""Identical runs shared between visitors: the key, the store's limits, joining and leaving."""

import threading
from dataclasses import replace

import pytest

from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.serve.jobs import Job, Slots
from nameclf.serve.runstore import RunStore, dataset_digest, not_reproducible, run_key
from nameclf.serve.shared_runs import QUEUED_STOP, Given, Shared, SharedRuns
from tests.conftest import TINY, app, no_exception, use_tiny, wait_for_job

WAIT = 30.0  # seconds; every wait ends as soon as the other thread does its part
ENV = dict(torch="2.13.0", numpy="2.0", python="3.12")


# --- the run key ------------------------------------------------------------------------------

def key(**change):
    parts = dict(digest=dataset_digest(["Abe", "Bo"], ["X", "Y"], True), model=ModelConfig(),
                 train=TrainConfig(steps=10), split="names", device="cpu", threads=1, env=ENV)
    parts.update(change)
    return run_key(parts["digest"], parts["model"], parts["train"], parts["split"],
                   parts["device"], parts["threads"], parts["env"])


def test_the_run_key_is_equal_exactly_when_every_input_is():
    assert key() == key()
    different = [
        key(digest=dataset_digest(["Abe", "Bo"], ["X", "X"], True)),  # one label changed
        key(digest=dataset_digest(["Abe", "Bo"], ["X", "Y"], False)),  # not accent-folded
        key(model=ModelConfig(hidden_size=64)),
        key(train=TrainConfig(steps=10, seed=1)),  # the seed
        key(train=TrainConfig(steps=11)),
        key(split="rows"),
        key(device="cuda"),
        key(threads=2),
        key(env=dict(ENV, torch="2.14.0")),  # a library version
    ]
    assert key() not in different and len(set(different)) == len(different)


def test_the_digest_reads_the_content_in_order():
    assert dataset_digest(["A", "B"], ["x", "y"], True) != dataset_digest(["B", "A"], ["y", "x"],
                                                                           True)
    assert dataset_digest(["A\tx"], ["y"], True) != dataset_digest(["A"], ["x\ty"], True)


def test_runs_that_are_not_reproducible_bit_for_bit_get_no_key():
    assert not_reproducible("cpu", 0.0, deterministic=False) == ""
    assert "deterministic" in not_reproducible("cuda", 0.0, deterministic=False)
    assert not_reproducible("cuda", 0.0, deterministic=True) == ""
    assert "time limit" in not_reproducible("cpu", 20.0, deterministic=True)


# --- the store: bounded in bytes and in age ---------------------------------------------------

class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_store_drops_the_oldest_beyond_its_byte_limit():
    clock = Clock()
    store = RunStore(max_bytes=100, max_age_s=60, clock=clock)
    assert store.put("a", "A", 40) and store.put("b", "B", 40)
    assert store.nbytes == 80 and len(store) == 2
    assert store.put("c", "C", 40)  # 120 > 100: "a", the oldest, goes
    assert store.get("a") is None and store.get("b") == ("B", 0.0) and store.nbytes == 80
    assert not store.put("huge", "H", 101)  # alone over the limit: refused, nothing dropped
    assert len(store) == 2


def test_the_store_forgets_runs_past_their_age_and_says_how_old_they_are():
    clock = Clock()
    store = RunStore(max_bytes=1000, max_age_s=60, clock=clock)
    store.put("a", "A", 10)
    clock.now = 40.0
    store.put("b", "B", 10)
    assert store.get("a") == ("A", 40.0)
    clock.now = 61.0
    assert store.get("a") is None and store.get("b") == ("B", 21.0)
    assert store.nbytes == 10


def test_a_given_run_is_a_copy_of_the_stored_one():
    stored = [dict(weights=[1, 2])]
    given = Given(stored, age_s=40)
    given.result[0]["weights"].append(3)  # what the visitor does to theirs
    assert stored == [dict(weights=[1, 2])] and given.done and not given.running


# --- joining a live run, and leaving it -------------------------------------------------------

class Trainer:
    """A training loop the test steps one step at a time, handing its model on each step."""

    def __init__(self, steps: int = 100):
        self.steps, self.go, self.stepped = steps, threading.Semaphore(0), threading.Event()
        self.shared = None
        self.models = []

    def __call__(self, report, stop):
        import torch

        from nameclf.classify.model import NameClassifier

        model = NameClassifier(ModelConfig(cell="gru", hidden_size=4, embedding_dim=4,
                                           vocab_size=5, n_classes=2))
        self.models.append(model)
        step = 0
        while step < self.steps:
            self.go.acquire()
            if stop.is_set():
                return ["stopped", step]
            step += 1
            with torch.no_grad():
                next(model.parameters()).add_(1.0)  # the weights change every step
            report(step)
            self.shared.on_step(model)  # as nameclf.ui.training's progress callback does
            self.stepped.set()
        return ["completed", step]

    def step(self) -> None:
        self.stepped.clear()
        self.go.release()
        assert self.stepped.wait(WAIT)


def shared_run(slots=None, partial=True):
    trainer = Trainer()
    job = Job(trainer, slots=slots)
    kept = []

    def so_far(model, items):
        kept.append(model)
        return ("so far", len(items))

    trainer.shared = Shared("k", job, partial, so_far)
    registry = SharedRuns()
    first = registry.add(trainer.shared)
    job.start()
    return trainer, job, registry, first, kept


def test_a_joiner_watches_the_same_run_and_its_stop_detaches_only_them():
    trainer, job, registry, first, kept = shared_run()
    second = registry.join("k")
    assert second is not None and second is not first and trainer.shared.watching == 2
    trainer.step()
    assert second.snapshot() == first.snapshot() == [1]  # the same curves
    second.stop()
    assert not second.done  # it keeps the model as it is at the next step
    trainer.step()
    second.join(WAIT)
    assert second.done and second.result == [("so far", 2)] and second.error is None
    assert kept[0] is not trainer.models[0]  # a copy, taken between two steps
    assert float(next(kept[0].parameters()).detach().sum()) == float(
        next(trainer.models[0].parameters()).detach().sum())
    assert first.running and not job.stop_event.is_set()  # the run goes on for the other
    trainer.step()
    assert first.snapshot() == [1, 2, 3] and second.snapshot() == [1, 2]
    first.stop()  # the last watcher: now the run itself stops
    trainer.go.release()
    job.join(WAIT)
    assert job.stop_event.is_set() and first.done
    assert first.result == ["stopped", 3] and first.result is not job.result  # its own copy
    assert registry.join("k") is None  # over: a later visitor starts (or is given) anew


def test_nobody_joins_a_run_every_watcher_has_left():
    trainer, job, registry, first, _ = shared_run()
    first.stop()
    trainer.go.release()
    job.join(WAIT)
    assert trainer.shared.join() is None


def test_the_run_completes_for_every_watcher_with_their_own_copies():
    trainer, job, registry, first, _ = shared_run()
    trainer.steps = 2
    second = registry.join("k")
    trainer.step()
    trainer.step()
    job.join(WAIT)
    assert first.done and second.done
    assert first.result == second.result == ["completed", 2]
    assert first.result is not second.result
    first.result.append("mine")
    assert second.result == ["completed", 2]


def test_a_joiner_who_leaves_the_queue_leaves_it_alone():
    slots, never = Slots(1), threading.Event()
    assert slots.acquire(0, never)  # another visitor's training holds the slot
    trainer, job, registry, first, _ = shared_run(slots)
    second = registry.join("k")
    second.stop()
    assert second.done and second.result == [] and second.error == QUEUED_STOP
    assert slots.load() == (1, 1)  # the run still waits, for the first watcher
    first.stop()
    job.join(WAIT)
    assert slots.load() == (1, 0) and "waiting" in job.error
    slots.release(0)


# --- the fair queue ---------------------------------------------------------------------------

def queued(slots: Slots, token: int, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=slots.acquire, args=(token, stop), daemon=True)
    thread.start()
    return thread


def until_queued(slots: Slots, token: int) -> None:
    for _ in range(int(WAIT / 0.01)):
        if slots.position(token):
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"{token} never queued")


def test_the_queue_is_first_come_first_served_and_its_wait_follows_the_clock():
    clock = Clock()
    slots, never = Slots(1, clock=clock), threading.Event()
    assert slots.acquire(1, never)  # started at 0 with no estimate
    stops = {t: threading.Event() for t in (2, 3)}
    threads = {}
    for token in (2, 3):
        threads[token] = queued(slots, token, stops[token])
        until_queued(slots, token)
    assert (slots.position(2), slots.position(3)) == (1, 2)
    assert slots.expected_wait(2) is None  # nobody knows yet how long the first takes
    slots.revise(1, 30.0)  # its progress says 30 s in all
    clock.now = 10.0
    assert slots.expected_wait(2) == 20.0
    assert slots.expected_wait(3) is None  # token 2 said nothing, and no job has finished
    clock.now = 25.0
    slots.release(1)  # held 25 s: the typical job now
    threads[2].join(WAIT)
    assert slots.position(3) == 1 and slots.typical() == 25.0
    assert slots.expected_wait(3) == 25.0  # token 2, running since 25, takes the typical 25 s
    stops[3].set()
    threads[3].join(WAIT)
    slots.release(2)
    assert slots.load() == (0, 0)


# --- in the app: two visitors with the same settings share, an upload never does --------------

SEED = "4321"  # settings no other test trains, so the server's store has nothing for them


@pytest.fixture
def fresh_sharing():
    from nameclf.ui import sharing
    from nameclf.ui.cache import forget_server_wide

    forget_server_wide("run_store", "shared_runs")
    yield sharing
    forget_server_wide("run_store")


@pytest.fixture
def busy_slots():
    """Every training slot held by someone else: new runs wait in the queue."""
    from nameclf.ui.cache import training_slots

    slots, never = training_slots(), threading.Event()
    held = [object() for _ in range(slots.limit)]
    for other in held:
        assert slots.acquire(id(other), never)
    yield lambda: [slots.release(id(other)) for other in held]
    for other in held:
        slots.release(id(other))


def builtin_train_page(**query):
    at = app("pages/2_Train.py")
    at.query_params.update({**TINY, "seed": SEED, **query})
    return at.run()


def test_two_visitors_asking_the_same_run_share_it_and_a_third_gets_it_at_once(
        fresh_sharing, busy_slots):
    a, b = builtin_train_page(), builtin_train_page()
    a.button(key="train_start").click().run()
    b.button(key="train_start").click().run()  # while a's run waits in the queue
    job_a, job_b = a.session_state["job"], b.session_state["job"]
    assert job_b.shared is job_a.shared and job_b.meta.shared == "joined"
    assert any("exactly these settings" in i.value for i in b.info)
    busy_slots()  # the slots free up: the one run trains for both
    for at in (a, b):
        wait_for_job(at)
        no_exception(at)
    run_a, run_b = a.session_state["runs"]["run1-gru"], b.session_state["runs"]["run1-gru"]
    assert run_a is not run_b and run_a.model is not run_b.model  # each their own
    assert run_a.metrics == run_b.metrics and run_a.status == "completed"
    c = builtin_train_page()
    c.button(key="train_start").click().run()
    wait_for_job(c)
    no_exception(c)
    assert c.session_state["job"].meta.shared == "given"
    assert any("ago on this server with exactly these settings; the same seed gives the same "
               "model — change the seed to train your own" in i.value for i in c.info)
    assert c.session_state["runs"]["run1-gru"].metrics == run_a.metrics
    d = builtin_train_page(seed="4322")  # another seed: a run of its own
    d.button(key="train_start").click().run()
    assert d.session_state["job"].meta.shared == ""
    d.session_state["job"].stop()
    wait_for_job(d)


def test_a_joiners_stop_keeps_their_model_so_far_and_the_run_goes_on(fresh_sharing):
    a, b = builtin_train_page(steps="20000"), builtin_train_page(steps="20000")
    a.button(key="train_start").click().run()
    b.button(key="train_start").click().run()
    job_a, job_b = a.session_state["job"], b.session_state["job"]
    assert job_b.shared is job_a.shared
    while not job_a.snapshot()[1:] and not job_a.done:  # a step or two trained
        job_a.join(0.05)
    b.button(key="train_stop").click().run()
    wait_for_job(b)
    no_exception(b)
    (kept,) = b.session_state["runs"].values()
    assert kept.status == "stopped" and 0 < kept.info["steps"] < 20000
    assert kept.info["detached"] and "top1" in kept.metrics
    assert any("You stopped watching" in i.value for i in b.info)
    assert job_a.running and not job_a.shared.job.stop_event.is_set()  # a's run goes on
    a.button(key="train_stop").click().run()  # the last watcher: the run stops
    wait_for_job(a)
    (own,) = a.session_state["runs"].values()
    assert own.status == "stopped" and own.info["steps"] >= kept.info["steps"]
    assert own.model is not kept.model


def test_an_upload_is_never_shared(fresh_sharing, busy_slots, tiny_bytes):
    visitors = []
    for _ in range(2):
        at = use_tiny(app("pages/2_Train.py"), tiny_bytes)
        at.query_params.update(TINY)
        at.run()
        at.button(key="train_start").click().run()
        visitors.append(at)
    jobs = [at.session_state["job"] for at in visitors]
    assert all(type(job) is Job for job in jobs) and jobs[0] is not jobs[1]
    assert len(fresh_sharing.shared_runs()) == 0
    busy_slots()
    for at in visitors:
        wait_for_job(at)
    assert len(fresh_sharing.run_store()) == 0  # nor kept for anyone else


def test_a_time_limited_run_is_not_shared(fresh_sharing, busy_slots):
    at = builtin_train_page(time="60")
    at.button(key="train_start").click().run()
    assert type(at.session_state["job"]) is Job
    at.session_state["job"].stop()
    wait_for_job(at)


def test_replace_keeps_configs_comparable():
    assert key(train=replace(TrainConfig(steps=10), time_budget=0.0)) == key()


def test_a_queued_job_is_estimated_from_how_fast_such_a_model_trained_here():
    from nameclf.ui.cache import forget_server_wide
    from nameclf.ui.estimates import expected_seconds, learned_speed

    forget_server_wide("training_speeds")
    gru, lstm = ModelConfig(cell="gru", hidden_size=32), ModelConfig(cell="lstm")
    train = TrainConfig(steps=100, batch_size=50)
    assert expected_seconds([gru], train, 1000) is None  # nothing has trained yet
    learned_speed(gru, train, 1000.0)  # names per second
    assert expected_seconds([gru], train, 1000) == pytest.approx(1.1 * 100 * 50 / 1000)
    learned_speed(lstm, train, 500.0)
    assert expected_seconds([gru], train, 1000) == pytest.approx(5.5)  # its own kind's speed
    assert expected_seconds([gru], replace(train, time_budget=20.0), 1000) == 20.0
    forget_server_wide("training_speeds")
