"""Errors raised by fifteenmin."""


class FifteenMinError(Exception):
    """Base class."""


class InputError(FifteenMinError, ValueError):
    """Bad input: message says what, where, what to do."""


class DownloadError(InputError, OSError):
    """Downloading OSM data failed (no connection, timeout, unknown place, empty result)."""


class OutputError(FifteenMinError, OSError):
    """An output could not be written (no permission, disk full, bad path): says where and why."""


class Terminated(SystemExit):
    """SIGTERM, raised as an exit with status 143 so that cleanup (``finally``) runs first."""

    def __init__(self) -> None:
        super().__init__(143)
