"""The lesson's frame as plain data: chapters, questions, grading, and progress in an address.

Pure Python (no torch, no Streamlit). A question's right answer is never written here: the
builders in `nameclf.lab.lesson_input` and `nameclf.lab.lesson_output` compute it from the
learner's tensors. This module only says what a question is, how an answer is graded, and how
a learner's progress travels in the page's query parameters (so a reload or a shared link
resumes exactly there, and a hand-edited one restarts cleanly).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from nameclf.lab import packing

CHAPTERS = {  # number -> title, in the tutorial's order
    1: "One name → indices → one-hot",
    2: "A batch needs padding",
    3: "Sorting and packing",
    4: "The RNN reads the packed batch",
    5: "Vectorisation: the speed race",
    6: "Aggregated gradients",
    7: "Train a model, read its curves",
    8: "The output side: the loss mask",
}
QUESTION_IDS = {1: ("1a", "1b"), 2: ("2a", "2b"), 3: ("3a", "3b"), 4: ("4a", "4b", "4c"),
                5: ("5a", "5b"), 6: ("6a", "6b"), 7: ("7a", "7b"), 8: ("8a", "8b")}
# what each question asks, for the teacher's class view (the learner's prompt carries their
# own batch's numbers; these never give the answer)
QUESTION_TITLES = {
    "1a": "the shape of the one-hot batch `x`", "1b": "how many numbers of `x` are 1",
    "2a": "how many cells of the padded grid are `<pad>`",
    "2b": "the `<pad>` share of a real training batch",
    "3a": "`sorted_indices` of the batch",
    "3b": "`unsorted_indices`: a name's row after sorting",
    "4a": "one entry of `batch_sizes`", "4b": "where a name's answer is read (`h_n`)",
    "4c": "how many names `output[-1]` reads at the wrong state",
    "5a": "packed against one-at-a-time: the speed-up",
    "5b": "packed against padded: the speed-up",
    "6a": "a big batch's gradient error against a small one's",
    "6b": "accumulated batches against one big batch",
    "7a": "how often a step's loss rises", "7b": "top-1 against top-2 accuracy",
    "8a": "how many target cells the masked loss counts",
    "8b": "masked against unmasked loss: which is larger",
}
MAX_NAME_CHARS = 24  # the generator's walkthrough (chapter 8) takes names this long at most
SHORT = {1: "One-hot", 2: "Padding", 3: "Sorting & packing", 4: "The RNN reads it",
         5: "The speed race", 6: "Gradients & batch size", 7: "Training curves",
         8: "The loss mask"}  # the chapter list's labels
SUMMARY = "end"  # the `ch` value of the finishing summary
MAX_VALUE_CHARS = 16  # a longer answer in an address is not an answer
MAX_NAMES_CHARS = 400  # a longer `names` value in an address is ignored


@dataclass(frozen=True)
class Question:
    """One predict-then-reveal question, its right answer computed from the learner's tensors.

    `answer` is a choice's index or a number; None while it waits for a measurement (the
    speed race, a training run) that only starts once the learner has committed.
    """

    qid: str  # short and stable: it is a key in the address, e.g. "2a"
    prompt: str  # markdown
    answer: float | int | None  # None: pending a measurement
    why: str  # why the right answer is right, with this batch's numbers
    choices: tuple[str, ...] = ()  # empty: a number question
    feedback: tuple[str, ...] = ()  # one per choice: why that wrong choice is tempting
    traps: tuple[tuple[float, str], ...] = ()  # a number question's known wrong answers
    tolerance: float = 0.0  # a number within this of the answer is right
    unit: str = ""  # shown beside a number's box ("%")
    measured: bool = False  # the answer comes from a job the learner's Check starts

    @property
    def is_choice(self) -> bool:
        return bool(self.choices)

    @property
    def pending(self) -> bool:
        return self.answer is None

    def tolerance_note(self) -> str:
        """`within 2 %`, or '' for an exact answer."""
        if not self.tolerance or self.is_choice:
            return ""
        return f"within ±{format_number(self.tolerance)}{(' ' + self.unit) if self.unit else ''}"


def format_number(value: float) -> str:
    """A number as a learner reads and an address carries it: `12`, `33.3`."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}"


def parse_value(q: Question, raw: str) -> float | int | None:
    """A stored or typed answer to `q`, or None if it is not one."""
    raw = raw.strip()
    if not raw or len(raw) > MAX_VALUE_CHARS:
        return None
    try:
        number = float(raw)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    if q.is_choice:
        return int(number) if number.is_integer() and 0 <= number < len(q.choices) else None
    return number


def is_right(q: Question, value: float | int | None) -> bool | None:
    """Whether `value` answers `q`; None while `q` waits for its measurement or has no value."""
    if value is None or q.pending:
        return None
    if q.is_choice:
        return int(value) == int(q.answer)
    return abs(float(value) - float(q.answer)) <= q.tolerance + 1e-9


def feedback(q: Question, value: float | int) -> str:
    """What to tell a learner who answered `value`: why it is right, or why it is tempting."""
    right = is_right(q, value)
    if right is None:
        return ""
    if right:
        return q.why
    if q.is_choice:
        return q.feedback[int(value)] if int(value) < len(q.feedback) else ""
    for trap, words in q.traps:
        if abs(float(value) - trap) <= q.tolerance + 1e-9:
            return words
    side = "high" if float(value) > float(q.answer) else "low"
    return f"{format_number(value)}{q.unit} is too {side}."


@dataclass
class Attempt:
    """A learner's answers to one question: the first (it counts), the latest, a skip."""

    first: str | None = None  # as stored: a number or a choice's index, as text
    last: str | None = None
    skipped: bool = False

    def encode(self) -> str:
        """`3`, `3/5`, `3/5!` (skipped after answering) or `-` (skipped unanswered)."""
        if self.first is None:
            return "-"
        text = self.first if self.last in (None, self.first) else f"{self.first}/{self.last}"
        return text + ("!" if self.skipped else "")


@dataclass
class Progress:
    """Where a learner is (a chapter or the summary) and every answer they gave."""

    chapter: int | str = 1  # a chapter number, or SUMMARY
    answers: dict[str, Attempt] = field(default_factory=dict)
    names: list[str] | None = None  # the learner's own names; None: the chapter's defaults


def status(q: Question, attempt: Attempt | None) -> str:
    """right-first, right-retry, wrong, skipped, pending or unanswered."""
    if attempt is None or (attempt.first is None and not attempt.skipped):
        return "unanswered"
    if attempt.first is None:
        return "skipped"
    first = is_right(q, parse_value(q, attempt.first))
    if first is None:
        return "pending"
    if first:
        return "right-first"
    last = parse_value(q, attempt.last) if attempt.last is not None else None
    if last is not None and is_right(q, last):
        return "right-retry"
    return "skipped" if attempt.skipped else "wrong"


def resolved(q: Question, attempt: Attempt | None) -> bool:
    """Whether the reveal may show: answered right, skipped, or measured and answered."""
    if attempt is None:
        return False
    if attempt.skipped or (q.measured and attempt.first is not None):
        return True
    latest = attempt.last if attempt.last is not None else attempt.first
    return latest is not None and bool(is_right(q, parse_value(q, latest)))


ENTRY = re.compile(r"^([0-9][a-z])(?::(-|[^/!]{1,16}(?:/[^/!]{1,16})?!?))$")


def _chapter(raw: str, chapters: tuple[int, ...]) -> int | str | None:
    if raw == SUMMARY:
        return SUMMARY
    if raw.isdigit() and int(raw) in chapters:
        return int(raw)
    return None


def parse_answers(raw: str, qids: set[str]) -> dict[str, Attempt] | None:
    """The `a` query value (`1a:3~1b:2/0~2a:-`), or None if any part of it does not parse."""
    out: dict[str, Attempt] = {}
    for entry in filter(None, raw.split("~")):
        m = ENTRY.match(entry)
        if m is None or m.group(1) not in qids or m.group(1) in out:
            return None
        value = m.group(2)
        if value == "-":
            out[m.group(1)] = Attempt(skipped=True)
            continue
        skipped = value.endswith("!")
        first, _, last = value.rstrip("!").partition("/")
        if not _number(first) or (last and not _number(last)):
            return None
        out[m.group(1)] = Attempt(first, last or first, skipped)
    return out


def _number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def parse_progress(query: Mapping[str, str], chapters: tuple[int, ...],
                   qids: set[str]) -> tuple[Progress, str]:
    """The progress a page address holds, and a line to show if it had to restart.

    A chapter that does not exist or answers that do not parse restart the lesson at chapter 1
    (the names are kept if they parse: they are checked by the page, like typed ones).
    """
    raw_names = str(query.get("names", ""))
    names = ([n for n in raw_names.split(",")] if raw_names and
             len(raw_names) <= MAX_NAMES_CHARS else None)
    ch_raw, a_raw = str(query.get("ch", "1")), str(query.get("a", ""))
    chapter = _chapter(ch_raw, chapters)
    answers = parse_answers(a_raw, qids) if len(a_raw) <= 40 * max(1, len(qids)) else None
    if chapter is None or answers is None:
        what = (f"there is no chapter {ch_raw[:12]!r}" if chapter is None
                else "its answers could not be read")
        return (Progress(1, {}, names),
                f"This address's lesson progress was not used ({what}), so the lesson starts "
                "at chapter 1.")
    return Progress(chapter, answers, names), ""


def to_query(p: Progress) -> dict[str, str]:
    """The query parameters that hold `p`: `ch`, `a` (answers) and `names` (if the learner's)."""
    out = {"ch": str(p.chapter)}
    if p.answers:
        out["a"] = "~".join(f"{qid}:{a.encode()}" for qid, a in sorted(p.answers.items()))
    if p.names:
        out["names"] = ",".join(p.names)
    return out


def record(p: Progress, qid: str, value: str) -> None:
    """Keep an answer: the first one stays the one that counts, the latest is kept beside it."""
    attempt = p.answers.setdefault(qid, Attempt())
    if attempt.first is None:
        attempt.first = value
    attempt.last = value


def skip(p: Progress, qid: str) -> None:
    """Give up on a question: it is revealed, and its first answer (if any) still counts."""
    p.answers.setdefault(qid, Attempt()).skipped = True


def chapter_done(chapter: int, p: Progress) -> bool:
    """Every question of a chapter answered or skipped."""
    qids = QUESTION_IDS.get(chapter, ())
    return bool(qids) and all(
        (a := p.answers.get(qid)) is not None and (a.first is not None or a.skipped)
        for qid in qids)


def parse_names(text: str, ascii_fold: bool = True) -> tuple[list[str], str | None]:
    """The learner's names (2 to 8, each at most MAX_NAME_CHARS), or a line saying why not."""
    if len(text) > MAX_NAMES_CHARS:
        return [], (f"That list is {len(text):,} characters long; type 2 to 8 names of at most "
                    f"{MAX_NAME_CHARS} characters each.")
    names, warning = packing.parse_names(text, ascii_fold)
    if warning:
        return [], warning
    long = [n for n in names if len(n) > MAX_NAME_CHARS]
    if long:
        return [], (f"Names of at most {MAX_NAME_CHARS} characters fit every chapter's grids; "
                    f"{long[0][:MAX_NAME_CHARS]}… is {len(long[0])}.")
    return names, None


SUMMARY_LABELS = {"right-first": "right at first try", "right-retry": "right after a retry",
                  "wrong": "answered wrong", "skipped": "skipped",
                  "pending": "waiting for its measurement", "unanswered": "not answered yet"}


def tally(questions: list[Question], p: Progress) -> dict[str, int]:
    """How many questions ended each way, in SUMMARY_LABELS' order."""
    counts = dict.fromkeys(SUMMARY_LABELS, 0)
    for q in questions:
        counts[status(q, p.answers.get(q.qid))] += 1
    return counts
