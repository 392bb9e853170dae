"""The Train page's URL settings: parsing is safe, the round trip is exact."""

import math

from nameclf.classify.presets import preset
from nameclf.ui import params


def test_defaults_are_the_fast_preset_and_build_configs():
    values = params.defaults()
    assert values["preset"] == "fast" and values["cell"] == "gru"
    model, train, split = params.configs(values, n_train=1000)
    assert (model.cell, model.embedding_dim, split) == ("gru", 32, "names")
    assert train.steps == 0 and train.epochs == 5.0
    assert train.eval_every >= 10


def test_round_trip_through_the_query_string():
    values = params.from_preset("seed-rnn", params.defaults())
    values.update(hidden=64, lr=0.02, bidir=True, seed=7, dropout=0.25)
    parsed, notes = params.parse(params.to_query(values))
    assert notes == []
    assert parsed == values


def test_hostile_values_are_clamped_snapped_or_ignored_with_notes():
    query = {"hidden": "100000", "lr": "0.0047", "layers": "-3", "cell": "transformer",
             "steps": "nan", "bidir": "maybe", "epochs": "1e9", "preset": "evil",
             "device": "cuda", "seed": "x" * 500, "unknown": "1"}
    values, notes = params.parse(query, devices=("cpu",))
    assert values["hidden"] == 512 and values["lr"] == 0.005 and values["layers"] == 1
    assert values["cell"] == "gru" and values["bidir"] is False and values["epochs"] == 50.0
    assert values["device"] == "cpu" and values["seed"] == 0
    assert math.isfinite(values["steps"])
    text = " ".join(notes)
    for key in ("hidden", "lr", "layers", "cell", "steps", "bidir", "epochs", "evil", "device"):
        assert key in text


def test_padded_batching_with_a_bidirectional_model_is_explained():
    values = dict(params.defaults(), batching="padded", bidir=True)
    assert "bidirectional" in params.problem(values)
    assert params.problem(dict(values, bidir=False)) == ""


def test_the_ngram_baseline_is_a_cell_choice_that_ignores_recurrent_problems():
    parsed, notes = params.parse({"cell": "ngram", "batching": "padded", "bidir": "1"})
    assert notes == [] and parsed["cell"] == "ngram"
    assert params.parse(params.to_query(parsed))[0] == parsed
    assert params.problem(parsed) == ""  # padded + bidirectional means nothing to n-grams
    model, _, _ = params.configs(parsed, n_train=100)
    assert model.cell == "ngram"


def test_every_preset_survives_the_train_pages_widgets_unchanged():
    from dataclasses import replace

    from nameclf.classify.presets import PRESETS

    for name in PRESETS:
        values = params.from_preset(name, params.defaults())
        parsed, notes = params.parse(params.to_query(values))
        assert notes == [], name  # every preset value is one the widgets offer
        model, train, split = params.configs(parsed)
        want_model, want_train, want_split = preset(name)
        assert model == want_model, name
        assert replace(train, eval_every=0) == replace(want_train, eval_every=0), name
        assert split == want_split, name


def test_the_mix_weight_is_clamped_and_becomes_the_ngram_weight():
    values, notes = params.parse({"mix": "5"})
    assert values["mix"] == 0.9 and notes == ["mix=5 adjusted to 0.9"]
    values, notes = params.parse({"mix": "-1e9"})
    assert values["mix"] == 0.0 and "mix" in notes[0]
    model, _, _ = params.configs(dict(values, mix=0.25))
    assert model.ngram_weight == 0.25 and model.kind == "gru+ngram"
    model, _, _ = params.configs(dict(values, mix=0.25, cell="ngram"))
    assert model.ngram_weight == 0.0 and model.kind == "ngram"  # the baseline mixes in nothing
    best = preset("best")[0]
    assert params.from_preset("best")["mix"] == best.ngram_weight > 0
    assert params.defaults()["mix"] == 0.0


def test_word_frequencies_reach_only_a_model_with_an_ngram_part():
    values, notes = params.parse({"lexicon": "1"})
    assert notes == [] and values["lexicon"] is True
    for cell, mix, reads in [("gru", 0.0, False), ("gru", 0.3, True), ("ngram", 0.0, True),
                             ("ngram", 0.3, True)]:
        model, _, _ = params.configs(dict(values, cell=cell, mix=mix))
        assert model.lexicon is reads, (cell, mix)
    off, _, _ = params.configs(dict(values, lexicon=False, cell="ngram"))
    assert off.lexicon is False
    assert params.from_preset("best")["lexicon"] is True and params.defaults()["lexicon"] is False
    assert params.parse({"lexicon": "maybe"})[1] == ["lexicon='maybe' ignored (not true or false); "
                                                     "kept False"]


def test_the_apps_estimates_cap_fast_on_a_big_file_as_training_does(monkeypatch):
    """`fast` trains 5 epochs or max_names names, whichever is fewer: the evaluation interval
    and the queue's expected seconds count the capped steps, not 5 epochs of a big file."""
    from nameclf.classify.config import total_steps
    from nameclf.ui import estimates

    values = params.defaults()
    model, train, _ = params.configs(values, n_train=1_000_000)
    capped = total_steps(1_000_000, train.batch_size, train.steps, train.epochs,
                         train.max_names)
    assert train.max_names and capped == math.ceil(train.max_names / train.batch_size)
    assert train.eval_every == max(10, min(100, capped // 15))
    monkeypatch.setattr(estimates, "training_speeds", lambda: {"any": 1000.0})
    seconds = estimates.expected_seconds([model], train, 1_000_000)
    assert seconds == 1.1 * capped * train.batch_size / 1000.0
