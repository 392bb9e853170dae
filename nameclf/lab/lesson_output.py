"""The lesson's questions on speed, training and the output side (chapters 5, 7 and 8).

Chapters 5 and 7 ask before a measurement: their answers are None until the learner's own
speed race (`nameclf.lab.race`) or training run has finished, then read off its result.
Chapter 8 reads `nameclf.generate.loss.loss_report` through `nameclf.lab.targets`. Plain
Python: no torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from nameclf.lab.lesson import Question
from nameclf.lab.speedups import ratios

SPEEDUP_BUCKETS = (2.0, 10.0, 50.0)  # edges of the "how many times faster" choices
SAME_SPEED = 0.10  # packed and padded within 10% of each other are "about the same"
LOSS_WINDOW = 100  # chapter 7 counts the last this many steps of the loss curve
UP_EDGES = (0.10, 1 / 3)  # "how often did the loss go up": never, then these edges
TOP2_GAP = 0.05  # top-2 more than this above top-1 is "well above"


def bucket(value: float, edges: Sequence[float]) -> int:
    """Which of len(edges) + 1 intervals `value` falls in (an edge belongs to the upper one)."""
    return sum(1 for edge in edges if value >= edge)


def directed(reasons: Sequence[str], answer: int | None, more: str, less: str) -> tuple[str, ...]:
    """Each wrong choice's tempting reason, then which way the measurement went from it."""
    if answer is None:
        return tuple(reasons)
    return tuple("" if i == answer else f"{why} {more if i < answer else less}"
                 for i, why in enumerate(reasons))


def speedup_question(speeds: Mapping[str, float] | None) -> Question:
    """5a: how many times faster than one name at a time the packed batch trains."""
    ratio = None if not speeds else ratios(dict(speeds)).get("packed_over_per_sample")
    answer = None if ratio is None else bucket(ratio, SPEEDUP_BUCKETS)
    lo, mid, hi = SPEEDUP_BUCKETS
    choices = (f"under {lo:g}×: a batch is the same work", f"{lo:g}× to {mid:g}×",
               f"{mid:g}× to {hi:g}×", f"over {hi:g}×")
    why = ("" if ratio is None else
           f"Your race: packed trained {ratio:.1f}× the names per second of the per-sample "
           "loop. One name at a time, each step is a tiny matrix product plus Python and "
           "kernel-launch overhead; a batch pays that overhead once for every name.")
    return Question(
        "5a", "The same model trains on the same names one at a time (the tutorial's loop) and "
              "as one packed batch. How many times more names per second will the packed batch "
              "train?",
        answer, why, choices,
        directed(("The arithmetic is the same, but one name at a time pays the per-step "
                  "overhead (Python, launching each kernel) once per name, a batch once.",
                  "A fair guess for a big model, whose arithmetic dominates.",
                  "A common guess: the tutorial reports about 42×.",
                  "Batches are fast, but a per-sample step of a small RNN is already cheap."),
                 answer, "Your race was faster than that.", "Your race was slower than that."),
        measured=True)


def packed_padded_question(speeds: Mapping[str, float] | None) -> Question:
    """5b: packed against padded, which trains faster."""
    answer = None
    if speeds and speeds.get("padded") and speeds.get("packed"):
        r = speeds["packed"] / speeds["padded"]
        answer = 0 if r >= 1 + SAME_SPEED else 2 if r <= 1 - SAME_SPEED else 1
    why = ("" if answer is None else
           f"Your race: packed ran {speeds['packed'] / speeds['padded']:.2f}× padded's speed. "
           "Packing skips every `<pad>` cell but pays for sorting and slicing each step; "
           "which wins depends on how much padding there was and how costly a cell is.")
    return Question(
        "5b", "And packed against padded (the same batch, every `<pad>` cell computed)?",
        answer, why,
        (f"packed is faster (by more than {SAME_SPEED:.0%})",
         f"about the same (within {SAME_SPEED:.0%})",
         f"padded is faster (by more than {SAME_SPEED:.0%})"),
        ("Packing skips the padding, but its bookkeeping (sorting, slicing each step) is not "
         "free: with little padding or a cheap cell it can lose.",
         "Skipping the padding is real work saved when a batch holds many `<pad>` cells.",
         "Padded computes every cell, wasted or not; it wins only when its single big kernel "
         "per step outweighs the cells packing skips."),
        measured=True)


def ups_share(losses: Sequence[float], window: int = LOSS_WINDOW) -> float:
    """Share of the last `window` steps at which the loss went up from the step before."""
    tail = list(losses)[-(window + 1):]
    steps = len(tail) - 1
    return sum(1 for a, b in zip(tail, tail[1:], strict=False) if b > a) / steps if steps else 0.0


def noise_question(history: Mapping[str, Sequence[float]] | None) -> Question:
    """7a: how often the per-step loss went up over the last steps of training."""
    losses = (history or {}).get("loss") or []
    share = ups_share(losses) if len(losses) > 1 else None
    answer = None if share is None else 0 if share == 0 else 1 + bucket(share, UP_EDGES)
    choices = ("never: training makes the loss go down", "at under 1 step in 10",
               "at 1 step in 10 to 1 in 3", "at more than 1 step in 3")
    window = min(LOSS_WINDOW, max(1, len(losses) - 1))
    why = ("" if share is None else
           f"Your run: the loss went up at {share:.0%} of its last {window} steps. Each step's "
           "loss is measured on a different small batch: some batches hold harder names, so "
           "the curve jumps even while the model improves. The smooth line is a running "
           "average.")
    return Question(
        "7a", "Training a model takes many steps, each on a new batch of names. Over the "
              f"last {LOSS_WINDOW} steps, how often will the loss of a step be **higher** than "
              "the step before?",
        answer, why, choices,
        directed(("The *average* loss goes down, but each step is scored on a different "
                  "batch: an easy batch then a hard one makes it jump up.",
                  "Tempting if each step improved the model more than batches differ.",
                  "A fair guess for early training, when every step still helps a lot.",
                  "Late in training the improvement per step is tiny and the noise between "
                  "batches is most of what you see."),
                 answer, "Your run's loss went up more often than that.",
                 "Your run's loss went up less often than that."),
        measured=True)


def top2_question(metrics: Mapping[str, float] | None) -> Question:
    """7b: where top-2 accuracy sits against top-1."""
    top1, top2 = (metrics or {}).get("top1"), (metrics or {}).get("top2")
    answer = None
    if top1 is not None and top2 is not None:
        answer = 0 if top2 - top1 > TOP2_GAP else 1 if top2 > top1 else 2
    why = ("" if answer is None else
           f"Top-1 {top1:.1%}, top-2 {top2:.1%}. Top-2 counts a name right when its true label "
           "is either of the model's two likeliest, so it can never be below top-1; many "
           "surnames are shared by neighbouring languages, so the second guess often holds it.")
    return Question(
        "7b", "Top-1 accuracy counts a test name right if the model's likeliest label is its "
              "label; top-2 if its label is one of the two likeliest. Where will your model's "
              "top-2 be?",
        answer, why,
        (f"more than {TOP2_GAP:.0%} points above top-1",
         f"above top-1 by {TOP2_GAP:.0%} points or less",
         "equal to top-1",
         "below top-1"),
        (*directed(("Tempting when many labels are neighbours, but here the second guess "
                    "adds fewer names than that.",
                    "A fair guess: the second guess adds a little.",
                    "Equal only if the second guess never holds the label a first guess "
                    "missed."),
                   answer, "Here top-2 is further above top-1.",
                   "Here top-2 is closer to top-1."),
         "Impossible: every name top-1 gets right, top-2 gets right too."),
        measured=True)


def real_targets_question(data: dict) -> Question:
    """8a: how many target cells the masked loss averages over."""
    names = data["names"]
    letters = sum(len(n) for n in names)
    real = data["real_cells"]
    return Question(
        "8a", f"A generator learns to write your {len(names)} names: each target row is the "
              "name followed by `<eos>`, padded to the longest. How many target cells does the "
              "masked loss count?",
        real, f"Every character plus one `<eos>` per name: {letters} + {len(names)} = {real}. "
              f"The other {data['cells'] - real} cells are `<pad>`, left out.",
        traps=((letters, "Each name also ends with `<eos>`: the net must learn when to stop, so "
                         "that cell counts too."),
               (data["cells"], "That is every cell of the padded grid, `<pad>` included: the "
                               "mask leaves those out.")))


def mask_question(data: dict) -> Question:
    """8b: which loss is larger on this batch, masked or unmasked."""
    masked, unmasked = data["masked"], data["unmasked"]
    n_pad = data["cells"] - data["real_cells"]
    per_pad = data["pad_loss"] / n_pad if n_pad else 0.0
    gap = unmasked - masked
    answer = 2 if abs(gap) < 1e-6 else 0 if gap > 0 else 1
    pads = (f"The {n_pad} `<pad>` cells cost {per_pad:.3f} nats each here, "
            f"{'more' if per_pad > masked else 'less'} than a real cell's {masked:.3f} on "
            "average")
    return Question(
        "8b", "The same net's loss on this batch, averaged two ways: **masked** (real target "
              "cells only) and **unmasked** (every cell, `<pad>` included). Which is larger?",
        answer, f"Masked {masked:.4f}, unmasked {unmasked:.4f} nats. " + (
            f"{pads}, so they pull the unmasked average {'up' if gap > 0 else 'down'}. Either "
            "way it is not the loss of your names: a net trained without the mask learns "
            "that `<pad>` follows `<eos>`, nearly free, and reports a loss too low."
            if n_pad else "No name is padded here, so both average the same cells."),
        ("the unmasked loss", "the masked loss", "they are equal"),
        (f"{pads}: they pull the unmasked average down, not up." if n_pad else "",
         f"{pads}: they pull the unmasked average up." if n_pad else "",
         "They agree only when no name is padded (names of one length); the padding cells "
         "cost something different from the real ones."))


def output_questions(speeds: Mapping[str, float] | None,
                     history: Mapping[str, Sequence[float]] | None,
                     metrics: Mapping[str, float] | None,
                     targets: dict) -> dict[int, list[Question]]:
    """Chapters 5, 7 and 8's questions, by chapter (5 and 7 pending without a result)."""
    return {5: [speedup_question(speeds), packed_padded_question(speeds)],
            7: [noise_question(history), top2_question(metrics)],
            8: [real_targets_question(data=targets), mask_question(targets)]}
