"""Errors raised by qml, each named after what went wrong.

Every class subclasses the built-in exception a user would expect
(``ValueError`` for bad values, ``TypeError`` for bad types, ...), so
``except ValueError`` keeps working, while the message says what to do.
"""

from __future__ import annotations


class QMLError(Exception):
    """Base class of every error raised on purpose by qml."""


class ConfigurationError(QMLError, ValueError):
    """An argument, option or name is not valid; the message lists the valid choices."""


class BackendError(ConfigurationError):
    """A backend string or backend option is not valid or cannot serve this circuit."""


class DataError(QMLError, ValueError):
    """Input data is malformed: wrong shape, non-finite values, mismatched lengths, bad file."""


class CheckpointError(ConfigurationError):
    """A checkpoint cannot be used: damaged, not written by qml, holding code, or from other settings.

    The message names the file and says what to do (resume from the backup, ``overwrite=True``).
    """


class JobStoreError(QMLError, RuntimeError):
    """The job store (``$QML_HOME/jobs.sqlite``) is damaged or cannot be opened; the message says where."""


class NonFiniteLossError(QMLError, FloatingPointError):
    """Training produced a NaN or infinite loss; the last good checkpoint is left intact."""


class MissingDependencyError(QMLError, ImportError):
    """An optional dependency is not installed; the message names the extra that installs it."""


class CredentialsError(QMLError, RuntimeError):
    """No IBM Quantum credentials were found; the message says how to provide them."""


class CostLimitError(QMLError, RuntimeError):
    """A planned hardware run would exceed ``max_jobs`` or ``max_shots``."""


class JobFailedError(QMLError, RuntimeError):
    """A hardware job failed, was cancelled, timed out or could not be found."""

    def __init__(self, message: str, job_id: str | None = None):
        super().__init__(message)
        self.job_id = job_id


class StorageError(QMLError, OSError):
    """A file qml writes (checkpoint, cache) could not be written, e.g. the disk is full; the
    previous file is left intact and the message names it."""


class LeaseHeldError(QMLError, RuntimeError):
    """Another live process owns this run (its ``checkpoint_dir`` or run id); the message names it."""


class ExecutorLostError(QMLError, RuntimeError):
    """The Dask scheduler (or the executor) went away during a run; finished results stay cached."""


def one_of(kind: str, name: object, valid) -> ConfigurationError:
    """Return a ConfigurationError for an unknown ``name``, listing the ``valid`` choices."""
    choices = ", ".join(repr(v) for v in sorted(valid))
    return ConfigurationError(f"unknown {kind} {name!r}; valid choices are: {choices}")


# --------------------------------------------------------------------------- the input validators
# One owner per rule: every public call checks its scalar arguments with these (re-exported by
# ``qml.inputs`` beside the tensor checks).  A wrong *type* raises ArgumentTypeError, which is both a
# TypeError and a ConfigurationError (ValueError), so callers catching either keep working.


class ArgumentTypeError(ConfigurationError, TypeError):
    """An argument has the wrong type (a bool where a number goes, a string where an int goes, ...)."""


def _hint(what: str | None) -> str:
    return f" ({what})" if what else ""


def check_int(name: str, value, minimum: int | None = 1, *, maximum: int | None = None, what: str | None = None) -> int:
    """Return ``value`` as an int with ``minimum <= value <= maximum`` (``None``: unbounded).

    Args:
        name: the argument's name, as the user typed it.
        minimum / maximum: the allowed range (``maximum=None``: no upper bound).
        what: an optional hint appended to the message, e.g. ``"number of rows to build"``.

    Raises:
        ArgumentTypeError (a TypeError): not an integer (bools are refused; numpy integers are accepted).
        ConfigurationError: outside the range.
    """
    import numbers

    if maximum is not None:
        kind = f"an integer from {minimum} to {maximum}"
    else:
        kind = "a positive integer" if minimum == 1 else "a non-negative integer" if minimum == 0 else "an integer"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"{name} must be {kind}{_hint(what)}, got {value!r}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bound = kind if maximum is not None else f">= {minimum}"
        raise ConfigurationError(f"{name} must be {bound}{_hint(what)}, got {value}")
    return int(value)


def check_bool(name: str, value) -> bool:
    """Return ``value`` if it is ``True`` or ``False``.

    Raises:
        ArgumentTypeError (a TypeError): anything else (``1``, ``"yes"``, ``None``).
    """
    if not isinstance(value, bool):
        raise ArgumentTypeError(f"{name} must be True or False, got {value!r}")
    return value


def check_number(
    name: str,
    value,
    *,
    positive: bool = False,
    minimum: float | None = 0.0,
    below: float | None = None,
    kind: str | None = None,
) -> float:
    """Return ``value`` as a finite float: ``> 0`` when ``positive``, else ``>= minimum`` (``None``: any)
    and ``< below`` when given.

    Args:
        kind: how the message describes a valid value; default ``"a positive number"`` or
            ``"a finite number >= <minimum>"``.

    Raises:
        ArgumentTypeError (a TypeError): not a real number (bools are refused).
        ConfigurationError: NaN, inf or out of range.
    """
    import math
    import numbers

    if kind is None:
        if positive:
            kind = "a positive number"
        else:
            kind = "a finite number" + (f" >= {minimum:g}" if minimum is not None else "")
            kind += f" and < {below:g}" if below is not None else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{name} must be {kind}, got {value!r}")
    value = float(value)
    if (
        not math.isfinite(value)
        or (positive and value <= 0)
        or (minimum is not None and value < minimum)
        or (below is not None and value >= below)
    ):
        raise ConfigurationError(f"{name} must be {kind}, got {value!r}")
    return value


def check_choice(kind: str, value, valid):
    """Return ``value`` if it is one of ``valid``; else raise :func:`one_of`'s error listing the choices.

    Raises:
        ConfigurationError: ``value`` is not a valid choice (unhashable values included).
    """
    try:
        ok = value in valid
    except TypeError:  # an unhashable value against a set/dict
        ok = False
    if not ok:
        raise one_of(kind, value, valid)
    return value
