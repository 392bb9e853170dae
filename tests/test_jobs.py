"""Background jobs: progress read while running, stop honoured, errors kept, slots shared."""

import threading
import time

from nameclf.errors import DataError
from nameclf.serve.jobs import Job, Slots

WAIT = 10.0  # seconds; generous, each wait ends as soon as the thread does its part


def test_job_runs_in_a_thread_and_keeps_its_result():
    callers = []

    def target(report, stop):
        callers.append(threading.current_thread())
        for i in range(3):
            report(i)
        return "done"

    job = Job(target, name="count")
    assert not job.done and not job.running and job.latest() is None
    job.start().join(WAIT)
    assert job.done and not job.running
    assert callers[0] is not threading.main_thread() and callers[0].daemon
    assert job.result == "done" and job.error is None
    assert job.snapshot() == [0, 1, 2] and job.latest() == 2
    assert job.started_at <= job.finished_at


def test_snapshot_while_running_is_a_copy():
    reported, release = threading.Event(), threading.Event()

    def target(report, stop):
        report("first")
        reported.set()
        release.wait(WAIT)
        report("second")

    job = Job(target).start()
    assert reported.wait(WAIT)
    snap = job.snapshot()
    assert snap == ["first"] and job.running and not job.done
    snap.append("mine")  # changing the copy does not change the job
    assert job.snapshot() == ["first"]
    release.set()
    job.join(WAIT)
    assert job.snapshot() == ["first", "second"] and job.done


def test_stop_is_honoured():
    started = threading.Event()

    def target(report, stop):
        started.set()
        n = 0
        while not stop.wait(0.005):
            n += 1
            report(n)
        return "stopped"

    job = Job(target).start()
    assert started.wait(WAIT)
    job.stop()
    job.join(WAIT)
    assert job.done and job.result == "stopped" and job.stop_event.is_set()


def test_a_bug_is_captured_as_one_line(capsys):
    def target(report, stop):
        report("before")
        raise RuntimeError("boom\nsecond line")

    job = Job(target).start()
    job.join(WAIT)
    assert job.done and job.result is None
    assert job.error == "RuntimeError: boom"
    assert job.snapshot() == ["before"]
    assert "Traceback" in capsys.readouterr().err  # logged for whoever runs the server


def test_a_user_error_keeps_its_message():
    def target(report, stop):
        raise DataError("the file is empty")

    job = Job(target).start()
    job.join(WAIT)
    assert job.error == "the file is empty"


def test_an_error_without_a_message():
    def target(report, stop):
        raise KeyError()

    job = Job(target).start()
    job.join(WAIT)
    assert job.error.startswith("KeyError")


# --- a server-wide cap on jobs running at once ---------------------------------------------

def wait_until(condition, timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return False


def gated(started: list, gate: threading.Event, name: str):
    """A target that records that it ran, then waits for `gate`."""
    def target(report, stop):
        started.append(name)
        gate.wait(WAIT)
        return name
    return target


def test_slots_run_one_job_at_a_time_first_come_first_served():
    slots, started, gate = Slots(limit=1), [], threading.Event()
    a = Job(gated(started, gate, "a"), slots=slots).start()
    assert wait_until(lambda: started == ["a"])
    b = Job(gated(started, gate, "b"), slots=slots).start()
    assert wait_until(lambda: slots.load() == (1, 1))
    c = Job(gated(started, gate, "c"), slots=slots).start()
    assert wait_until(lambda: slots.load() == (1, 2))
    assert started == ["a"]  # b and c wait
    assert slots.position(id(a)) == 0
    assert (slots.position(id(b)), slots.position(id(c))) == (1, 2)
    gate.set()
    for job in (a, b, c):
        job.join(WAIT)
    assert started == ["a", "b", "c"]
    assert [j.result for j in (a, b, c)] == ["a", "b", "c"]
    assert slots.load() == (0, 0)


def test_stop_while_waiting_for_a_slot():
    slots, started, gate = Slots(limit=1), [], threading.Event()
    a = Job(gated(started, gate, "a"), slots=slots).start()
    assert wait_until(lambda: started == ["a"])
    b = Job(gated(started, gate, "b"), slots=slots).start()
    assert wait_until(lambda: slots.load() == (1, 1))
    b.stop()
    b.join(WAIT)
    assert b.done and b.result is None and "waiting" in b.error
    assert slots.load() == (1, 0)
    gate.set()
    a.join(WAIT)
    assert started == ["a"] and a.result == "a" and slots.load() == (0, 0)


def test_slots_allow_as_many_as_the_limit():
    slots, started, gate = Slots(limit=2), [], threading.Event()
    jobs = [Job(gated(started, gate, n), slots=slots).start() for n in "abc"]
    assert wait_until(lambda: len(started) == 2 and slots.load() == (2, 1))
    gate.set()
    for job in jobs:
        job.join(WAIT)
    assert sorted(started) == ["a", "b", "c"] and slots.load() == (0, 0)
    assert Slots(limit=0).limit == 1


def test_a_failing_job_frees_its_slot():
    slots = Slots(limit=1)

    def boom(report, stop):
        raise DataError("bad")

    first = Job(boom, slots=slots).start()
    first.join(WAIT)
    second = Job(lambda report, stop: "ok", slots=slots).start()
    second.join(WAIT)
    assert first.error == "bad" and second.result == "ok" and slots.load() == (0, 0)
