"""The Pitfalls page: cards drawn without a model, each switch measuring its bug on the
visitor's latest recurrent run, or on the lab's own small GRU when they have none."""

import torch

from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.classify.pipeline import fit, prepare
from nameclf.data.dataset import load_bytes
from nameclf.lab.pitfall_cards import CARDS
from tests.conftest import app, no_exception, tiny_names, use_tiny
from tests.test_lazy_import import fresh

PAGE = "pages/11_Pitfalls.py"


def headlines(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**")]


def open_cards(at, *keys: str):
    """Open these cards' expanders, as a click on their titles does, and guess each one's
    effect (the switch opens only then): a wrong guess, that it changes only the speed (the
    speed card: that it changes the answers)."""
    for key in keys:
        at.session_state[f"pit_open_{key}"] = True
    at.run()
    for key in keys:
        guess = "answers" if key == "packing_speed" else "speed"
        at.radio(key=f"pit_guess_{key}").set_value(guess)
    return at.run()


def test_first_view_shows_every_cards_title_and_runs_no_model(tiny_bytes):
    at = use_tiny(app(PAGE), tiny_bytes).run()
    no_exception(at)
    assert [e.label for e in at.expander] == [c.title for c in CARDS] and len(CARDS) >= 8
    assert not at.toggle and not at.code and not at.table  # drawn once opened
    assert "pitfall_results" not in at.session_state  # nothing measured yet


def test_an_opened_card_asks_for_a_guess_before_it_measures(tiny_bytes):
    at = use_tiny(app(PAGE), tiny_bytes).run()
    at.session_state["pit_open_output_last"] = True
    at.run()
    no_exception(at)
    card = CARDS[0]
    assert [c.value for c in at.code] == [card.wrong, card.right]
    assert at.radio(key="pit_guess_output_last").value is None
    assert len(at.toggle) == 1 and at.toggle[0].disabled and not at.table
    at.radio(key="pit_guess_output_last").set_value("answers").run()
    assert not at.toggle[0].disabled and "pitfall_results" not in at.session_state
    at.toggle[0].set_value(True).run()
    assert len(at.table) == 1 and at.success[0].value.startswith("Right: it changes the answers")


def test_a_wrong_guess_is_told_why_it_was_tempting(tiny_bytes):
    at = open_cards(use_tiny(app(PAGE), tiny_bytes).run(), "masked_mean", "total_length")
    at.radio(key="pit_guess_masked_mean").set_value("answers")
    at.toggle(key="pit_masked_mean").set_value(True)
    at.toggle(key="pit_total_length").set_value(True).run()
    no_exception(at)
    said = [w.value for w in at.warning]
    assert said[0].startswith("Not quite: it changes a number (a state, a loss), not the "
                              "answers. Anything wrong in a batch seems bound")
    assert said[1].startswith("Not quite: it raises an error. Padding and packing are usually")


def test_every_switch_measures_its_bug_on_the_labs_model(tiny_bytes):
    at = open_cards(use_tiny(app(PAGE), tiny_bytes).run(), *(c.key for c in CARDS))
    for card in CARDS:
        at.toggle(key=f"pit_{card.key}").set_value(True)
    at.run()
    no_exception(at)
    assert len(at.table) == len(CARDS)
    assert len(headlines(at)) == len(CARDS)
    assert len(at.warning) + len(at.success) == len(CARDS)  # a word on every guess
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


def test_a_first_view_loads_no_torch_and_no_pandas():
    """The eleven titles are drawn before torch (about 2 s to import) or pandas is loaded."""
    got = fresh(f"""
import json, sys
from streamlit.testing.v1 import AppTest
from nameclf.device import cpu_only_build
at = AppTest.from_file({PAGE!r}, default_timeout=120).run()
print(json.dumps({{"torch": "torch" in sys.modules, "cpu_only": cpu_only_build(),
                  "pandas": "pandas" in sys.modules, "titles": len(at.expander),
                  "exceptions": [e.value for e in at.exception]}}))
""")
    assert got["exceptions"] == [] and got["titles"] == len(CARDS)
    assert not got["pandas"]
    if got["cpu_only"]:
        assert not got["torch"]


def test_an_uploads_lab_model_is_the_visitors_own(tiny_bytes):
    """Two visitors with uploads of the same size get models trained on their own names."""
    import random

    from tests.conftest import SUFFIXES

    first = open_cards(use_tiny(app(PAGE), tiny_bytes).run(), "output_last")
    first.toggle(key="pit_output_last").set_value(True).run()
    rows = [line.split(", ") for line in tiny_bytes.decode().splitlines()]
    random.Random(1).shuffle(rows)  # the same names, other labels: another dataset
    labels = sorted(SUFFIXES)
    other = "\n".join(f"{n}, {labels[i % 3]}" for i, (n, _) in enumerate(rows)).encode()
    second = open_cards(use_tiny(app(PAGE), other).run(), "output_last")
    second.toggle(key="pit_output_last").set_value(True).run()
    no_exception(first)
    no_exception(second)
    a, b = (at.session_state["pitfall_lab_run"][1] for at in (first, second))
    assert a is not b
    assert not all(torch.equal(p, q) for p, q in zip(a.model.parameters(),
                                                     b.model.parameters(), strict=True))


def test_a_builtin_datasets_lab_model_is_trained_once_for_everyone():
    sessions = []
    for _ in range(2):
        at = open_cards(app(PAGE).run(), "unsorted")
        at.toggle(key="pit_unsorted").set_value(True).run()
        no_exception(at)
        assert any("the lab's own small GRU" in c.value for c in at.caption)
        assert "pitfall_lab_run" not in at.session_state  # not the visitor's: shared
        sessions.append(next(iter(at.session_state["pitfall_results"])))
    assert sessions[0][0] == sessions[1][0]  # id() of the same model, measured by both
