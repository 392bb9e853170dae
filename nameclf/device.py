"""Pick the device to train on.

torch is imported when a device is picked or described, not with this module: the app's
Home page imports this module and, on a CPU-only build of torch, never needs torch itself.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from nameclf.errors import ConfigError

if TYPE_CHECKING:
    import torch

DEVICES = ("auto", "cpu", "cuda", "mps")


def pick_device(name: str = "auto") -> torch.device:
    """`auto` means cuda, then mps, then cpu; an explicit device must exist."""
    if name not in DEVICES:
        raise ConfigError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")
    import torch

    has_mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but no CUDA GPU is available")
    if name == "mps" and not has_mps:
        raise ConfigError("device 'mps' was asked for but Apple's MPS is not available")
    return torch.device(name)


def describe(device: torch.device) -> str:
    """A human name for a device, e.g. 'cuda (NVIDIA H100)' or 'cpu (2 threads)'."""
    import torch

    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return cpu_name(torch.get_num_threads())
    return device.type


def cpu_only_build() -> bool:
    """Whether the installed torch can run on nothing but the cpu, told without importing it.

    Reads torch's build info (torch/version.py: `cuda` and `hip` both None) and the platform
    (no MPS off macOS). False whenever unsure, so a caller falls back on pick_device().
    """
    if sys.platform == "darwin":
        return False
    if "torch.version" in sys.modules:  # loaded already: ask it
        version = sys.modules["torch.version"]
        return getattr(version, "cuda", "") is None and getattr(version, "hip", "") is None
    try:
        spec = importlib.util.find_spec("torch")
        folders = list(spec.submodule_search_locations or []) if spec else []
        text = (Path(folders[0]) / "version.py").read_text() if folders else ""
    except (OSError, ImportError, ValueError):
        return False
    found = dict(re.findall(r"^(cuda|hip)\b[^=\n]*=\s*(\S.*?)\s*$", text, re.MULTILINE))
    return found.get("cuda") == "None" and found.get("hip") == "None"


def cpu_name(threads: int) -> str:
    """'cpu (1 thread)', 'cpu (2 threads)'."""
    return f"cpu ({threads} thread{'s' if threads != 1 else ''})"
