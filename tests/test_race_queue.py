"""Speed races take a slot from the server-wide training queue, like Train and Compare runs."""

import re
import threading
import time

import pytest

from nameclf.serve.jobs import Job, Slots
from tests.conftest import app, no_exception, use_tiny

WAIT = 10.0  # seconds; each wait ends as soon as the thread does its part
QUEUED = re.compile(r"Waiting for a free training slot: you are number (\d+) in the queue")


def test_expected_wait_follows_the_jobs_ahead():
    slots, never = Slots(1), threading.Event()
    assert slots.acquire(1, never, expected_s=30)
    waiting = []
    for token, expected in ((2, 10), (3, None)):
        stop = threading.Event()
        waiting.append(stop)
        threading.Thread(target=slots.acquire, args=(token, stop, expected), daemon=True).start()
        deadline = time.monotonic() + WAIT
        while slots.position(token) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert slots.position(2) == 1 and slots.position(3) == 2
    assert 20 < slots.expected_wait(2) <= 30  # the running job's 30 s, minus time spent
    assert 30 < slots.expected_wait(3) <= 40  # ... then token 2's 10 s
    assert slots.expected_wait(1) == 0.0 and slots.expected_wait(99) == 0.0
    for stop in waiting:
        stop.set()
    slots.release(1)


def test_a_job_with_no_expected_time_makes_the_wait_unknown():
    slots, never = Slots(1), threading.Event()
    assert slots.acquire(1, never)  # no expected time: e.g. a run with only a step budget
    stop = threading.Event()
    threading.Thread(target=slots.acquire, args=(2, stop, 5.0), daemon=True).start()
    deadline = time.monotonic() + WAIT
    while slots.position(2) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert slots.expected_wait(2) is None
    stop.set()
    slots.release(1)


def test_free_slots_make_no_wait_and_two_slots_serve_two():
    slots, never = Slots(2), threading.Event()
    assert slots.acquire(1, never, 20)
    assert slots.load() == (1, 0)
    assert slots.acquire(2, never, 5)  # the second slot
    stop = threading.Event()
    threading.Thread(target=slots.acquire, args=(3, stop, 1.0), daemon=True).start()
    deadline = time.monotonic() + WAIT
    while slots.position(3) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert 0 < slots.expected_wait(3) <= 5  # the sooner of the two slots
    stop.set()
    slots.release(1)
    slots.release(2)


def test_a_job_records_when_it_got_its_slot():
    slots, release = Slots(1), threading.Event()
    held = threading.Event()
    assert slots.acquire(0, held)
    job = Job(lambda report, stop: release.wait(WAIT), slots=slots, expected_s=3).start()
    deadline = time.monotonic() + WAIT
    while job.queue_position() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.queue_position() == 1 and job.running_since is None
    assert job.expected_wait() is None  # token 0 said nothing about its time
    slots.release(0)
    deadline = time.monotonic() + WAIT
    while job.running_since is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.running_since is not None and job.queue_position() == 0
    assert job.expected_wait() == 0.0
    release.set()
    job.join(WAIT)
    assert job.done and slots.load() == (0, 0)


def race_page(raw: bytes):
    at = use_tiny(app("pages/7_Speed_race.py"), raw).run()
    no_exception(at)
    at.number_input(key="race_n").set_value(48)
    at.number_input(key="race_batch").set_value(16)
    at.slider(key="race_seconds").set_value(0.5)
    at.select_slider(key="race_hidden").set_value(16)
    return at.run()


def progress_text(at) -> str:
    return " ".join(p.proto.text for p in at.get("progress"))


def rerun_until(at, pattern, timeout: float = 90.0):
    """Re-run the page until a progress text (or the page) matches; bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        if re.search(pattern, progress_text(at)):
            return at
        time.sleep(0.2)
    raise AssertionError(f"{pattern!r} not seen; progress: {progress_text(at)!r}")


def wait_for_race(at, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        if at.session_state["race_job"] is None:
            return at
        time.sleep(0.3)
    raise AssertionError("the race did not finish in time")


@pytest.fixture
def busy_server():
    """Every server-wide training slot held by other visitors' 40 s trainings."""
    from nameclf.ui.cache import training_slots

    slots, never = training_slots(), threading.Event()
    held = [object() for _ in range(slots.limit)]
    for other in held:
        assert slots.acquire(id(other), never, expected_s=40)
    yield slots
    for other in held:
        slots.release(id(other))


def test_a_race_waits_in_the_training_queue_and_stop_leaves_it(tiny_bytes, busy_server):
    at = race_page(tiny_bytes)
    at.button(key="race_start").click().run()
    no_exception(at)
    entry = at.session_state["race_job"]
    assert entry["job"].slots is busy_server  # the same queue as Train and Compare
    at = rerun_until(at, QUEUED.pattern)
    assert QUEUED.search(progress_text(at)).group(1) == "1"
    assert re.search(r"about \d+ s to go", progress_text(at))  # the 40 s trainings ahead
    assert at.button(key="race_start").disabled
    assert busy_server.load()[1] == 1  # waiting, not racing alongside the others
    at.button(key="race_stop").click().run()
    wait_for_race(at, timeout=30)
    no_exception(at)
    assert at.session_state["race_results"] == []
    assert any("stopped while waiting for a free training slot" in w.value for w in at.warning)
    assert busy_server.load() == (busy_server.limit, 0)  # it left the queue


def test_a_race_holds_a_training_slot_while_it_runs(tiny_bytes):
    from nameclf.ui.cache import training_slots

    slots = training_slots()
    at = race_page(tiny_bytes)
    at.button(key="race_start").click().run()
    job = at.session_state["race_job"]["job"]
    assert job.slots is slots and job.expected_s > 0
    deadline = time.monotonic() + 60
    while job.running_since is None and not job.done and time.monotonic() < deadline:
        time.sleep(0.05)
    if not job.done:  # racing: the race counts among the server's trainings
        assert slots.load()[0] >= 1
    wait_for_race(at)
    no_exception(at)
    (row,) = at.session_state["race_results"]
    assert row["status"] == "completed"
    assert slots.load() == (0, 0)  # its slot is free again
