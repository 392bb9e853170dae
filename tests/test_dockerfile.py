"""The Dockerfile, run without a container engine: its steps after the torch line, in CI's own
environment, then its CMD, until `/_stcore/health` answers `ok`.

No image can be built here (no engine, no base image to pull), so the test reads the
Dockerfile and does what each instruction after the CPU-torch layer would do: ENV sets the
environment, WORKDIR and COPY lay the build context (as `.dockerignore` filters it) into a
folder, RUN runs the pip steps with this interpreter (everything is installed already, so pip
only checks), and CMD starts the server in that folder. USER is checked, not switched to.
"""

import asyncio
import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from localhost import free_port  # noqa: E402
from st_client import Session  # noqa: E402


def instructions(text: str) -> list[tuple[str, str]]:
    """The Dockerfile's (INSTRUCTION, arguments), continuation lines joined, comments out."""
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1].strip())
            for ln in joined.splitlines() if ln.strip()]


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether `.dockerignore` leaves `path` (or a folder above it) out of the context."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatchcase(part, pattern[3:]) for part in parts):
                return True
        elif any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes):
            return True
    return False


def context_files() -> list[str]:
    """The build context of a clean clone: tracked (and new, not git-ignored) files, minus
    what `.dockerignore` leaves out."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    patterns = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()
                if ln.strip() and not ln.startswith("#")]
    return [f for f in listed.splitlines() if (ROOT / f).is_file() and not ignored(f, patterns)]


def env_pairs(args: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in shlex.split(args))


STEPS = instructions((ROOT / "Dockerfile").read_text())
TORCH = next(i for i, (op, args) in enumerate(STEPS) if op == "RUN" and "torch==" in args)


def test_the_image_is_slim_cpu_only_and_unprivileged():
    ops = dict(STEPS)  # the last of each kind
    assert re.fullmatch(r"python:3\.1[0-3]-slim", STEPS[0][1])
    torch_line = STEPS[TORCH][1]
    assert re.fullmatch(r"pip install torch==[\d.]+\+cpu --index-url "
                        r"https://download.pytorch.org/whl/cpu", torch_line)  # its own layer
    pin = re.search(r"torch==\S+", torch_line).group(0)
    reqs = (ROOT / "requirements.txt").read_text().splitlines()
    assert pin in reqs, "the image and Community Cloud install the same torch"
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in reqs
    assert any("useradd" in args and "--uid 1000" in args
               for op, args in STEPS[:TORCH] if op == "RUN")
    assert ops["USER"] == "app"
    assert ops["EXPOSE"] == "8501"
    assert "/_stcore/health" in ops["HEALTHCHECK"] and "8501" in ops["HEALTHCHECK"]


def test_the_context_keeps_the_app_and_leaves_out_the_rest():
    files = context_files()
    for needed in ("streamlit_app.py", ".streamlit/config.toml", "requirements.txt",
                   "nameclf/__init__.py", "pages/2_Train.py", "data/README.md"):
        assert needed in files
    assert not [f for f in files if f.startswith(("tests/", "bench/", ".git/", ".venv"))]
    assert ignored("nameclf/ui/__pycache__/x.pyc", ["**/__pycache__"])
    assert not ignored("nameclf/ui/train_form.py", ["**/__pycache__", "runs"])


async def home_draws(base: str) -> None:
    """A visitor opens Home over the app's websocket: it runs to the end and draws."""
    visitor = await Session(base, "visitor").connect()
    try:
        await visitor.open("", timeout=180)  # raises on an exception element
        await visitor.wait_for("where is this surname from", timeout=30)
    finally:
        await visitor.close()


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """The image's filesystem after every step past the torch line: (workdir, env, CMD)."""
    root = tmp_path_factory.mktemp("image")
    env: dict[str, str] = {}
    workdir = root
    cmd: list[str] = []
    for op, args in STEPS[TORCH + 1:]:
        if op == "ENV":
            env.update(env_pairs(args))
        elif op == "WORKDIR":
            workdir = root / args.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif op == "COPY":
            *sources, dest = [a for a in shlex.split(args) if not a.startswith("--chown")]
            files = context_files()
            for source in sources:
                chosen = files if source == "." else [f for f in files if f == source]
                assert chosen, f"COPY {source}: not in the build context"
                for f in chosen:
                    (workdir / dest / f).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(ROOT / f, workdir / dest / f)
        elif op == "RUN":
            argv = shlex.split(args)
            assert argv[:2] == ["pip", "install"], f"a step the test cannot run: RUN {args}"
            done = subprocess.run([sys.executable, "-m", *argv], cwd=workdir, timeout=300,
                                  capture_output=True, text=True)
            assert done.returncode == 0, done.stderr[-2000:]
        elif op == "CMD":
            cmd = json.loads(args)
        else:
            assert op in ("USER", "EXPOSE", "HEALTHCHECK"), op
    return workdir, env, cmd


def test_the_cmd_serves_the_copied_app_and_answers_health(image, tmp_path):
    workdir, env, cmd = image
    assert cmd[:2] == ["streamlit", "run"] and (workdir / cmd[2]).is_file()
    port = free_port()
    run_env = {**os.environ, **env, "HOME": str(tmp_path),
               "STREAMLIT_SERVER_PORT": str(port), "STREAMLIT_SERVER_ADDRESS": "127.0.0.1"}
    shown = subprocess.run([sys.executable, "-m", "streamlit", "config", "show"], cwd=workdir,
                           env=run_env, capture_output=True, text=True, timeout=120).stdout
    assert re.search(r"^maxUploadSize = 5$", shown, re.M), "the app's config.toml is read"
    server = subprocess.Popen([sys.executable, "-m", "streamlit", *cmd[1:]], cwd=workdir,
                              env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        answer, deadline = "", time.monotonic() + 180  # a hang guard, not a target
        while answer != "ok" and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=5) as resp:
                    answer = resp.read().decode()
            except OSError:
                time.sleep(0.5)
        assert answer == "ok", server.stdout.read1(4000) if server.poll() is not None else ""
        asyncio.run(home_draws(f"http://127.0.0.1:{port}"))
    finally:
        server.terminate()
        server.wait(timeout=30)
