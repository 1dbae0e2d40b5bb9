"""Errors raised by fifteenmin."""

from typing import NoReturn


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


_sigterm_came = False


def terminate(signum: int = 15, frame: object = None) -> NoReturn:
    """SIGTERM handler: raise :class:`Terminated`, and remember that it came.

    Python prints and drops an exception raised in a finalizer (``__del__``, a weakref
    callback), and a handler can run inside one (a garbage collection while writing):
    :func:`check_terminated`, called before anything is put in place, raises it again.
    """
    global _sigterm_came
    _sigterm_came = True
    raise Terminated()


def check_terminated() -> None:
    """Raise :class:`Terminated` if a SIGTERM came since :func:`forget_terminated`."""
    if _sigterm_came:
        raise Terminated()


def forget_terminated() -> None:
    """A new run starts: a SIGTERM handled before is not this run's."""
    global _sigterm_came
    _sigterm_came = False
