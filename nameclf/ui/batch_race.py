"""The batch-size race's widgets and views (the Batch size & gradients page's second half),
as functions a lesson chapter can call: `race_settings`, `start_race`, `show_race`. Its job,
progress and Stop are `nameclf.ui.gradients`' (one job per visitor)."""

from __future__ import annotations

import streamlit as st

from nameclf.charts import gradnoise as gc
from nameclf.charts.figures import CHART_CONFIG
from nameclf.classify.presets import DEFAULT_PRESET
from nameclf.errors import ConfigError, NameclfError
from nameclf.lab.batch_race import BATCH_SIZES, BatchRaceConfig, rule_text
from nameclf.lab.jobs import BatchSizeRace
from nameclf.ui.cache import THREADS_PER_JOB, current_prepared, own
from nameclf.ui.engines import engine_for
from nameclf.ui.gradients import KEY_ERROR, KEY_JOB

RACE_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)



def race_settings(key: str = "br") -> bool:
    """The race's batch sizes and limits as widgets; False (and a line) when none is chosen."""
    c1, c2 = st.columns([2, 1])
    sizes = c1.multiselect("Batch sizes", RACE_SIZES, list(BATCH_SIZES), key=f"{key}_sizes")
    c2.select_slider("Seconds per batch size at most", (10, 20, 30, 45, 60), 30,
                     key=f"{key}_seconds")
    if not sizes:
        st.info("Choose at least one batch size to race.")
    return bool(sizes)


def race_config(key: str = "br") -> BatchRaceConfig:
    """The race the widgets describe now (read at the click, not at the last draw)."""
    state = st.session_state
    sizes = tuple(sorted(state.get(f"{key}_sizes", BATCH_SIZES)))
    if not sizes:
        raise ConfigError("choose at least one batch size")
    return BatchRaceConfig(batch_sizes=sizes, lane_seconds=float(state.get(f"{key}_seconds", 30)))


def start_race(key: str = "br") -> None:
    """Start the race job (a button callback: errors become one line)."""
    try:
        _start_race(race_config(key))
    except Exception as err:
        st.session_state[KEY_ERROR] = "The batch-size race did not start: " + (
            str(err) if isinstance(err, NameclfError) else f"{type(err).__name__}: {err}")


def _start_race(cfg: BatchRaceConfig) -> None:
    from dataclasses import replace

    from nameclf.classify.presets import preset

    model_cfg, train_cfg, split = preset(DEFAULT_PRESET)
    prep = current_prepared(split, cfg.seed, "cpu")
    model_cfg = replace(model_cfg, vocab_size=len(prep.vocab), n_classes=len(prep.classes))

    expected = 8.0 + len(cfg.batch_sizes) * cfg.lane_seconds
    engine, where = engine_for(st.session_state.get("dataset_source") == "upload")
    work = BatchSizeRace(model_cfg, train_cfg, prep.train, prep.test, cfg, THREADS_PER_JOB)
    st.session_state[KEY_JOB] = {"job": own(engine.run(work, "batch-size race", expected)),
                                 "kind": "race", "where": where}


def show_race(result: dict, key: str = "br") -> None:
    """The race's curves, steps to target, its table, and what they say."""
    st.caption(f"Target held-out loss **{result['target_loss']:.3f}** "
               f"({result['target_from']}). Learning rate: {result['rule']}.")
    c1, c2 = st.columns(2)
    c1.plotly_chart(gc.race_curves(result, "examples"), key=f"{key}_ex", config=CHART_CONFIG)
    c2.plotly_chart(gc.race_curves(result, "seconds"), key=f"{key}_s", config=CHART_CONFIG)
    if any(lane["reached"] for lane in result["lanes"]):
        st.plotly_chart(gc.steps_figure(result), key=f"{key}_steps", config=CHART_CONFIG)
    else:
        st.info("No batch size reached the target within its limits, so there are no steps "
                "to compare: give each batch size more seconds, or train on a smaller file.")
    for line in race_lines(result):
        st.markdown(line)
    st.dataframe(gc.race_rows(result), hide_index=True, key=f"{key}_table")
    for note in result["notes"]:
        st.caption(note[:1].upper() + note[1:].rstrip(".") + ".")


def race_lines(result: dict) -> list[str]:
    """What this race showed, read off its own numbers."""
    hit = [lane for lane in result["lanes"] if lane["reached"]]
    lines = []
    for small, big in zip(hit, hit[1:], strict=False):
        steps = small["steps_to_target"] / big["steps_to_target"]
        grow = big["batch_size"] / small["batch_size"]
        secs = small["seconds_to_target"] / max(big["seconds_to_target"], 1e-9)
        lines.append(f"B {small['batch_size']} → {big['batch_size']} ({grow:.0f}× the batch): "
                     f"**{steps:.1f}×** fewer steps, **{secs:.1f}×** "
                     f"{'less' if secs >= 1 else 'more'} time to the target"
                     + (" — perfect scaling" if steps >= 0.8 * grow else
                        " — diminishing returns" if steps > 1.05 else " — no fewer steps"))
    missed = [str(lane["batch_size"]) for lane in result["lanes"] if not lane["reached"]]
    if missed:
        lines.append(f"Not reached: B = {', '.join(missed)} (within {result['max_examples']:,} "
                     f"names or {result['lane_seconds']:.0f} s).")
    return lines


def race_intro() -> str:
    return (f"The same model from the same first weights, trained at each batch size until its "
            f"held-out loss reaches a target. {rule_text(BatchRaceConfig())}.")
