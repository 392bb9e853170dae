"""The generator's net and n-gram LM mixed: scoring, sampling, checkpoints, command line."""

import json
import math
from collections import Counter

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load as st_load

from nameclf.cli import main
from nameclf.data.vocab import Vocab
from nameclf.errors import CheckpointError
from nameclf.generate.batches import encode_lm, shifted
from nameclf.generate.checkpoint import digest, from_bytes, to_bytes
from nameclf.generate.config import GeneratorConfig, GenTrainConfig
from nameclf.generate.mixture import mixed_bits_per_char, output_probs
from nameclf.generate.model import NameGenerator
from nameclf.generate.ngram import BOS, EOS, UNK, NgramLM, fit_ngram_lm
from nameclf.generate.sampling import SampleConfig, sample_names
from nameclf.generate.train import (
    NGRAM_PHASE,
    Baseline,
    GenProgress,
    GenRun,
    bits_per_char,
    fit_generator,
)
from tests.conftest import gen_tiny, train_generator_cli


@pytest.fixture(scope="module")
def prep(lm_prep):
    return lm_prep


@pytest.fixture(scope="module")
def mixed(prep):
    heard = []
    run = fit_generator(prep, *gen_tiny(120, ngram_weight=0.4), heard.append,
                        info={"ascii_fold": True}, phase=heard.append)
    return run, heard


def test_a_model_rebuilt_from_its_top_counts_is_the_fitted_model():
    names, labels = ["anna", "annie", "bob", "bobby", "ann"], ["x", "x", "y", "y", "y"]
    fitted = NgramLM(3, 0.7).fit(names, labels)
    tops = {k: m.top for k, m in fitted.models.items() if k is not None}
    rebuilt = NgramLM.from_counts(3, 0.7, fitted.known, tops)
    for label in ("x", "y", "z"):
        for context in [(BOS, BOS), (BOS, "a"), ("n", "n"), ("q", "q"), ("b", "o")]:
            want = fitted.next_probs(label, context)
            assert rebuilt.next_probs(label, context) == pytest.approx(want, abs=1e-15)
            assert sum(want) == pytest.approx(1.0, abs=1e-12)
            own = fitted.models.get(label)
            w = fitted.weight if own is not None else 0.0
            by_prob = [(w * own.prob(t, context) if w else 0.0)
                       + (1 - w) * fitted.models[None].prob(t, context) for t in fitted.types]
            assert want == pytest.approx(by_prob, abs=1e-15)


def test_the_mixture_scores_each_cell_as_the_normalised_product_of_both_models(mixed, prep):
    run, _ = mixed
    lm, w = run.ngram, run.ngram_weight
    assert w == 0.4
    names, labels = prep.test_names[:25], prep.test_labels[:25]
    ids = [run.classes.index(label) for label in labels]
    nats, cells = 0.0, 0
    with torch.no_grad():  # the oracle: one name at a time, no padding, every cell by hand
        for name, label, j in zip(names, labels, ids):
            x, y = shifted(name, run.vocab)
            logits, _ = run.model(torch.tensor(x).view(-1, 1), torch.tensor([j]))
            p_net = F.softmax(logits[:, 0].double(), dim=-1)  # (n + 1, V)
            for k, target in enumerate(y):
                context = ((BOS,) * (lm.order - 1) + tuple(name[:k]))[-(lm.order - 1):]
                p_lm = torch.tensor(output_probs(run.vocab, lm, label, context),
                                    dtype=torch.float64)
                q = p_net[k] ** (1 - w) * p_lm ** w
                nats -= math.log(q[target] / q.sum())
                cells += 1
    data = encode_lm(names, ids, run.vocab)
    got, by_label = mixed_bits_per_char(run.model, run.vocab, lm, w, data, labels)
    assert got == pytest.approx(nats / cells / math.log(2), abs=1e-6)  # float32 net
    assert set(by_label) == set(labels)
    alone, _ = mixed_bits_per_char(run.model, run.vocab, lm, 0.0, data, labels)
    assert alone == pytest.approx(bits_per_char(run.model, data), abs=1e-6)
    lm_only, _ = mixed_bits_per_char(run.model, run.vocab, lm, 1.0, data, labels)
    assert lm_only == pytest.approx(lm.bits_per_char(names, labels)[0], abs=1e-9)
    # Hoelder: the normaliser is at most 1, so the mixture is never worse than the same mix
    # of the two figures
    assert got <= (1 - w) * alone + w * lm_only + 1e-9


def test_fit_generator_reports_net_ngram_and_mixture(mixed, prep):
    run, heard = mixed
    m, info = run.metrics, run.info
    assert heard[0] == NGRAM_PHASE  # then the baseline's figure, before the net's first step
    assert heard[1] == Baseline(run.metrics["baseline_bits_per_char"])
    assert all(isinstance(h, GenProgress) for h in heard[2:]) and len(heard) == 2 + 120
    assert m["ngram_weight"] == 0.4 and run.ngram is not None
    base = fit_ngram_lm(prep.train_names, prep.train_labels, seed=0)
    assert m["baseline_bits_per_char"] == base.bits_per_char(prep.test_names,
                                                             prep.test_labels)[0]
    assert m["net_bits_per_char"] == bits_per_char(run.model, prep.test)
    assert m["test_bits_per_char"] == pytest.approx(mixed_bits_per_char(
        run.model, run.vocab, run.ngram, 0.4, prep.test, prep.test_labels)[0])
    assert m["test_bits_per_char"] != m["net_bits_per_char"]
    assert info["train_seconds"] == info["net_seconds"] + info["ngram_seconds"]
    alone = fit_generator(prep, *gen_tiny(5))
    assert alone.ngram is None and alone.ngram_weight == 0.0
    assert alone.metrics["test_bits_per_char"] == alone.metrics["net_bits_per_char"]
    assert alone.info["train_seconds"] == alone.info["net_seconds"]  # the baseline is extra
    assert "baseline_bits_per_char" in alone.metrics


def test_output_probs_lay_the_ngram_distribution_over_the_nets_tokens():
    vocab = Vocab.build(["ab"])
    lm = NgramLM(2, 0.5).fit(["ab", "ab", "b"], ["x", "x", "x"])
    probs = output_probs(vocab, lm, "x", (BOS,))
    assert len(probs) == len(vocab) + 1 and probs[0] == 0.0  # no <pad>
    assert sum(probs) == pytest.approx(1.0, abs=1e-12)
    by_type = dict(zip(lm.types, lm.next_probs("x", (BOS,))))
    assert probs[vocab.index("a")] == by_type["a"] and probs[1] == by_type[UNK]
    assert probs[len(vocab)] == by_type[EOS]


def untrained_run(names: list[str], weight: float) -> GenRun:
    vocab = Vocab.build(names)
    cfg = GeneratorConfig(cell="gru", vocab_size=len(vocab), n_labels=1, hidden_size=8,
                          embedding_dim=4, label_dim=2)
    torch.manual_seed(0)
    lm = NgramLM(3, 0.8).fit(names, ["x"] * len(names))
    return GenRun(NameGenerator(cfg), vocab, ["x"], GenTrainConfig(ngram_weight=weight),
                  ngram=lm)


def test_sampling_draws_from_the_mixture():
    run = untrained_run(["anna"] * 5, 0.95)  # the net knows nothing; the n-gram LM one name
    assert sample_names(run, SampleConfig("x", n=3, temperature=0.0)) == ["anna"] * 3
    drawn = sample_names(run, SampleConfig("x", n=40, temperature=0.8, seed=4))
    assert drawn == sample_names(run, SampleConfig("x", n=40, temperature=0.8, seed=4))
    assert Counter(drawn).most_common(1)[0][0] == "anna" and all(set(d) <= set("an")
                                                                  for d in drawn)
    run.ngram = None  # the net alone: no longer that one name
    assert sample_names(run, SampleConfig("x", n=3, temperature=0.0)) != ["anna"] * 3


def test_a_mixed_checkpoint_round_trips_and_a_bad_ngram_part_is_refused(mixed, prep):
    run, _ = mixed
    raw = to_bytes(run)
    back = from_bytes(raw)
    assert back.ngram_weight == 0.4 and back.ngram.order == run.ngram.order
    cfg = SampleConfig(prep.classes[1], n=6, seed=3)
    assert sample_names(back, cfg) == sample_names(run, cfg)
    again, _ = mixed_bits_per_char(back.model, back.vocab, back.ngram, 0.4, prep.test,
                                   prep.test_labels)
    assert again == pytest.approx(run.metrics["test_bits_per_char"], abs=1e-12)

    def resigned(change) -> bytes:  # an edit whose digest is recomputed: the checks must hold
        from safetensors.torch import save as st_save

        block = json.loads(raw[8 : 8 + int.from_bytes(raw[:8], "little")])["__metadata__"]
        state = st_load(raw)
        meta = json.loads(block["nameclf"])
        change(state, meta)
        meta_json = json.dumps(meta)
        return st_save(state, metadata={"nameclf": meta_json, "sha256": digest(state, meta_json)})

    def big_token(state, meta):
        state["ngram.grams"][0, 0] = 999

    def zero_count(state, meta):
        state["ngram.counts"][0] = 0

    def no_counts(state, meta):
        del state["ngram.counts"]

    def long_char(state, meta):
        meta["ngram"]["known"][0] = "ab"

    for change in (big_token, zero_count, no_counts, long_char):
        with pytest.raises(CheckpointError, match="n-gram LM in the file is malformed"):
            from_bytes(resigned(change))
    size = int.from_bytes(raw[:8], "little")  # one bit of the first n-gram count, not re-signed
    first, _ = json.loads(raw[8 : 8 + size])["ngram.counts"]["data_offsets"]
    flipped = bytearray(raw)
    flipped[8 + size + first] ^= 0x01
    with pytest.raises(CheckpointError, match="changed after it was saved"):
        from_bytes(bytes(flipped))


def test_the_cli_mixes_on_request_and_refuses_a_bad_weight(tmp_path, capsys):
    code, data, out = train_generator_cli(tmp_path, "--steps", "30", "--ngram-weight", "0.5")
    assert code == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["ngram_weight"] == 0.5
    assert line["test_bits_per_char"] != line["net_bits_per_char"]
    assert main(["generate", "--checkpoint", str(out / "model.safetensors"), "-n", "4",
                 "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["names"]["Ski"]) == 4
    assert main(["train", "--task", "generate", "--data", str(data), "--preset", "gen-tiny",
                 "--ngram-weight", "1.5", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "ngram_weight must be in [0, 1)" in err and err.count("\n") == 1
