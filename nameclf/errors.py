"""Errors a user can cause, each carrying one readable line."""


class NameclfError(ValueError):
    """Base class: bad input from a user, with a message fit to show them."""


class DataError(NameclfError):
    """A dataset could not be read or does not make a usable dataset."""


class CheckpointError(NameclfError):
    """A checkpoint file is foreign, tampered with, or does not match."""


class ConfigError(NameclfError):
    """A configuration value is out of range or unknown."""


class ClusterError(NameclfError):
    """The training cluster (NAMECLF_ENGINE=ray) cannot be reached."""
