"""The lesson's chapters 1-4, the input side: words, questions, and the views that answer them.

Every view is the Padding & packing page's own (`nameclf.ui.explainer_steps`), drawn from the
learner's names; every question comes from `nameclf.lab.lesson_input`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import streamlit as st

from nameclf.charts import packing as xp
from nameclf.data.vocab import Vocab
from nameclf.lab import lesson_input as qi
from nameclf.lab import packing as ex
from nameclf.lab.lesson import Progress, Question
from nameclf.ui import explainer as eu
from nameclf.ui import explainer_steps as steps
from nameclf.ui.lesson_ask import ask
from nameclf.ui.race import waste, waste_table
from nameclf.ui.state import heavy_imports
from nameclf.ui.views import dataset_key

if TYPE_CHECKING:
    from nameclf.data.dataset import NameDataset

WASTE_BATCH = 512  # chapter 2's real batch: the tutorial's


@dataclass
class Ctx:
    """What every chapter draws from: the dataset, the learner's names, their progress."""

    ds: NameDataset
    names: list[str]
    progress: Progress
    first: dict[int, int] = field(default_factory=dict)  # chapter -> its first question's number
    cache: dict = field(default_factory=dict)  # facts computed once this run

    def model(self) -> tuple[Callable, Vocab, list[str], str]:
        """The net chapter 4 reads (the visitor's latest recurrent run, else a fresh LSTM)."""
        if "model" not in self.cache:
            self.cache["model"] = eu.model_and_vocab(self.ds)
        return self.cache["model"]

    def data(self) -> dict:
        """The walkthrough of the names, in the vocabulary of chapter 4's net."""
        if "data" not in self.cache:
            self.cache["data"] = eu.walkthrough(tuple(self.names), self.model()[1].chars)
        return self.cache["data"]


def dataset_waste(ds: NameDataset) -> float:
    """Share of `<pad>` in random batches of WASTE_BATCH dataset names (the race page's own)."""
    table = waste_table(dataset_key(ds), ds)
    return table["padded, random batches"][table["batch size"].index(WASTE_BATCH)]


def readout(ctx: Ctx) -> ex.Readout:
    """nameclf.lab.packing.readout of the learner's names by chapter 4's net (cached)."""
    model, vocab, classes, _ = ctx.model()
    return eu.readout(model(), vocab, ctx.names, classes)


def questions(ctx: Ctx, chapter: int) -> list[Question]:
    """Chapter 1-4's questions, answered from the learner's tensors."""
    data = ctx.data()
    if chapter == 1:
        return [qi.shape_question(data), qi.ones_question(data)]
    if chapter == 2:
        return [qi.pad_cells_question(data), qi.waste_question(dataset_waste(ctx.ds),
                                                               WASTE_BATCH)]
    if chapter == 3:
        return [qi.sorted_question(data), qi.row_question(data)]
    return [qi.batch_sizes_question(data), qi.readout_place_question(data),
            qi.naive_question(data, readout(ctx))]


def walk(ctx: Ctx, chapter: int, qs: list[Question], reveals: list[Callable[[], None]]) -> bool:
    """Each question, then the view that answers it once committed; stops at the first
    question not yet resolved (the next one may be answered by this one's view). True when
    every question of the chapter is resolved."""
    for i, (q, reveal) in enumerate(zip(qs, reveals, strict=True)):
        if not ask(q, ctx.progress, ctx.first.get(chapter, 1) + i):
            return False
        heavy_imports()  # a class's first reveals at once: see heavy_imports
        reveal()
    return True


def chapter1(ctx: Ctx, qs: list[Question]) -> None:
    data = ctx.data()
    st.markdown("A recurrent net reads a name one character at a time. Each character "
                "becomes its index in the vocabulary (0 is `<pad>`, 1 is `<unk>`), and each "
                "index a **one-hot** row: all zeros but a 1 in that index's column. A batch "
                "stacks the names side by side, one time step per row.")

    def ones() -> None:
        from nameclf.batching.encoding import encode_batch, one_hot

        idx, _ = encode_batch(ctx.names, ctx.model()[1])  # (T, B)
        x = one_hot(idx, data["vocab_size"])  # (T, B, V)
        left, right = st.columns(2)
        left.metric("1s in x (x.sum())", f"{int(x.sum()):,}")
        right.metric("Numbers in x (x.numel())", f"{x.numel():,}")

    if walk(ctx, 1, qs, [lambda: steps.characters(data), ones]):
        st.code(ex.step_code(1, data), language="python")


def chapter2(ctx: Ctx, qs: list[Question]) -> None:
    data = ctx.data()
    st.markdown("A tensor is a rectangle, names are not. So the shorter names are filled "
                "with `<pad>` up to the longest, and the RNN computes every cell of the grid, "
                "padding or not: that work is wasted.")
    if walk(ctx, 2, qs, [lambda: steps.padding(data), lambda: waste(ctx.ds, WASTE_BATCH)]):
        st.code(ex.step_code(2, data), language="python")


def chapter3(ctx: Ctx, qs: list[Question]) -> None:
    data = ctx.data()
    st.markdown("`pack_padded_sequence` keeps only the real characters. It wants the names "
                "**longest first**, so that the names still being read at any step are always "
                "the first rows; with `enforce_sorted=False` it sorts for you, and remembers "
                "`sorted_indices` and `unsorted_indices` to put the answers back in your order.")

    def order() -> None:
        st.markdown(f"`sorted_indices` = **{data['sorted_indices']}**")

    if walk(ctx, 3, qs, [order, lambda: steps.sorting(data)]):
        st.code(ex.step_code(3, data), language="python")


def chapter4(ctx: Ctx, qs: list[Question]) -> None:
    data = ctx.data()
    st.markdown("Packed, the batch is read one `batch_sizes` entry at a time: at step t the "
                "cell runs on the first `batch_sizes[t]` rows only, the names still going. A "
                "name that has ended drops out, so its hidden state stays what it was after "
                "its own last character: that is the answer the classifier reads, `h_n`.")

    def consume() -> None:
        steps.packing(data)
        st.markdown("**Step through it** (the slider is the time step t):")
        steps.consuming(data)

    def place() -> None:
        st.caption("Green: where each name's answer is read (its own last character). Red: "
                   "the last step of the padded grid, `output[-1]`.")
        st.plotly_chart(xp.grid_figure(data, xp.readout_kinds(data)), key="lesson_readout_grid",
                        config={"displayModeBar": False})

    def answer() -> None:
        model, vocab, classes, which = ctx.model()
        steps.answer(data, model(), vocab, classes, which)

    if walk(ctx, 4, qs, [consume, place, answer]):
        cell = ctx.model()[0]().config.cell
        st.code(ex.step_code(4, data) + "\n\n" + ex.step_code(6, data, cell), language="python")


RENDER = {1: chapter1, 2: chapter2, 3: chapter3, 4: chapter4}
