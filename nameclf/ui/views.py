"""Pieces of page shared by several pages: guards, run pickers, checkpoints, metrics.

Imports no torch at the top: Home uses `run_page` and `plain` before torch has loaded.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st
from streamlit.errors import StreamlitAPIException

from nameclf.data.dataset import BUILTINS
from nameclf.errors import CheckpointError, NameclfError
from nameclf.serve.jobs import queue_text
from nameclf.ui.cache import builtin_dataset, current_dataset, device, is_downloaded
from nameclf.ui.state import add_run, runs, show_notes, uploaded_dataset

if TYPE_CHECKING:
    from nameclf.classify.pipeline import Run
    from nameclf.ui.analysis import Evaluation

log = logging.getLogger("nameclf.app")
# CommonMark's backslash-escapable characters, plus Streamlit's `:color[...]` and `$math$`
MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]<>()#+\-!|~$:])")


def plain(text: str) -> str:
    """`text` escaped for st.markdown/st.error, so labels and file names show as typed."""
    return MARKDOWN_SPECIALS.sub(r"\\\1", str(text))


def dataset_key(ds) -> str:
    """A cheap identity for caching per dataset (its source and size)."""
    return f"{ds.report.source}|{len(ds)}|{ds.ascii_fold}"


def run_page(main: Callable[[], None]) -> None:
    """Run a page body; a visitor sees a readable error, never a traceback."""
    show_notes()
    guarded(main)


def guarded(body: Callable[..., None], *args) -> None:
    """Run part of a page (a page body or a fragment) with friendly errors."""
    try:
        body(*args)
    except NameclfError as err:  # its message may quote a visitor's labels or file names
        st.error(plain(str(err)))
    except Exception:  # a bug: log it for us, apologise to the visitor
        log.exception("page failed")
        st.error("Something went wrong on this page. Try again, or go back to Home and "
                 "start over; your runs are kept.")


def metric_row(metrics: dict) -> None:
    """Top-k accuracy, macro-F1 and balanced accuracy as st.metric tiles."""
    tiles = [("Top-1", "top1"), ("Top-2", "top2"), ("Top-3", "top3"),
             ("Macro-F1", "macro_f1"), ("Balanced acc.", "balanced_accuracy")]
    for col, (label, key) in zip(st.columns(len(tiles)), tiles, strict=False):
        value = metrics.get(key)
        col.metric(label, "–" if value is None else f"{value:.1%}")


def is_ngram(run: Run) -> bool:
    """Whether a run is the n-gram baseline (no recurrent settings, no step-by-step state)."""
    return run.model_config.cell == "ngram"


def fit_line(run: Run) -> str:
    """How long a run trained: steps and seconds (for the n-gram baseline, L-BFGS iterations
    or SGD passes, whichever solver fitted it)."""
    steps, seconds = run.info.get("steps"), run.info.get("train_seconds")
    took = "" if seconds is None else f" in {seconds:.1f} s"
    if steps is None:
        return f"trained{took}"
    if is_ngram(run):
        words = ", with word frequencies" if run.model_config.lexicon else ""
        unit = "SGD passes" if run.info.get("ngram_solver") == "sgd" else "L-BFGS iterations"
        return f"fitted{took} ({steps:,} {unit}{words})"
    speed = run.info.get("names_per_second")
    return f"{steps:,} steps{took}" + (f" · {speed:,.0f} names/s" if speed else "")


def is_mixture(run: Run) -> bool:
    """A recurrent model with the n-gram model mixed in (not one whose mix was cut)."""
    return bool(run.info.get("parts_top1") and run.model_config.ngram_weight)


def parts_line(config, parts: dict, mixed: float | None) -> str:
    """`70% GRU + 30% n-gram model, mixed. Top-1 on the test split, each alone: …`."""
    cell = config.cell.upper()
    alone = ", ".join(f"{'n-gram' if k == 'ngram' else k.upper()} {v:.1%}"
                      for k, v in parts.items())
    mixed = "" if mixed is None else f" (mixed: {mixed:.1%})"
    ngram = "n-gram model with word frequencies" if config.lexicon else "n-gram model"
    return (f"{1 - config.ngram_weight:.0%} {cell} + {config.ngram_weight:.0%} {ngram}, "
            f"mixed. Top-1 on the test split, each alone: {alone}{mixed}.")


def mix_line(run: Run) -> str:
    """For a mixture: its weights and what each part scores alone; why a mix did not happen."""
    if not is_mixture(run):
        return run.info.get("mix_note", "")
    cell = run.model_config.cell.upper()
    return (parts_line(run.model_config, run.info["parts_top1"], run.metrics.get("top1"))
            + f" The curves are the {cell}'s, from before the n-gram model was fitted; the "
              "stars are the mixture's.")


def status_message(run_id: str, run: Run) -> None:
    """How a run ended, in the colour it deserves."""
    steps = run.info.get("steps")
    text = f"**{run_id}**: {run.status} after {'?' if steps is None else f'{steps:,}'} steps"
    if is_ngram(run):
        text = f"**{run_id}**: {run.status}, {fit_line(run)}"
    status_box(text, run.status)


def run_picker(key: str, label: str = "Run") -> tuple[str, Run] | None:
    """Choose one of the visitor's runs (newest first); None if there are none."""
    ids = list(runs())[::-1]
    if not ids:
        return None
    if st.session_state.get(key) not in ids:
        st.session_state.pop(key, None)
    run_id = st.selectbox(label, ids, key=key)
    run = runs()[run_id]
    st.caption(f"{run_id}: {run.model_config.kind}, {run.status}, trained on "
               f"{run.info.get('dataset', 'unknown data')}.")
    return run_id, run


def keep_choices(key: str, options: list[str], default: list[str], fresh: list[str]) -> None:
    """A multiselect's state: the default at first, `fresh` once when it changes, never stale."""
    ss = st.session_state
    if fresh and ss.get(f"{key}_fresh") != fresh:
        ss[f"{key}_fresh"], ss[key] = fresh, fresh
    elif key not in ss:
        ss[key] = default
    ss[key] = [r for r in ss[key] if r in options]  # evicted runs leave the selection


def download_checkpoint(run_id: str, run: Run, key: str) -> None:
    """A button that downloads the run as `<run>.safetensors`."""
    from nameclf.classify import checkpoint

    st.download_button("Download checkpoint", checkpoint.to_bytes(run),
                       file_name=f"{run_id}.safetensors", mime="application/octet-stream",
                       key=key, on_click="ignore", icon=":material/download:")


def notebook_of(run, ds, split: str, seed: int):
    """(notebook, DataSpec) of a classifier or generator run trained on `ds`."""
    if run.info.get("task") != "generate":
        from nameclf.lab.notebook_classify import run_notebook

        return run_notebook(run.model_config, run.train_config,
                            dict(run.info, split=split, seed=seed, status=run.status), ds)
    from nameclf.lab.notebook import data_spec
    from nameclf.lab.notebook_generate import generator_notebook

    spec = data_spec(ds, str(run.info.get("data", "")).removeprefix("upload:"))
    return generator_notebook(run.model_config, run.train_config, split, spec, seed), spec


def download_notebook(run_id: str, run, key: str) -> None:
    """A button that downloads a classifier or generator run as a plain-PyTorch notebook: a
    bare `.ipynb`, or a zip with the visitor's rows beside it. One line says why where a run
    cannot be exported."""
    from nameclf.lab.notebook import package

    ds, split, seed, note = run_data(run_id, run)
    if note:
        st.caption(f"To download {run_id} as a notebook, load the data it trained on.")
        return
    made = st.session_state.setdefault("notebooks", {})  # run id -> download, made once
    if run_id not in made:
        try:
            made[run_id] = package(*notebook_of(run, ds, split, seed))
        except NameclfError as err:
            made[run_id] = str(err)
        while len(made) > 3:  # a notebook holds its data: keep only the latest few
            made.pop(next(iter(made)))
    if isinstance(made[run_id], str):
        st.caption(plain(f"No notebook: {made[run_id]}."))
        return
    suffix, data = made[run_id]
    st.download_button("Download as a notebook", data, file_name=f"{run_id}{suffix}",
                       mime="application/zip" if suffix == ".zip" else "application/x-ipynb+json",
                       key=key, on_click="ignore", icon=":material/code:",
                       help="the run in plain PyTorch: its data, padding, model, training loop "
                            "and evaluation, without nameclf" + (
                                "; your file's rows go beside it in the zip"
                                if suffix == ".zip" else ""))


def checkpoint_uploader(key: str) -> None:
    """Load a `.safetensors` checkpoint into the visitor's runs; refuse foreign files."""
    file = st.file_uploader("Load a checkpoint (.safetensors)", type=["safetensors"], key=key)
    if file is None:
        return
    done = st.session_state.setdefault("loaded_checkpoints", {})
    if file.file_id in done:
        st.success(plain(f"Loaded {file.name} as {done[file.file_id]}."))
        return
    from nameclf.classify import checkpoint

    try:
        run = checkpoint.from_bytes(file.getvalue(), device())
    except CheckpointError as err:
        st.error(plain(f"{file.name}: {err}"))
        return
    stem = file.name.rsplit(".", 1)[0][:40] or "checkpoint"
    run_id = stem if stem not in runs() else f"{stem}-{len(done) + 1}"
    add_run(run_id, run)
    done[file.file_id] = run_id
    st.rerun()  # the page now has a run to show


def no_runs_pointer() -> None:
    """What to do when there is nothing to evaluate or predict with yet."""
    st.info("No trained model yet. Train one on the **Train** page (it takes seconds), "
            "or load a checkpoint you downloaded earlier below.")
    with contextlib.suppress(StreamlitAPIException):  # a page run alone (tests) has no pages
        st.page_link("pages/2_Train.py", label="Go to Train", icon=":material/model_training:")


def run_data(run_id: str, run: Run) -> tuple:
    """(dataset, split, seed, note) to evaluate a run on: its own data when known."""
    stored = st.session_state["run_data"].get(run_id)
    if stored is not None:
        return (*stored, "")
    source = str(run.info.get("dataset") or run.info.get("data") or "")
    split = run.info.get("split", "names")
    seed = int(run.info.get("seed", run.train_config.seed))
    if source in BUILTINS and is_downloaded(source):
        return builtin_dataset(source), split, seed, ""
    upload = st.session_state.get("upload")
    if upload and source == f"upload:{upload[0]}":
        return uploaded_dataset(), split, seed, ""
    note = (f"This run was trained on {source or 'unknown data'}, which is not loaded; it is "
            "evaluated on the current dataset's test split, which may overlap its training data.")
    return current_dataset(), split, seed, note


def evaluation(run_id: str, run: Run) -> tuple[Evaluation, str]:
    """The run's test-split evaluation, computed once per run and visitor."""
    from nameclf.ui.analysis import evaluate_run

    store = st.session_state.setdefault("evaluations", {})
    ds, split, seed, note = run_data(run_id, run)
    key = (run_id, id(run), len(ds), split, seed)  # cached datasets are copies: no id()
    if key not in store:
        with st.spinner("Scoring every test name…"):
            store.clear()  # keep only the latest: evaluations are cheap to redo
            store[key] = evaluate_run(run, ds, split, seed)
    return store[key], note


def settings_table(rows: list[dict]) -> None:
    """The Compare page's settings table, each column formatted as people read it."""
    from nameclf.ui import analysis

    shown = analysis.settings_shown(rows)
    text = st.column_config.TextColumn
    config = {c: text(alignment="right") for c in analysis.NUMERIC if c in shown.columns}
    config |= {c: text(width="medium") for c in ("run", "status", "dataset")}
    st.dataframe(shown, hide_index=True, key="compare_table", column_config=config)


def status_box(text: str, status: str) -> None:
    """How a run ended, coloured by it: completed, diverged (the last sane weights kept), or
    stopped / out of time (the model so far kept). Shared by classifier and generator runs."""
    if status == "completed":
        st.success(text)
    elif status.startswith("diverged"):
        st.error(text + ". The weights from before the last step are kept.")
    else:
        st.warning(text + ". The model so far is kept and usable.")


def queue_line(job, starting: str) -> None:
    """The progress bar of a job with nothing to report yet: its place in the server-wide
    training queue and the wait, or `starting` once its turn has come."""
    ahead = job.queue_position()
    st.progress(0.0, text=queue_text(ahead, job.expected_wait()) if ahead else starting)
