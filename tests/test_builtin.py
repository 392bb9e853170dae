"""Tests for the built-in datasets: Faker surnames, names zips, the PyTorch download."""

from __future__ import annotations

import importlib
import io
import socket
import threading
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path

import pytest

from nameclf import builtin
from nameclf.builtin import (
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
