"""Outside knowledge for the n-gram model: how common a name is as a word in 12 languages.

A surname is often a word, or appears as one in text: `Keller` is frequent in German text,
`Veverka` in Czech, `Kavanagh` in English. The wordfreq package (Robyn Speer; word lists
built from Wikipedia, subtitles, news, books and web text, CC BY-SA 4.0) gives each word's
Zipf frequency per language: log10 of its uses per billion words, 0 when it is not listed.
Russian and Greek lists are in their own scripts, so we romanize them (`Ивано́в` -> ivanov).

The lists take about 560 MB as Python dicts, so `load()` keeps one compact table instead:
every word of the 12 lists that folds to a-z (16 letters at most), sorted, with one byte per
language (74 MB). It is built once (about 12 s) and cached on disk (`cache_dir()`).
"""

import functools
import os
import re
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nameclf.data.rows_cache import cache_dir
from nameclf.data.vocab import fold_ascii
from nameclf.errors import ConfigError

LANGUAGES = ("en", "de", "fr", "it", "es", "pt", "nl", "pl", "cs", "vi", "ru", "el")
LANGUAGE_NAMES = ("English", "German", "French", "Italian", "Spanish", "Portuguese", "Dutch",
                  "Polish", "Czech", "Vietnamese", "Russian", "Greek")
MAX_LETTERS = 16  # longer words are left out of the table, longer names match nothing
STEPS = 20  # Zipf frequencies are stored in twentieths: one byte, 0 to 12.75
SCALE = 4.0  # features are Zipf / SCALE, about 0 to 2: near the TF-IDF values' scale (0 to 1),
# so that one regularization strength C suits both (chosen on validation)
N_FEATURES = 2 * len(LANGUAGES) + 2
VERSION = 2  # of the cached table: its layout and spellings

ROMAN = {  # romanization of the two lists in other scripts, letter by letter
    "ru": str.maketrans(dict(zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p",
         "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"],
        strict=True))),
    "el": str.maketrans(dict(zip(
        "αβγδεζηθικλμνξοπρσςτυφχψωάέήίόύώϊϋΐΰ",
        ["a", "v", "g", "d", "e", "z", "i", "th", "i", "k", "l", "m", "n", "x", "o", "p", "r",
         "s", "s", "t", "y", "f", "ch", "ps", "o", "a", "e", "i", "i", "o", "y", "o", "i", "y",
         "i", "y"], strict=True))),
}
_RU_ENDING = re.compile("[иы]й$")  # -ский is spelled -sky as often as -skiy
_EL_PAIRS = [(re.compile(a), b) for a, b in [  # letter pairs spelled as one sound
    ("ο[υύ]", "ou"), ("α[υύ]", "av"), ("ε[υύ]", "ev"), ("^μπ", "b"), ("^ντ", "d"), ("^γκ", "g"),
    ("γγ", "ng")]]
_WORD = re.compile(rf"[a-z']{{1,{MAX_LETTERS}}}")
_KEY = str.maketrans({" ": None, "-": None, "\u2019": "'", "\u02bc": "'"})  # "Mc Donald",
# "Abi-Nader" are looked up joined; a typographic apostrophe as the plain one


def romanize(word: str, lang: str) -> set[str]:
    """Latin spellings of a Russian or Greek word: иванов -> ivanov; достоевский ->
    dostoevskiy and dostoevsky; παπαδόπουλος -> papadopoulos."""
    if lang == "ru":
        return {word.translate(ROMAN["ru"]), _RU_ENDING.sub("y", word).translate(ROMAN["ru"])}
    for pattern, latin in _EL_PAIRS:
        word = pattern.sub(latin, word)
    return {word.translate(ROMAN["el"])}


def key(name: str) -> str:
    """What a name is looked up as: folded to ASCII, lowercase, without spaces and hyphens;
    '' for anything that cannot be a listed word (digits, other scripts, too long)."""
    word = fold_ascii(name).lower().translate(_KEY)
    return word if _WORD.fullmatch(word) else ""


@dataclass(frozen=True)
class Lexicon:
    """Sorted words (bytes, at most MAX_LETTERS) and their Zipf frequencies in twentieths."""

    words: np.ndarray  # (W,) S16, sorted, unique
    zipf: np.ndarray  # (W, len(LANGUAGES)) uint8

    def __post_init__(self):
        ok = (self.words.ndim == 1 and self.words.dtype == np.dtype(f"S{MAX_LETTERS}")
              and self.zipf.shape == (len(self.words), len(LANGUAGES))
              and self.zipf.dtype == np.uint8
              and bool(np.all(self.words[1:] > self.words[:-1])))
        if not ok:
            raise ConfigError("the word-frequency table is not a sorted table of the 12 languages")

    def lookup(self, names: list[str]) -> np.ndarray:
        """Zipf frequencies (N, len(LANGUAGES)) of each name as a word; 0 where unlisted."""
        out = np.zeros((len(names), len(LANGUAGES)), dtype=np.float32)
        if not len(self.words):
            return out
        keys = np.array([key(n).encode() for n in names], dtype=f"S{MAX_LETTERS}")
        at = np.minimum(np.searchsorted(self.words, keys), len(self.words) - 1)
        found = (self.words[at] == keys) & (keys != b"")
        out[found] = self.zipf[at[found]] / STEPS
        return out

    def features(self, names: list[str]) -> np.ndarray:
        """(N, N_FEATURES) float32: each language's Zipf frequency, how far each listed one is
        below the name's most frequent language (0 where unlisted), that maximum, and 1 where
        no list has the name; all divided by SCALE except the last."""
        z = self.lookup(names)  # (N, L)
        top = z.max(axis=1, keepdims=True)  # (N, 1)
        below = np.where(z > 0, z - top, 0.0)
        unlisted = (top == 0).astype(np.float32)
        return np.hstack([z / SCALE, below / SCALE, top / SCALE, unlisted]).astype(np.float32)


def _words(lang: str) -> tuple[list[str], list[int]]:
    """The language's listed words that fold to a-z, and their Zipf frequencies in twentieths."""
    import wordfreq

    buckets = wordfreq.read_cBpack(wordfreq.available_languages("best")[lang])
    words, zipf = [], []
    for i, bucket in enumerate(buckets):  # bucket i: frequency 10 ** (-i / 100)
        z = round((9 - i / 100) * STEPS)
        if z <= 0:
            continue
        for word in bucket:
            for spelled in romanize(word, lang) if lang in ROMAN else (word,):
                if not spelled.isascii():
                    spelled = fold_ascii(spelled)
                if _WORD.fullmatch(spelled):
                    words.append(spelled)
                    zipf.append(z)
    return words, zipf


def build() -> Lexicon:
    """The table from the installed wordfreq lists (about 12 s, 200 MB at the peak)."""
    columns = []
    for col, lang in enumerate(LANGUAGES):
        words, zipf = _words(lang)
        columns.append((np.array(words, dtype=f"S{MAX_LETTERS}"),
                        np.full(len(words), col, np.int64), np.array(zipf, np.uint8)))
    words = np.concatenate([c[0] for c in columns])
    cols = np.concatenate([c[1] for c in columns])
    zipf = np.concatenate([c[2] for c in columns])
    unique, row = np.unique(words, return_inverse=True)
    table = np.zeros((len(unique), len(LANGUAGES)), np.uint8)
    np.maximum.at(table, (row, cols), zipf)  # spellings that fold alike keep the most common
    return Lexicon(unique, table)


def source() -> str:
    """The installed word lists, e.g. `wordfreq 3.1.1`."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"wordfreq {version('wordfreq')}"
    except PackageNotFoundError as err:
        raise ConfigError("word-frequency features need the wordfreq package: "
                          "pip install wordfreq") from err


def cache_file() -> Path:
    stem = source().replace(" ", "-")
    return cache_dir() / f"lexicon-v{VERSION}-{stem}.npz"


def _read(path: Path) -> Lexicon | None:
    try:
        with np.load(path, allow_pickle=False) as saved:
            return Lexicon(saved["words"], saved["zipf"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, ConfigError):
        # absent, cut short or foreign: build it anew
        return None


def _write(lexicon: Lexicon, path: Path) -> None:
    """Write atomically; a cache that cannot be written is simply not kept."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".lexicon-", suffix=".npz")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(out, words=lexicon.words, zipf=lexicon.zipf)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)


_BUILDING = threading.Lock()  # two of the app's jobs must not build it twice at once


@functools.cache
def load() -> Lexicon:
    """The table, read from the cache, else built and cached; once per process."""
    path = cache_file()
    with _BUILDING:
        lexicon = _read(path)
        if lexicon is None:
            lexicon = build()
            _write(lexicon, path)
    return lexicon
