"""Start/Stop controls and the live progress panel of a visitor's training job."""

import contextlib
import time

import streamlit as st
from streamlit.errors import StreamlitAPIException

from nameclf.ui import sharing
from nameclf.ui.state import runs
from nameclf.ui.training import Live, collect, current_job, generator_busy, is_running
from nameclf.ui.views import (
    download_checkpoint,
    download_notebook,
    fit_line,
    guarded,
    is_mixture,
    is_ngram,
    metric_row,
    mix_line,
    queue_line,
    status_message,
)

POLL_SECONDS = 0.5  # how often the panel re-reads the job's progress while it runs ...
MAX_POLL_SECONDS = 3.0  # ... at the most: with many visitors watching, less often
POLLS_PER_SECOND = 8  # the server-wide rate of panel reruns that stays within that range


def poll_seconds() -> float:
    """How often a live panel polls: every POLL_SECONDS for a few visitors, less often for a
    class (20 panels redrawing two charts twice a second kept the GIL from the training)."""
    from nameclf.ui.cache import training_slots

    running, waiting = training_slots().load()
    pollers = sharing.shared_runs().watchers() + running + waiting
    return min(MAX_POLL_SECONDS, max(POLL_SECONDS, pollers / POLLS_PER_SECOND))


def _job_of(kind: str):
    """The visitor's job if it is of this kind (train or compare), else None."""
    job = current_job()
    meta = getattr(job, "meta", None)
    return job if meta is not None and meta.kind == kind else None


def controls(start_label: str, on_start, problem: str = "", key: str = "train") -> None:
    """Start and Stop buttons; Start is disabled while any job of this visitor runs (their
    generator on Generate included: one job per visitor)."""
    running = is_running()
    busy = generator_busy()
    if problem:
        st.error(problem)
    if busy:
        st.info(busy)
    row = st.container(horizontal=True)
    clicked = row.button(start_label, key=f"{key}_start", type="primary",
                          disabled=running or bool(problem) or bool(busy),
                          icon=":material/play_arrow:")
    if clicked and not is_running():  # a double click must never start a second trainer
        on_start()
        st.rerun()
    row.button("Stop", key=f"{key}_stop", disabled=not running, on_click=_stop,
                 icon=":material/stop:")
    if running and _job_of(key) is None:
        st.info("Another job of yours is running (on another page); Stop it or wait.")


def _stop() -> None:
    job = current_job()
    if job is not None:
        job.stop()


def _which(model: int, labels: list[str]) -> str:
    return f"{labels[model]} ({model + 1}/{len(labels)}) · " if len(labels) > 1 else ""


def _share(model: int, fraction: float, n_models: int) -> float:
    """How much of the whole job is done: the models before this one, and this one's part."""
    return min(1.0, (model + min(1.0, fraction)) / n_models)


def _whole(share: float, labels: list[str]) -> str:
    """` · 27% of the whole job` for a job of several models (as the bar rounds it), else ''."""
    return f" · {int(share * 100)}% of the whole job" if len(labels) > 1 else ""


def _progress_line(tick, labels: list[str]) -> None:
    """st.progress with step, speed and time left; never "0 s left" while work goes on.

    The bar is the whole job's share done (models finished, and this one's steps); in a job of
    several models the text says so in words too, and the time left is this model's."""
    p = tick.progress
    label, which = labels[tick.model], _which(tick.model, labels)
    share = _share(tick.model, p.step / max(1, p.total_steps), len(labels))
    whole = _whole(share, labels)
    this = " for this model" if len(labels) > 1 else ""
    left = f"about {p.eta:,.0f} s left{this}" if p.eta >= 1 else f"under a second left{this}"
    text = (f"{which}step {p.step:,}/{p.total_steps:,} · {p.names_per_second:,.0f} names/s · "
            f"{left}{whole}")
    if label.endswith("+ngram") and p.step >= p.total_steps:  # a mixture's second part
        text = f"{which}step {p.step:,}/{p.total_steps:,} · fitting the n-gram model to mix in…"
    elif p.step >= p.total_steps:  # the last step is done: the test names are next
        text = (f"{which}step {p.step:,}/{p.total_steps:,} · measuring it on the test "
                f"names…{whole}")
    st.progress(share, text=text)


def _phase_line(phase, labels: list[str]) -> None:
    """A model has started and reported no step yet (an n-gram fit reports none until done)."""
    seconds = time.monotonic() - phase.started
    share = _share(phase.model, 0.0, len(labels))
    whole = _whole(share, labels)
    if labels[phase.model] == "ngram":
        text = (f"{_which(phase.model, labels)}fitting the n-gram baseline in one go (it has no "
                f"steps to count){whole} · {seconds:,.0f} s so far…")
    else:
        text = (f"{_which(phase.model, labels)}starting… (the first step includes warming "
                f"up){whole}")
    st.progress(share, text=text)


def _panel(kind: str) -> None:
    job = _job_of(kind)
    if job is None:
        return
    if job.done and not job.meta.collected:
        collect()
        st.rerun()  # the whole page: buttons, history and final metrics change
    if job.done:
        return
    live = Live(job.snapshot())
    labels = job.meta.models
    if job.meta.shared == "joined":
        st.info(job.meta.note)
    elif job.meta.note:  # an upload trains on this server, not on the cluster
        st.caption(job.meta.note)
    if watching := sharing.watching_text(job):
        st.caption(watching)
    tick, phase = live.latest(), live.phase()
    if tick is None and phase is None:
        queue_line(job, "Fitting the n-gram baseline in one go…" if labels[0] == "ngram"
                   else "Starting… (the first step includes warming up)")
        return
    if phase is not None:
        _phase_line(phase, labels)
    else:
        _progress_line(tick, labels)
    if tick is None:
        return
    from nameclf.charts import (
        figures as plots,  # plotly and pandas: only once there is a curve to draw
    )

    if kind == "train":
        hist = live.history(0)
        left, right = st.columns(2)
        left.plotly_chart(plots.loss_curve(hist), key="live_loss", config=plots.CHART_CONFIG)
        noisy_loss_link(left)
        right.plotly_chart(plots.accuracy_curve(hist), key="live_acc", config=plots.CHART_CONFIG)
    else:
        hists = {labels[i]: live.history(i) for i in range(tick.model + 1)}
        left, right = st.columns(2)
        left.plotly_chart(plots.compare_curves(hists, "loss"), key="live_cmp_loss",
                          config=plots.CHART_CONFIG)
        right.plotly_chart(plots.compare_curves(hists, "top1"), key="live_cmp_acc",
                           config=plots.CHART_CONFIG)


def live_panel(kind: str) -> None:
    """Progress of the visitor's job, re-read every poll_seconds() while it runs."""
    running = _job_of(kind) is not None and is_running()
    # Its own container: a late tick of the fragment (after the job ended and the page
    # reran) then only touches this block, never the results drawn after it.
    with st.container():
        st.fragment(run_every=poll_seconds() if running else None)(_safe_panel)(kind)


def _safe_panel(kind: str) -> None:
    guarded(_panel, kind)  # a fragment rerun is outside the page's own guard


def finished(kind: str) -> list[str]:
    """Run ids of the visitor's last finished job of this kind, in training order."""
    meta = st.session_state.get(f"last_{kind}_job")
    if meta is None or (_job_of(kind) is not None and is_running()):
        return []  # nothing yet, or a newer job of this kind is under way
    if meta.shared == "given":
        st.info(meta.note)
    elif meta.shared == "joined":
        st.info(sharing.DETACHED if meta.stopped else sharing.JOINED_DONE)
    if meta.error and meta.stopped and not meta.run_ids:
        st.info(f"Nothing was trained: {meta.error}.")
    elif meta.error:
        st.error(f"Training failed: {meta.error}")
    if meta.empty:
        labels = ", ".join(f"**{rid}**" for rid in meta.empty)
        st.info(f"Stopped before {labels} learned anything, so nothing of it was kept.")
    if meta.untrained:
        labels = ", ".join(f"**{rid}**" for rid in meta.untrained)
        verb = "was" if len(meta.untrained) == 1 else "were"
        st.info(f"Stopped before {labels} started, so {verb} not trained.")
    return [rid for rid in meta.run_ids if rid in runs()]


GRADIENTS_PAGE = "pages/10_Batch_size_and_gradients.py"


def noisy_loss_link(where) -> None:
    """Under a loss-per-step chart: why it is noisy, and where that is measured."""
    where.caption("Why the thin line is noisy: each step's loss and gradient come from one "
                  "batch of names, not all of them.")
    with contextlib.suppress(StreamlitAPIException):  # a page run alone (tests) has no pages
        where.page_link(GRADIENTS_PAGE, label="How a batch's size sets that noise",
                        icon=":material/ssid_chart:")


def run_result(run_id: str) -> None:
    """How a run ended, its final metrics, curves and a checkpoint download."""
    run = runs()[run_id]
    status_message(run_id, run)
    metric_row(run.metrics)
    st.caption(f"{fit_line(run)} · {run.info.get('n_params', 0):,} parameters")
    if line := mix_line(run):
        st.caption(line)
    if run.history.get("step") and not is_ngram(run):  # one point: the fit has no curve
        from nameclf.charts import figures as plots

        left, right = st.columns(2)
        left.plotly_chart(plots.loss_curve(run.history), key=f"loss_{run_id}",
                          config=plots.CHART_CONFIG)
        noisy_loss_link(left)
        mixed = (run.metrics.get("top1"), run.metrics.get("top2")) if is_mixture(run) else None
        right.plotly_chart(plots.accuracy_curve(run.history, mixed=mixed), key=f"acc_{run_id}",
                           config=plots.CHART_CONFIG)
    with st.container(horizontal=True):  # the two downloads side by side
        download_checkpoint(run_id, run, key=f"dl_{run_id}")
        download_notebook(run_id, run, key=f"nb_{run_id}")
