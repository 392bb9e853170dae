"""Word frequencies (nameclf.data.lexicon): lookup keys, the table, its cache, and the n-gram model
that reads them, checked against wordfreq and scikit-learn; checkpoints, configs and the CLI."""

import json
import threading
from dataclasses import asdict
from importlib import metadata

import numpy as np
import pytest
import torch
import wordfreq
from helpers import dataset, lines_text, rewritten, small_model
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from nameclf.classify.checkpoint import from_bytes, to_bytes
from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.classify.logistic import fit_sklearn, fit_stoppable
from nameclf.classify.mixture import Mixture, alone, ngram_part
from nameclf.classify.ngram import NgramConfig, NgramModel, fit_ngram
from nameclf.classify.pipeline import fit, predict, prepare
from nameclf.cli import main
from nameclf.data import lexicon
from nameclf.data.lexicon import LANGUAGES, MAX_LETTERS, N_FEATURES, SCALE, Lexicon, key, romanize
from nameclf.errors import CheckpointError, ConfigError

L = len(LANGUAGES)
EN, DE, FR, IT = (LANGUAGES.index(lang) for lang in ("en", "de", "fr", "it"))
SURNAMES = {  # real surnames, most of them listed words: the lexicon has something to say
    "German": ["Keller", "Schmidt", "Müller", "Wagner", "Becker", "Hoffmann", "Fischer",
               "Weber", "Schneider", "Meyer", "Schulz", "Koch", "Richter", "Klein", "Wolf",
               "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun"],
    "Italian": ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo",
                "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "Mancini", "Costa",
                "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri"],
    "Russian": ["Ivanov", "Smirnov", "Kuznetsov", "Popov", "Vasiliev", "Petrov", "Sokolov",
                "Mikhailov", "Novikov", "Fedorov", "Morozov", "Volkov", "Alekseev", "Lebedev",
                "Semenov", "Egorov", "Pavlov", "Kozlov", "Stepanov", "Orlov"],
}
PAIRS = [(name, label) for label, names in SURNAMES.items() for name in names]
GRU_MIX = dict(cell="gru", embedding_dim=8, hidden_size=16, ngram_weight=0.5, lexicon=True)
SHORT = TrainConfig(steps=5, batch_size=16, eval_every=0, seed=1)


def table(rows: dict[str, dict[int, int]]) -> Lexicon:
    """A hand-built table: word -> {language index: Zipf in twentieths}."""
    words = sorted(rows)
    zipf = np.zeros((len(words), L), np.uint8)
    for i, word in enumerate(words):
        for lang, steps in rows[word].items():
            zipf[i, lang] = steps
    return Lexicon(np.array([w.encode() for w in words], dtype=f"S{MAX_LETTERS}"), zipf)


TINY = {"keller": {EN: 72, DE: 92}, "martin": {EN: 95, DE: 90, FR: 95}, "mcdonald": {EN: 80},
        "muller": {DE: 100}, "rossi": {IT: 94}}


@pytest.fixture(scope="module")
def real():
    """The real table from the installed wordfreq (built once, then read from the disk cache)."""
    return lexicon.load()


@pytest.fixture(scope="module")
def prep():
    return prepare(dataset(PAIRS), "names", seed=0)


@pytest.fixture(scope="module")
def ngram_run(prep):
    return fit(prep, ModelConfig(cell="ngram", lexicon=True), TrainConfig())


@pytest.fixture(scope="module")
def mixed_run(prep):
    return fit(prep, ModelConfig(**GRU_MIX), SHORT, info={"ascii_fold": True})


@pytest.fixture
def fresh_cache(monkeypatch, tmp_path):
    """load() starts afresh with its cache in tmp_path and `build` replaced by a tiny table;
    yields the list of build calls. Cleared again after, so later tests read the real table."""
    monkeypatch.setenv("NAMECLF_CACHE", str(tmp_path / "cache"))
    calls = []

    def build():
        calls.append(1)
        return table(TINY)

    monkeypatch.setattr(lexicon, "build", build)
    lexicon.load.cache_clear()
    yield calls
    lexicon.load.cache_clear()


# keys and romanization

@pytest.mark.parametrize("name, expected", [
    ("Müller", "muller"), ("Mc Donald", "mcdonald"), ("Abi-Nader", "abinader"),
    ("O'Brien", "o'brien"), ("Straße", "strasse"), ("Łukasz", "lukasz"),
    ("Smith2", ""), ("1984", ""), ("Иванов", ""), ("Παπαδάκης", ""), ("李", ""), ("", ""),
    ("O\u2019Brien", "o'brien"), ("St. John", ""), ("A" * MAX_LETTERS, "a" * MAX_LETTERS),
    ("A" * (MAX_LETTERS + 1), ""),
    ("Schwarzenbergerin", ""),  # 17 letters
])
def test_key_folds_joins_and_refuses_what_no_list_holds(name, expected):
    assert key(name) == expected


@pytest.mark.parametrize("lang, word, expected", [
    ("ru", "иванов", {"ivanov"}), ("ru", "щукин", {"shchukin"}),
    ("ru", "хрущёв", {"khrushchev"}), ("ru", "цыганков", {"tsygankov"}),
    ("ru", "юрьева", {"yureva"}), ("ru", "достоевский", {"dostoevskiy", "dostoevsky"}),
    ("ru", "толстый", {"tolstyy", "tolsty"}),
    ("el", "παπαδάκης", {"papadakis"}), ("el", "θεσσαλονίκη", {"thessaloniki"}),
    ("el", "ψυχή", {"psychi"}), ("el", "παπαδόπουλος", {"papadopoulos"}),
    ("el", "γεωργίου", {"georgiou"}), ("el", "ευαγγέλου", {"evangelou"}),
    ("el", "μπάνος", {"banos"}), ("el", "ντάλας", {"dalas"}),
])
def test_romanization_spells_names_as_usual(lang, word, expected):
    assert romanize(word, lang) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=5))
def test_any_text_gets_a_plain_key_and_finite_features(names):
    for name in names:
        word = key(name)
        assert word == "" or (len(word) <= MAX_LETTERS
                              and set(word) <= set("abcdefghijklmnopqrstuvwxyz'"))
    table = Lexicon(np.array([b"ab", b"o'b"], dtype=f"S{MAX_LETTERS}"),
                    np.full((2, L), 60, np.uint8))
    features = table.features(names)
    assert features.shape == (len(names), N_FEATURES) and np.isfinite(features).all()


# the table

def test_lookup_gives_twentieths_of_listed_names_and_zero_otherwise():
    lex = table(TINY)
    z = lex.lookup(["KELLER", "Müller", "Mc Donald", "Schmidt", "Zzz", "Aaa", "Keller1"])
    expected = np.zeros((7, L), np.float32)
    expected[0, [EN, DE]] = [3.6, 4.6]
    expected[1, DE] = 5.0
    expected[2, EN] = 4.0
    np.testing.assert_allclose(z, expected, rtol=0, atol=1e-6)
    assert z.dtype == np.float32


def test_features_are_frequencies_gaps_to_the_top_the_top_and_unlisted():
    f = table(TINY).features(["Keller", "Nobody", "martin"])
    expected = np.zeros((3, N_FEATURES), np.float32)
    expected[0, [EN, DE]] = [3.6 / 4, 4.6 / 4]  # z / SCALE
    expected[0, L + EN] = (3.6 - 4.6) / 4  # below the top; 0 for the top and unlisted ones
    expected[0, 2 * L] = 4.6 / 4  # the top
    expected[1, 2 * L + 1] = 1  # listed nowhere
    expected[2, [EN, DE, FR]] = [4.75 / 4, 4.5 / 4, 4.75 / 4]
    expected[2, L + DE] = (4.5 - 4.75) / 4
    expected[2, 2 * L] = 4.75 / 4
    assert SCALE == 4 and N_FEATURES == 2 * L + 2
    assert f.shape == (3, N_FEATURES) and f.dtype == np.float32
    np.testing.assert_allclose(f, expected, rtol=0, atol=1e-6)


def test_no_names_and_an_empty_table():
    assert table(TINY).features([]).shape == (0, N_FEATURES)
    assert table(TINY).lookup([]).shape == (0, L)
    empty = table({})
    assert not empty.lookup(["Keller", ""]).any()
    np.testing.assert_array_equal(empty.features(["Keller"])[0, -1:], [1.0])
    assert not empty.features(["Keller"])[0, :-1].any()


def test_an_empty_key_never_matches_even_a_listed_empty_word():
    lex = table({"": {EN: 100}, "keller": {DE: 92}})
    assert not lex.lookup(["123", "", "Иванов"]).any()


def good_arrays():
    return np.array([b"a", b"b"], dtype=f"S{MAX_LETTERS}"), np.zeros((2, L), np.uint8)


@pytest.mark.parametrize("words, zipf", [
    (np.array([b"b", b"a"], dtype=f"S{MAX_LETTERS}"), good_arrays()[1]),  # unsorted
    (np.array([b"a", b"a"], dtype=f"S{MAX_LETTERS}"), good_arrays()[1]),  # repeated
    (np.array([b"a", b"b"], dtype="S8"), good_arrays()[1]),  # other width
    (np.array(["a", "b"]), good_arrays()[1]),  # str, not bytes
    (good_arrays()[0], np.zeros((2, L), np.uint16)),
    (good_arrays()[0], np.zeros((2, L), np.float32)),
    (good_arrays()[0], np.zeros((2, L - 1), np.uint8)),
    (good_arrays()[0], np.zeros((3, L), np.uint8)),
    (good_arrays()[0].reshape(2, 1), good_arrays()[1]),
])
def test_the_table_refuses_what_it_cannot_search(words, zipf):
    with pytest.raises(ConfigError, match="sorted table"):
        Lexicon(words, zipf)


# the real table against wordfreq

@pytest.mark.parametrize("word, langs", [
    ("keller", ["en", "de"]), ("martin", ["en", "fr"]), ("house", ["en"]),
    ("schmidt", ["de", "en"]), ("rossi", ["it"]), ("amsterdam", ["nl"]),
])
def test_the_real_table_agrees_with_wordfreq(real, word, langs):
    z = real.lookup([word.title()])[0]
    for lang in langs:
        # The table keeps round(20 * Zipf) / 20 of wordfreq's bucket (error <= 1/40 = 0.025);
        # zipf_frequency rounds the frequency to 3 significant digits (<= log10(1.005) =
        # 0.0022 in Zipf) and then the Zipf value to 2 decimals (<= 0.005): 0.0322 at most.
        assert z[LANGUAGES.index(lang)] == pytest.approx(wordfreq.zipf_frequency(word, lang),
                                                         abs=0.033), lang


def test_russian_names_are_found_romanized_and_made_up_ones_nowhere(real):
    z = real.lookup(["Ivanov", "Qzxqvbnm"])
    ru, en = z[0, LANGUAGES.index("ru")], z[0, EN]
    assert ru > en + 1  # Иванов is common in Russian text, Ivanov rarer in English
    assert ru == pytest.approx(wordfreq.zipf_frequency("иванов", "ru"), abs=0.033)
    assert not z[1].any()
    assert real.features(["Qzxqvbnm"])[0, -1] == 1


def test_greek_names_are_found_as_they_are_usually_spelled(real):
    z = real.lookup(["Papadopoulos", "Georgiou"])[:, LANGUAGES.index("el")]
    for word, found in zip(["παπαδόπουλος", "γεωργίου"], z):
        assert found > 3
        assert found == pytest.approx(wordfreq.zipf_frequency(word, "el"), abs=0.033)


# the disk cache

def test_load_builds_once_then_reads_the_cache(fresh_cache):
    path = lexicon.cache_file()
    version = metadata.version("wordfreq")
    assert lexicon.source() == f"wordfreq {version}"
    assert path.parent == lexicon.cache_dir() and path.name == \
        f"lexicon-v{lexicon.VERSION}-wordfreq-{version}.npz"
    first = lexicon.load()
    assert fresh_cache == [1] and path.is_file()
    assert lexicon.load() is first  # once per process
    lexicon.load.cache_clear()
    second = lexicon.load()
    assert fresh_cache == [1] and second is not first
    np.testing.assert_array_equal(second.words, first.words)
    np.testing.assert_array_equal(second.zipf, first.zipf)


def corrupt(path, raw: bytes) -> None:
    path.write_bytes(b"not a zip file at all, just some bytes \x00\xff" * 10)


def truncated(path, raw: bytes) -> None:
    path.write_bytes(raw[: len(raw) // 2])


def foreign(path, raw: bytes) -> None:  # a well-formed npz of the wrong table
    np.savez(path, words=np.array([b"b", b"a"], dtype=f"S{MAX_LETTERS}"),
             zipf=np.zeros((2, L), np.uint8))


@pytest.mark.parametrize("spoil", [corrupt, truncated, foreign])
def test_a_spoiled_cache_file_is_rebuilt_and_overwritten(fresh_cache, spoil):
    lexicon.load()
    path = lexicon.cache_file()
    good = path.read_bytes()
    spoil(path, good)
    lexicon.load.cache_clear()
    np.testing.assert_array_equal(lexicon.load().words, table(TINY).words)
    assert fresh_cache == [1, 1]
    with np.load(path) as saved:  # the file was written anew
        np.testing.assert_array_equal(saved["zipf"], table(TINY).zipf)


def test_an_unwritable_cache_still_gives_the_table(fresh_cache, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("NAMECLF_CACHE", str(blocker / "cache"))
    np.testing.assert_array_equal(lexicon.load().zipf, table(TINY).zipf)
    assert fresh_cache == [1] and blocker.read_text() == "x"


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NAMECLF_CACHE", str(tmp_path / "mine"))
    assert lexicon.cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("NAMECLF_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert lexicon.cache_dir() == tmp_path / "xdg" / "nameclf"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert lexicon.cache_dir() == tmp_path / "home" / ".cache" / "nameclf"


def test_without_wordfreq_metadata_load_says_how_to_install_it(fresh_cache, monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    for call in (lexicon.source, lexicon.load):
        with pytest.raises(ConfigError, match="pip install wordfreq"):
            call()
    assert fresh_cache == []


# the n-gram model that reads it

def oracle(names, labels, test_names, lexicon_features: bool) -> np.ndarray:
    """scikit-learn alone: TF-IDF (and the word frequencies after it), logistic regression."""
    cfg = NgramConfig()
    vec = TfidfVectorizer(analyzer=cfg.analyzer, ngram_range=(cfg.min_n, cfg.max_n),
                          lowercase=cfg.lowercase, sublinear_tf=cfg.sublinear_tf,
                          min_df=cfg.min_df, dtype=np.float32)
    x, x_test = vec.fit_transform(names), vec.transform(test_names)
    if lexicon_features:
        words = lexicon.load()
        x = hstack([x, csr_matrix(words.features(names))], format="csr")
        x_test = hstack([x_test, csr_matrix(words.features(test_names))], format="csr")
    clf = LogisticRegression(C=cfg.C, max_iter=cfg.max_iter).fit(x, labels)
    return clf.predict_proba(x_test)


def test_probabilities_equal_scikit_learn_with_the_word_frequencies(prep, ngram_run, real):
    model = ngram_run.model
    names = model.decode(prep.train.idx.T, prep.train.lengths)
    test_names = model.decode(prep.test.idx.T, prep.test.lengths)
    assert real.features(test_names)[:, -1].mean() < 0.5  # most test names are listed words
    labels = prep.train.labels.numpy()
    with_words = oracle(names, labels, test_names, lexicon_features=True)
    got = model(prep.test.idx.T, prep.test.lengths).exp().numpy()
    np.testing.assert_allclose(got, with_words, rtol=0, atol=1e-4)
    without = oracle(names, labels, test_names, lexicon_features=False)
    assert np.abs(with_words - without).max() > 0.01  # the word frequencies made a difference


def test_the_extra_weights_are_parameters_only_with_the_flag(prep, ngram_run):
    model = ngram_run.model
    n_classes, n_grams = model.coef.shape
    assert model.lexicon_coef.shape == (n_classes, N_FEATURES)
    assert model.n_params() == n_classes * (n_grams + 1 + N_FEATURES)
    assert ngram_run.info["n_params"] == model.n_params()
    plain, _ = fit_ngram(prep.train, prep.vocab, ModelConfig(
        cell="ngram", vocab_size=len(prep.vocab), n_classes=len(prep.classes)), TrainConfig())
    assert "lexicon_coef" not in dict(plain.named_parameters())
    assert plain.n_params() == n_classes * (len(plain.ngrams) + 1)


def test_the_fit_in_a_child_process_reads_the_same_word_frequencies(prep, ngram_run):
    names = ngram_run.model.decode(prep.train.idx.T, prep.train.lengths)
    labels = prep.train.labels.numpy()
    settings = asdict(NgramConfig()) | {"lexicon": True}
    here = fit_sklearn(names, labels, len(prep.classes), settings, 0)
    there = fit_stoppable(names, labels, len(prep.classes), settings, 0, deadline=1e12)
    assert there[0] == here[0] and there[1].shape[1] == len(here[0]) + N_FEATURES
    for mine, theirs in zip(here[1:4], there[1:4]):
        np.testing.assert_array_equal(theirs, mine)


def test_a_fit_stopped_before_it_starts_is_uniform_and_saves(prep):
    stop = threading.Event()
    stop.set()
    run = fit(prep, ModelConfig(cell="ngram", lexicon=True), TrainConfig(), stop=stop)
    assert run.status == "stopped" and not run.model.lexicon_coef.any()
    probs = [p for _, p in predict(run, "Keller", k=3)[0].top]
    assert probs == pytest.approx([1 / 3] * 3)
    assert from_bytes(to_bytes(run)).model.lexicon_coef.shape == (3, N_FEATURES)


# checkpoints

def saved_meta(raw: bytes) -> dict:
    header_len = int.from_bytes(raw[:8], "little")
    return json.loads(json.loads(raw[8 : 8 + header_len])["__metadata__"]["nameclf"])


@pytest.mark.parametrize("which", ["ngram_run", "mixed_run"])
def test_checkpoints_round_trip_with_the_languages_and_source(prep, which, request):
    run = request.getfixturevalue(which)
    raw = to_bytes(run)
    loaded = from_bytes(raw)
    assert loaded.model_config == run.model_config and loaded.model_config.lexicon
    idx, lengths = prep.test.idx.T, prep.test.lengths
    assert torch.equal(loaded.model(idx, lengths), run.model(idx, lengths))
    assert saved_meta(raw)["ngram"]["lexicon"] == {"languages": list(LANGUAGES),
                                                   "source": lexicon.source()}
    ngram = loaded.model.ngram if which == "mixed_run" else loaded.model
    assert isinstance(ngram, NgramModel) and ngram.config.lexicon
    assert ngram.lexicon_coef.shape == (len(prep.classes), N_FEATURES)


def test_a_mixture_with_the_lexicon_is_what_fit_made(mixed_run):
    assert isinstance(mixed_run.model, Mixture) and mixed_run.status == "completed"
    assert mixed_run.model.ngram.config == ngram_part(mixed_run.model_config)
    assert mixed_run.model.ngram.lexicon_coef.abs().sum() > 0  # fitted, not the uniform guess
    assert "mix_note" not in mixed_run.info


def other_languages(state, meta):
    meta["ngram"]["lexicon"]["languages"] = [*LANGUAGES[:-1], "tr"]


def narrower_weights(state, meta, prefix=""):
    state[f"{prefix}lexicon_coef"] = state[f"{prefix}lexicon_coef"][:, :-1].contiguous()


HOLDS = "checkpoint holds exactly"
LANGS = "other languages"
SHAPE = "word-frequency weights do not match"
NGRAM_TAMPERING = {  # how -> (change(state, meta), what the refusal says)
    "no weights": (lambda state, meta: state.pop("lexicon_coef"), HOLDS),
    "weights without the flag": (
        lambda state, meta: meta["model_config"].update(lexicon=False), HOLDS),
    "other languages": (other_languages, LANGS),
    "no languages": (lambda state, meta: meta["ngram"].pop("lexicon"), LANGS),
    "languages not a dict": (
        lambda state, meta: meta["ngram"].update(lexicon=list(LANGUAGES)), LANGS),
    "narrower weights": (narrower_weights, SHAPE),
    "extra tensor": (lambda state, meta: state.update(extra=torch.zeros(1)), HOLDS),
}
MIXTURE_TAMPERING = {
    "no weights": (lambda state, meta: state.pop("ngram.lexicon_coef"), HOLDS),
    "weights without the flag": (
        lambda state, meta: meta["model_config"].update(lexicon=False), HOLDS),
    "other languages": (other_languages, LANGS),
    "narrower weights": (lambda state, meta: narrower_weights(state, meta, "ngram."), SHAPE),
    "extra tensor": (lambda state, meta: state.update({"ngram.extra": torch.zeros(1)}), HOLDS),
    "no mixing": (lambda state, meta: meta["model_config"].update(ngram_weight=0.0),
                  "word frequencies feed the n-gram model"),
}


@pytest.mark.parametrize("how", list(NGRAM_TAMPERING))
def test_a_doctored_ngram_checkpoint_is_refused(ngram_run, how):
    change, says = NGRAM_TAMPERING[how]
    with pytest.raises(CheckpointError, match=says):
        from_bytes(rewritten(to_bytes(ngram_run), change))


def test_a_checkpoint_from_before_word_frequencies_loads_without_them(prep):
    run = fit(prep, ModelConfig(cell="ngram"), TrainConfig())
    older = rewritten(to_bytes(run), lambda state, meta: meta["model_config"].pop("lexicon"))
    loaded = from_bytes(older)  # what nameclf wrote before ModelConfig.lexicon existed
    assert loaded.model_config == run.model_config and not loaded.model_config.lexicon
    names = ["Keller", "Ivanov"]
    assert [p.top for p in predict(loaded, names)] == [p.top for p in predict(run, names)]


@pytest.mark.parametrize("how", list(MIXTURE_TAMPERING))
def test_a_doctored_mixture_checkpoint_is_refused(mixed_run, how):
    change, says = MIXTURE_TAMPERING[how]
    with pytest.raises(CheckpointError, match=says):
        from_bytes(rewritten(to_bytes(mixed_run), change))


# configs and the command line

def test_only_a_model_with_an_ngram_part_reads_word_frequencies():
    sizes = dict(vocab_size=10, n_classes=3)
    with pytest.raises(ConfigError, match="word frequencies feed the n-gram model"):
        ModelConfig(cell="gru", lexicon=True, **sizes).validate()
    ModelConfig(cell="ngram", lexicon=True, **sizes).validate()
    ModelConfig(cell="gru", lexicon=True, ngram_weight=0.5, **sizes).validate()
    assert ngram_part(ModelConfig(cell="gru", lexicon=True, ngram_weight=0.5, **sizes)).lexicon


def test_a_recurrent_model_kept_alone_reads_no_word_frequencies():
    model = alone(small_model(10, 3, ngram_weight=0.5, lexicon=True))
    assert model.config.ngram_weight == 0 and not model.config.lexicon
    model.config.validate()


@pytest.fixture
def data_file(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text(lines_text(PAIRS), encoding="utf-8")
    return path


def test_cli_trains_and_predicts_with_word_frequencies(data_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", str(data_file), "--model", "ngram", "--lexicon",
                 "--out", str(out), "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "ngram"
    record = json.loads((out / "metrics.json").read_text())
    assert record["model_config"]["lexicon"] is True
    assert main(["predict", "--checkpoint", str(out / "model.safetensors"), "Ivanov", "Keller",
                 "--json"]) == 0
    preds = json.loads(capsys.readouterr().out)
    assert [p["top"][0][0] for p in preds] == ["Russian", "German"]


@pytest.mark.parametrize("flags", [
    ["--model", "gru", "--lexicon"],
    ["--preset", "best", "--ngram-weight", "0", "--lexicon"],  # asked for: not dropped
])
def test_cli_refuses_word_frequencies_without_an_ngram_part_in_one_line(data_file, tmp_path,
                                                                       capsys, flags):
    out = tmp_path / "run"
    code = main(["train", "--data", str(data_file), "--steps", "2", *flags, "--out", str(out),
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "word frequencies feed the n-gram model" in err
    assert not out.exists()


def test_cli_best_preset_without_its_ngram_part_drops_the_lexicon(data_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", str(data_file), "--preset", "best", "--ngram-weight", "0",
                 "--steps", "3", "--hidden", "8", "--embedding-dim", "4", "--out", str(out),
                 "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "lstm"
    config = json.loads((out / "metrics.json").read_text())["model_config"]
    assert config["lexicon"] is False and config["ngram_weight"] == 0
