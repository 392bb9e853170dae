"""End-to-end runs of `python -m nameclf` as a user would type them."""

import json
import subprocess
import sys

import pytest

PATTERNS = {"Slavic": ("ov", "ev", "in"), "Nordic": ("sen", "son", "strom"),
            "Italian": ("ini", "elli", "otti"), "Japanese": ("moto", "mura", "kawa")}
STEMS = ["Ab", "Bor", "Kal", "Dem", "Fel", "Gar", "Hol", "Ish", "Jur", "Lor", "Mar", "Nik"]


def run_cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nameclf", *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "names.txt"
    lines = [f"{stem}{suffix}, {label}" for label, suffixes in PATTERNS.items()
             for suffix in suffixes for stem in STEMS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data_file):
    out = tmp_path_factory.mktemp("run")
    proc = run_cli("train", "--data", str(data_file), "--model", "gru", "--steps", "60",
                   "--batch-size", "32", "--eval-every", "20", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_train_writes_checkpoint_metrics_and_one_json_line(trained):
    out, proc = trained
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    for key in ("model", "split", "n_train", "n_test", "steps", "train_seconds",
                "names_per_second", "top1", "top2", "macro_f1"):
        assert key in summary
    assert summary["model"] == "gru" and summary["steps"] == 60 and summary["split"] == "names"
    assert summary["n_train"] + summary["n_test"] == len(PATTERNS) * 3 * len(STEMS)
    assert summary["top1"] > 0.5  # four easy suffix families: far above 25% chance
    assert summary["top1_ceiling"] == 1.0  # no name under two labels
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["history"]["eval_step"] == [20, 40, 60]
    assert len(metrics["history"]["loss"]) == 60
    assert (out / "model.safetensors").stat().st_size > 0


def test_predict_and_evaluate_use_the_checkpoint(trained, data_file):
    ckpt = str(trained[0] / "model.safetensors")
    proc = run_cli("predict", "--checkpoint", ckpt, "Tanimoto", "Karlsson", "--top-k", "2",
                   "--json")
    assert proc.returncode == 0, proc.stderr
    preds = json.loads(proc.stdout)
    assert [p["name"] for p in preds] == ["Tanimoto", "Karlsson"]
    assert all(len(p["top"]) == 2 for p in preds)
    assert preds[0]["top"][0][0] == "Japanese" and preds[1]["top"][0][0] == "Nordic"
    proc = run_cli("evaluate", "--checkpoint", ckpt, "--data", str(data_file))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    summary = json.loads(trained[1].stdout)
    assert result["top1"] == pytest.approx(summary["top1"])  # same split, same model
    assert result["top1_ceiling"] == 1.0


def test_predict_odd_names_get_notes_not_errors(trained):
    ckpt = str(trained[0] / "model.safetensors")
    proc = run_cli("predict", "--checkpoint", ckpt, "", "😀", "x" * 10_000)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert "empty name" in out[0] and "unseen characters" in out[1] and "cut to" in out[2]


def test_explain_json_matches_the_tutorial_example():
    proc = run_cli("explain", "Shyam", "Ram", "--json")
    assert proc.returncode == 0, proc.stderr
    steps = json.loads(proc.stdout)
    assert steps["names"] == ["Shyam", "Ram"] and steps["lengths"] == [5, 3]
    assert steps["padded"] == [list("Shyam"), ["R", "a", "m", "<pad>", "<pad>"]]
    assert steps["packed"] == list("SRhaymam")
    assert steps["batch_sizes"] == [2, 2, 2, 1, 1]
    assert steps["sorted_indices"] == [0, 1]
    assert (steps["real_cells"], steps["padded_cells"]) == (8, 10)
    text = run_cli("explain", "Ram", "Shyam")
    assert text.returncode == 0 and "batch_sizes: [2, 2, 2, 1, 1]" in text.stdout


def test_bench_json_reports_all_modes(data_file):
    proc = run_cli("bench", "--data", str(data_file), "--names", "32", "--seconds", "0.3",
                   "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert all(result[k] > 0 for k in ("per_sample", "padded", "packed"))
    assert result["packed_over_per_sample"] == pytest.approx(result["packed"] /
                                                             result["per_sample"])


@pytest.mark.parametrize("args, message", [
    (["train", "--data", "no/such/file.txt"], "no such file"),
    (["train", "--lr", "-1", "--steps", "1"], "learning rate"),
    (["train", "--model", "transformer"], "invalid choice"),
    (["predict", "--checkpoint", "no/such.safetensors", "X"], "no such checkpoint"),
    (["explain", "  "], "must not be empty"),
    (["train", "--data", "builtin:nope"], "unknown dataset"),
])
def test_bad_input_is_one_readable_line(args, message):
    proc = run_cli(*args)
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert message in lines[0]


def test_foreign_checkpoint_is_refused(tmp_path):
    bogus = tmp_path / "model.safetensors"
    bogus.write_bytes(b"\x80\x04\x95not a checkpoint at all")
    proc = run_cli("predict", "--checkpoint", str(bogus), "X")
    assert proc.returncode == 2
    assert "not a valid nameclf checkpoint" in proc.stderr
