"""The lesson's chapter 6: aggregated gradients, measured once the learner has answered.

The measurement is `nameclf.lab.gradnoise.measure_noise` (issue 23's), run as a job in the
server's fair queue with its progress: a freshly initialised model of Home's recommended
settings (seeded, so the same for everyone) on the dataset's training names. Like the lesson's
race, one measurement with the same settings and data serves the whole class (never on an
uploaded dataset, which is its visitor's alone).
"""

from __future__ import annotations

import threading
import time
from dataclasses import astuple, replace

import streamlit as st

from nameclf.lab.gradnoise import NoiseConfig
from nameclf.lab.lesson import Question
from nameclf.lab.lesson_gradients import BIG_B, SMALL_B, error_ratio, gradient_questions
from nameclf.serve.jobs import Job, queue_text
from nameclf.ui import params, training
from nameclf.ui.cache import current_prepared, devices, own, server_wide, training_slots
from nameclf.ui.lesson_chapters import Ctx, walk
from nameclf.ui.state import dataset_name
from nameclf.ui.views import plain

NOISE = NoiseConfig(pool=2048, draws=16, seed=0)  # the lesson's: about 10 s on a 2-core CPU
JOB, RESULT, STARTED = "lesson_noise_job", "lesson_noise_result", "lesson_noise_started"
SHARE_S = 600.0
EXPECTED_S = 15.0


def noise_config() -> NoiseConfig:
    """The lesson's measurement settings (a test may set `lesson_noise` in the session)."""
    return NoiseConfig(**{**NOISE.__dict__, **st.session_state.get("lesson_noise", {})})


def _store() -> tuple[dict, threading.Lock]:
    return server_wide("lesson_noise", dict), server_wide("lesson_noise_lock", threading.Lock)


def _key(cfg: NoiseConfig) -> tuple | None:
    source = dataset_name()
    return None if source.startswith("upload") else (source, astuple(cfg))


def _usable(entry: tuple[Job, float] | None) -> Job | None:
    if entry is None:
        return None
    job, started = entry
    broken = job.stop_event.is_set() or job.error or (job.done and not job.result)
    return None if broken or time.time() - started > SHARE_S else job


def _target(cfg: NoiseConfig):
    values = params.from_preset("fast", params.defaults())
    prep = current_prepared(values["split"], int(values["seed"]), devices()[0])
    model_cfg, _, _ = params.configs(values, len(prep.train))

    def target(report, stop):
        import torch

        from nameclf.classify.model import NameClassifier
        from nameclf.lab.gradnoise import measure_noise

        torch.manual_seed(cfg.seed)
        model = NameClassifier(replace(model_cfg, vocab_size=len(prep.vocab),
                                       n_classes=len(prep.classes)))
        model = model.to(prep.train.idx.device)
        return measure_noise(model, prep.train, cfg, report, stop).to_dict()

    return target


def start() -> None:
    """Start the measurement, or join the class's (a button callback too)."""
    ss = st.session_state
    ss[STARTED] = True
    cfg = noise_config()
    key = _key(cfg)
    races, lock = _store()
    try:
        with lock:
            if (job := _usable(races.get(key))) is None:
                job = own(Job(_target(cfg), name="lesson-noise", slots=training_slots(),
                              expected_s=EXPECTED_S)).start()
                if key is not None:
                    races[key] = (job, time.time())
        ss[JOB] = job
    except Exception as err:  # a callback runs outside the page's guard: never a traceback
        ss["lesson_noise_error"] = f"{type(err).__name__}: {err}"


def result() -> dict | None:
    """The learner's measurement once it has finished (theirs or the class's)."""
    ss = st.session_state
    job = ss.get(JOB)
    if ss.get(RESULT) is None and job is not None and job.done:
        ss[JOB] = None
        if job.result:
            ss[RESULT] = job.result
        else:
            ss["lesson_noise_error"] = job.error or "the measurement was stopped"
    return ss.get(RESULT)


def questions() -> list[Question]:
    return gradient_questions(result())


@st.fragment(run_every=0.5)
def _live() -> None:
    job = st.session_state.get(JOB)
    if job is None:
        return
    if job.done:
        st.rerun()
    if job.running_since is None:
        ahead = job.queue_position()
        st.progress(0.0, text=queue_text(ahead, job.expected_wait()) if ahead
                    else "Starting the measurement…")
        return
    items = job.snapshot()
    done, of = (items[-1]["done"], items[-1]["of"]) if items else (0, 1)
    st.progress(min(0.99, done / of), text=f"Measuring… batch size {done} of {of} · "
                f"{time.time() - job.running_since:,.0f} s")


def show(found: dict) -> None:
    """The measurement: the error against B, the slope, and the accumulation check."""
    sizes = found["batch_sizes"]
    cols = st.columns(3)
    ratio = error_ratio(found)
    cols[0].metric(f"error at B={SMALL_B} ÷ at B={BIG_B}", "—" if ratio is None
                   else f"{ratio:.1f}×")
    cols[1].metric("slope of log error vs log B", f"{found['slope']:.2f}",
                   help="−1 is the 1/B law of a mean of independent draws")
    diff = found.get("accumulation_max_rel_diff")
    cols[2].metric("8 × 64 accumulated vs 512", "—" if diff is None else f"{diff:.1e}")
    rows = [f"| {b} | {m:.3g} | {c:.3f} |"
            for b, m, c in zip(sizes, found["mse"], found["cosine"], strict=True)]
    st.markdown("| batch size B | error \\|g_B − G\\|² | cosine(g_B, G) |\n|---:|---:|---:|\n"
                + "\n".join(rows))
    st.caption(plain(f"{found['pool']:,} training names, {found['draws']} batches drawn per "
                     f"size, a fresh model of the recommended settings; "
                     f"{found['seconds']:.1f} s. " + " ".join(found.get("notes", []))))


def view() -> None:
    """The measurement once both answers are in: its progress, then its numbers."""
    if (found := result()) is not None:
        show(found)
        return
    if error := st.session_state.pop("lesson_noise_error", None):
        st.warning(f"The measurement did not finish: {error}")
    if st.session_state.get(JOB) is not None:
        _live()
        return
    if busy := training.other_job("noise"):
        st.info(busy)
        return
    if not st.session_state.get(STARTED):
        start()
        st.rerun()
    st.button("Measure the gradients", key="lesson_noise_start", type="primary", on_click=start)


def chapter6(ctx: Ctx, qs: list[Question]) -> None:
    st.markdown("A training step follows the gradient of the loss on one batch, a *mean* over "
                "its B names: an estimate of G, the gradient over every training name. Bigger "
                "batches estimate G better, but each costs more. Answer, then the app measures "
                "it on this dataset: many batches of each size B, each gradient compared with "
                "G.")
    if walk(ctx, 6, qs, [lambda: None, view]):
        st.code("opt.zero_grad()\n"
                "for part in batch.split(64):  # gradient accumulation: 8 parts of 512\n"
                "    loss = F.cross_entropy(model(part.x, part.lengths), part.y,\n"
                "                           reduction='sum') / 512\n"
                "    loss.backward()  # .grad += this part's share of the mean\n"
                "opt.step()  # the same step as one batch of 512", language="python")


RENDER = {6: chapter6}
