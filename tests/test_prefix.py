"""Predictions after each character: one pass must equal running every prefix on its own."""

import itertools
import json

import pytest
import torch
from helpers import cli_ngram_run, synthetic_dataset, untrained_run

from nameclf.batching.encoding import encode_batch
from nameclf.classify.checkpoint import save
from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.classify.model import CELLS
from nameclf.classify.pipeline import fit, predict, prepare
from nameclf.classify.prefix import prefix_note, prefix_predictions, stepwise_log_probs
from nameclf.cli import main
from nameclf.errors import ConfigError

NAME = "Kqlmorstvz"  # mixes every synthetic alphabet, so the answer moves as it is read


def alone(run, prefix: str) -> torch.Tensor:
    """Probabilities (C,) of one prefix run by itself through the model's forward."""
    idx, lengths = encode_batch([prefix], run.vocab)  # (T, 1), (1,)
    return run.model(idx, lengths)[0].exp()


def as_dict(top: list[tuple[str, float]]) -> dict[str, float]:
    return dict(top)


@pytest.mark.parametrize("cell, num_layers, embedding_dim",
                         list(itertools.product(CELLS, (1, 2), (0, 4))))
def test_one_pass_equals_each_prefix_alone(cell, num_layers, embedding_dim):
    run = untrained_run(seed=1, cell=cell, num_layers=num_layers, embedding_dim=embedding_dim,
                        hidden_size=6, dropout=0.5)
    run.model.train()  # dropout on: prefix_predictions must switch it off, then restore it
    steps = prefix_predictions(run, NAME, k=len(run.classes))
    assert run.model.training
    run.model.eval()
    assert [p for p, _ in steps] == [NAME[:t] for t in range(1, len(NAME) + 1)]
    for prefix, top in steps:
        expected = alone(run, prefix)
        got = torch.tensor([as_dict(top)[c] for c in run.classes])
        assert torch.allclose(got, expected, atol=1e-6), prefix
        assert [p for _, p in top] == sorted((p for _, p in top), reverse=True)
    idx, _ = encode_batch([NAME], run.vocab)
    assert stepwise_log_probs(run.model, idx).shape == (len(NAME), len(run.classes))
    assert prefix_note(run).startswith("one pass")


@pytest.mark.parametrize("cell", list(CELLS))
def test_bidirectional_models_rerun_each_prefix(cell):
    run = untrained_run(seed=2, cell=cell, bidirectional=True, hidden_size=6)
    steps = prefix_predictions(run, NAME, k=len(run.classes))
    for prefix, top in steps:
        got = torch.tensor([as_dict(top)[c] for c in run.classes])
        assert torch.allclose(got, alone(run, prefix), atol=1e-6), prefix
    assert "backward direction" in prefix_note(run)
    idx, _ = encode_batch([NAME], run.vocab)
    with pytest.raises(ConfigError, match="one-directional"):
        stepwise_log_probs(run.model, idx)


@pytest.mark.parametrize("model_cfg, note", [
    (ModelConfig(cell="ngram"), "the n-gram model has no state"),
    (ModelConfig(cell="gru", embedding_dim=4, hidden_size=8, ngram_weight=0.3),
     "the mixed-in n-gram model has no state"),
])
def test_ngram_and_mixture_prefixes_equal_predicting_each_prefix(model_cfg, note):
    run = fit(prepare(synthetic_dataset()), model_cfg, TrainConfig(steps=8, batch_size=16))
    steps = prefix_predictions(run, NAME, k=2)
    expected = predict(run, [NAME[:t] for t in range(1, len(NAME) + 1)], k=2)
    for (prefix, top), pred in zip(steps, expected, strict=True):
        assert prefix == pred.normalized
        assert [label for label, _ in top] == [label for label, _ in pred.top]
        assert [p for _, p in top] == pytest.approx([p for _, p in pred.top], abs=1e-6)
    assert note in prefix_note(run)


def test_names_are_cleaned_and_the_full_name_comes_last():
    run = untrained_run(cell="lstm")
    steps = prefix_predictions(run, "  Kq   x ", k=2)
    assert [p for p, _ in steps] == ["K", "Kq", "Kq ", "Kq x"]
    assert all(len(top) == 2 for _, top in steps)
    last = predict(run, "Kq x", k=2)[0].top
    assert [label for label, _ in steps[-1][1]] == [label for label, _ in last]
    assert prefix_predictions(run, "   ") == []
    assert len(prefix_predictions(run, "Kq€", k=99)[-1][1]) == len(run.classes)  # k is capped


def test_cli_predict_steps_prints_a_table_and_json(tmp_path, capsys):
    run = untrained_run(cell="gru")
    ckpt = str(save(run, tmp_path / "model.safetensors"))
    assert main(["predict", "--checkpoint", ckpt, "Kqx", "--steps"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0] == "Kqx:" and [line.split()[0] for line in lines[1:]] == ["K", "Kq", "Kqx"]
    assert all(line.count("%") == 3 for line in lines[1:]) and "one pass" in captured.err
    assert main(["predict", "--checkpoint", ckpt, "Kqx", "", "--steps", "--json",
                 "--top-k", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in result] == ["Kqx", ""] and result[1]["steps"] == []
    assert [s["prefix"] for s in result[0]["steps"]] == ["K", "Kq", "Kqx"]
    assert all(len(s["top"]) == 2 for s in result[0]["steps"])


def test_cli_steps_work_on_an_ngram_checkpoint(tmp_path, capsys):
    _, out = cli_ngram_run(tmp_path)
    capsys.readouterr()
    assert main(["predict", "--checkpoint", str(out / "model.safetensors"), "Rstu", "--steps",
                 "--json"]) == 0
    steps = json.loads(capsys.readouterr().out)[0]["steps"]
    assert [s["prefix"] for s in steps] == ["R", "Rs", "Rst", "Rstu"]
    assert steps[-1]["top"][0][0] == "Rus"
