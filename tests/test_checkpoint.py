"""Checkpoints round-trip, and anything else (pickles, truncations, tampering) is refused."""

import json
import pickle

import pytest
import torch
from helpers import synthetic_dataset
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from safetensors.torch import save_file

from nameclf.classify import checkpoint
from nameclf.classify.checkpoint import from_bytes, load, save, to_bytes
from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.classify.pipeline import fit, predict, prepare
from nameclf.errors import CheckpointError


@pytest.fixture(scope="module")
def run():
    prep = prepare(synthetic_dataset(per_label=10), seed=0)
    return fit(prep, ModelConfig(cell="lstm", embedding_dim=4, hidden_size=8, num_layers=2),
               TrainConfig(steps=3, batch_size=8, schedule="cosine"),
               info={"dataset": "synthetic", "ascii_fold": True})


@pytest.fixture(scope="module")
def raw(run):
    return to_bytes(run)


def rewrite(raw: bytes, change) -> bytes:
    """The checkpoint with its nameclf metadata passed through `change(meta)`."""
    header_len = int.from_bytes(raw[:8], "little")
    meta = json.loads(json.loads(raw[8 : 8 + header_len])["__metadata__"]["nameclf"])
    meta = change(meta) or meta
    return st_save(st_load(raw), metadata={"nameclf": json.dumps(meta)})


def test_round_trip(run, tmp_path):
    path = save(run, tmp_path / "model.safetensors")
    loaded = load(path)
    assert loaded.vocab == run.vocab
    assert loaded.classes == run.classes
    assert loaded.model_config == run.model_config
    assert loaded.train_config == run.train_config
    assert loaded.info == run.info and loaded.metrics == run.metrics
    assert loaded.status == run.status
    assert not loaded.model.training
    state, loaded_state = run.model.state_dict(), loaded.model.state_dict()
    assert state.keys() == loaded_state.keys()
    assert all(torch.equal(state[k], loaded_state[k]) for k in state)
    names = ["Kqxz", "Lomno", "Rust", "Vey", "Zork", "🙂"]
    for a, b in zip(predict(run, names), predict(loaded, names), strict=True):
        assert a.top == b.top and a.note == b.note


def test_save_writes_plain_safetensors(run, tmp_path):
    raw = save(run, tmp_path / "model.safetensors").read_bytes()
    assert not raw.startswith(b"PK")  # not a torch.save zip of pickles
    header = json.loads(raw[8 : 8 + int.from_bytes(raw[:8], "little")])
    meta = json.loads(header["__metadata__"]["nameclf"])
    assert meta["format"] == "nameclf-checkpoint" and meta["classes"] == run.classes
    assert set(st_load(raw)) == set(run.model.state_dict())


class Payload:
    """Unpickling this creates `marker`: what a malicious .pt file would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_the_payload_really_runs_when_unpickled(tmp_path):
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.exists()


@pytest.mark.parametrize("writer", ["torch", "pickle"])
@pytest.mark.parametrize("filename", ["evil.pt", "model.safetensors"])
def test_a_pickle_is_refused_without_running_it(tmp_path, writer, filename):
    marker, path = tmp_path / "pwned", tmp_path / filename
    if writer == "torch":
        torch.save({"model": Payload(marker), "w": torch.zeros(2)}, path)
    else:
        path.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(CheckpointError):
        load(path)
    assert not marker.exists()


@pytest.mark.parametrize("keep", [0, 7, 8, 100, 0.5, -1])
def test_a_truncated_file_is_refused(raw, tmp_path, keep):
    cut = raw[: int(len(raw) * keep)] if isinstance(keep, float) else raw[:keep]
    path = tmp_path / "cut.safetensors"
    path.write_bytes(cut)
    with pytest.raises(CheckpointError):
        load(path)


@pytest.mark.parametrize("metadata", [None, {"other": "x"}, {"nameclf": "not json"},
                                      {"nameclf": "[]"}, {"nameclf": '{"format": "other"}'}])
def test_a_foreign_safetensors_file_is_refused(tmp_path, metadata):
    path = tmp_path / "foreign.safetensors"
    save_file({"weight": torch.zeros(3, 2)}, path, metadata=metadata)
    with pytest.raises(CheckpointError):
        load(path)


def set_in(section, key, value):
    def change(meta):
        meta[section][key] = value
    return change


TAMPERINGS = {
    "vocab size": lambda m: m.update(chars=m["chars"][:-1]),
    "extra class": lambda m: m["classes"].append("Extra"),
    "unknown model field": set_in("model_config", "mystery", 1),
    "unknown train field": set_in("train_config", "mystery", 1),
    "mistyped field": set_in("model_config", "hidden_size", "8"),
    "mistyped lr": set_in("train_config", "lr", "fast"),
    "other hidden size": set_in("model_config", "hidden_size", 9),
    "other cell": set_in("model_config", "cell", "gru"),
    "unknown cell": set_in("model_config", "cell", "transformer"),
    "out of range": set_in("model_config", "num_layers", 100),
    "format": lambda m: m.update(format="something-else"),
    "version": lambda m: m.update(version=99),
    "info not a dict": lambda m: m.update(info=5),
    "metrics not a dict": lambda m: m.update(metrics="high"),
    "duplicate chars": lambda m: m.update(chars=[m["chars"][1]] + m["chars"][1:]),
    "multi-char token": lambda m: m.update(chars=["ab"] + m["chars"][1:]),
    "config not a dict": lambda m: m.update(model_config="lstm"),
    "missing key": lambda m: m.pop("classes"),
    "not an object": lambda m: [m],
}


@pytest.mark.parametrize("how", list(TAMPERINGS))
def test_tampered_metadata_is_refused(raw, how):
    assert from_bytes(rewrite(raw, lambda m: None)).classes  # the rewrite itself is harmless
    with pytest.raises(CheckpointError):
        from_bytes(rewrite(raw, TAMPERINGS[how]))


@pytest.mark.parametrize("how", ["drop", "add", "reshape"])
def test_tampered_weights_are_refused(raw, how):
    header_len = int.from_bytes(raw[:8], "little")
    metadata = json.loads(raw[8 : 8 + header_len])["__metadata__"]
    state = dict(st_load(raw))
    key = next(iter(state))
    if how == "drop":
        del state[key]
    elif how == "add":
        state["extra.weight"] = torch.zeros(2)
    else:
        state[key] = state[key].reshape(-1)[:-1].clone()
    with pytest.raises(CheckpointError):
        from_bytes(st_save(state, metadata=metadata))


def test_a_file_over_the_cap_is_refused(raw, tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    path.write_bytes(raw)
    monkeypatch.setattr(checkpoint, "MAX_CHECKPOINT_BYTES", len(raw) - 1)
    with pytest.raises(CheckpointError, match="MB"):
        load(path)
    with pytest.raises(CheckpointError, match="MB"):
        from_bytes(raw)
    monkeypatch.setattr(checkpoint, "MAX_CHECKPOINT_BYTES", len(raw))
    assert load(path).classes


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="no such"):
        load(tmp_path / "nothing.safetensors")
    with pytest.raises(CheckpointError):
        load(tmp_path)  # a folder


def test_checkpoint_error_messages_are_one_line(raw):
    for how in ("vocab size", "unknown model field", "not an object"):
        with pytest.raises(CheckpointError) as err:
            from_bytes(rewrite(raw, TAMPERINGS[how]))
        assert str(err.value) and "\n" not in str(err.value)
