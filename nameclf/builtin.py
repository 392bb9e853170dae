"""Built-in datasets: Faker's per-locale surnames offline, the PyTorch names zip on request."""

from __future__ import annotations

import functools
import http.client
import importlib
import os
import re
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from unidecode import unidecode

from nameclf.errors import DataError

FAKER_LOCALES: dict[str, str] = {
    "de_DE": "German", "de_AT": "German", "de_CH": "German", "de_LI": "German",
    "en_GB": "English", "ga_IE": "Irish",
    "fr_FR": "French", "fr_CA": "French",
    "es_ES": "Spanish", "es_MX": "Spanish", "es_AR": "Spanish", "es_CL": "Spanish",
    "es_CO": "Spanish",
    "pt_PT": "Portuguese", "pt_BR": "Portuguese", "it_IT": "Italian", "nl_NL": "Dutch",
    "da_DK": "Danish", "sv_SE": "Swedish", "fi_FI": "Finnish", "et_EE": "Estonian",
    "lv_LV": "Latvian", "pl_PL": "Polish", "cs_CZ": "Czech", "hr_HR": "Croatian",
    "hu_HU": "Hungarian", "el_GR": "Greek", "ru_RU": "Russian", "uk_UA": "Ukrainian",
    "tr_TR": "Turkish", "az_AZ": "Azerbaijani", "hy_AM": "Armenian", "ka_GE": "Georgian",
    "fr_DZ": "Arabic", "en_IN": "Indian", "en_TH": "Thai", "id_ID": "Indonesian",
    "zh_CN": "Chinese", "zh_TW": "Chinese", "ja_JP": "Japanese",
    "yo_NG": "Yoruba", "tw_GH": "Akan",
}
"""Locale -> label. Arabic, Thai and Indian come from Faker's Latin-script lists."""

# Locales whose surnames are not (only) in `last_names`; Faker's romanized lists win.
_LOCALE_ATTRS: dict[str, tuple[str, ...]] = {
    "pl_PL": ("male_last_names", "unisex_last_names"),
    "et_EE": ("last_names_est",),
    "ja_JP": ("last_romanized_names",),
    "zh_CN": ("last_romanized_names",),
    "zh_TW": ("last_romanized_names",),
}
MIN_LABEL_NAMES = 50

# unidecode gaps: Georgian (national system), Azerbaijani schwa, Cyrillic soft/hard signs.
_PRE_MAP = str.maketrans(
    dict(zip("აბგდევზთიკლმნოპჟრსტუფქღყშჩცძწჭხჯჰ",
             "a b g d e v z t i k l m n o p zh r s t u p k gh q sh ch ts dz ts ch kh j h".split(),
             strict=True))
    | {"Ə": "E", "ə": "e", "ь": "", "Ь": "", "ъ": "", "Ъ": ""}
)
_DIGRAPHS = (("ու", "u"), ("Ու", "U"))  # Armenian "u", which unidecode spells "ow"
_NOT_NAME_CHAR = re.compile(r"[^A-Za-z '\-]")
_WORD_START = re.compile(r"(^|[ \-])([a-z])")

PYTORCH_NAMES_URL = "https://download.pytorch.org/tutorial/data.zip"
PYTORCH_NAMES_FILE = "pytorch-names.zip"
_PYTORCH_MEMBER = re.compile(r"^data/names/[^/]+\.txt$")
CHUNK_BYTES = 64 * 1024
MAX_ZIP_TEXT_BYTES = 50 * 2**20


def romanize(raw: str) -> str:
    """Return an ASCII spelling of a name (letters, space, ' and -), or '' if unusable."""
    for src, dst in _DIGRAPHS:
        raw = raw.replace(src, dst)
    text = unidecode(raw.translate(_PRE_MAP))
    if any(ch.isdigit() for ch in text):
        return ""
    text = " ".join(_NOT_NAME_CHAR.sub("", text).split())
    if text.islower() or text.isupper():
        text = _WORD_START.sub(lambda m: m[1] + m[2].upper(), text.lower())
    return text if any(ch.isalpha() for ch in text) else ""


def _as_names(value: object) -> list[str]:
    """Flatten a Faker name attribute (tuple, list, or weighted dict) into strings."""
    if isinstance(value, dict):
        return [str(key) for key in value]
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    raise TypeError(f"unexpected Faker name list type {type(value).__name__}")


def locale_surnames(locale: str) -> list[str]:
    """Return the raw surnames Faker ships for one locale."""
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    attrs = _LOCALE_ATTRS.get(locale, ("last_names",))
    return [name for attr in attrs for name in _as_names(getattr(provider, attr))]


def build_rows(pairs: Iterable[tuple[str, str]], min_per_label: int) -> list[tuple[str, str]]:
    """Romanize (raw, label) pairs, drop empties and duplicates, small labels; sort."""
    rows = {(name, label) for raw, label in pairs if (name := romanize(raw))}
    counts: dict[str, int] = {}
    for _, label in rows:
        counts[label] = counts.get(label, 0) + 1
    kept = [row for row in rows if counts[row[1]] >= min_per_label]
    return sorted(kept, key=lambda row: (row[1], row[0]))


@functools.lru_cache(maxsize=1)
def _faker_rows() -> tuple[tuple[str, str], ...]:
    """Build the Faker surname rows once per process."""
    pairs = ((raw, label) for locale, label in FAKER_LOCALES.items()
             for raw in locale_surnames(locale))
    return tuple(build_rows(pairs, MIN_LABEL_NAMES))


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


def _text_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """Return the safe `.txt` members of an archive, sorted by name."""
    members = [info for info in archive.infolist()
               if not info.is_dir() and info.filename.lower().endswith(".txt")
               and _safe_member(info.filename)]
    return sorted(members, key=lambda info: info.filename)


def _read_rows(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> list[tuple[str, str]]:
    """Read (name, label) rows from members, never more than MAX_ZIP_TEXT_BYTES in all."""
    left = MAX_ZIP_TEXT_BYTES
    rows: list[tuple[str, str]] = []
    for info in members:
        if info.file_size > left:
            raise DataError(f"zip holds more than {MAX_ZIP_TEXT_BYTES} bytes of text")
        with archive.open(info) as member:
            data = member.read(left + 1)
        if len(data) > left:
            raise DataError(f"zip holds more than {MAX_ZIP_TEXT_BYTES} bytes of text")
        left -= len(data)
        label = PurePosixPath(info.filename.replace("\\", "/")).stem
        rows += [(line.strip(), label) for line in _decode(data).splitlines() if line.strip()]
    return rows


def read_names_zip(path: str | Path) -> list[tuple[str, str]]:
    """Read (name, label) rows from a zip of `<Label>.txt` files, one name per line."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = _text_members(archive)
            if not members:
                raise DataError(f"{path}: the zip holds no .txt files of names")
            rows = _read_rows(archive, members)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable zip ({exc})") from exc
    if not rows:
        raise DataError(f"{path}: the zip's .txt files hold no names")
    return rows


def _is_names_zip(path: Path) -> bool:
    """Tell whether a file is a zip holding `data/names/*.txt`."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(_PYTORCH_MEMBER.match(name) for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):
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
    data_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=data_dir, prefix=".pytorch-names-", suffix=".part")
    tmp = Path(tmp_name)
    try:
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                _stream(resp, out, max_bytes, progress)
        except DataError as exc:
            raise DataError(f"could not download {url}: {exc}; {by_hand}") from exc
        except (OSError, http.client.HTTPException, ValueError) as exc:
            reason = " ".join(str(getattr(exc, "reason", exc) or type(exc).__name__).split())
            raise DataError(f"could not download {url} ({reason}); {by_hand}") from exc
        if not _is_names_zip(tmp):
            raise DataError(f"{url} did not give a zip holding data/names/*.txt; {by_hand}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
