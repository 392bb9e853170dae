"""The n-gram baseline's fit: TF-IDF and a logistic regression with scikit-learn, no torch.

scikit-learn's L-BFGS cannot be interrupted, so a fit that Stop or a time budget may end runs
in a child process (`python -m nameclf.classify.logistic`), which is simply ended: the app's
Stop button and Compare's budget then work for the baseline as for the recurrent models, and
the fit never holds the server's GIL. The child reads a JSON file and answers with an .npz,
which is read back without pickle. Importing scikit-learn costs the child about 3 s. A
multiprocessing forkserver that imports it once would save that, but it re-imports the caller's
main module in every child, which breaks a plain script (one without `if __name__ ==
"__main__":`) that fits with a time budget; a plain subprocess asks nothing of its caller.
"""

import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from nameclf.errors import ConfigError

ABSENT_LOGIT = -50.0  # intercept of a label with no training names: never predicted
POLL_SECONDS = 0.05  # how often a waiting parent checks Stop and the deadline
CONFIG_ERROR_EXIT = 3  # the child's exit status for a ConfigError, its message on stderr
SGD_ABOVE = 50  # solver "auto": L-BFGS up to this many labels, SGD beyond
SGD_ALPHA = 3e-5  # the SGD solver's L2 strength, chosen on validation (docs/data.md)


def pick_solver(solver: str, n_classes: int) -> str:
    """The solver a fit uses: as asked, or for "auto" by the number of labels.

    L-BFGS's multinomial fit needs more iterations as labels grow, each costing the labels
    times the non-zeros: 88-105 s for 9k names and 206 labels here. SGD's one-vs-rest fit
    makes a few passes: on validation about as accurate (10k x 200 made-up names: 66.7% vs
    66.8% top-1; the reference file: 79.7% vs 79.2%) and 3-10x faster.
    """
    if solver != "auto":
        return solver
    return "sgd" if n_classes > SGD_ABOVE else "lbfgs"


def fit_sklearn(names: list[str], labels: np.ndarray, n_classes: int, settings: Mapping,
                seed: int):
    """Fit TF-IDF and the logistic regression: (ngrams, coef, intercept, idf, loss, iterations).

    `settings` holds the fields of nameclf.classify.ngram.NgramConfig, and `lexicon`: whether the
    word frequencies of nameclf.data.lexicon are inputs too (their weights follow the n-grams').
    """
    from scipy.special import logsumexp
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    if len(set(labels.tolist())) < 2:
        raise ConfigError("the training split must hold at least two labels")
    vectorizer = TfidfVectorizer(analyzer=settings["analyzer"],
                                 ngram_range=(settings["min_n"], settings["max_n"]),
                                 lowercase=settings["lowercase"],
                                 sublinear_tf=settings["sublinear_tf"],
                                 min_df=settings["min_df"], dtype=np.float32)
    try:
        x = vectorizer.fit_transform(names)  # (N, F), sparse
    except ValueError as err:  # every n-gram pruned: too few or too different names
        raise ConfigError(f"no character n-gram occurs in {settings['min_df']} or more "
                          "training names; lower min_df or add names") from err
    if settings.get("lexicon"):
        from scipy.sparse import csr_matrix, hstack

        from nameclf.data import lexicon

        x = hstack([x, csr_matrix(lexicon.load().features(names))], format="csr")
    if pick_solver(settings.get("solver", "auto"), n_classes) == "sgd":
        from sklearn.linear_model import SGDClassifier

        clf = SGDClassifier(loss="log_loss", alpha=SGD_ALPHA, max_iter=20, tol=1e-3,
                            random_state=seed)
    else:
        clf = LogisticRegression(C=settings["C"], max_iter=settings["max_iter"],
                                 random_state=seed)
    with threadpool_limits(1), warnings.catch_warnings():  # a small sparse problem: more
        # threads only contend (4x slower); SGD's 20 passes may warn they did not converge
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x, labels)
    ngrams = [""] * len(vectorizer.vocabulary_)  # the first columns of x
    for gram, i in vectorizer.vocabulary_.items():
        ngrams[i] = gram
    # scatter the learned rows into all labels; a binary fit has one row, for classes_[1]
    coef = np.zeros((n_classes, x.shape[1]))
    intercept = np.full(n_classes, ABSENT_LOGIT)
    rows = clf.classes_[1:] if len(clf.classes_) == 2 else clf.classes_
    coef[rows] = clf.coef_
    intercept[clf.classes_] = 0.0
    intercept[rows] = clf.intercept_
    # the loss of what the torch model computes: a softmax over the scores (for L-BFGS the
    # same as predict_proba; for one-vs-rest SGD not, which normalizes sigmoids instead)
    scores = clf.decision_function(x)  # (N, K), or (N,) for two labels
    if scores.ndim == 1:
        scores = np.stack([np.zeros_like(scores), scores], axis=1)
    logp = scores - logsumexp(scores, axis=1, keepdims=True)
    loss = -logp[np.arange(len(labels)), np.searchsorted(clf.classes_, labels)].mean()
    return ngrams, coef, intercept, vectorizer.idf_, float(loss), int(np.max(clf.n_iter_))


def fit_stoppable(names: list[str], labels: np.ndarray, n_classes: int, settings: Mapping,
                  seed: int, stop: threading.Event | None = None,
                  deadline: float | None = None):
    """fit_sklearn in a child process; None if Stop or the deadline (perf_counter) came first."""
    job = {"names": list(names), "labels": np.asarray(labels).tolist(), "n_classes": n_classes,
           "settings": dict(settings), "seed": seed}
    package_root = str(Path(__file__).resolve().parents[2])  # importable however we were run
    env = os.environ | {"PYTHONPATH": os.pathsep.join(
        p for p in (package_root, os.environ.get("PYTHONPATH")) if p)}
    with tempfile.TemporaryDirectory(prefix="nameclf-ngram-") as folder:
        job_file = Path(folder) / "job.json"
        job_file.write_text(json.dumps(job))
        child = subprocess.Popen([sys.executable, "-m", "nameclf.classify.logistic", str(job_file)],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=env)
        try:
            while True:
                try:
                    out, err = child.communicate(timeout=POLL_SECONDS)
                    break
                except subprocess.TimeoutExpired:  # retrying loses no output (subprocess docs)
                    ended = stop is not None and stop.is_set()
                    if ended or (deadline is not None and time.perf_counter() > deadline):
                        return None
        finally:
            if child.poll() is None:
                child.kill()
                child.communicate()
    if child.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines() or ["no message"]
        if child.returncode == CONFIG_ERROR_EXIT:
            raise ConfigError(lines[-1])
        raise RuntimeError(f"the n-gram fit failed: {lines[-1]}")
    with np.load(io.BytesIO(out), allow_pickle=False) as saved:
        ngrams = json.loads(saved["ngrams"].tobytes())
        return (ngrams, saved["coef"], saved["intercept"], saved["idf"], float(saved["loss"]),
                int(saved["iterations"]))


def main() -> int:
    """The child: a JSON job file named by argv, an .npz of fit_sklearn's results on stdout."""
    job = json.loads(Path(sys.argv[1]).read_text())
    try:
        ngrams, coef, intercept, idf, loss, iterations = fit_sklearn(
            job["names"], np.array(job["labels"], dtype=np.int64), job["n_classes"],
            job["settings"], job["seed"])
    except ConfigError as err:
        print(err, file=sys.stderr)
        return CONFIG_ERROR_EXIT
    buffer = io.BytesIO()
    as_bytes = np.frombuffer(json.dumps(ngrams).encode(), dtype=np.uint8)  # exact, unlike <U
    np.savez(buffer, ngrams=as_bytes, coef=coef, intercept=intercept, idf=idf, loss=loss,
             iterations=iterations)
    sys.stdout.buffer.write(buffer.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
