"""Tests for the built-in datasets: Faker surnames, names zips, the PyTorch download."""

from __future__ import annotations

import importlib
import io
import json
import socket
import threading
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from itertools import pairwise
from pathlib import Path

import pytest

from nameclf.data import builtin, rows_cache
from nameclf.data.builtin import (
    FAKER_LOCALES,
    download_pytorch_names,
    faker_surnames,
    read_names_zip,
    romanize,
)
from nameclf.errors import DataError


def _faker_list(locale: str, attr: str = "last_names") -> list[str]:
    """Return a raw name list straight from a Faker provider."""
    return list(getattr(importlib.import_module(f"faker.providers.person.{locale}").Provider, attr))


def _names_zip(files: dict[str, str]) -> bytes:
    """Build a zip in memory from {member name: text}."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buf.getvalue()


PYTORCH_LIKE = {
    "data/names/Arabic.txt": "Nader\nHaddad\n",
    "data/names/French.txt": "Ségal\nDubois\n",
    "data/names/Polish.txt": "Dziedzic\n",
    "data/eng-fra.txt": "x" * 5000,
}


# -- Faker surnames -------------------------------------------------------------------------


def test_faker_surnames_is_deterministic_and_sorted() -> None:
    rows = faker_surnames()
    assert rows == faker_surnames()
    assert rows == sorted(rows, key=lambda row: (row[1], row[0]))
    assert len(rows) == len(set(rows))


def test_faker_surnames_size_and_shape() -> None:
    rows = faker_surnames()
    counts = Counter(label for _, label in rows)
    assert len(counts) >= 15
    assert len({name for name, _ in rows}) >= 10_000
    assert min(counts.values()) >= builtin.MIN_LABEL_NAMES
    assert set(counts) <= set(FAKER_LOCALES.values())
    for name, _ in rows:
        assert name.isascii() and name == name.strip() and name
        assert all(ch.isalpha() or ch in " '-" for ch in name), name


@pytest.mark.parametrize(
    ("locale", "label", "attr"),
    [
        ("ru_RU", "Russian", "last_names"),
        ("de_AT", "German", "last_names"),
        ("ja_JP", "Japanese", "last_romanized_names"),
        ("zh_CN", "Chinese", "last_romanized_names"),
        ("el_GR", "Greek", "last_names"),
        ("pl_PL", "Polish", "unisex_last_names"),
    ],
)
def test_faker_locales_land_under_their_label(locale: str, label: str, attr: str) -> None:
    assert FAKER_LOCALES[locale] == label
    rows = set(faker_surnames())
    raw = _faker_list(locale, attr)[0]
    assert (romanize(raw, locale), label) in rows


def test_spot_check_known_romanizations() -> None:
    rows = set(faker_surnames())
    for row in [("Smirnov", "Russian"), ("Sato", "Japanese"), ("Papadopoulos", "Greek"),
                ("Shevchenko", "Ukrainian"), ("Abashidze", "Georgian"), ("Chen", "Chinese")]:
        assert row in rows, row


def test_romanize_cleans_and_rejects() -> None:
    assert romanize("  Müller  ") == "Muller"
    assert romanize("O'Brien") == "O'Brien"
    assert romanize("Smith-Jones 2") == ""
    assert romanize("CHANG") == "Chang"
    assert romanize("!!!") == ""
    assert romanize("Ευθυμίου", "el_GR") == "Efthymiou"
    assert romanize("Гнатюк", "uk_UA") == "Hnatiuk"


# -- read_names_zip ---------------------------------------------------------------------------


def test_read_names_zip_reads_labels_and_ignores_evil_members(tmp_path: Path) -> None:
    path = tmp_path / "names.zip"
    path.write_bytes(_names_zip({
        "names/Polish.txt": "Dziedzic\n\n  \n",
        "names/French.txt": "Ségal\r\nDubois\n",
        **{f"../up/Evil{i}.txt": "Evil\n" for i in range(3)},
        **{f"/abs/Absolute{i}.txt": "Abs\n" for i in range(3)},
        **{f"C:/drive/Drive{i}.txt": "Drive\n" for i in range(3)},
        **{f"names/._Hidden{i}.txt": "junk\n" for i in range(3)},
        "../evil.txt": "Evil\n",
        "names/readme.md": "not names\n",
        "LICENSE.txt": "not names either\n",
    }))
    assert read_names_zip(path) == [("Ségal", "French"), ("Dubois", "French"),
                                    ("Dziedzic", "Polish")]
    assert not (tmp_path.parent / "evil.txt").exists()


def test_read_names_zip_falls_back_to_latin1(tmp_path: Path) -> None:
    path = tmp_path / "latin.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("German.txt", "Müller\n".encode("latin-1"))
    path.write_bytes(buf.getvalue())
    assert read_names_zip(path) == [("Müller", "German")]


def _claiming(tmp_path: Path, size: int) -> Path:
    """Write a one-member zip whose directory claims `size` uncompressed bytes."""
    data = bytearray(_names_zip({"Bomb.txt": "Name\n" * 20}))
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = size.to_bytes(4, "little")
    path = tmp_path / "claims.zip"
    path.write_bytes(bytes(data))
    return path


def test_read_names_zip_refuses_a_member_claiming_a_huge_size(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="bytes of text"):
        read_names_zip(_claiming(tmp_path, 2**32 - 2))


def test_read_names_zip_refuses_a_member_lying_small(tmp_path: Path) -> None:
    with pytest.raises(DataError):
        read_names_zip(_claiming(tmp_path, 3))


def test_read_names_zip_bounds_what_it_actually_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(builtin, "MAX_ZIP_TEXT_BYTES", 1000)
    path = tmp_path / "bomb.zip"
    path.write_bytes(_names_zip({"A.txt": "Name\n" * 100, "B.txt": "Name\n" * 150}))
    with pytest.raises(DataError, match="bytes of text"):
        read_names_zip(path)


@pytest.mark.parametrize("content", [b"not a zip at all", _names_zip({"a.csv": "x,y\n"})])
def test_read_names_zip_rejects_unusable_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.zip"
    path.write_bytes(content)
    with pytest.raises(DataError):
        read_names_zip(path)


# -- download_pytorch_names -------------------------------------------------------------------


class _Server:
    """A local HTTP server answering every GET with a fixed body and status."""

    def __init__(self, body: bytes, status: int = 200) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                owner.hits += 1
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.hits = 0
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/data.zip"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


Serve = Callable[..., _Server]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Yield a factory of local servers, all closed at teardown."""
    servers: list[_Server] = []

    def start(body: bytes, status: int = 200) -> _Server:
        servers.append(_Server(body, status))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_download_streams_reports_progress_and_then_uses_the_cache(
    tmp_path: Path, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(builtin, "CHUNK_BYTES", 256)
    body = _names_zip(PYTORCH_LIKE)
    server = serve(body)
    seen: list[tuple[int, int | None]] = []
    path = download_pytorch_names(tmp_path / "data", url=server.url,
                                  progress=lambda done, total: seen.append((done, total)))
    assert path == tmp_path / "data" / "pytorch-names.zip"
    assert path.read_bytes() == body
    assert len(seen) > 1 and seen[-1] == (len(body), len(body))
    assert all(a[0] < b[0] for a, b in pairwise(seen))
    assert sorted(p.name for p in path.parent.iterdir()) == ["pytorch-names.zip"]
    assert {label for _, label in read_names_zip(path)} == {"Arabic", "French", "Polish"}

    server.close()
    assert download_pytorch_names(tmp_path / "data", url=server.url) == path
    assert server.hits == 1


def test_download_from_a_closed_port_says_what_to_do(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/data.zip"
    with pytest.raises(DataError) as info:
        download_pytorch_names(tmp_path, url=url, timeout=5)
    message = str(info.value)
    assert url in message and str(tmp_path / "pytorch-names.zip") in message
    assert "\n" not in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("body", "status", "max_bytes"),
    [
        (b"<html>garbage, not a zip</html>", 200, 2**20),
        (_names_zip({"other/thing.txt": "x\n"}), 200, 2**20),
        (b"missing", 404, 2**20),
        (_names_zip(PYTORCH_LIKE), 200, 100),
    ],
    ids=["garbage", "wrong-zip", "http-404", "too-big"],
)
def test_bad_download_leaves_nothing_behind(
    tmp_path: Path, serve: Serve, body: bytes, status: int, max_bytes: int
) -> None:
    server = serve(body, status)
    with pytest.raises(DataError) as info:
        download_pytorch_names(tmp_path, url=server.url, max_bytes=max_bytes)
    assert server.url in str(info.value) and "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_a_corrupt_cached_file_is_replaced(tmp_path: Path, serve: Serve) -> None:
    (tmp_path / "pytorch-names.zip").write_bytes(b"truncated")
    server = serve(_names_zip(PYTORCH_LIKE))
    path = download_pytorch_names(tmp_path, url=server.url)
    assert zipfile.is_zipfile(path) and server.hits == 1


# -- the Faker rows' disk cache -------------------------------------------------------------

TINY_ROWS = [("Haddad", "Arabic"), ("Nader", "Arabic"), ("Dubois", "French")]


@pytest.fixture
def faker_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[int]]:
    """faker_surnames() starts afresh with its cache in tmp_path and a tiny build; yields the
    list of build calls. Cleared again after, so later tests read the real rows."""
    monkeypatch.setenv("NAMECLF_CACHE", str(tmp_path / "cache"))
    calls: list[int] = []

    def build() -> list[tuple[str, str]]:
        calls.append(1)
        return list(TINY_ROWS)

    monkeypatch.setattr(builtin, "build_faker_rows", build)
    builtin._faker_rows.cache_clear()
    yield calls
    builtin._faker_rows.cache_clear()


def _again() -> list[tuple[str, str]]:
    """faker_surnames() as a fresh process would see it: nothing in memory, the disk as is."""
    builtin._faker_rows.cache_clear()
    return faker_surnames()


def test_the_cached_rows_equal_a_fresh_build_exactly(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("NAMECLF_CACHE", str(tmp_path))
    builtin._faker_rows.cache_clear()
    try:
        built = faker_surnames()  # nothing on disk: built, then written
        assert builtin.faker_cache_file().is_file()
        monkeypatch.setattr(builtin, "build_faker_rows", lambda: pytest.fail("built again"))
        read = _again()
    finally:
        builtin._faker_rows.cache_clear()
    assert read == built == builtin.build_rows(
        ((raw, loc, lab) for loc, lab in FAKER_LOCALES.items()
         for raw in builtin.locale_surnames(loc)), builtin.MIN_LABEL_NAMES)
    assert all(type(row) is tuple and all(type(part) is str for part in row) for row in read)


def test_the_cache_is_built_once_then_read(faker_cache) -> None:
    assert faker_surnames() == TINY_ROWS and faker_cache == [1]
    assert faker_surnames() == TINY_ROWS and faker_cache == [1]  # once per process
    assert _again() == TINY_ROWS and faker_cache == [1]  # a new process reads the file
    path = builtin.faker_cache_file()
    saved = json.loads(path.read_text(encoding="utf-8"))  # plain JSON, no pickle
    assert saved == {"format": rows_cache.FORMAT, "source": builtin.faker_source(),
                     "rows": [list(row) for row in TINY_ROWS]}
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_the_cache_file_is_named_after_the_format_and_the_versions(faker_cache) -> None:
    name = builtin.faker_cache_file().name
    faker, unidecode = metadata.version("faker"), metadata.version("unidecode")
    assert name == f"faker-surnames-v{rows_cache.FORMAT}-faker-{faker}-unidecode-{unidecode}.json"
    assert builtin.faker_cache_file().parent == rows_cache.cache_dir()


def test_a_new_faker_rebuilds(faker_cache, monkeypatch) -> None:
    faker_surnames()
    real = metadata.version
    monkeypatch.setattr(metadata, "version",
                        lambda name: "99.0.0" if name == "faker" else real(name))
    assert _again() == TINY_ROWS and faker_cache == [1, 1]
    assert "faker-99.0.0" in builtin.faker_cache_file().name


def test_a_cache_from_other_code_is_not_read(faker_cache, monkeypatch) -> None:
    faker_surnames()
    path = builtin.faker_cache_file()
    saved = json.loads(path.read_text(encoding="utf-8"))
    saved["source"] = saved["source"].rsplit(" ", 1)[0] + " 00000000"  # same versions, old code
    saved["rows"] = [["Stale", "Arabic"]]
    path.write_text(json.dumps(saved), encoding="utf-8")
    assert _again() == TINY_ROWS and faker_cache == [1, 1]


def _cut_short(raw: str) -> str:
    return raw[: len(raw) // 2]


def _corrupt(raw: str) -> str:
    return "\x00\xff not json at all " * 10


def _foreign(raw: str) -> str:  # well-formed JSON, not rows
    return json.dumps({"format": rows_cache.FORMAT, "source": json.loads(raw)["source"],
                       "rows": {"Haddad": "Arabic"}})


def _unsorted(raw: str) -> str:  # rows, but not what build_rows() gives
    saved = json.loads(raw)
    saved["rows"] = saved["rows"][::-1]
    return json.dumps(saved)


def _not_pairs(raw: str) -> str:
    saved = json.loads(raw)
    saved["rows"] = [["Haddad", "Arabic", "extra"], ["", "French"]]
    return json.dumps(saved)


def _other_format(raw: str) -> str:
    saved = json.loads(raw)
    saved["format"] = rows_cache.FORMAT + 1
    return json.dumps(saved)


@pytest.mark.parametrize("spoil", [_cut_short, _corrupt, _foreign, _unsorted, _not_pairs,
                                   _other_format, lambda raw: "[]", lambda raw: ""])
def test_a_spoiled_cache_is_rebuilt_and_overwritten(faker_cache, spoil) -> None:
    faker_surnames()
    path = builtin.faker_cache_file()
    good = path.read_text(encoding="utf-8")
    path.write_text(spoil(good), encoding="utf-8", errors="surrogateescape")
    assert _again() == TINY_ROWS and faker_cache == [1, 1]
    assert path.read_text(encoding="utf-8") == good  # written anew
    assert _again() == TINY_ROWS and faker_cache == [1, 1]


def test_an_unwritable_cache_still_gives_the_rows(faker_cache, monkeypatch, tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("NAMECLF_CACHE", str(blocker / "cache"))
    assert faker_surnames() == TINY_ROWS and faker_cache == [1]
    assert blocker.read_text() == "x"
    assert _again() == TINY_ROWS and faker_cache == [1, 1]  # nothing kept: built again


def test_a_write_that_fails_midway_leaves_nothing_behind(faker_cache, monkeypatch) -> None:
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rows_cache.json, "dump", full_disk)
    assert faker_surnames() == TINY_ROWS
    folder = builtin.faker_cache_file().parent
    assert list(folder.iterdir()) == []


def test_the_cache_folder_follows_the_environment_as_the_lexicons_does(monkeypatch,
                                                                       tmp_path) -> None:
    from nameclf.data import lexicon

    monkeypatch.setenv("NAMECLF_CACHE", str(tmp_path / "mine"))
    assert rows_cache.cache_dir() == tmp_path / "mine" == lexicon.cache_dir()
    monkeypatch.delenv("NAMECLF_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert rows_cache.cache_dir() == tmp_path / "xdg" / "nameclf" == lexicon.cache_dir()
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert rows_cache.cache_dir() == tmp_path / "home" / ".cache" / "nameclf" \
        == lexicon.cache_dir()
