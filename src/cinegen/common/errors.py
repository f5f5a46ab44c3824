"""Typed errors. The CLI turns any CinegenError into one line on stderr and exit code 2."""


class CinegenError(Exception):
    """Base class: a problem the user can fix, reported in one line."""


class InputError(CinegenError, ValueError):
    """A bad argument: empty prompt, impossible size, unreadable file, contradictory flags."""


class CheckpointError(CinegenError):
    """A checkpoint folder that is missing, incomplete or corrupt."""


class OutputError(CinegenError):
    """An output path that cannot be written."""
