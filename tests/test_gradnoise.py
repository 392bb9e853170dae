"""Aggregated gradients: per-example and batch gradients, the noise curve, the noise scale
estimator, accumulation, and the gradnoise / batch-race commands."""

import json
import math

import pytest
import torch
from helpers import small_model, synthetic_encoded

from nameclf.errors import ConfigError
from nameclf.lab.gradnoise import (
    NoiseConfig,
    accumulation_check,
    batch_gradient,
    finite_pool,
    loglog_slope,
    measure_noise,
    noise_curve,
    noise_scale,
    per_example_gradients,
)


def oracle_gradients(model, enc, sel) -> torch.Tensor:
    """Each name's gradient through PyTorch's own cell on the unpadded name alone (B, P)."""
    model.kernel = "torch"
    rows = []
    for i in sel.tolist():
        n = int(enc.lengths[i])
        idx = enc.idx[i, :n][:, None]  # (T, 1)
        model.zero_grad(set_to_none=True)
        logp = model(idx, enc.lengths[i : i + 1], "naive")  # (1, C)
        (-logp[0, enc.labels[i]]).backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
    model.kernel = "auto"
    model.zero_grad(set_to_none=True)
    return torch.stack(rows)


@pytest.fixture(scope="module")
def tiny():
    enc, vocab, classes = synthetic_encoded(per_label=40)
    return enc, len(vocab), len(classes)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_per_example_gradients_match_single_name_backward_passes_in_float64(tiny, cell):
    enc, v, c = tiny
    model = small_model(v, c, cell=cell, embedding_dim=4).double().eval()
    sel = torch.tensor([0, 5, 17, 33, 90])
    ours = per_example_gradients(model, enc, sel)  # packed, hand-written cells on a CPU
    assert ours.dtype == torch.float64 and ours.shape == (5, model.n_params())
    torch.testing.assert_close(ours, oracle_gradients(model, enc, sel), rtol=1e-9, atol=1e-11)
    assert ours.norm(dim=1).min() > 0  # every name moves the weights


def test_a_batch_gradient_is_the_mean_of_its_names_gradients(tiny):
    """What `aggregated gradients` means: one packed batch averages the names' gradients."""
    enc, v, c = tiny
    model = small_model(v, c).double().eval()
    sel = torch.arange(0, 160, 7)
    torch.testing.assert_close(batch_gradient(model, enc, sel),
                               oracle_gradients(model, enc, sel).mean(0), rtol=1e-9, atol=1e-12)


def test_accumulated_batches_give_the_one_big_batch_gradient(tiny):
    enc, v, c = tiny
    model = small_model(v, c, cell="lstm").double().eval()
    sel = torch.randperm(len(enc), generator=torch.Generator().manual_seed(1))[:128]
    assert accumulation_check(model, enc, sel, 16) < 1e-12  # float64: 1e-6 asked
    # and the check can fail: a wrong accumulation (each micro-batch's mean, summed) is caught
    whole = batch_gradient(model, enc, sel)
    wrong = sum(batch_gradient(model, enc, part) for part in sel.split(16))
    assert float((whole - wrong).norm() / whole.norm()) > 1


def synthetic_least_squares(n=4096, d=40, noise=1.0, seed=0):
    """Per-example gradients of 0.5 (x·w - y)² at a w away from the optimum, for a pool of n."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=gen, dtype=torch.float64)
    w_true = torch.randn(d, generator=gen, dtype=torch.float64)
    y = x @ w_true + noise * torch.randn(n, generator=gen, dtype=torch.float64)
    w = w_true + 0.3 * torch.randn(d, generator=gen, dtype=torch.float64)
    return x * (x @ w - y)[:, None]  # (n, d): g_i = x_i (x_i·w - y_i)


def test_the_estimator_recovers_a_known_noise_and_gradient_within_ten_percent():
    grads = synthetic_least_squares()
    g = grads.mean(0)
    true_g2 = float(g.square().sum())
    true_trace = float((grads - g).square().sum(1).mean())  # tr(Σ) of the pool
    cfg = NoiseConfig(pool=len(grads), draws=256, leaf=8)
    result = noise_curve(lambda sel: grads[sel].mean(0), len(grads), cfg)
    assert result.g_norm2 == pytest.approx(true_g2, rel=1e-9)  # G is exact
    assert result.trace_sigma == pytest.approx(true_trace, rel=0.10)
    assert result.b_simple == pytest.approx(true_trace / true_g2, rel=0.10)
    assert result.b_simple_from_b1 == pytest.approx(true_trace / true_g2, rel=0.10)
    assert -1.1 <= result.slope <= -0.9
    # the error at each B is tr(Σ)/B, less by the finite pool's factor
    for b, mse in zip(result.batch_sizes, result.mse, strict=True):
        assert mse == pytest.approx(true_trace / b * finite_pool(b, len(grads)), rel=0.2)


def test_the_estimator_solves_its_two_equations_exactly():
    g2, trace = 2.0, 30.0  # E|g_B|² = |G|² + tr(Σ)/B, with and without a finite pool
    assert noise_scale(g2 + trace / 4, 4, g2 + trace / 64, 64) == pytest.approx((g2, trace))
    n = 100
    sq = lambda b: g2 + trace / b * finite_pool(b, n)  # noqa: E731
    assert noise_scale(sq(1), 1, sq(50), 50, n) == pytest.approx((g2, trace))
    with pytest.raises(ConfigError):
        noise_scale(1.0, 8, 1.0, 8)


def test_loglog_slope():
    xs = [1.0, 2.0, 4.0, 8.0]
    assert loglog_slope(xs, [3 / x for x in xs]) == pytest.approx(-1.0)
    assert loglog_slope(xs, [5 * x**0.5 for x in xs]) == pytest.approx(0.5)
    assert math.isnan(loglog_slope([1.0], [1.0]))


def test_a_real_model_follows_one_over_b_and_a_seed_repeats_it(tiny):
    enc, v, c = tiny
    model = small_model(v, c, embedding_dim=4)
    before = [p.detach().clone() for p in model.parameters()]
    cfg = NoiseConfig(pool=160, draws=16, batch_sizes=(1, 2, 4, 8, 16, 32, 64), leaf=8)
    first = measure_noise(model, enc, cfg)
    assert -1.25 <= first.slope <= -0.75
    assert first.cosine == sorted(first.cosine)  # bigger batches point closer to G
    assert first.b_simple > 0 and first.b_simple_from_b1 > 0
    assert first.accumulation_max_rel_diff is None  # a pool under 512 names: said, not faked
    assert any("accumulation" in note for note in first.notes)
    again = measure_noise(model, enc, cfg)
    assert {**first.to_dict(), "seconds": 0} == {**again.to_dict(), "seconds": 0}
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    other = measure_noise(model, enc, NoiseConfig(**{**cfg.__dict__, "seed": 1}))
    assert other.mse != first.mse


def test_batch_sizes_larger_than_the_pool_are_dropped_with_a_note(tiny):
    enc, v, c = tiny
    model = small_model(v, c)
    result = measure_noise(model, enc, NoiseConfig(pool=20, draws=4, batch_sizes=(1, 4, 16, 64)))
    assert result.batch_sizes == [1, 4, 16]
    assert any("64" in note and "dropped" in note for note in result.notes)
    with pytest.raises(ConfigError, match="at least 2 names"):
        NoiseConfig(pool=1)
    with pytest.raises(ConfigError, match="a slope needs two"):
        measure_noise(model, enc, NoiseConfig(pool=3, draws=4, batch_sizes=(2, 8, 64)))


def test_a_model_without_a_recurrent_net_is_refused_in_one_line(tiny):
    enc, _, _ = tiny
    with pytest.raises(ConfigError, match="n-gram baseline"):  # what such a model is here
        measure_noise(torch.nn.Module(), enc, NoiseConfig(pool=16, draws=2, batch_sizes=(1, 2)))


def run_cli(*args: str) -> tuple[int, str, str]:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "nameclf", *args], capture_output=True,
                         text=True, timeout=600)
    return out.returncode, out.stdout, out.stderr


KEYS = {"batch_sizes", "mse", "cosine", "slope", "b_simple", "b_simple_from_b1",
        "accumulation_max_rel_diff", "seconds"}


def test_gradnoise_cli_measures_before_and_after_training(tmp_path, tiny_bytes):
    data = tmp_path / "tiny.txt"
    data.write_bytes(tiny_bytes)
    code, out, err = run_cli("gradnoise", "--data", str(data), "--steps", "30", "--pool", "100",
                             "--draws", "4", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["steps"] == 30
    for part in ("init", "trained"):
        assert set(result[part]) >= KEYS
        assert result[part]["batch_sizes"] == [1, 2, 4, 8, 16, 32, 64]  # 128+ > 100: dropped
        assert any("128" in note and "dropped" in note for note in result[part]["notes"])
    assert result["init"]["mse"] != result["trained"]["mse"]
    code, out, err = run_cli("gradnoise", "--data", str(data), "--pool", "100", "--draws", "4")
    assert code == 0 and "slope" in out and "B_simple" in out, err


@pytest.mark.parametrize(("args", "message"), [
    (["--pool", "1"], "a pool of at least 2 names"),
    (["--draws", "1"], "at least 2 draws"),
    (["--steps", "-3"], "--steps must be 0 or more"),
])
def test_gradnoise_cli_bad_input_is_one_line(tmp_path, tiny_bytes, args, message):
    data = tmp_path / "tiny.txt"
    data.write_bytes(tiny_bytes)
    code, out, err = run_cli("gradnoise", "--data", str(data), *args)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_gradnoise_refuses_a_generator_checkpoint_in_one_line(tmp_path):
    from conftest import train_generator_cli

    code, data, out_dir = train_generator_cli(tmp_path, "--steps", "3")
    assert code == 0
    code, out, err = run_cli("gradnoise", "--data", str(data),
                             "--checkpoint", str(out_dir / "model.safetensors"))
    assert code == 2 and "is a generator checkpoint" in err, err
    assert len(err.strip().splitlines()) == 1


def test_gradnoise_cli_measures_a_classifier_checkpoint(tmp_path, tiny_bytes):
    data = tmp_path / "tiny.txt"
    data.write_bytes(tiny_bytes)
    code, _, err = run_cli("train", "--data", str(data), "--steps", "20", "--quiet",
                           "--out", str(tmp_path / "run"))
    assert code == 0, err
    code, out, err = run_cli("gradnoise", "--data", str(data), "--checkpoint",
                             str(tmp_path / "run" / "model.safetensors"), "--pool", "64",
                             "--draws", "3", "--json")
    assert code == 0, err
    assert set(json.loads(out)) >= KEYS


def test_batch_race_cli_reports_each_batch_size(tmp_path, tiny_bytes):
    data = tmp_path / "tiny.txt"
    data.write_bytes(tiny_bytes)
    code, out, err = run_cli("batch-race", "--data", str(data), "--batch-sizes", "4,32,100000",
                             "--max-examples", "1500", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["batch_sizes"] == [4, 32]
    assert any("100000" in note and "dropped" in note for note in result["notes"])
    assert "√" in result["rule"] and result["target_loss"] > 0
    for lane in result["lanes"]:
        assert lane["status"] in ("reached", "not reached")
        assert lane["examples"][0] == 0 and lane["examples"] == sorted(lane["examples"])
        if lane["reached"]:
            assert min(lane["loss"]) <= result["target_loss"]
            assert lane["examples_to_target"] == lane["steps_to_target"] * lane["batch_size"]
        else:
            assert lane["examples"][-1] >= 1500 and min(lane["loss"]) > result["target_loss"]
    code, out, err = run_cli("batch-race", "--data", str(data), "--batch-sizes", "1,x")
    assert code == 2 and "not a list of whole numbers" in err
