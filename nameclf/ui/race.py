"""Widgets, background job and live progress of the Speed race page.

A race is training too: its job takes a slot from the same server-wide queue as the Train and
Compare pages (`nameclf.ui.cache.training_slots`), so a race never trains alongside the
server's other trainings on the cores they were given; while it waits, the visitor sees their
place in the queue and about how long that is.
"""

import time

import streamlit as st

from nameclf.charts import race as rp
from nameclf.charts.figures import CHART_CONFIG
from nameclf.classify.config import ModelConfig
from nameclf.data.dataset import NameDataset
from nameclf.errors import NameclfError
from nameclf.lab.jobs import SpeedRace
from nameclf.lab.race import RaceConfig, contestants
from nameclf.ui.cache import THREADS_PER_JOB, devices, own
from nameclf.ui.engines import engine_for, on_cluster
from nameclf.ui.views import dataset_key, queue_line

KEY_JOB = "race_job"  # {"job": Job, "setup": dict, "seconds": float} while a race runs
CELLS = ("rnn", "lstm", "gru")  # the tutorial's RNN first
HIDDEN = (16, 32, 64, 128, 256, 512)
EMBEDDING_DIM = 32
WARM_UP_S = 1.0  # per contestant, on top of its seconds: building the model, a first step
# the tutorial's setup (RNN, one-hot, hidden 128, one batch of all N names); N = 512, the
# tutorial's batch, showed the effect best on a 2-core CPU (docs/batching.md)
DEFAULT_NAMES = 512
ON_CLUSTER = ("Racing on a worker of the shared training cluster (one CPU of it), so the "
              "speeds are that worker's, not this server's.")


def race_form() -> dict:
    """The race settings chosen by the visitor. Radios, not select boxes, for the device and
    the cell (as on Train): a select box's code is the largest the first view would load."""
    c1, c2, c3 = st.columns(3)
    setup = {
        "device": c1.radio("Device", devices(), horizontal=True, key="race_device"),
        "names": int(c1.number_input("Names N (the same for every contestant)", 8, 4096,
                                     DEFAULT_NAMES, step=64, key="race_n")),
        "batch": int(c2.number_input("Batch size (N or more: one batch of all N names)", 1,
                                     4096, DEFAULT_NAMES, step=64, key="race_batch")),
        "seconds": float(c2.slider("Seconds per contestant", 0.5, 10.0, 2.0, 0.5,
                                   key="race_seconds")),
        "cell": c3.radio("Cell", CELLS, horizontal=True, key="race_cell"),
        "hidden": int(c3.select_slider("Hidden size", HIDDEN, 128, key="race_hidden")),
        "input": c3.radio("Input", ("one-hot", "embedding"), horizontal=True, key="race_input"),
    }
    setup["batch"] = min(setup["batch"], setup["names"])
    return setup


def intro(setup: dict) -> str:
    """The page's opening line for these settings: it names every bar the race draws."""
    model_cfg = ModelConfig(cell=setup["cell"], vocab_size=3, n_classes=2,
                            hidden_size=setup["hidden"])
    return rp.intro(contestants(model_cfg, setup["device"]))


def start(ds: NameDataset, setup: dict) -> None:
    """Encode the names and start the race in a background thread (a button callback)."""
    try:
        _start(ds, setup)
    except Exception as err:  # a callback runs outside the page's guard: never a traceback
        st.session_state["race_error"] = (str(err) if isinstance(err, NameclfError) else
                                          f"{type(err).__name__}: {err}")


def _start(ds: NameDataset, setup: dict) -> None:
    enc, vocab_size, n_classes = rp.race_data(ds, setup["names"], setup["device"])
    model_cfg = ModelConfig(cell=setup["cell"], vocab_size=vocab_size, n_classes=n_classes,
                            hidden_size=setup["hidden"],
                            embedding_dim=EMBEDDING_DIM if setup["input"] == "embedding" else 0)
    cfg = RaceConfig(n_names=setup["names"], batch_size=setup["batch"],
                     seconds=setup["seconds"])

    racing = contestants(model_cfg, enc.idx.device)
    expected = len(racing) * (setup["seconds"] + WARM_UP_S)
    engine, where = engine_for(st.session_state.get("dataset_source") == "upload")
    if on_cluster(engine):  # its speeds are a worker's, not this server's
        where = ON_CLUSTER
    job = engine.run(SpeedRace(model_cfg, enc, cfg, THREADS_PER_JOB), "race", expected)
    # the race's batches hold these names, min(batch, N) at a time, in a random order
    skipped = rp.padding_waste(enc.lengths.tolist(), min(setup["batch"], setup["names"]))
    st.session_state[KEY_JOB] = {"job": own(job), "setup": setup,
                                 "turns": len(racing) * cfg.rounds,
                                 "turn_seconds": setup["seconds"] / cfg.rounds,
                                 "skipped": skipped, "where": where}


def row_setup(entry: dict) -> dict:
    """A race's settings as its results row shows them: the title and the table say whose
    CPU raced (a cluster worker's, when it ran there)."""
    setup = dict(entry["setup"])
    if entry.get("where") == ON_CLUSTER:
        setup["device"] = f"{setup['device']} of a cluster worker"
    return setup


def running() -> bool:
    return st.session_state.get(KEY_JOB) is not None


def finish() -> None:
    """Move a finished race into the session's results table (once)."""
    entry = st.session_state.get(KEY_JOB)
    if entry is None or not entry["job"].done:
        return
    job = entry["job"]
    st.session_state[KEY_JOB] = None
    if job.error:
        st.session_state["race_error"] = job.error
        return
    results = st.session_state["race_results"]
    status = "stopped" if job.stop_event.is_set() else "completed"
    speeds = job.result or {}
    if speeds:
        results.append(rp.result_row(len(results) + 1, speeds, row_setup(entry), status,
                                     entry["skipped"]))
    else:
        st.session_state["race_error"] = "The race was stopped before any contestant finished."


@st.fragment(run_every=0.5)
def live() -> None:
    """Progress of the running race, polled twice a second; reruns the page when it ends."""
    entry = st.session_state.get(KEY_JOB)
    if entry is None:
        return
    job = entry["job"]
    if job.done:
        st.rerun()
    if job.running_since is None:  # still in the server-wide queue (or just leaving it)
        queue_line(job, "Starting the race…")
    else:
        fraction, text = rp.progress(job.snapshot(), entry["turns"], entry["turn_seconds"],
                                     time.time(), job.running_since)
        st.progress(fraction, text=f"Racing… {text}")
    if entry.get("where"):
        st.caption(entry["where"])
    st.button("Stop the race", key="race_stop", on_click=job.stop)


def results() -> None:
    """The latest race as a bar chart and ratios, and every race of the session as a table."""
    rows = st.session_state["race_results"]
    if not rows:
        if not running():  # while the first race runs, its progress bar says what happens
            st.info("No race yet: choose the settings and press **Start the race**.")
        return
    last = rows[-1]
    speeds = rp.row_speeds(last)
    keys = ("padded ÷ per-sample", "packed ÷ per-sample", "packed ÷ padded",
            "packed ÷ PyTorch's cell")
    for col, key in zip(st.columns(len(keys)), keys, strict=True):
        value = last.get(key)
        col.metric(key, "—" if value is None else f"{value:.1f}×")
    title = (f"Race {last['race']}: {last['cell'].upper()} {last['hidden']}, {last['input']}, "
             f"{last['names']} names, batch {last['batch']} on {last['device']}")
    st.plotly_chart(rp.speed_figure(speeds, title), key="race_chart", config=CHART_CONFIG)
    if why := rp.verdict(speeds, last.get("<pad> share")):
        st.markdown(why)
    st.caption(f"The PyTorch tutorial reports batched training about {rp.TUTORIAL_SPEEDUP}× "
               "faster than one name at a time; your numbers depend on the device, the model "
               "size and the batch size. On a CPU, *packed* runs nameclf's hand-written cells "
               "and *packed, PyTorch's cell* the same batches through `nn.RNN`/`LSTM`/`GRU`: "
               "same weights and maths, only the speed differs (docs/batching.md).")
    st.subheader("Every race of this session")
    import pandas as pd  # here, not with the page: a first visit has no race to tabulate

    number = st.column_config.NumberColumn
    config = {c: number(format="%.1f") for c in rows[-1] if "÷" in c}
    config |= {c: number(format="localized") for c in rows[-1] if "names/s" in c}
    config["<pad> share"] = number(format="percent")
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="race_table", column_config=config)


@st.cache_data(max_entries=8, show_spinner=False)
def waste_table(key: str, _ds: NameDataset) -> dict[str, list]:
    """Padding waste of the dataset's length distribution at several batch sizes (columns)."""
    return rp.waste_columns([len(n) for n in _ds.names])


def waste(ds: NameDataset, batch: int) -> None:
    """What padding wastes on this dataset's real lengths, and packing doesn't."""
    table = waste_table(dataset_key(ds), ds)
    if batch in table["batch size"]:  # the default and the usual sizes: already computed
        at = table["batch size"].index(batch)
        chosen = {column: values[at] for column, values in table.items()}
    else:
        chosen = {column: values[0] for column, values
                  in rp.waste_columns([len(n) for n in ds.names], (batch,)).items()}
    st.markdown(f"With random batches of **{batch}** names from this dataset, a padded batch "
                f"spends **{chosen['padded, random batches']:.0%}** of its recurrent compute on "
                f"`<pad>`; sorting by length first cuts that to "
                f"**{chosen['padded, length-sorted batches']:.0%}**, and packing to 0.")
    st.html(rp.waste_chart(table, batch))
