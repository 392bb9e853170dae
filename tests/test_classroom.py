"""The class store (memory and a real redis-server) and the class link's round trip."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time

import pytest

from nameclf.data.dataset import BUILTINS
from nameclf.serve import classlink as cl
from nameclf.serve import classroom as cr
from nameclf.serve.redis_store import RedisStore

CHAPTERS = (1, 2, 3, 4, 5, 6, 7, 8)
SETTINGS = ("names", "cell", "lr", "batch", "opt")


@pytest.fixture(scope="module")
def redis_url():
    """A real redis-server on loopback, on a free port, saving nothing to disk."""
    server = shutil.which("redis-server")
    assert server, "install Debian's redis-server package (.ci/run does)"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(params=["memory", "redis"])
def make(request):
    """A factory of empty stores of either kind, with the given limits."""
    if request.param == "memory":
        return lambda limits=None: cr.MemoryStore(limits)
    url = request.getfixturevalue("redis_url")

    def redis_store(limits=None):
        store = RedisStore.from_url(url, limits)
        store.r.flushdb()
        return store
    return redis_store


def opened(store, config=None):
    cid, key = cl.new_id(), cl.new_key()
    assert store.open(cid, key, config or {"cch": "1.2"}) == ""
    return cid, key


def test_link_round_trip_keeps_every_choice():
    link = cl.ClassLink(cl.new_id(), (4, 1, 7), BUILTINS[1], 42, ("lr", "names"), ("cell",),
                        "release")
    query = {k: str(v) for k, v in cl.to_query(link).items()}
    assert cl.parse(query, CHAPTERS, SETTINGS) == (link, "")
    assert cl.parse({"ch": "2"}, CHAPTERS, SETTINGS) == (None, "")  # no class: the lesson alone


@pytest.mark.parametrize("bad", [{"cch": "1.9"}, {"cch": "2.2"}, {"cds": "upload"},
                                 {"cseed": "-1"}, {"chide": "secret"}, {"cfb": "later"},
                                 {"cls": "short"}, {"cseed": "x"}])
def test_a_hand_edited_link_is_refused_with_one_line(bad):
    query = {**cl.to_query(cl.ClassLink(cl.new_id(), (1, 2))), **bad}
    link, note = cl.parse(query, CHAPTERS, SETTINGS)
    assert link is None and note.startswith("This class link was not used (")


def test_keys_are_random_and_long_enough():
    keys = {cl.new_key() for _ in range(50)}
    assert len(keys) == 50 and all(len(k) >= 32 for k in keys)  # 24 bytes: 192 bits


def test_a_wrong_or_missing_key_sees_nothing(make):
    store = make()
    cid, key = opened(store)
    store.answer(cid, cl.new_learner(), "1a", "3", True)
    assert store.view(cid, key)[0].learners == 1
    assert store.view(cid, "") == (None, cr.NO_KEY)
    assert store.view(cid, cl.new_key()) == (None, cr.BAD_KEY)
    assert store.view(cid, key[:-1]) == (None, cr.BAD_KEY)
    assert store.view(cl.new_id(), key) == (None, cr.NO_CLASS)  # a made-up class id
    assert not store.release(cid, "wrong") and not store.end(cid, "")


def test_first_answers_count_once_and_show_their_distribution(make):
    store = make()
    cid, key = opened(store)
    a, b, c = (cl.new_learner() for _ in range(3))
    store.answer(cid, a, "1a", "(5, 2, 30)", True, "(5, 2, 30)")
    store.answer(cid, a, "1a", "(2, 5, 30)", False)  # a second answer does not count
    store.answer(cid, b, "1a", "(2, 5, 30)", False)
    store.answer(cid, c, "1a", "(2, 5, 30)", False)
    store.answer(cid, c, "2a", "3", False, "4")  # nobody right: the right text still known
    store.reach(cid, a, "3")
    view, _ = store.view(cid, key)
    assert view.learners == 3
    assert view.chapters == {"3": 1, "1": 2}
    assert view.answers["1a"] == {("(5, 2, 30)", True): 1, ("(2, 5, 30)", False): 2}
    assert view.expected == {"1a": "(5, 2, 30)", "2a": "4"}
    assert cr.most_missed(view) == [("2a", 1, 1), ("1a", 2, 3)]


def test_thirty_learners_answering_at_once_are_each_counted_once(make):
    store = make()
    cid, key = opened(store)
    learners = [cl.new_learner() for _ in range(30)]
    start, replies = threading.Barrier(30), []

    def learner(i: int) -> None:
        start.wait()
        for qid in ("1a", "1b", "2a"):
            for _ in range(3):  # retries and reloads send again
                replies.append(store.answer(cid, learners[i], qid, str(i % 2), i % 2 == 0))
        replies.append(store.reach(cid, learners[i], "2"))

    threads = [threading.Thread(target=learner, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert replies == [""] * 30 * 10  # nothing refused
    view, _ = store.view(cid, key)
    assert view.learners == 30 and view.chapters == {"2": 30}
    for qid in ("1a", "1b", "2a"):
        assert view.answers[qid] == {("0", True): 15, ("1", False): 15}


def test_each_limit_refuses_with_its_message(make):
    store = make(cr.Limits(classes=2, learners=2, answers=2, runs=3))
    cid, key = opened(store)
    opened(store)
    assert store.open(cl.new_id(), cl.new_key(), {}) == cr.FULL.format(n=2)
    a, b = cl.new_learner(), cl.new_learner()
    assert store.answer(cid, a, "1a", "1", True) == ""
    assert store.reach(cid, b, "2") == ""
    assert store.reach(cid, cl.new_learner(), "2") == cr.CROWDED.format(n=2)
    assert store.answer(cid, a, "1b", "1", True) == ""
    assert store.answer(cid, a, "2a", "1", True) == cr.TOO_MANY.format(n=2)
    for i in range(5):
        store.add_run(cid, {"cell": "gru", "top1": i / 10})
    view, _ = store.view(cid, key)
    assert view.learners == 2 and len(view.answers) == 2
    assert [r["top1"] for r in view.runs] == [0.2, 0.3, 0.4]
    assert store.answer(cl.new_id(), a, "1a", "1", True) == cr.UNKNOWN  # a made-up class


def test_a_class_expires_with_age():
    now = [0.0]
    store = cr.MemoryStore(cr.Limits(age_s=60), clock=lambda: now[0])
    cid, key = opened(store)
    now[0] = 61.0
    assert store.view(cid, key) == (None, cr.NO_CLASS) and len(store) == 0


def test_ending_a_class_deletes_it(make):
    store = make()
    cid, key = opened(store, {"cch": "1", "cfb": "release"})
    other, other_key = opened(store)
    store.answer(cid, cl.new_learner(), "1a", "1", True)
    store.add_run(cid, {"top1": 0.5})
    assert store.config(cid)["released"] is False
    assert store.release(cid, key) and store.config(cid)["released"] is True
    assert store.end(cid, key)
    assert store.view(cid, key) == (None, cr.NO_CLASS) and store.config(cid) is None
    assert store.answer(cid, cl.new_learner(), "1a", "1", True) == cr.UNKNOWN
    assert store.view(other, other_key)[0] is not None and len(store) == 1
    if isinstance(store, RedisStore):  # nothing of it is left in Redis
        assert not [k for k in store.r.keys("*") if cid.encode() in k]


def test_only_the_key_digest_is_stored(make):
    store = make()
    cid, key = opened(store)
    if isinstance(store, RedisStore):
        assert key.encode() not in b"".join(store.r.hvals(store._k(cid, "meta")))
    else:
        assert store._classes[cid].key == cr.digest(key) != key.encode()
