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


_stop_came: int | None = None  # the stop signal that came (its exception may be lost)


def terminate(signum: int = 15, frame: object = None) -> NoReturn:
    """SIGTERM handler: raise :class:`Terminated`, and remember that it came.

    Python prints and drops an exception raised in a finalizer (``__del__``, a weakref
    callback), and a handler can run inside one (a garbage collection while writing):
    :func:`check_stopped`, called before anything is put in place, raises it again.
    """
    global _stop_came
    _stop_came = 15
    raise Terminated()


def interrupt(signum: int = 2, frame: object = None) -> NoReturn:
    """SIGINT handler (Ctrl-C, set by the command line): raise ``KeyboardInterrupt``, and
    remember that it came, as :func:`terminate` does."""
    global _stop_came
    _stop_came = 2
    raise KeyboardInterrupt


def check_stopped() -> None:
    """Raise again the stop (SIGTERM: :class:`Terminated`; SIGINT: ``KeyboardInterrupt``)
    that came since :func:`forget_stop`, if any."""
    if _stop_came == 15:
        raise Terminated()
    if _stop_came == 2:
        raise KeyboardInterrupt


def forget_stop() -> None:
    """A new run starts, or a stop was handled on purpose: it is not raised again."""
    global _stop_came
    _stop_came = None
