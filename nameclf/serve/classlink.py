"""A teacher's class link as plain data, and its round trip through a page's address.

Pure Python. The class link carries the teacher's choices (chapters in order, a built-in
dataset and seed, settings hidden or locked, when feedback shows) plus a random class id;
the teacher link carries the class id and a secret key instead. An address is typed by
anyone, so every value is checked, and a link that does not parse is refused with one line.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from nameclf.data.dataset import BUILTINS
from nameclf.serve.classroom import valid_token

FEEDBACK = ("now", "release")  # wrong answers explained at once, or once the teacher releases
LESSON_SETTINGS = ("names",)  # the lesson's own setting: the learner's names
KEYS = ("cls", "cch", "cds", "cseed", "chide", "clock", "cfb")  # the class link's parameters
LEARNER = "lt"  # the learner's random token, kept in the lesson's address
TEACHER = "key"  # the teacher link's secret
MAX_SEED = 9999


@dataclass(frozen=True)
class ClassLink:
    """The teacher's choices for a class."""

    class_id: str
    chapters: tuple[int, ...]  # in the order the class takes them
    dataset: str = BUILTINS[0]  # a built-in source: never an upload
    seed: int = 0
    hidden: tuple[str, ...] = ()  # settings not shown (their values are fixed too)
    locked: tuple[str, ...] = ()  # settings shown but fixed
    feedback: str = "now"  # "now" | "release"

    def fixed(self) -> tuple[str, ...]:
        """Every setting a learner cannot change: hidden or locked."""
        return tuple(dict.fromkeys((*self.hidden, *self.locked)))


def new_id() -> str:
    """A random class id (96 bits): it names a class, it opens nothing."""
    return secrets.token_urlsafe(12)


def new_key() -> str:
    """A teacher's secret key: 192 random bits."""
    return secrets.token_urlsafe(24)


def new_learner() -> str:
    """A learner's anonymous token (96 bits): no name, no address, no browser id."""
    return secrets.token_urlsafe(12)


def to_query(link: ClassLink) -> dict[str, str]:
    """The class link's query parameters."""
    out = {"cls": link.class_id, "cch": ".".join(map(str, link.chapters)),
           "cds": link.dataset, "cseed": str(link.seed), "cfb": link.feedback}
    if link.hidden:
        out["chide"] = ".".join(link.hidden)
    if link.locked:
        out["clock"] = ".".join(link.locked)
    return out


def teacher_query(class_id: str, key: str) -> dict[str, str]:
    """The teacher link's query parameters."""
    return {"cls": class_id, TEACHER: key}


def _names(raw: str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    names = tuple(n for n in raw.split(".") if n)
    if bad := [n for n in names if n not in allowed]:
        raise ValueError(f"unknown {what} {bad[0][:20]!r}")
    return tuple(dict.fromkeys(names))


def parse(query: Mapping[str, str], chapters: tuple[int, ...],
          settings: tuple[str, ...]) -> tuple[ClassLink | None, str]:
    """The class link in an address, or None and '' (no class), or None and why not."""
    if "cls" not in query:
        return None, ""
    try:
        cid = str(query["cls"])
        if not valid_token(cid):
            raise ValueError("the class id is not one this app makes")
        chosen = tuple(int(c) for c in str(query.get("cch", "")).split(".") if c)
        if not chosen or any(c not in chapters for c in chosen) or len(set(chosen)) < len(chosen):
            raise ValueError("its chapters are not a list of this lesson's chapters")
        dataset = str(query.get("cds", BUILTINS[0]))
        if dataset not in BUILTINS:
            raise ValueError("its dataset is not a built-in one")
        seed = int(str(query.get("cseed", "0"))[:6])
        if not 0 <= seed <= MAX_SEED:
            raise ValueError(f"its seed is not between 0 and {MAX_SEED}")
        hidden = _names(str(query.get("chide", "")), settings, "setting")
        locked = _names(str(query.get("clock", "")), settings, "setting")
        feedback = str(query.get("cfb", "now"))
        if feedback not in FEEDBACK:
            raise ValueError("its feedback is neither now nor release")
    except ValueError as err:
        return None, f"This class link was not used ({err}): the lesson runs on its own."
    return ClassLink(cid, chosen, dataset, seed, hidden, locked, feedback), ""
