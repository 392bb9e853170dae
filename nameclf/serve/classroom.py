"""A teacher's class, server side: learners' first answers and chapters, in a bounded store.

`ClassStore` is the small interface; `MemoryStore` (one server, the default) keeps everything
in this process's memory and nothing on disk; `nameclf.serve.redis_store.RedisStore` does the
same for several servers. A class is opened with a teacher key; only its SHA-256 digest is
kept, compared with `hmac.compare_digest`. Learners are anonymous random tokens.
Every limit refuses with a message instead of growing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

MAX_CLASSES = 200  # classes per server
MAX_LEARNERS = 500  # learners per class
MAX_ANSWERS = 64  # first answers per learner (the lesson asks about 20 questions)
MAX_RUNS = 300  # Train runs kept per class
MAX_AGE_S = 6 * 3600  # a class is deleted 6 hours after it was opened
MAX_TEXT = 40  # an answer's text, as sent, at most
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")  # class ids, learner tokens and keys

FULL = ("This server already holds {n} classes, its limit: end a class from its class view, "
        "or try again later.")
CROWDED = "This class is full ({n} learners): your answers are not sent to the teacher."
TOO_MANY = "You have sent {n} answers to this class, its limit: later ones are not sent."
UNKNOWN = ("This class link is not known on this server (it ended, expired after 6 hours, or "
           "the id is wrong): your lesson works, but nothing is sent to a teacher.")
NO_KEY = "This is a learner's link: only the teacher link (with its key) opens the class view."
BAD_KEY = "This key does not open this class: nothing of it is shown."
NO_CLASS = "There is no class with this id on this server (it ended, expired, or never was)."


def digest(key: str) -> bytes:
    """What the store keeps of a teacher key: its SHA-256, never the key."""
    return hashlib.sha256(key.encode()).digest()


def key_matches(stored: bytes, key: str) -> bool:
    """Whether `key` is the class's, in constant time."""
    return bool(key) and hmac.compare_digest(stored, digest(key))


def valid_token(token: str) -> bool:
    """Whether a class id, learner token or key has the shape `secrets` makes."""
    return isinstance(token, str) and TOKEN.fullmatch(token) is not None


@dataclass
class Limits:
    """The store's bounds; each is enforced with a message."""

    classes: int = MAX_CLASSES
    learners: int = MAX_LEARNERS
    answers: int = MAX_ANSWERS
    runs: int = MAX_RUNS
    age_s: float = MAX_AGE_S


@dataclass
class ClassView:
    """What the teacher sees: learners per chapter, answers per question, the Train runs."""

    learners: int  # learners who sent anything
    chapters: dict[str, int]  # chapter ("1".."8", "end") -> learners there now
    answers: dict[str, Counter]  # qid -> Counter of (answer text, right: True/False/None)
    runs: list[dict]  # each: the run's settings and its "top1"
    released: bool  # whether wrong answers' feedback was released to the class
    config: dict = field(default_factory=dict)  # the class link's choices
    expected: dict[str, str] = field(default_factory=dict)  # qid -> the right answer's text


def most_missed(view: ClassView, n: int = 3) -> list[tuple[str, int, int]]:
    """The `n` questions most often answered wrong at first: (qid, wrong, answered)."""
    rows = []
    for qid, counts in view.answers.items():
        wrong = sum(c for (_, right), c in counts.items() if right is False)
        if wrong:
            rows.append((qid, wrong, sum(counts.values())))
    rows.sort(key=lambda r: (-r[1] / r[2], -r[1], r[0]))
    return rows[:n]


class ClassStore(Protocol):
    """Where a class's answers live; every write returns '' or the line saying why not."""

    def open(self, class_id: str, key: str, config: dict) -> str: ...
    def config(self, class_id: str) -> dict | None: ...
    def answer(self, class_id: str, learner: str, qid: str, text: str,
               right: bool | None, expected: str = "") -> str: ...
    def reach(self, class_id: str, learner: str, chapter: str) -> str: ...
    def add_run(self, class_id: str, run: dict) -> str: ...
    def view(self, class_id: str, key: str) -> tuple[ClassView | None, str]: ...
    def release(self, class_id: str, key: str) -> bool: ...
    def end(self, class_id: str, key: str) -> bool: ...


@dataclass
class _Learner:
    chapter: str = "1"
    answers: dict[str, tuple[str, bool | None]] = field(default_factory=dict)


@dataclass
class _Class:
    key: bytes  # the key's digest
    config: dict
    opened: float
    released: bool = False
    learners: dict[str, _Learner] = field(default_factory=dict)
    runs: list[dict] = field(default_factory=list)
    expected: dict[str, str] = field(default_factory=dict)


class MemoryStore:
    """Classes in this process's memory: bounded in count, learners, answers and age."""

    def __init__(self, limits: Limits | None = None, clock=time.monotonic):
        self.limits = limits or Limits()
        self._clock = clock
        self._lock = threading.Lock()
        self._classes: dict[str, _Class] = {}

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._classes)

    def _expire(self) -> None:
        old = self._clock() - self.limits.age_s
        for cid in [c for c, k in self._classes.items() if k.opened < old]:
            del self._classes[cid]

    def _learner(self, class_id: str, learner: str) -> tuple[_Learner | None, str]:
        self._expire()
        k = self._classes.get(class_id)
        if k is None or not valid_token(learner):
            return None, UNKNOWN
        if learner not in k.learners:
            if len(k.learners) >= self.limits.learners:
                return None, CROWDED.format(n=self.limits.learners)
            k.learners[learner] = _Learner()
        return k.learners[learner], ""

    def open(self, class_id: str, key: str, config: dict) -> str:
        with self._lock:
            self._expire()
            if len(self._classes) >= self.limits.classes:
                return FULL.format(n=self.limits.classes)
            self._classes[class_id] = _Class(digest(key), dict(config), self._clock())
            return ""

    def config(self, class_id: str) -> dict | None:
        with self._lock:
            self._expire()
            k = self._classes.get(class_id)
            return None if k is None else dict(k.config, released=k.released)

    def answer(self, class_id: str, learner: str, qid: str, text: str,
               right: bool | None, expected: str = "") -> str:
        with self._lock:
            who, why = self._learner(class_id, learner)
            if who is None:
                return why
            if qid in who.answers:
                return ""  # only the first answer counts
            if len(who.answers) >= self.limits.answers:
                return TOO_MANY.format(n=self.limits.answers)
            who.answers[qid[:8]] = (text[:MAX_TEXT], right)
            if expected and len(self._classes[class_id].expected) < self.limits.answers:
                self._classes[class_id].expected.setdefault(qid[:8], expected[:MAX_TEXT])
            return ""

    def reach(self, class_id: str, learner: str, chapter: str) -> str:
        with self._lock:
            who, why = self._learner(class_id, learner)
            if who is not None:
                who.chapter = chapter[:8]
            return why

    def add_run(self, class_id: str, run: dict) -> str:
        with self._lock:
            self._expire()
            k = self._classes.get(class_id)
            if k is None:
                return UNKNOWN
            k.runs = [*k.runs, dict(run)][-self.limits.runs:]
            return ""

    def _class(self, class_id: str, key: str) -> tuple[_Class | None, str]:
        self._expire()
        k = self._classes.get(class_id)
        if k is None:
            return None, NO_CLASS
        if not key:
            return None, NO_KEY
        if not key_matches(k.key, key):
            return None, BAD_KEY
        return k, ""

    def view(self, class_id: str, key: str) -> tuple[ClassView | None, str]:
        with self._lock:
            k, why = self._class(class_id, key)
            if k is None:
                return None, why
            chapters = Counter(w.chapter for w in k.learners.values())
            answers: dict[str, Counter] = {}
            for w in k.learners.values():
                for qid, given in w.answers.items():
                    answers.setdefault(qid, Counter())[given] += 1
            return ClassView(len(k.learners), dict(chapters), answers, list(k.runs),
                             k.released, dict(k.config), dict(k.expected)), ""

    def release(self, class_id: str, key: str) -> bool:
        with self._lock:
            k, _ = self._class(class_id, key)
            if k is not None:
                k.released = True
            return k is not None

    def end(self, class_id: str, key: str) -> bool:
        with self._lock:
            k, _ = self._class(class_id, key)
            if k is not None:
                del self._classes[class_id]
            return k is not None
