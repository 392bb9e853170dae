"""The Pitfalls page: cards drawn without a model, each switch measuring its bug on the
visitor's latest recurrent run, or on the lab's own small GRU when they have none."""

from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.classify.pipeline import fit, prepare
from nameclf.data.dataset import load_bytes
from nameclf.lab.pitfall_cards import CARDS
from tests.conftest import app, no_exception, tiny_names, use_tiny

PAGE = "pages/11_Pitfalls.py"


def headlines(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**")]


def open_cards(at, *keys: str):
    """Open these cards' expanders, as a click on their titles does."""
    for key in keys:
        at.session_state[f"pit_open_{key}"] = True
    return at.run()


def test_first_view_shows_every_cards_title_and_runs_no_model(tiny_bytes):
    at = use_tiny(app(PAGE), tiny_bytes).run()
    no_exception(at)
    assert [e.label for e in at.expander] == [c.title for c in CARDS] and len(CARDS) >= 8
    assert not at.toggle and not at.code and not at.table  # drawn once opened
    assert "pitfall_results" not in at.session_state  # nothing measured yet


def test_an_opened_card_shows_its_code_before_measuring(tiny_bytes):
    at = open_cards(use_tiny(app(PAGE), tiny_bytes).run(), "output_last")
    no_exception(at)
    card = CARDS[0]
    assert [c.value for c in at.code] == [card.wrong, card.right]
    assert len(at.toggle) == 1 and not at.toggle[0].value and not at.table
    assert "pitfall_results" not in at.session_state


def test_every_switch_measures_its_bug_on_the_labs_model(tiny_bytes):
    at = open_cards(use_tiny(app(PAGE), tiny_bytes).run(), *(c.key for c in CARDS))
    for card in CARDS:
        at.toggle(key=f"pit_{card.key}").set_value(True)
    at.run()
    no_exception(at)
    assert len(at.table) == len(CARDS)
    assert len(headlines(at)) == len(CARDS)
    assert any("the lab's own small GRU" in c.value for c in at.caption)
    codes = [c.value for c in at.code]
    assert any("'lengths' argument should be a 1D CPU int64 tensor" in c for c in codes)
    assert any("must match the size" in c for c in codes)  # total_length's real error
    first = at.table[0].value  # output[-1] against h_n: top-1 on these names, both ways
    assert list(first.columns) == ["", "with the bug", "with the fix"]
    assert "top-1 on these names" in first[""].tolist()


def test_switching_one_off_hides_its_measure_and_keeps_the_others(tiny_bytes):
    at = open_cards(use_tiny(app(PAGE), tiny_bytes).run(), "unsorted", "masked_mean")
    at.toggle(key="pit_unsorted").set_value(True)
    at.toggle(key="pit_masked_mean").set_value(True).run()
    assert len(at.table) == 2
    kept = dict(at.session_state["pitfall_results"])
    at.toggle(key="pit_unsorted").set_value(False).run()
    no_exception(at)
    assert len(at.table) == 1 and "too low" in headlines(at)[0]
    assert at.session_state["pitfall_results"] == kept  # the same numbers, not re-measured


def test_the_cards_read_the_visitors_latest_recurrent_run():
    raw = tiny_names()
    ds = load_bytes(raw, "tiny.txt")
    run = fit(prepare(ds, "names", seed=0), ModelConfig(cell="lstm", hidden_size=12),
              TrainConfig(steps=20, batch_size=16, eval_every=0))
    at = use_tiny(app(PAGE), raw)
    at.session_state["runs"] = {"run1-lstm": run}
    at.session_state["run_data"] = {"run1-lstm": (ds, "names", 0)}
    open_cards(at.run(), "output_last")
    at.toggle(key="pit_output_last").set_value(True).run()
    no_exception(at)
    assert any("your latest recurrent run, **run1\\-lstm** (lstm)" in c.value for c in at.caption)
    assert len(at.table) == 1
