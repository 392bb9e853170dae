"""Widgets, jobs and views of the Batch size & gradients page's noise measurement, as functions
a lesson chapter can call too: `noise_settings`, `start_noise`, `live`, `show_noise`. The
batch-size race's are in `nameclf.ui.batch_race`; both run through this module's one job per
visitor (`live` draws either's progress, with Stop).

Both measurements run as background Jobs in the server-wide training queue
(`nameclf.ui.cache.training_slots`), like every training, and report as they go. Their
results are plain dicts kept in the visitor's session (`KEY_NOISE`, `KEY_RACE`).
"""

from __future__ import annotations

import copy
import time

import streamlit as st

from nameclf.charts import gradnoise as gc
from nameclf.charts.figures import CHART_CONFIG
from nameclf.classify.presets import DEFAULT_PRESET
from nameclf.errors import NameclfError
from nameclf.lab.gradnoise import NoiseConfig
from nameclf.lab.jobs import NoiseMeasurement
from nameclf.serve.engine import JobHandle
from nameclf.ui.cache import THREADS_PER_JOB, current_prepared, own
from nameclf.ui.engines import engine_for
from nameclf.ui.views import queue_line

KEY_JOB = "grad_job"  # {"job": Job, "kind": "noise" | "race", ...} while one runs
KEY_NOISE = "grad_noise"  # the latest noise measurement: {"curves": {...}, "source": str}
KEY_RACE = "grad_race"  # the latest batch-size race (lab.batch_race's dict)
KEY_ERROR = "grad_error"
QUICK_STEPS = 600  # the quick run's steps when the visitor has no run: fast's first 600


def job_entry() -> dict | None:
    return st.session_state.get(KEY_JOB)


def running(kind: str | None = None) -> bool:
    entry = job_entry()
    return entry is not None and (kind is None or entry["kind"] == kind)


# ------------------------------------------------------------------ the gradient noise


def recurrent_run():
    """(run id, run) of the visitor's latest run with a recurrent net (a mixture's counts),
    or None: an n-gram baseline has no gradient to measure."""
    for run_id, run in reversed(st.session_state["runs"].items()):
        if run.model_config.cell in ("rnn", "lstm", "gru"):
            return run_id, run
    return None


def noise_source_line() -> str:
    """Which model the measurement will use, said before the visitor presses Measure."""
    found = recurrent_run()
    if found is None:
        return (f"You have no trained recurrent model yet, so **Measure** first trains "
                f"`{DEFAULT_PRESET}`'s GRU for {QUICK_STEPS} steps on the current dataset "
                "(a few seconds), measuring before and after.")
    run_id, _ = found
    return (f"Measures your latest recurrent run, **{run_id}**, and the same model at its "
            "first weights (same cell, same seed).")


def noise_settings(key: str = "gn") -> None:
    """Pool and draws: widgets whose values `noise_config` reads when Measure is pressed."""
    c1, c2 = st.columns(2)
    c1.select_slider("Pool of training names (G is their mean gradient)",
                     (512, 1024, 2048, 4096), 4096, key=f"{key}_pool")
    c2.select_slider("Batches drawn per batch size", (8, 16, 32, 64), 32, key=f"{key}_draws")


def noise_config(key: str = "gn") -> NoiseConfig:
    """The measurement the widgets describe now (read at the click, not at the last draw)."""
    state = st.session_state
    return NoiseConfig(pool=int(state.get(f"{key}_pool", 4096)),
                       draws=int(state.get(f"{key}_draws", 32)))


def start_noise(key: str = "gn") -> None:
    """Start the measurement job (a button callback: errors become one line)."""
    try:
        _start_noise(noise_config(key))
    except Exception as err:  # a callback runs outside the page's guard: never a traceback
        st.session_state[KEY_ERROR] = "The measurement did not start: " + (
            str(err) if isinstance(err, NameclfError) else f"{type(err).__name__}: {err}")


def _start_noise(cfg: NoiseConfig) -> None:
    from dataclasses import replace

    from nameclf.classify.mixture import recurrent_net
    from nameclf.classify.pipeline import check_compatible, encode_for
    from nameclf.classify.presets import preset
    from nameclf.data.splits import make_split
    from nameclf.ui.views import run_data

    found = recurrent_run()
    upload = st.session_state.get("dataset_source") == "upload"
    if found is not None:
        run_id, run = found
        ds, split, seed, _ = run_data(run_id, run)
        check_compatible(run, ds)
        rows = make_split(ds, split, seed=seed).train
        model = copy.deepcopy(recurrent_net(run.model)).cpu()  # the visitor's run stays untouched
        job_run = copy.copy(run)
        job_run.model = model
        work = NoiseMeasurement(cfg, encode_for(run, ds, rows, "cpu"), job_run, run_id,
                                threads=THREADS_PER_JOB)
        upload = upload or str(run.info.get("data", "")).startswith("upload:")
        expected = 2 * 3.0
    else:
        model_cfg, train_cfg, split = preset(DEFAULT_PRESET)
        prep = current_prepared(split, 0, "cpu")
        model_cfg = replace(model_cfg, vocab_size=len(prep.vocab), n_classes=len(prep.classes))
        work = NoiseMeasurement(cfg, prep.train, model_cfg=model_cfg, train_cfg=train_cfg,
                                quick_steps=QUICK_STEPS, quick_name=DEFAULT_PRESET,
                                threads=THREADS_PER_JOB)
        expected = 2 * 3.0 + 8.0
    engine, where = engine_for(upload)
    st.session_state[KEY_JOB] = {"job": own(engine.run(work, "gradient noise", expected)),
                                 "kind": "noise", "where": where}


def collect() -> None:
    """Move a finished job's result into the session (once)."""
    entry = job_entry()
    if entry is None or not entry["job"].done:
        return
    job = entry["job"]
    st.session_state[KEY_JOB] = None
    if job.error:
        what = "measurement" if entry["kind"] == "noise" else "batch-size race"
        st.session_state[KEY_ERROR] = (
            f"The {what} was stopped before it had a result." if job.error == "stopped" else
            f"The {what} did not finish: {job.error}")
        return
    st.session_state[KEY_NOISE if entry["kind"] == "noise" else KEY_RACE] = job.result


def _waiting(job: JobHandle, what: str) -> bool:
    """The queue line while the job waits for a slot; True while it does."""
    if job.running_since is not None:
        return False
    queue_line(job, f"Starting {what}…")
    return True


@st.fragment(run_every=0.5)
def live(key: str = "gn") -> None:
    """Progress of the visitor's running job, polled twice a second; reruns the page when it
    ends. The race draws its curves as they grow."""
    entry = job_entry()
    if entry is None:
        return
    job = entry["job"]
    if job.done:
        st.rerun()
    kind = entry["kind"]
    if not _waiting(job, "the measurement" if kind == "noise" else "the race"):
        item = job.latest()
        if kind == "noise":
            st.progress(*noise_progress(item))
        else:
            fraction, text = gc.race_progress(item, time.time() - job.running_since)
            st.progress(fraction, text=text)
            if item and item.get("phase") == "lane":
                partial = {"lanes": item["lanes"], "target_loss": item.get("target_loss")}
                c1, c2 = st.columns(2)
                c1.plotly_chart(gc.race_curves(partial, "examples"), key=f"{key}_live_ex",
                                config=CHART_CONFIG)
                c2.plotly_chart(gc.race_curves(partial, "seconds"), key=f"{key}_live_s",
                                config=CHART_CONFIG)
    if entry.get("where"):
        st.caption(entry["where"])
    st.button("Stop", key=f"{key}_stop", on_click=job.stop, icon=":material/stop:")


def noise_progress(item: dict | None) -> tuple[float, str]:
    """(fraction, text) for the measurement's progress bar."""
    if not item:
        return 0.0, "Computing the full-pool gradient G…"
    if item["phase"] == "train":
        return (0.5 * item["step"] / max(1, item["of"]),
                f"Training step {item['step']:,} of {item['of']:,} (loss {item['loss']:.2f})…")
    half = 0.0 if item["label"] == "at init" else 0.5
    return (half + 0.5 * item["done"] / item["of"],
            f"Measuring {item['label']}: batch size {item['batch_size']} "
            f"({item['done']} of {item['of']})…")


def explain_noise(curves: dict) -> list[str]:
    """Sentences read off the measurement itself: the error ratio for 4× the batch, the slope,
    the noise scales before and after."""
    labels = list(curves)
    first = curves[labels[0]]
    sizes, err = first["batch_sizes"], first["mse_corrected"]
    lines = []
    if 16 in sizes and 64 in sizes:
        ratio = err[sizes.index(16)] / err[sizes.index(64)]
        lines.append(f"At the first weights, 4× the batch (16 → 64) made the gradient's squared "
                     f"error **{gc.ratio_text(ratio)}**: the noise of a mean of B names falls "
                     "as 1/B.")
    for label in labels:
        r = curves[label]
        bs = r["b_simple"]
        lines.append(f"**{label}**: slope **{r['slope']:.2f}** (1/B is −1), noise scale "
                     f"B_simple ≈ **{bs:,.0f}**" if bs == bs and bs is not None else
                     f"**{label}**: slope **{r['slope']:.2f}**, B_simple not measurable "
                     "(too few draws)")
    if len(labels) == 2:
        a, b = (curves[label]["b_simple_from_b1"] for label in labels)
        if a and b:
            lines.append(f"Trained, B_simple is **{b / a:,.0f}×** what it was at the first "
                         "weights (from the B = 1 error): as the loss falls, the gradient "
                         "shrinks but the noise does not, so a larger batch pays off later in "
                         "training.")
    return lines


NOISE_CODE = '''# g_B: the gradient of the mean loss over B names; G: over the whole pool
model.zero_grad()
loss = F.nll_loss(model(idx, lengths), y)   # one packed batch of B names
loss.backward()
g_B = torch.cat([p.grad.flatten() for p in model.parameters()])
error = (g_B - G).square().sum()            # falls as 1/B'''

ACCUMULATE_CODE = '''# 8 batches of 64 accumulated: one batch of 512's gradient, not its speed
model.zero_grad()
for part in sel.split(64):
    idx, lengths, y = batch(part)
    (F.nll_loss(model(idx, lengths), y, reduction="sum") / len(sel)).backward()
optimizer.step()'''


def show_noise(result: dict, key: str = "gn") -> None:
    """The noise chart, the numbers read off it, the accumulation check and the code."""
    curves = result["curves"]
    st.caption(f"Measured on {result['source']}, {next(iter(curves.values()))['pool']:,} "
               "training names.")
    st.plotly_chart(gc.noise_figure(curves, "How far one batch's gradient is from the pool's"),
                    key=f"{key}_chart", config=CHART_CONFIG)
    cols = st.columns(len(curves) + 1)
    for col, (label, r) in zip(cols, curves.items(), strict=False):
        bs = r["b_simple"]
        col.metric(f"B_simple, {label}", "—" if bs is None or bs != bs else f"{bs:,.0f}",
                   help="McCandlish et al.'s noise scale tr(Σ)/|G|²: the batch size beyond "
                        "which larger batches stop cutting the number of steps. From two "
                        f"batch sizes ({r['estimator_batch_sizes'][0]} and "
                        f"{r['estimator_batch_sizes'][1]}); from the B = 1 error: "
                        f"{r['b_simple_from_b1']:,.0f}.")
    acc = next(iter(curves.values()))["accumulation_max_rel_diff"]
    cols[-1].metric("8 × 64 accumulated vs one 512", "—" if acc is None else f"{acc:.1e}",
                    help="‖g₅₁₂ − g_acc‖ / ‖g₅₁₂‖: accumulation gives the big batch's gradient "
                         "up to float32 rounding")
    for line in explain_noise(curves):
        st.markdown(line)
    for note in dict.fromkeys(n for r in curves.values() for n in r["notes"]):
        st.caption(note[:1].upper() + note[1:].rstrip(".") + ".")
    with st.expander("The code, the cosine, and the numbers"):
        st.code(NOISE_CODE, language="python")
        st.code(ACCUMULATE_CODE, language="python")
        st.plotly_chart(gc.cosine_figure(curves), key=f"{key}_cos", config=CHART_CONFIG)
        st.dataframe(gc.noise_rows(curves), hide_index=True, key=f"{key}_table")
