"""Every lesson question's right answer against an independent computation.

The lesson computes its answers from `nameclf.lab.packing.walkthrough` (plain Python) and
from the measurements of the race, a training run and the generator's losses; here PyTorch
(`pack_padded_sequence`, `one_hot`, `cross_entropy`) or a count by hand says what they must be.
"""

import random

import pytest
import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence

from nameclf.batching.encoding import encode_batch, one_hot
from nameclf.charts.race import waste_columns
from nameclf.data.vocab import Vocab
from nameclf.generate.batches import PAD_ID, batch_of
from nameclf.lab import lesson as ls
from nameclf.lab import lesson_gradients as qg
from nameclf.lab import lesson_input as qi
from nameclf.lab import lesson_output as qo
from nameclf.lab import packing as ex
from nameclf.lab import targets

NAME_SETS = [["Ram", "Shyam", "Al"], ["Kuhnert", "Rut", "Athanasiadou"],
             ["Li", "Nakamura", "Schmidt", "Kowalski", "Ng"], ["Abe", "Ito", "Oda"]]


def walk(names: list[str]) -> tuple[dict, Vocab]:
    vocab = Vocab.build(names + ["Zyx"])
    return ex.walkthrough(names, vocab), vocab


def packed(names: list[str], vocab: Vocab):
    idx, lengths = encode_batch(names, vocab)  # (T, B), (B,)
    return pack_padded_sequence(idx, lengths, enforce_sorted=False)


@pytest.mark.parametrize("names", NAME_SETS)
def test_shape_is_the_one_hot_tensors(names):
    data, vocab = walk(names)
    q = qi.shape_question(data)
    x = one_hot(encode_batch(names, vocab)[0], len(vocab))  # (T, B, V)
    assert q.choices[q.answer].endswith(str(tuple(x.shape)))
    assert len(set(q.choices)) == len(q.choices) == len(q.feedback)


@pytest.mark.parametrize("names", NAME_SETS)
def test_ones_are_counted_in_the_tensor(names):
    data, vocab = walk(names)
    x = one_hot(encode_batch(names, vocab)[0], len(vocab))
    assert qi.ones_question(data).answer == int(x.sum())


@pytest.mark.parametrize("names", NAME_SETS)
def test_pad_cells_are_counted_in_the_padded_indices(names):
    data, vocab = walk(names)
    padded = pad_sequence([torch.tensor(vocab.encode(n)) for n in names])  # (T, B), 0 = <pad>
    assert qi.pad_cells_question(data).answer == int((padded == 0).sum())


def test_waste_is_the_share_of_pad_in_real_padded_batches():
    rng = random.Random(3)
    lengths = [rng.randint(2, 15) for _ in range(2000)]
    waste = waste_columns(lengths)["padded, random batches"][9]  # batch 512
    shuffled = list(lengths)
    random.Random(0).shuffle(shuffled)  # waste_columns' own order
    pad = total = 0
    for start in range(0, len(shuffled), 512):
        grid = pad_sequence([torch.ones(n) for n in shuffled[start:start + 512]])  # (T, b)
        pad, total = pad + int((grid == 0).sum()), total + grid.numel()
    q = qi.waste_question(waste, 512)
    assert q.answer == pytest.approx(100 * pad / total, abs=0.05)
    assert ls.is_right(q, q.answer + 4.9) and not ls.is_right(q, q.answer + 5.1)


@pytest.mark.parametrize("names", NAME_SETS)
def test_sorted_indices_are_pytorchs(names):
    data, vocab = walk(names)
    q = qi.sorted_question(data)
    assert q.choices[q.answer] == str(packed(names, vocab).sorted_indices.tolist())
    assert len(set(q.choices)) == len(q.choices) >= 3


@pytest.mark.parametrize("names", NAME_SETS)
def test_row_is_pytorchs_unsorted_index(names):
    data, vocab = walk(names)
    q = qi.row_question(data)
    b = int(q.prompt.split("name b = ")[1].split(")")[0])
    assert q.answer == int(packed(names, vocab).unsorted_indices[b])


@pytest.mark.parametrize("names", NAME_SETS)
def test_batch_sizes_entry_is_pytorchs(names):
    data, vocab = walk(names)
    q = qi.batch_sizes_question(data)
    t = qi.step_of_interest(data)
    assert f"`batch_sizes[{t}]`" in q.prompt
    assert q.answer == int(packed(names, vocab).batch_sizes[t])


@pytest.mark.parametrize("names", NAME_SETS)
def test_answer_is_read_where_h_n_is(names):
    data, vocab = walk(names)
    q = qi.readout_place_question(data)
    b = min(range(len(names)), key=lambda i: (len(names[i]), i))
    torch.manual_seed(0)
    rnn = torch.nn.RNN(len(vocab), 8)
    x = one_hot(encode_batch(names, vocab)[0], len(vocab))
    out, _ = rnn(x)  # (T, B, H), padded
    _, h_n = rnn(pack_padded_sequence(x, torch.tensor([len(n) for n in names]),
                                      enforce_sorted=False))
    t = len(names[b]) - 1
    assert torch.allclose(h_n[0, b], out[t, b], atol=1e-6)  # h_n is the state at t = len - 1
    assert f"t = {t}" in q.choices[q.answer] and "h_n" in q.choices[q.answer]


@pytest.mark.parametrize("names", NAME_SETS)
def test_naive_states_differ_for_every_padded_name(names):
    vocab = Vocab.build(names)
    data = ex.walkthrough(names, vocab)
    model = ex.fresh_model(len(vocab), 3)
    q = qi.naive_question(data, ex.readout(model, vocab, names, ["a", "b", "c"]))
    assert q.answer == sum(1 for n in names if len(n) < max(map(len, names)))
    assert qi.naive_question(data, None).pending


@pytest.mark.parametrize("ratio,padded,expect", [(1.5, 1.0, (0, 0)), (7.0, 7.5, (1, 1)),
                                                 (20.0, 30.0, (2, 2)), (73.0, 20.0, (3, 0))])
def test_race_answers_are_the_race_ratios(ratio, padded, expect):
    speeds = {"per-sample": 100.0, "padded": 100.0 * padded, "packed": 100.0 * ratio}
    over = speeds["packed"] / speeds["per-sample"]
    bucket = 0 if over < 2 else 1 if over < 10 else 2 if over < 50 else 3
    r = speeds["packed"] / speeds["padded"]
    which = 0 if r >= 1.1 else 2 if r <= 0.9 else 1
    assert (bucket, which) == expect
    assert qo.speedup_question(speeds).answer == bucket
    assert qo.packed_padded_question(speeds).answer == which
    assert qo.speedup_question(None).pending and qo.packed_padded_question(None).pending


def test_loss_ups_are_counted_over_the_last_steps():
    rng = random.Random(1)
    losses = [3.0 - 0.01 * i + rng.uniform(-0.2, 0.2) for i in range(300)]
    tail = losses[-101:]
    ups = sum(1 for i in range(1, len(tail)) if tail[i] > tail[i - 1]) / 100
    expect = 0 if ups == 0 else 1 if ups < 0.1 else 2 if ups < 1 / 3 else 3
    assert qo.noise_question({"loss": losses}).answer == expect == 3
    assert qo.noise_question({"loss": [3.0 - i for i in range(50)]}).answer == 0
    assert qo.noise_question(None).pending


@pytest.mark.parametrize("top1,top2,expect", [(0.7, 0.85, 0), (0.7, 0.72, 1), (1.0, 1.0, 2)])
def test_top2_answer_is_the_runs_metrics(top1, top2, expect):
    q = qo.top2_question({"top1": top1, "top2": top2})
    assert q.answer == expect and q.feedback[3].startswith("Impossible")


@pytest.mark.parametrize("names", NAME_SETS)
def test_generator_questions_are_the_masked_loss(names):
    vocab = Vocab.build(names)
    classes = ["a", "b"]
    model = targets.untrained(vocab, classes)
    data = targets.explain_targets(names, ["a"] * len(names), classes, vocab, model)
    batch = batch_of(names, [0] * len(names), vocab)
    assert qo.real_targets_question(data).answer == sum(len(n) + 1 for n in names)
    assert qo.real_targets_question(data).answer == int((batch.targets != PAD_ID).sum())
    with torch.no_grad():
        logits, _ = model(batch.inputs, batch.labels)  # (T, B, V)
    flat, gold = logits.reshape(-1, logits.size(-1)), batch.targets.reshape(-1)
    masked = float(F.cross_entropy(flat, gold, ignore_index=PAD_ID))
    unmasked = float(F.cross_entropy(flat, gold))
    q = qo.mask_question(data)
    expect = 2 if abs(unmasked - masked) < 1e-6 else 0 if unmasked > masked else 1
    assert q.answer == expect
    assert q.choices[q.answer] == ("the unmasked loss", "the masked loss", "they are equal")[expect]


def test_every_chapter_has_its_question_ids():
    data, _ = walk(NAME_SETS[0])
    built = {**qi.input_questions(data, 0.3, 512, None),
             **qo.output_questions(None, None, None, {"names": ["Ab"], "real_cells": 3,
                                                      "cells": 4, "masked": 1.0,
                                                      "unmasked": 1.1, "pad_loss": 1.4})}
    for chapter, qs in built.items():
        assert tuple(q.qid for q in qs) == ls.QUESTION_IDS[chapter]
    assert tuple(q.qid for q in qg.gradient_questions(None)) == ls.QUESTION_IDS[6]
    assert sum(len(v) for v in ls.QUESTION_IDS.values()) >= 14
    assert ls.MAX_NAME_CHARS == targets.MAX_CHARS and ex.MAX_NAMES == targets.MAX_NAMES


def test_every_wrong_choice_has_feedback():
    data, _ = walk(NAME_SETS[1])
    speeds = {"per-sample": 10.0, "padded": 300.0, "packed": 400.0}
    qs = [*qi.input_questions(data, 0.3, 512, None)[1], qi.sorted_question(data),
          qi.readout_place_question(data), qo.speedup_question(speeds),
          qo.packed_padded_question(speeds), qo.noise_question({"loss": [1.0, 2.0, 1.5]}),
          qo.top2_question({"top1": 0.5, "top2": 0.7}),
          qg.noise_question({"batch_sizes": [16, 64], "mse": [4.0, 1.0]}),
          qg.accumulation_question({"accumulation_max_rel_diff": 1e-7})]
    for q in filter(lambda q: q.is_choice, qs):
        for i in range(len(q.choices)):
            if i != q.answer:
                assert q.feedback[i], (q.qid, i)


@pytest.mark.parametrize("small,big,expect", [(4.0, 1.0, 0), (2.1, 1.0, 1), (1.0, 1.0, 2),
                                              (1.0, 2.0, 3)])
def test_gradient_error_ratio_picks_the_choice(small, big, expect):
    result = {"batch_sizes": [1, 16, 64], "mse": [9.0, small, big]}
    q = qg.noise_question(result)
    assert q.answer == expect
    assert qg.noise_question(None).pending and qg.noise_question({"batch_sizes": [1]}).pending


def test_gradient_questions_read_a_real_measurement():
    from nameclf.batching.batches import take
    from nameclf.lab.gradnoise import NoiseConfig, measure_noise, pool_of
    from tests.helpers import small_model, synthetic_encoded

    enc, vocab, classes = synthetic_encoded(per_label=160)  # 640 names: 512 fit the pool
    model = small_model(len(vocab), len(classes))
    cfg = NoiseConfig(pool=640, draws=8, batch_sizes=(1, 16, 64, 512), seed=0)
    result = measure_noise(model, enc, cfg).to_dict()
    ratio = result["mse_corrected"][1] / result["mse_corrected"][2]
    page = {"curves": {"at init": result, "trained": {}}, "source": "test"}  # as the page keeps
    assert qg.error_ratio(page) == pytest.approx(ratio)
    assert qg.noise_question(result).answer == (0 if ratio >= 2 * 2**0.5 else 1 if ratio >= 1.25
                                                else 2 if ratio >= 0.8 else 3)
    # accumulation, by hand: 8 backward passes of 64 names' summed NLL over 512 against one
    pool = pool_of(enc, 640, 0)
    sel = torch.randperm(len(pool), generator=torch.Generator().manual_seed(0))[:512]
    model.eval()

    def grad(parts) -> torch.Tensor:
        model.zero_grad()
        for part in parts:
            idx, lengths, y = take(pool, part)
            F.nll_loss(model(idx, lengths), y, reduction="sum").div(512).backward()
        return torch.cat([p.grad.reshape(-1) for p in model.parameters()])

    whole, accumulated = grad([sel]), grad(sel.split(64))
    by_hand = float((whole - accumulated).norm() / whole.norm())
    q = qg.accumulation_question(result)
    assert by_hand < qg.SAME_GRADIENT and q.answer == 0
    assert result["accumulation_max_rel_diff"] == pytest.approx(by_hand, abs=1e-5)


def test_every_question_has_a_title_for_the_class_view_and_only_those():
    ids = {q for qids in ls.QUESTION_IDS.values() for q in qids}
    assert set(ls.QUESTION_TITLES) == ids
    assert all(title and not title.endswith(".") for title in ls.QUESTION_TITLES.values())
