"""Errors raised by fifteenmin."""


class FifteenMinError(Exception):
    """Base class."""


class InputError(FifteenMinError, ValueError):
    """Bad input: message says what, where, what to do."""


class DownloadError(InputError, OSError):
    """Downloading OSM data failed (no connection, timeout, unknown place, empty result)."""
