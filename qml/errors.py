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


def check_int(name: str, value, minimum: int = 1) -> int:
    """Return ``value`` as an int >= ``minimum``.

    Raises:
        TypeError: not an integer (bools are refused; numpy integers are accepted).
        ConfigurationError: below ``minimum``.
    """
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        kind = "a positive integer" if minimum >= 1 else "a non-negative integer" if minimum == 0 else "an integer"
        raise TypeError(f"{name} must be {kind}, got {value!r}")
    if value < minimum:
        raise ConfigurationError(f"{name} must be >= {minimum}, got {value}")
    return int(value)
