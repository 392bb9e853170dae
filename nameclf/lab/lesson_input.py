"""The lesson's questions on the input side (chapters 1-4), answered from the learner's tensors.

Each builder takes `nameclf.lab.packing.walkthrough(names, vocab)` (the same dict the page
draws its grids from) and returns Questions whose right answers are read off it; chapter 4's
last question reads `nameclf.lab.packing.readout`'s hidden states. Plain Python: no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nameclf.lab.lesson import Question

if TYPE_CHECKING:
    from nameclf.lab.packing import Readout

SAME_STATE = 1e-6  # hidden states closer than this (max over units) are the same state


def _q(name: str) -> str:
    """A name inside a prompt, in a code span (markdown inside it is inert)."""
    return "`" + name.replace("`", "'") + "`"


def shape_question(data: dict) -> Question:
    """1a: the (T, B, V) shape of the one-hot input."""
    n_steps, batch, v = data["shape"]
    real = data["real_cells"]
    choices = (f"names × time × tokens: ({batch}, {n_steps}, {v})",
               f"time × names × tokens: ({n_steps}, {batch}, {v})",
               f"real characters × tokens: ({real}, {v})",
               f"names × tokens: ({batch}, {v})")
    return Question(
        "1a", f"Your {batch} names become one tensor `x` of one-hot rows. What is its shape?",
        1, f"The tutorial's RNN wants time first: T = {n_steps} steps (the longest name), "
           f"B = {batch} names, V = {v} tokens in the vocabulary.",
        choices,
        (f"That is `batch_first=True`, a flag you must pass. PyTorch's recurrent layers read "
         f"time first by default: ({n_steps}, {batch}, {v}).",
         "",
         f"That is the shape of a *packed* batch's data ({real} real characters, chapter 3), "
         "not of the padded tensor.",
         "That loses time: an RNN needs one input row per character, read one step at a time."))


def ones_question(data: dict) -> Question:
    """1b: how many entries of the one-hot tensor are 1."""
    n_steps, batch, v = data["shape"]
    real = data["real_cells"]
    return Question(
        "1b", f"`x` holds {n_steps} × {batch} × {v} numbers. How many of them are 1?",
        real, f"One 1 per real character: {' + '.join(map(str, data['lengths']))} = {real}. "
              "A `<pad>` cell is an all-zero row, so it adds none.",
        traps=((n_steps * batch, f"{n_steps * batch} counts every cell of the grid, but a "
                                 "`<pad>` cell is an all-zero row: no 1 in it."),
               (batch, "One 1 per character, not per name: a name of 5 letters has 5 rows."),
               (n_steps * batch * v, "That is every number in `x`; one-hot rows are almost all "
                                     "zeros.")))


def pad_cells_question(data: dict) -> Question:
    """2a: how many cells of the padded (T, B) grid are padding."""
    n_steps, batch = len(data["batch_sizes"]), len(data["names"])
    pad, real = data["pad_cells"], data["real_cells"]
    shortest = min(data["lengths"])
    return Question(
        "2a", f"Padded to the longest name, the batch is a {n_steps} × {batch} grid. How many "
              "of its cells are `<pad>`?",
        pad, f"{n_steps} × {batch} = {data['padded_cells']} cells, {real} of them real "
             f"characters: {pad} are padding.",
        traps=((real, f"{real} is the real characters; the padding is what is left of the "
                      f"{data['padded_cells']} cells."),
               (n_steps - shortest, "That is only the shortest name's padding; every name "
                                    "shorter than the longest gets some."),
               (0, "The longest name needs none, but every shorter one is filled up to it.")))


def waste_question(waste: float, batch_size: int) -> Question:
    """2b: the share of a padded batch of `batch_size` dataset names that is padding."""
    pct = round(100 * waste, 1)
    return Question(
        "2b", f"Now a real training batch: {batch_size} random names from this dataset, padded "
              "to the longest. What share of its cells is `<pad>` (in %)?",
        pct, f"In random batches of {batch_size} names here, {pct:.0f}% of the grid is "
             "`<pad>`: one long name in a batch pads every other name up to it, and a big "
             "batch almost always holds one.",
        traps=((0.0, "A big batch almost always holds one unusually long name, and every "
                     "other name is padded up to it."),),
        tolerance=5.0, unit="%")


def sorted_question(data: dict) -> Question:
    """3a: `sorted_indices`, the order pack_padded_sequence reads the names in."""
    order, unsorted = data["sorted_indices"], data["unsorted_indices"]
    lengths, batch = data["lengths"], len(data["names"])
    candidates = [
        (order, "Right."),
        (unsorted, "That is `unsorted_indices`, the inverse: where each name *went*, not which "
                   "name sits in each row. They differ whenever the order is not a swap."),
        (sorted(range(batch), key=lambda b: lengths[b]),
         "Shortest first is the wrong way round: packing wants the longest first, so that the "
         "names still being read at each step are always the first rows."),
        (list(range(batch)), "That is the order you typed them in. `pack_padded_sequence("
                             "enforce_sorted=False)` sorts them, longest first."),
        (list(range(batch))[::-1], "Reversed typing order: packing sorts by length, not by "
                                   "position."),
    ]
    ties = ("Names of equal length keep their typing order: the sort is stable, longest "
            "first.")
    candidates += [(list(range(k, batch)) + list(range(k)), ties) for k in range(1, batch)]
    seen, choices, feedback = set(), [], []
    for value, words in candidates:
        if tuple(value) not in seen and len(choices) < 4:
            seen.add(tuple(value))
            choices.append(str(list(value)))
            feedback.append(words)
    names = ", ".join(f"{b}: {_q(n)} ({len(n)})" for b, n in enumerate(data["names"]))
    return Question(
        "3a", f"Your names by position b (and length): {names}. Packing sorts them longest "
              "first. What is `sorted_indices` (row i of the sorted batch is name "
              "`sorted_indices[i]`)?",
        0, f"Longest first, ties in typing order: {order}.", tuple(choices), tuple(feedback))


def row_question(data: dict) -> Question:
    """3b: in which row of the sorted batch a name sits (`unsorted_indices[b]`)."""
    unsorted, order = data["unsorted_indices"], data["sorted_indices"]
    moved = [b for b in range(len(unsorted)) if unsorted[b] != b] or [0]
    b = min(moved, key=lambda i: (data["lengths"][i], i))  # the shortest name that moved
    name = data["names"][b]
    traps = [(b, f"{b} is where {_q(name)} was typed; sorting moved it.")]
    if order[b] != unsorted[b]:
        traps.append((order[b], f"That is `sorted_indices[{b}]`: the name *in* row {b}, not the "
                                f"row {_q(name)} went to."))
    return Question(
        "3b", f"After sorting, in which row is {_q(name)} (name b = {b})? That number is "
              f"`unsorted_indices[{b}]`, what puts the answers back in your order.",
        unsorted[b], f"Sorted, the rows are {order}; {_q(name)} (b = {b}) is in row "
                     f"{unsorted[b]}.", traps=tuple(traps))


def step_of_interest(data: dict) -> int:
    """The first step at which some name has finished (else the last step)."""
    sizes = data["batch_sizes"]
    return next((t for t, s in enumerate(sizes) if s < len(data["names"])), len(sizes) - 1)


def batch_sizes_question(data: dict) -> Question:
    """4a: `batch_sizes[t]`, how many names the RNN reads at step t of the packed batch."""
    t = step_of_interest(data)
    sizes, batch = data["batch_sizes"], len(data["names"])
    lengths = ", ".join(str(n) for n in data["lengths"])
    traps = [(batch, f"All {batch} names only while none has ended; at t = {t} a name of "
                     f"length {t} or less is done.")]
    if t > 0 and sizes[t - 1] != sizes[t]:
        traps.append((sizes[t - 1], f"{sizes[t - 1]} is `batch_sizes[{t - 1}]`: steps count "
                                    "from 0, so step t reads character t + 1."))
    return Question(
        "4a", f"Your names have lengths {lengths}. The RNN reads the packed batch one step at a "
              f"time, on the names still going. What is `batch_sizes[{t}]` (steps count from "
              "0)?",
        sizes[t], f"`batch_sizes` = {sizes}: at t = {t}, {sizes[t]} names are longer than {t}.",
        traps=tuple(traps))


def readout_place_question(data: dict) -> Question:
    """4b: where a short name's answer is read."""
    b = min(range(len(data["names"])), key=lambda i: (data["lengths"][i], i))
    name, n, n_steps = data["names"][b], data["lengths"][b], len(data["batch_sizes"])
    choices = (f"`output[-1]`: the state at the last step, t = {n_steps - 1}",
               "the mean of its states over all steps",
               f"`h_n`: its state after its own last character, t = {n - 1}",
               "`output[0]`: the state after its first character")
    return Question(
        "4b", f"{_q(name)} has {n} characters; the batch has {n_steps} steps. Where is its "
              "answer (the state the classifier reads) taken?",
        2, f"After its own last character, t = {n - 1}: packing stops updating it there and "
           f"`h_n` holds that state.",
        choices,
        (f"`output[-1]` of a *padded* run is the state after {n_steps - n} `<pad>` steps: the "
         "net kept reading zeros. (Of a packed run, a short name's row there is zeros.)",
         "Averaging mixes in the states after the padding too, and is not what the "
         "tutorial's classifier reads.",
         "",
         "Its first character alone says little: the whole name is what we classify."))


def naive_question(data: dict, result: Readout | None) -> Question:
    """4c: for how many names the state after the padding differs from `h_n`."""
    batch = len(data["names"])
    differ = (None if result is None else
              sum(1 for d in result.max_abs_diff if d > SAME_STATE))
    longest = max(data["lengths"])
    n_longest = sum(1 for n in data["lengths"] if n == longest)
    return Question(
        "4c", "Run the same net over the **padded** grid and read every name at the last "
              "step, `output[-1]`. For how many of your names is that a different state from "
              "packing's `h_n`?",
        differ, f"Every name shorter than the longest ({batch - n_longest} of {batch}) read "
                "`<pad>` after its end, and each zero input still changes the state. Only "
                "the longest name's two states agree.",
        traps=((0, "Packing is exact, but the padded run is not: after its end a short name "
                   "keeps reading `<pad>` rows, and the state keeps moving."),
               (batch, "The longest name has no padding: its last step is its own last "
                       "character, so both states agree.")))


def input_questions(data: dict, waste: float, batch_size: int,
                    result: Readout | None) -> dict[int, list[Question]]:
    """Chapters 1-4's questions for these names, by chapter."""
    return {1: [shape_question(data), ones_question(data)],
            2: [pad_cells_question(data), waste_question(waste, batch_size)],
            3: [sorted_question(data), row_question(data)],
            4: [batch_sizes_question(data), readout_place_question(data),
                naive_question(data, result)]}
