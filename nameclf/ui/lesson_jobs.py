"""The lesson's chapters 5, 7 and 8: the speed race, a training run, the generator's loss mask.

Chapters 5 and 7 ask first and measure after: once their questions are answered, the
learner's own race (`nameclf.ui.race`, a job in the server's fair queue) or training run (the
Train page's machinery, `nameclf.ui.training`: identical settings are shared) starts, shows
its progress, and its result grades the answers. Chapter 8 draws the Padding the targets
page's views (`nameclf.ui.generate_explain`) and asks about its losses.
"""

from __future__ import annotations

import streamlit as st

from nameclf.charts import race as rp
from nameclf.lab import lesson_output as qo
from nameclf.lab.lesson import Question
from nameclf.ui import generate_explain as ge
from nameclf.ui import lesson_race, live, params, training
from nameclf.ui import race as race_ui
from nameclf.ui.cache import devices
from nameclf.ui.lesson_chapters import Ctx, walk
from nameclf.ui.state import dataset_name, runs

RACE = dict(names=256, batch=256, seconds=1.0, cell="rnn", hidden=128, input="one-hot")
RACE_STARTED = "lesson_race_started"  # the lesson started a race this session
RUN_KEY = "lesson_run"  # run id of the lesson's training run, once collected
JOB_KEY = "lesson_job"  # the lesson's training job while it runs


def race_setup() -> dict:
    """The lesson's race: the tutorial's RNN (one-hot, hidden 128), 256 names, 1 s a mode.

    A test may set `lesson_race` in the session to race less."""
    return {"device": devices()[0], **RACE, **st.session_state.get("lesson_race", {})}


def race_speeds() -> dict[str, float] | None:
    """Names per second of the session's latest completed race with the lesson's setup."""
    setup = race_setup()
    for row in reversed(st.session_state.get("race_results", [])):
        if row.get("status") == "completed" and all(row.get(k) == v for k, v in setup.items()):
            return rp.row_speeds(row)
    return None


def train_values() -> dict:
    """Home's recommended settings (the `fast` preset) on the learner's dataset.

    Identical to what Home's button trains, so a class shares one run. A test may set
    `lesson_train` in the session to train less."""
    values = params.from_preset("fast", params.defaults())
    values.update(dataset=st.session_state["dataset_source"], device=devices()[0])
    return {**values, **st.session_state.get("lesson_train", {})}


def lesson_run():
    """(id, Run) of the lesson's training run, else the visitor's newest recurrent run."""
    own = st.session_state.get(RUN_KEY)
    if own in runs():
        return own, runs()[own]
    job = st.session_state.get(JOB_KEY)
    meta = getattr(job, "meta", None)
    if job is not None and job.done and meta is not None and meta.collected and meta.run_ids:
        st.session_state[RUN_KEY] = meta.run_ids[0]
        if meta.run_ids[0] in runs():  # not if a newer run evicted it already
            return meta.run_ids[0], runs()[meta.run_ids[0]]
    for run_id, run in reversed(runs().items()):
        if run.model_config.cell != "ngram" and len(run.history.get("loss", [])) > 1:
            return run_id, run
    return None


def targets(ctx: Ctx) -> tuple[dict, str]:
    """Chapter 8's walkthrough of the learner's names (their generator's, else untrained),
    and what computed it."""
    if "targets" not in ctx.cache:
        label_of = dict(zip(ctx.ds.names, ctx.ds.labels, strict=True))
        labels = [label_of.get(n, ctx.ds.classes[0]) for n in ctx.names]
        ctx.cache["targets"] = ge.walkthrough(ctx.ds, dataset_name(), ctx.names, labels, False)
    return ctx.cache["targets"]


def questions(ctx: Ctx, chapter: int) -> list[Question]:
    """Chapter 5, 7 or 8's questions; 5 and 7 wait for their measurement."""
    if chapter == 5:
        race_ui.finish()  # a race that ended since the last run joins the results first
        speeds = race_speeds()
        return [qo.speedup_question(speeds), qo.packed_padded_question(speeds)]
    if chapter == 7:
        training.collect()
        found = lesson_run()
        run = found[1] if found else None
        return [qo.noise_question(run.history if run else None),
                qo.top2_question(run.metrics if run else None)]
    data, _ = targets(ctx)
    return [qo.real_targets_question(data), qo.mask_question(data)]


def _start_race(ctx: Ctx) -> None:
    st.session_state[RACE_STARTED] = True
    lesson_race.start(ctx.ds, race_setup())


def race_view(ctx: Ctx) -> None:
    """The race once both answers are in: its progress, then its result. A race with the
    same settings another learner ran or runs on this server is theirs too (lesson_race)."""
    if race_speeds() is not None:
        if note := st.session_state.get("lesson_race_note"):
            st.caption(note)
        race_ui.results()
        return
    if race_ui.running():
        race_ui.live()
        return
    if (other := lesson_race.shared(race_setup())) is not None:
        if other.job.done:
            lesson_race.adopt(other)
            st.rerun()
        lesson_race.watch(other)
        return
    if error := st.session_state.pop("race_error", None):
        st.warning(f"The race did not finish: {error}")
    if busy := training.other_job("race"):
        st.info(busy)
        return
    if not st.session_state.get(RACE_STARTED):
        _start_race(ctx)
        st.rerun()
    st.button("Run the race", key="lesson_race_start", type="primary", on_click=_start_race,
              args=(ctx,))


def chapter5(ctx: Ctx, qs: list[Question]) -> None:
    setup = race_setup()
    st.markdown("The tutorial trains one name at a time. A batch does the same arithmetic for "
                "many names in one call per step. Predict, then your own race measures it: "
                f"the tutorial's {setup['cell'].upper()} (one-hot, hidden {setup['hidden']}) "
                f"learns from the same {setup['names']} names per sample, padded and packed, "
                f"{setup['seconds']:g} s each, on this server.")
    if walk(ctx, 5, qs, [lambda: None, lambda: race_view(ctx)]):
        st.code("for name, label in batch:          # per sample: one tiny step per name\n"
                "    loss = loss_fn(model(name), label); loss.backward()\n"
                "packed = pack_padded_sequence(x, lengths, enforce_sorted=False)\n"
                "loss = loss_fn(model(packed), labels)  # one step for the whole batch\n"
                "loss.backward()", language="python")


def _train() -> None:
    try:
        st.session_state[JOB_KEY] = training.start_training(train_values())
    except Exception as err:  # a callback runs outside the page's guard: never a traceback
        st.session_state["lesson_train_error"] = str(err)


def train_view() -> None:
    """The training run once both answers are in: the Train page's live panel, then its
    result."""
    training.collect()  # a run given at once from the server's store is collected here
    found = lesson_run()
    job = st.session_state.get(JOB_KEY)
    if found is not None and (job is None or job.done):
        live.run_result(found[0])
        return
    if error := st.session_state.pop("lesson_train_error", None):
        st.warning(f"Training did not start: {error}")
    if job is not None and not job.done:
        live.live_panel("train")
        return
    if busy := training.other_job("train") or ("" if not training.is_running() else
                                               "Your training job is still running."):
        st.info(busy)
        return
    if job is None:
        _train()
        st.rerun()
    st.button("Train with the recommended settings", key="lesson_train_start", type="primary",
              on_click=_train)


def chapter7(ctx: Ctx, qs: list[Question]) -> None:
    found = lesson_run()
    which = (f"Your run **{found[0]}** is used." if found and found[0] !=
             st.session_state.get(RUN_KEY) else "")
    st.markdown("Training repeats one move: take a batch of 64 names, compute the loss, step "
                "the weights against its gradient. Answer first; then the app trains Home's "
                "recommended model (a GRU, 5 passes over the training names) on the Train "
                "page's machinery, and shows its curves. " + which)
    if walk(ctx, 7, qs, [lambda: None, train_view]):
        st.code("for step, (x, lengths, labels) in enumerate(batches):\n"
                "    loss = F.cross_entropy(model(x, lengths), labels)  # this batch's loss\n"
                "    opt.zero_grad(); loss.backward(); opt.step()\n"
                "top2 = (logits.topk(2).indices == labels[:, None]).any(1).float().mean()",
                language="python")


def chapter8(ctx: Ctx, qs: list[Question]) -> None:
    data, which = targets(ctx)
    st.markdown("A generator *writes* names, so its targets are padded too: each name read "
                "after `<sos>`, to be written followed by `<eos>`. A padded target cell is no "
                "character: the loss must leave it out, with a **mask**.")
    st.caption(f"Losses computed by {which}.")

    def grid() -> None:
        ge.shifted(data)
        ge.target_grid(data)

    def losses() -> None:
        ge.mask(data)
        ge.packed(data)

    if walk(ctx, 8, qs, [grid, losses]):
        st.code("logits, _ = model(batch.inputs, batch.labels)  # (T, B, V)\n"
                "flat, gold = logits.reshape(-1, V), batch.targets.reshape(-1)\n"
                f"F.cross_entropy(flat, gold, ignore_index=PAD)  # masked: {data['masked']:.4f}\n"
                f"F.cross_entropy(flat, gold)  # unmasked (wrong): {data['unmasked']:.4f}",
                language="python")


RENDER = {5: chapter5, 7: chapter7, 8: chapter8}
