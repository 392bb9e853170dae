"""Training a name generator from the app: a visitor's background Job, its live panel, runs.

Uses the classifier's machinery as it is (the engine of nameclf.ui.engines: this server's fair
queue, or the Ray cluster's; the session-owned job list); the generator's job and runs live
under their own session keys (`gen_job`, `gen_runs`), so the classifier's collect() never
sees them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

import streamlit as st

from nameclf.classify.config import total_steps
from nameclf.errors import ConfigError
from nameclf.generate.config import CELLS, GEN_BATCHING, GEN_PRESETS, gen_preset
from nameclf.serve.engine import JobHandle
from nameclf.serve.jobs import queue_text
from nameclf.ui.cache import THREADS_PER_JOB, builtin_dataset, current_dataset, device, own
from nameclf.ui.state import dataset_name
from nameclf.ui.views import download_notebook, guarded, plain, status_box

if TYPE_CHECKING:
    from nameclf.generate.batches import GenPrepared
    from nameclf.generate.train import GenRun

MAX_GEN_RUNS = 5  # generator runs kept per visitor
POLL_SECONDS = 0.5


@dataclass
class GenJobMeta:
    run_id: str
    data: str  # the dataset's name
    where: str = ""  # where it trains, when the visitor is to be told (an upload, not the cluster)
    collected: bool = False
    error: str = ""
    stopped: bool = False


def gen_runs() -> dict[str, GenRun]:
    """This visitor's generator runs, oldest first."""
    return st.session_state.setdefault("gen_runs", {})


def gen_job() -> JobHandle | None:
    return st.session_state.get("gen_job")


def any_job_running() -> bool:
    """The visitor's generator job, or any other job of theirs (training, a race), running."""
    from nameclf.ui.training import other_job

    job = gen_job()
    return (job is not None and job.running) or bool(other_job("generate"))


def settings() -> dict:
    """The generator's training settings, as widgets; returns their values."""
    names = list(GEN_PRESETS)
    preset = st.selectbox("Preset", names, key="gw_preset",
                          help="gen-fast: the benchmark's preset (about a minute on the full "
                               "reference file); gen-tiny: seconds")
    model_cfg, train_cfg = gen_preset(preset)
    left, mid, right = st.columns(3)
    key = lambda name: f"gw_{name}_{preset}"  # noqa: E731  (a preset sets its own defaults)
    cell = left.radio("Cell", CELLS, index=CELLS.index(model_cfg.cell), key=key("cell"),
                      horizontal=True)
    hidden = left.select_slider("Hidden units", [16, 32, 48, 64, 128, 192, 256],
                                value=model_cfg.hidden_size, key=key("hidden"))
    batching = mid.radio("Batching", GEN_BATCHING, key=key("batching"), horizontal=True,
                         index=GEN_BATCHING.index(train_cfg.batching),
                         help="the same model and loss three ways; only the speed differs")
    epochs = mid.number_input("Epochs", 0.1, 200.0, float(train_cfg.epochs), 0.5,
                              key=key("epochs"))
    limit = right.number_input("Time limit in seconds (0 = none)", 0, 600,
                               int(train_cfg.time_budget or 60), key=key("time"),
                               help="the n-gram LM's fit counts when it is mixed in")
    seed = right.number_input("Seed", 0, 10_000, 0, key="gw_seed")
    mix = right.slider("Mix in the n-gram LM (weight)", 0.0, 0.9, float(train_cfg.ngram_weight),
                       0.05, key=key("mix"),
                       help="the n-gram LM's share of each next-character distribution, when "
                            "scoring and when generating; 0 = the net alone. The two err in "
                            "different places, so the mixture beats both; above about 0.3 it "
                            "writes back more training names.")
    return dict(preset=preset, cell=cell, hidden=int(hidden), batching=batching,
                epochs=float(epochs), time=float(limit), seed=int(seed), mix=float(mix))


def configs(values: dict, n_train: int = 0):
    model_cfg, train_cfg = gen_preset(values["preset"])
    model_cfg = replace(model_cfg, cell=values["cell"], hidden_size=values["hidden"])
    train_cfg = replace(train_cfg, batching=values["batching"], epochs=values["epochs"],
                        steps=0, time_budget=values["time"], seed=values["seed"],
                        ngram_weight=values.get("mix", train_cfg.ngram_weight))
    if n_train:  # about 25 points on the test curve, whatever the data's size
        steps = total_steps(n_train, train_cfg.batch_size, 0, train_cfg.epochs)
        train_cfg.eval_every = max(1, min(train_cfg.eval_every, steps // 25))
    train_cfg.validate()
    return model_cfg, train_cfg


@st.cache_resource(max_entries=4, show_spinner="Encoding the names for the generator…")
def _builtin_prepared(source: str, seed: int, device_name: str) -> GenPrepared:
    from nameclf.generate.batches import prepare_lm

    return prepare_lm(builtin_dataset(source), "names", seed, device=device_name)


def prepared(seed: int) -> GenPrepared:
    """The visitor's dataset, split leak-free and encoded: shared for built-ins, theirs for
    an upload."""
    from nameclf.generate.batches import prepare_lm

    name = dataset_name()
    if not name.startswith("upload:"):
        return _builtin_prepared(name, seed, device().type)
    ds = current_dataset()
    store = st.session_state.setdefault("gen_prepared", {})
    key = (name, id(ds), len(ds), seed)
    if key not in store:
        store.clear()
        store[key] = prepare_lm(ds, "names", seed, device=device())
    return store[key]


def start(values: dict) -> JobHandle:
    """Start training a generator (and its n-gram LM) in the background, where
    nameclf.ui.engines says (this server, or the cluster for a built-in dataset)."""
    from nameclf.lab.jobs import GeneratorTraining
    from nameclf.ui.engines import engine_for

    if any_job_running():
        raise ConfigError("a training job of yours is already running; stop it first")
    prep = prepared(values["seed"])
    model_cfg, train_cfg = configs(values, len(prep.train))
    data = dataset_name()
    ds = current_dataset()
    info = dict(data=data, dataset=data, ascii_fold=ds.ascii_fold, seed=values["seed"],
                preset=values["preset"], task="generate")

    counter = st.session_state.get("gen_counter", 0) + 1
    st.session_state["gen_counter"] = counter
    run_id = f"gen{counter}-{model_cfg.cell}"
    engine, where = engine_for(data.startswith("upload:"))
    work = GeneratorTraining(prep, model_cfg, train_cfg, info, THREADS_PER_JOB)
    job = engine.run(work, run_id,
                     train_cfg.time_budget + 10 if train_cfg.time_budget else None)
    job.meta = GenJobMeta(run_id, data, where)
    st.session_state["gen_job"] = own(job)
    return job


def collect() -> GenJobMeta | None:
    """Move a finished job's run into the visitor's generator runs, exactly once."""
    job = gen_job()
    if job is None or not job.done or job.meta.collected:
        return None
    meta = job.meta
    meta.collected, meta.error, meta.stopped = True, job.error or "", job.stop_event.is_set()
    if job.result is not None:
        store = gen_runs()
        store[meta.run_id] = job.result
        st.session_state["gen_new_run"] = meta.run_id  # choose_run shows it next
        while len(store) > MAX_GEN_RUNS:
            del store[next(iter(store))]
    return meta


def choose_run(store: dict) -> str:
    """The generator shown, newest first; a run just trained is chosen for the visitor
    (the selectbox would otherwise keep showing the one picked before)."""
    if (new := st.session_state.pop("gen_new_run", None)) in store:
        st.session_state["gs_run"] = new
    run_id = st.selectbox("Generator", list(store)[::-1], key="gs_run")
    # a widget's key is dropped on a page that does not draw it: keep the choice for
    # Padding the targets, which explains this generator
    st.session_state["gen_chosen"] = run_id
    return run_id


def controls(values: dict) -> None:
    """Start and Stop, Start disabled while any job of the visitor runs."""
    running = any_job_running()
    row = st.container(horizontal=True)
    if row.button("Train the generator", key="gen_start", type="primary", disabled=running,
                  icon=":material/play_arrow:") and not any_job_running():
        start(values)
        st.rerun()
    row.button("Stop", key="gen_stop", disabled=not running, on_click=_stop,
               icon=":material/stop:")
    job = gen_job()
    if running and (job is None or not job.running):
        st.info("Another training job of yours is running (on another page); Stop it or wait.")


def _stop() -> None:
    job = gen_job()
    if job is not None:
        job.stop()


def progress_text(p) -> str:
    """The live line for the last step reported: never "0 s left" while work goes on."""
    if p.step >= p.total_steps:  # the last step is done: the test names are scored next
        return f"step {p.step:,}/{p.total_steps:,} · measuring it on the test names…"
    left = f"about {p.eta:,.0f} s left" if p.eta >= 1 else "under a second left"
    return f"step {p.step:,}/{p.total_steps:,} · {p.names_per_second:,.0f} names/s · {left}"


def _panel() -> None:
    job = gen_job()
    if job is None:
        return
    if job.done and not job.meta.collected:
        collect()
        st.rerun()
    if job.done:
        return
    from nameclf.generate.train import Baseline, GenProgress

    items = job.snapshot()
    ticks = [p for p in items if isinstance(p, GenProgress)]
    base = next((x.test_bpc for x in items if isinstance(x, Baseline)), None)
    if not ticks:
        ahead = job.queue_position()
        if ahead:
            text = queue_text(ahead, job.expected_wait())
        elif items:  # the n-gram LM is fitted first, in one go
            text = ("Fitting the n-gram LM first (the baseline to beat, and the mixture's "
                    "other half): a few seconds, in one go…")
        else:
            text = "Starting…"
        st.progress(0.0, text=text)
        if job.meta.where:
            st.caption(job.meta.where)
        return
    p = ticks[-1]
    st.progress(min(1.0, p.step / max(1, p.total_steps)), text=progress_text(p))
    if job.meta.where:
        st.caption(job.meta.where)
    from nameclf.charts.generate import CHART_CONFIG, bpc_curve

    hist = {"step": [t.step for t in ticks], "running_loss": [t.running_loss for t in ticks],
            "eval_step": [t.step for t in ticks if t.test_bpc is not None],
            "test_bpc": [t.test_bpc for t in ticks if t.test_bpc is not None]}
    st.plotly_chart(bpc_curve(hist, base), key="gen_live_bpc", config=CHART_CONFIG)


def live_panel() -> None:
    """Progress of the visitor's generator job, re-read every POLL_SECONDS while it runs."""
    job = gen_job()
    running = job is not None and job.running
    with st.container():
        st.fragment(run_every=POLL_SECONDS if running else None)(_safe_panel)()


def _safe_panel() -> None:
    guarded(_panel)  # a fragment rerun is outside the page's own guard


def finished() -> None:
    """How the last job ended, if it failed or was stopped before learning anything."""
    job = gen_job()
    meta = getattr(job, "meta", None)
    if meta is None or not meta.collected or job.running:
        return
    if meta.error:
        st.error(plain(f"Training failed: {meta.error}"))


def verdict(m: dict, cell: str, weight: float, n_test: int) -> str:
    """Who beats whom, from this run's own figures."""
    base, net, mixed = m["baseline_bits_per_char"], m.get("net_bits_per_char"), \
        m["test_bits_per_char"]
    net = mixed if net is None else net
    says = lambda a: "beats" if a < base else "does not beat"  # noqa: E731
    line = f"The {cell} alone {says(net)} the n-gram baseline ({net:.3f} against {base:.3f})"
    if weight:
        if mixed < min(net, base):
            than = "better than either alone"
        elif mixed < max(net, base):
            than = (f"better than the {cell} alone, not than the n-gram LM" if mixed < net
                    else f"better than the n-gram LM, not than the {cell} alone")
        else:
            than = "worse than both alone: try a smaller weight"
        line += f"; mixed with it (weight {weight:g}) the generator reaches {mixed:.3f}, {than}"
    return (f"{line}. The baseline is a {m.get('baseline')}; all on the same {n_test:,} test "
            "names, every character and the end of each name counted, no padding.")


def run_result(run_id: str, run: GenRun) -> None:
    """How a run ended, its bits per character beside the baseline, curves, download."""
    from nameclf.charts.generate import CHART_CONFIG, bpc_curve, per_label_bars
    from nameclf.generate import checkpoint as generator_checkpoint

    m, info = run.metrics, run.info
    text = f"**{run_id}**: {run.status} after {info.get('steps', 0):,} steps"
    status_box(text, run.status)
    base, net = m.get("baseline_bits_per_char"), m.get("net_bits_per_char")
    weight = run.ngram_weight
    cell = run.model_config.cell.upper()
    cols = st.columns(4)
    cols[0].metric("Test bits per character", f"{m['test_bits_per_char']:.3f}",
                   help=f"the generator: the {cell} and the n-gram LM mixed, weight {weight:g}"
                   if weight else f"the generator: the {cell} alone")
    cols[1].metric("n-gram LM baseline", "–" if base is None else f"{base:.3f}",
                   help=m.get("baseline"))
    if weight and net is not None:
        cols[2].metric(f"The {cell} alone", f"{net:.3f}",
                       help="the net's own figure, before the n-gram LM is mixed in")
    else:
        cols[2].metric("Training names/s", f"{info.get('names_per_second', 0):,.0f}")
    cols[3].metric("Trained for", f"{info.get('train_seconds', 0):.1f} s",
                   help="the net's training and, when mixed in, the n-gram LM's fit")
    if base is not None:
        st.caption(verdict(m, cell, weight, info.get("n_test", 0)))
    left, right = st.columns(2)
    mixed = m["test_bits_per_char"] if weight else None
    left.plotly_chart(bpc_curve(run.history, base, mixed=mixed), key=f"bpc_{run_id}",
                      config=CHART_CONFIG)
    right.plotly_chart(per_label_bars(m["per_label_bits_per_char"], m.get("baseline_per_label")),
                       key=f"labels_{run_id}", config=CHART_CONFIG)
    # the bytes are made on the click, not on every rerun (a mixing generator's n-gram
    # counts take a quarter of a second to lay out)
    row = st.container(horizontal=True)  # the two downloads side by side
    row.download_button("Download generator checkpoint",
                        partial(generator_checkpoint.to_bytes, run),
                        file_name=f"{run_id}.safetensors", mime="application/octet-stream",
                        key=f"dl_{run_id}", on_click="ignore", icon=":material/download:")
    with row:
        download_notebook(run_id, run, key=f"nb_{run_id}")
