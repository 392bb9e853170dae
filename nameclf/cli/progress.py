"""The command line's tqdm bar of training steps, shared by the classifier and the generator."""

import sys
from collections.abc import Callable
from typing import Any


class StepBar:
    """A training callback drawing a step bar on stderr (nothing when quiet); a context manager
    that closes it. `postfix(progress)` gives the figures shown after the bar."""

    def __init__(self, quiet: bool, postfix: Callable[[Any], dict[str, str]]):
        self.postfix, self.bar = postfix, None
        if not quiet:
            from tqdm import tqdm

            self.bar = tqdm(total=None, unit="step", file=sys.stderr, dynamic_ncols=True)

    def __call__(self, p: Any) -> None:
        if self.bar is not None:
            self.bar.total = p.total_steps
            self.bar.update(p.step - self.bar.n)
            self.bar.set_postfix(self.postfix(p), refresh=False)

    def __enter__(self) -> "StepBar":
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()
