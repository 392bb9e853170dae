"""Built-in datasets: Faker's per-locale surnames offline, the PyTorch names zip on request."""

from __future__ import annotations

import functools
import hashlib
import http.client
import importlib
import os
import re
import tempfile
import threading
import unicodedata
import urllib.error
import urllib.request
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from unidecode import unidecode

from nameclf.data import rows_cache
from nameclf.errors import DataError

FAKER_LOCALES: dict[str, str] = {
    "de_DE": "German", "de_AT": "German", "de_CH": "German", "de_LI": "German",
    "en_GB": "English", "ga_IE": "Irish", "fr_FR": "French", "fr_CA": "French",
    "es_ES": "Spanish", "es_MX": "Spanish", "es_AR": "Spanish", "es_CL": "Spanish",
    "es_CO": "Spanish", "pt_PT": "Portuguese", "pt_BR": "Portuguese", "it_IT": "Italian",
    "nl_NL": "Dutch", "da_DK": "Danish", "sv_SE": "Swedish", "fi_FI": "Finnish",
    "et_EE": "Estonian", "lv_LV": "Latvian", "pl_PL": "Polish", "cs_CZ": "Czech",
    "hr_HR": "Croatian", "hu_HU": "Hungarian", "el_GR": "Greek", "ru_RU": "Russian",
    "uk_UA": "Ukrainian", "tr_TR": "Turkish", "az_AZ": "Azerbaijani", "hy_AM": "Armenian",
    "ka_GE": "Georgian", "zh_CN": "Chinese", "zh_TW": "Chinese", "ja_JP": "Japanese",
    # Latin-script lists: unidecode of unvowelled Arabic or of Indic and Thai scripts is poor.
    "fr_DZ": "Arabic", "en_IN": "Indian", "en_TH": "Thai",
    "id_ID": "Indonesian", "yo_NG": "Yoruba", "tw_GH": "Akan",
}

# Locales whose surnames are not (only) in `last_names`; Faker's romanized lists win.
_LOCALE_ATTRS: dict[str, tuple[str, ...]] = {
    "pl_PL": ("male_last_names", "unisex_last_names"),
    "et_EE": ("last_names_est",),
    "ja_JP": ("last_romanized_names", "last_kana_names"),
    "zh_CN": ("last_romanized_names",),
    "zh_TW": ("last_romanized_names",),
}
MIN_LABEL_NAMES = 50

# unidecode gaps: Georgian (national system), Azerbaijani schwa, Cyrillic soft/hard signs,
# Hepburn for the kana unidecode spells kunrei-style, Armenian "u" (unidecode: "ow").
_PRE_MAP = str.maketrans(
    dict(zip("აბგდევზთიკლმნოპრსტუფქყჯჰ", "abgdevztiklmnoprstupkqjh", strict=True))
    | {"ჟ": "zh", "ღ": "gh", "შ": "sh", "ჩ": "ch", "ც": "ts", "ძ": "dz", "წ": "ts", "ჭ": "ch"}
    | {"ხ": "kh", "Ə": "A", "ə": "a", "ь": "", "Ь": "", "ъ": "", "Ъ": ""}
    | {"フ": "fu", "ジ": "ji", "ヂ": "ji", "ヅ": "zu"}
)
_DIGRAPHS = (("ու", "u"), ("Ու", "U"))
_UKRAINIAN = str.maketrans("гГиИґҐ", "hHyYgG")
# Modern Greek (ELOT 743 style); unidecode writes classical forms such as "Photiades".
_GREEK = str.maketrans(
    dict(zip("αβγδεζηικλμνξοπρσςτυφω", "avgdeziiklmnxoprsstyfo", strict=True))
    | {"θ": "th", "χ": "ch", "ψ": "ps"}
)
_GREEK_RULES = tuple((re.compile(pattern), repl) for pattern, repl in (
    (r"(?<![^\s-])μπ", "b"), (r"(?<![^\s-])ντ", "d"), (r"ου", "ou"), (r"γγ", "ng"),
    (r"γ(?=[ξχ])", "n"), (r"([αεη])υ(?=[θκξπστφχψς]|$)", r"\1φ"), (r"([αεη])υ(?!\u0308)", r"\1β"),
))
_NOT_NAME_CHAR = re.compile(r"[^A-Za-z '\-]")
_WORD_START = re.compile(r"(^|[ \-])([a-z])")

PYTORCH_NAMES_URL = "https://download.pytorch.org/tutorial/data.zip"
PYTORCH_NAMES_FILE = "pytorch-names.zip"
_PYTORCH_MEMBER = re.compile(r"^data/names/[^/]+\.txt$")
CHUNK_BYTES = 64 * 1024
MAX_ZIP_TEXT_BYTES = 50 * 2**20
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError,
               NotImplementedError, zlib.error)  # corrupt, encrypted, or unsupported members


def _greek(text: str) -> str:
    """Spell a Greek name in modern Latin letters, lowercase."""
    text = unicodedata.normalize("NFD", text.lower()).replace("\u0301", "")
    for pattern, repl in _GREEK_RULES:
        text = pattern.sub(repl, text)
    return text.translate(_GREEK)


def romanize(raw: str, locale: str = "") -> str:
    """Return an ASCII spelling of a name (letters, space, ' and -), or '' if unusable."""
    if locale == "el_GR":
        raw = _greek(raw)
    elif locale == "uk_UA":
        raw = raw.translate(_UKRAINIAN)
    for src, dst in _DIGRAPHS:
        raw = raw.replace(src, dst)
    text = unidecode(raw.translate(_PRE_MAP))
    if any(ch.isdigit() for ch in text):
        return ""
    text = " ".join(_NOT_NAME_CHAR.sub("", text).split())
    if text.islower() or text.isupper():
        text = _WORD_START.sub(lambda m: m[1] + m[2].upper(), text.lower())
    return text if any(ch.isalpha() for ch in text) else ""


def locale_surnames(locale: str) -> list[str]:
    """Return the raw surnames Faker ships for one locale (tuples, lists, or weighted dicts)."""
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    attrs = _LOCALE_ATTRS.get(locale, ("last_names",))
    return [str(name) for attr in attrs for name in getattr(provider, attr)]


def build_rows(triples: Iterable[tuple[str, str, str]], min_count: int) -> list[tuple[str, str]]:
    """Romanize (raw, locale, label) triples into unique rows; drop small labels; sort."""
    rows = {(name, label) for raw, locale, label in triples if (name := romanize(raw, locale))}
    counts = Counter(label for _, label in rows)
    kept = [row for row in rows if counts[row[1]] >= min_count]
    return sorted(kept, key=lambda row: (row[1], row[0]))


def build_faker_rows() -> list[tuple[str, str]]:
    """Romanize every listed locale's Faker surnames into sorted rows (about 1 s)."""
    triples = ((raw, locale, label) for locale, label in FAKER_LOCALES.items()
               for raw in locale_surnames(locale))
    return build_rows(triples, MIN_LABEL_NAMES)


def faker_source() -> str:
    """What the rows are built from: the packages' versions and a digest of this module's code
    (its romanization rules), e.g. `faker 40.6.0, unidecode 1.4.0, code 3f2a9c1d`."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "unknown"

    try:
        code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:8]
    except OSError:  # e.g. run from a zip: the versions alone then say what built the rows
        code = "unknown"
    return f"faker {installed('faker')}, unidecode {installed('unidecode')}, code {code}"


def faker_cache_file() -> Path:
    """The cached rows' file, named after the cache format and the packages' versions."""
    stem = re.sub(r"[^A-Za-z0-9.]+", "-", faker_source().rsplit(", code", 1)[0])
    return rows_cache.cache_dir() / f"faker-surnames-v{rows_cache.FORMAT}-{stem}.json"


_BUILDING = threading.Lock()  # two visitors' first pages must not build it twice at once


@functools.lru_cache(maxsize=1)
def _faker_rows() -> tuple[tuple[str, str], ...]:
    """The Faker surname rows, read from the disk cache, else built and cached; once per process."""
    path = faker_cache_file()
    with _BUILDING:
        rows = rows_cache.read(path, faker_source())
        if rows is None:
            rows = build_faker_rows()
            rows_cache.write(path, faker_source(), rows)
    return tuple(rows)


def faker_surnames() -> list[tuple[str, str]]:
    """Return (name, label) rows from Faker's surname lists, sorted by label then name."""
    return list(_faker_rows())


def _safe_member(name: str) -> bool:
    """Tell whether a zip member name is a relative, non-hidden path without '..'."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ":" in parts[0] or ".." in parts:
        return False
    return not any(part.startswith(".") or part == "__MACOSX" for part in parts)


def _decode(data: bytes) -> str:
    """Decode a names file as UTF-8 (BOM allowed), falling back to latin-1."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _folder(info: zipfile.ZipInfo) -> str:
    """Return the folder a zip member sits in."""
    return str(PurePosixPath(info.filename.replace("\\", "/")).parent)


def _text_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """Return the safe `.txt` members of the folder holding most of them, sorted by name."""
    # e.g. the PyTorch zip holds data/eng-fra.txt beside data/names/*.txt
    members = [info for info in archive.infolist()
               if not info.is_dir() and info.filename.lower().endswith(".txt")
               and _safe_member(info.filename)]
    counts = Counter(_folder(info) for info in members)
    if not counts:
        return []
    folder = min(counts, key=lambda name: (-counts[name], name))
    return sorted((info for info in members if _folder(info) == folder),
                  key=lambda info: info.filename)


def _read_rows(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> list[tuple[str, str]]:
    """Read (name, label) rows from members, never more than MAX_ZIP_TEXT_BYTES in all."""
    left = MAX_ZIP_TEXT_BYTES
    rows: list[tuple[str, str]] = []
    for info in members:
        with archive.open(info) as member:  # file_size may lie: bound the read as well
            data = member.read(left + 1) if info.file_size <= left else b""
        if info.file_size > left or len(data) > left:
            raise DataError(f"zip holds more than {MAX_ZIP_TEXT_BYTES} bytes of text")
        left -= len(data)
        label = PurePosixPath(info.filename.replace("\\", "/")).stem
        rows += [(line.strip(), label) for line in _decode(data).splitlines() if line.strip()]
    return rows


def read_names_zip(path: str | Path) -> list[tuple[str, str]]:
    """Read (name, label) rows from a zip's folder of `<Label>.txt` files, one name a line."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = _text_members(archive)
            if not members:
                raise DataError(f"{path}: the zip holds no .txt files of names")
            rows = _read_rows(archive, members)
    except _ZIP_ERRORS as exc:
        raise DataError(f"{path}: not a readable zip ({exc})") from exc
    if not rows:
        raise DataError(f"{path}: the zip's .txt files hold no names")
    return rows


def _is_names_zip(path: Path) -> bool:
    """Tell whether a file is a zip holding `data/names/*.txt`."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(_PYTORCH_MEMBER.match(name) for name in archive.namelist())
    except _ZIP_ERRORS:
        return False


def _stream(response: http.client.HTTPResponse, out: BinaryIO, max_bytes: int,
            progress: Callable[[int, int | None], None] | None) -> None:
    """Copy a response body to a file in chunks, refusing more than max_bytes."""
    length = response.headers.get("Content-Length")
    total = int(length) if length and length.isdigit() else None
    if total is not None and total > max_bytes:
        raise DataError(f"download is {total} bytes, over the {max_bytes}-byte limit")
    done = 0
    while chunk := response.read(CHUNK_BYTES):
        done += len(chunk)
        if done > max_bytes:
            raise DataError(f"download passed the {max_bytes}-byte limit")
        out.write(chunk)
        if progress is not None:
            progress(done, total)


def _reason(exc: BaseException) -> str:
    """Say in one line why a download failed."""
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else ValueError(exc.reason)
    return " ".join(str(exc).split()) or type(exc).__name__


def download_pytorch_names(
    data_dir: Path,
    url: str = PYTORCH_NAMES_URL,
    progress: Callable[[int, int | None], None] | None = None,
    timeout: float = 30.0,
    max_bytes: int = 20 * 2**20,
) -> Path:
    """Return the path of the PyTorch tutorial names zip, downloading it if not cached."""
    data_dir = Path(data_dir)
    target = data_dir / PYTORCH_NAMES_FILE
    if target.is_file() and _is_names_zip(target):
        return target
    by_hand = f"download {url} by hand and put the zip as is at {target}"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=data_dir, prefix=".pytorch-names-", suffix=".part")
    except OSError as exc:
        raise DataError(f"cannot write to {data_dir} ({exc}); {by_hand}") from exc
    tmp = Path(tmp_name)
    try:
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                _stream(resp, out, max_bytes, progress)
        except DataError as exc:
            raise DataError(f"could not download {url}: {exc}; {by_hand}") from exc
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if isinstance(exc, urllib.error.HTTPError):
                exc.close()  # it holds the response's socket
            raise DataError(f"could not download {url} ({_reason(exc)}); {by_hand}") from exc
        if not _is_names_zip(tmp):
            raise DataError(f"{url} did not give a zip holding data/names/*.txt; {by_hand}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
