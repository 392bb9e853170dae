"""The lesson's chapter 6 questions: aggregated gradients, answered by the learner's own
measurement of the gradient noise (`nameclf.lab.gradnoise.measure_noise`, as the Batch size &
gradients page keeps it).

Asked before the measurement starts: the answers are None until it has finished. Plain Python.
"""

from __future__ import annotations

from collections.abc import Mapping

from nameclf.lab.lesson import Question
from nameclf.lab.lesson_output import bucket, directed

SMALL_B, BIG_B = 16, 64  # the two batch sizes 6a compares
RATIO_EDGES = (0.8, 1.25, 2 * 2**0.5)  # larger | about the same | about 2x | about 4x smaller
SAME_GRADIENT, CLOSE_GRADIENT = 1e-4, 1e-2  # relative differences for 6b's choices


def first_curve(result: Mapping | None) -> Mapping | None:
    """The measurement at the model's first weights: the Batch size & gradients page keeps
    `{"curves": {"at init": NoiseResult dict, ...}}`; a bare NoiseResult dict is one curve."""
    if not result:
        return None
    curves = result.get("curves")
    return next(iter(curves.values()), None) if isinstance(curves, Mapping) else result


def error_ratio(result: Mapping | None) -> float | None:
    """|g_16 - G|² over |g_64 - G|² at the first weights, as the page's view shows it (the
    finite-pool-corrected error where measured); None before a measurement with both."""
    curve = first_curve(result)
    if not curve:
        return None
    sizes = list(curve.get("batch_sizes", []))
    mse = list(curve.get("mse_corrected") or curve.get("mse") or [])
    if SMALL_B not in sizes or BIG_B not in sizes:
        return None
    big = mse[sizes.index(BIG_B)]
    return mse[sizes.index(SMALL_B)] / big if big > 0 else None


def noise_question(result: Mapping | None) -> Question:
    """6a: the gradient error at B = 64 against B = 16."""
    ratio = error_ratio(result)
    # choices from the smallest error ratio up, so that bucket() gives the index reversed
    choices = (f"smaller, about 4× (the error of a mean falls as 1/B: {BIG_B}/{SMALL_B} = 4)",
               "smaller, about 2× (as 1/√B)",
               "about the same: a batch is a batch",
               "larger: more names, more noise added up")
    answer = None if ratio is None else 3 - bucket(ratio, RATIO_EDGES)
    why = ("" if ratio is None else
           f"Your measurement, at the first weights: the squared error |g_B − G|² was "
           f"{ratio:.1f}× smaller at B = {BIG_B} than at B = {SMALL_B}. A batch's gradient is a "
           "mean of B names' gradients, and the variance of a mean of B independent draws is "
           "one draw's over B. The error's *length* falls only as 1/√B: 4× the names buy half "
           "the error.")
    return Question(
        "6a", f"Each step's gradient g_B is computed from a batch of B names; G is the "
              f"gradient over all the training names. At B = {BIG_B}, is the squared error "
              f"|g_B − G|² larger or smaller than at B = {SMALL_B}, and by about how much?",
        answer, why, choices,
        directed(("The textbook law for independent draws; your measurement is not that "
                  "clean.",
                  "That is how the error's *length* falls (1/√B); its square falls as 1/B.",
                  "The loss is a *mean* over the batch: more names average the noise out.",
                  "More names add more terms, but the mean divides by B: the noise averages "
                  "out."),
                 answer, "Your measurement fell less than that.",
                 "Your measurement fell more than that."),
        measured=True)


def accumulation_question(result: Mapping | None) -> Question:
    """6b: one batch of 512 against 8 accumulated batches of 64."""
    curve = first_curve(result)
    diff = None if not curve else curve.get("accumulation_max_rel_diff")
    answer = (None if diff is None else 0 if diff < SAME_GRADIENT else
              1 if diff < CLOSE_GRADIENT else 2)
    why = ("" if diff is None else
           f"Your measurement: |g_512 − g_acc| / |g_512| = {diff:.1e}. Each of the 8 backward "
           "passes adds its batch's summed loss over 512 to `.grad`, so the sum is the very "
           "mean of one batch of 512, up to float rounding: accumulation trades memory for "
           "time, not noise.")
    return Question(
        "6b", "Out of memory for 512 names at once, you run 8 batches of 64, each `backward()` "
              "adding its loss (summed, over 512) to `.grad`, then step once. How does that "
              "gradient compare with one batch of 512?",
        answer, why,
        ("the same, up to float rounding (relative difference under 1e-4)",
         "close, within 1%: a little noisier",
         "noisier: it is made of batches of 64",
         "8× too large: 8 backward passes add up"),
        ("",
         "The gradient of a sum is the sum of the gradients: nothing is noisier, only the "
         "rounding order differs.",
         "It is made of the same 512 names: the mean over them is the same number, however "
         "the backward passes are grouped.",
         "Each pass adds its loss *over 512*, not its own mean: the 8 parts sum to the mean."),
        measured=True)


def gradient_questions(result: Mapping | None) -> list[Question]:
    """Chapter 6's questions (pending until a measurement)."""
    return [noise_question(result), accumulation_question(result)]
