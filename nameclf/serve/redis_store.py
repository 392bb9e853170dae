"""The class store in Redis, for several app servers behind one address.

Same interface and limits as `nameclf.serve.classroom.MemoryStore`. Every key of a class
expires with the class (6 hours after it was opened); ending a class deletes its keys at once.
A first answer is kept with HSETNX, so a learner's later answers, or two servers racing, never
replace it. Only the teacher key's SHA-256 is stored.
"""

from __future__ import annotations

import json
import time
from collections import Counter

from nameclf.serve.classroom import (
    BAD_KEY,
    CROWDED,
    FULL,
    MAX_TEXT,
    NO_CLASS,
    NO_KEY,
    TOO_MANY,
    UNKNOWN,
    ClassView,
    Limits,
    digest,
    key_matches,
    valid_token,
)

PREFIX = "nameclf:class:"
INDEX = "nameclf:classes"  # sorted set: class id -> time opened


class RedisStore:
    """Classes in Redis: bounded like MemoryStore, shared by every server using it."""

    def __init__(self, client, limits: Limits | None = None):
        self.r = client
        self.limits = limits or Limits()

    @classmethod
    def from_url(cls, url: str, limits: Limits | None = None) -> RedisStore:
        import redis

        return cls(redis.Redis.from_url(url), limits)

    def _k(self, class_id: str, part: str) -> str:
        return f"{PREFIX}{class_id}:{part}"

    def _parts(self, class_id: str) -> list[str]:
        return [self._k(class_id, p) for p in ("meta", "chapter", "answers", "count", "runs",
                                                       "expected")]

    def _expire_old(self) -> None:
        old = time.time() - self.limits.age_s
        for cid in self.r.zrangebyscore(INDEX, "-inf", old):
            cid = cid.decode()
            self.r.delete(*self._parts(cid))
            self.r.zrem(INDEX, cid)

    def __len__(self) -> int:
        self._expire_old()
        return int(self.r.zcard(INDEX))

    def open(self, class_id: str, key: str, config: dict) -> str:
        self._expire_old()
        if self.r.zcard(INDEX) >= self.limits.classes:
            return FULL.format(n=self.limits.classes)
        ttl = int(self.limits.age_s)
        meta = self._k(class_id, "meta")
        with self.r.pipeline() as pipe:
            pipe.hset(meta, mapping={"key": digest(key), "config": json.dumps(config),
                                     "released": 0})
            pipe.expire(meta, ttl)
            pipe.zadd(INDEX, {class_id: time.time()})
            pipe.execute()
        return ""

    def _alive(self, class_id: str) -> bool:
        return valid_token(class_id) and bool(self.r.exists(self._k(class_id, "meta")))

    def config(self, class_id: str) -> dict | None:
        if not valid_token(class_id):
            return None
        raw = self.r.hmget(self._k(class_id, "meta"), "config", "released")
        if raw[0] is None:
            return None
        return dict(json.loads(raw[0]), released=raw[1] == b"1")

    def _touch(self, class_id: str, learner: str) -> str:
        """Admit the learner (counting them once); '' or why not."""
        if not self._alive(class_id) or not valid_token(learner):
            return UNKNOWN
        ttl = int(self.r.ttl(self._k(class_id, "meta")))
        chapter = self._k(class_id, "chapter")
        if self.r.hexists(chapter, learner):
            return ""
        if self.r.hlen(chapter) >= self.limits.learners:
            return CROWDED.format(n=self.limits.learners)
        if self.r.hsetnx(chapter, learner, "1"):
            self.r.expire(chapter, max(ttl, 1))
            if self.r.hlen(chapter) > self.limits.learners:  # two joined at once: undo ours
                self.r.hdel(chapter, learner)
                return CROWDED.format(n=self.limits.learners)
        return ""

    def answer(self, class_id: str, learner: str, qid: str, text: str,
               right: bool | None, expected: str = "") -> str:
        if why := self._touch(class_id, learner):
            return why
        answers, count = self._k(class_id, "answers"), self._k(class_id, "count")
        field = f"{learner}|{qid[:8]}"
        if self.r.hexists(answers, field):
            return ""  # only the first answer counts
        if self.r.hincrby(count, learner, 1) > self.limits.answers:
            self.r.hincrby(count, learner, -1)
            return TOO_MANY.format(n=self.limits.answers)
        value = json.dumps([text[:MAX_TEXT], right])
        if not self.r.hsetnx(answers, field, value):
            self.r.hincrby(count, learner, -1)  # another request's first answer won
        ttl = max(int(self.r.ttl(self._k(class_id, "meta"))), 1)
        right_answers = self._k(class_id, "expected")
        if expected and self.r.hlen(right_answers) < self.limits.answers:
            self.r.hsetnx(right_answers, qid[:8], expected[:MAX_TEXT])
        for key in (answers, count, right_answers):
            self.r.expire(key, ttl)
        return ""

    def reach(self, class_id: str, learner: str, chapter: str) -> str:
        if why := self._touch(class_id, learner):
            return why
        self.r.hset(self._k(class_id, "chapter"), learner, chapter[:8])
        return ""

    def add_run(self, class_id: str, run: dict) -> str:
        if not self._alive(class_id):
            return UNKNOWN
        runs = self._k(class_id, "runs")
        with self.r.pipeline() as pipe:
            pipe.rpush(runs, json.dumps(run))
            pipe.ltrim(runs, -self.limits.runs, -1)
            pipe.expire(runs, max(int(self.r.ttl(self._k(class_id, "meta"))), 1))
            pipe.execute()
        return ""

    def _check(self, class_id: str, key: str) -> str:
        if not valid_token(class_id):
            return NO_CLASS
        stored = self.r.hget(self._k(class_id, "meta"), "key")
        if stored is None:
            return NO_CLASS
        if not key:
            return NO_KEY
        return "" if key_matches(stored, key) else BAD_KEY

    def view(self, class_id: str, key: str) -> tuple[ClassView | None, str]:
        if why := self._check(class_id, key):
            return None, why
        config = self.config(class_id) or {}
        released = bool(config.pop("released", False))
        chapters = Counter(v.decode() for v in self.r.hvals(self._k(class_id, "chapter")))
        answers: dict[str, Counter] = {}
        for field, value in self.r.hgetall(self._k(class_id, "answers")).items():
            qid = field.decode().rpartition("|")[2]
            text, right = json.loads(value)
            answers.setdefault(qid, Counter())[(text, right)] += 1
        runs = [json.loads(r) for r in self.r.lrange(self._k(class_id, "runs"), 0, -1)]
        expected = {k.decode(): v.decode()
                    for k, v in self.r.hgetall(self._k(class_id, "expected")).items()}
        return ClassView(sum(chapters.values()), dict(chapters), answers, runs, released,
                         config, expected), ""

    def release(self, class_id: str, key: str) -> bool:
        if self._check(class_id, key):
            return False
        self.r.hset(self._k(class_id, "meta"), "released", 1)
        return True

    def end(self, class_id: str, key: str) -> bool:
        if self._check(class_id, key):
            return False
        self.r.delete(*self._parts(class_id))
        self.r.zrem(INDEX, class_id)
        return True
