"""Progress that fits where it runs: bars in terminals and notebooks, plain lines in logs.

The one progress mechanism of qml. Where the output goes decides the form (``QML_PROGRESS``
overrides it):

* ``bar``: a tqdm bar (``tqdm.auto``: a widget in Jupyter, text in a terminal). Chosen when the
  stream is a terminal or the code runs in a Jupyter kernel.
* ``log``: one plain line at most every ``QML_PROGRESS_INTERVAL`` seconds (default 30), plus the
  first and the last: a log file or a CI transcript gets a readable record instead of hundreds
  of kilobytes of bar frames.
* ``off``: nothing.

:func:`progress_bar` serves every loop over a known number of items (``vqe``'s steps, ``scan``'s
geometries, ``sweep``'s runs, the data builder's rows, the Hamiltonian bank's geometries, via
:func:`qml.parallel.map_tasks`); ``fit`` adds epochs, steps and jobs on top of the same forms in
:class:`qml.train.progress.EpochProgress`.
"""

from __future__ import annotations

import math
import os
import sys
import time

MODES = ("bar", "log", "off")
DEFAULT_INTERVAL = 30.0


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None or "ipykernel" not in sys.modules:
        return False
    try:
        ip = shell.get_ipython()
    except AttributeError:
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def choose_mode(enabled: bool = True, stream=None) -> str:
    """``"bar"``, ``"log"`` or ``"off"`` for output to ``stream`` (default ``sys.stderr``).

    ``enabled=False`` gives ``"off"``; otherwise the environment variable ``QML_PROGRESS``
    (``bar``/``log``/``off``) wins, then a Jupyter kernel or a terminal gives ``"bar"`` and
    anything else (a file, a pipe, CI) ``"log"``.

    Raises:
        ConfigurationError: ``QML_PROGRESS`` set to something else.
    """
    if not enabled:
        return "off"
    forced = os.environ.get("QML_PROGRESS", "").strip().lower()
    if forced:
        if forced not in MODES:
            from .errors import one_of

            raise one_of("QML_PROGRESS", forced, MODES)
        return forced
    stream = sys.stderr if stream is None else stream
    if _in_notebook():
        return "bar"
    isatty = getattr(stream, "isatty", None)
    try:
        return "bar" if isatty is not None and isatty() else "log"
    except ValueError:  # closed stream
        return "log"


def _interval() -> float:
    from .errors import env_seconds

    return max(env_seconds("QML_PROGRESS_INTERVAL", DEFAULT_INTERVAL, positive=False), 0.0)


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Closing:
    """``with`` support for the progress objects: leaving the block calls ``close()``."""

    def close(self) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class Progress(Closing):
    """A counter over ``total`` items shown as :func:`choose_mode` decides; made by :func:`progress_bar`.

    The methods are the subset of tqdm's that qml uses: :meth:`update`, :meth:`set_postfix`,
    :meth:`close`, iteration over the wrapped iterable, and use as a context manager.
    """

    def __init__(self, iterable=None, *, total=None, desc="", unit="it", initial=0, leave=True, enabled=True,
                 stream=None, mode=None, interval=None):  # fmt: skip
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.iterable, self.total, self.n, self.desc, self.unit = iterable, total, int(initial), desc, unit
        self.stream = stream
        self.mode = mode if mode is not None else choose_mode(enabled, stream)
        self.interval = _interval() if interval is None else float(interval)
        self.t_start, self._last_line, self._postfix, self._bar = time.perf_counter(), -math.inf, "", None
        self._initial = self.n
        if self.mode == "bar":
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, initial=self.n, desc=desc, unit=unit, leave=leave, dynamic_ncols=True,
                             file=stream)  # fmt: skip

    def __iter__(self):
        for item in self.iterable:
            yield item
            self.update(1)

    def update(self, n: int = 1) -> None:
        """``n`` more items are done."""
        self.n += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.mode == "log" and (self.n - n == self._initial or self.n == self.total or self._due()):
            self._write_line()

    def set_postfix(self, ordered_dict=None, **values) -> None:
        """Values shown after the count, e.g. ``set_postfix(E="-1.137")``."""
        values = {**(ordered_dict or {}), **values}
        if self._bar is not None:
            self._bar.set_postfix(values)
        self._postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def _due(self) -> bool:
        return time.perf_counter() - self._last_line >= self.interval

    def _write_line(self) -> None:
        elapsed = time.perf_counter() - self.t_start
        of = f"/{self.total}" if self.total is not None else ""
        left = ""
        if self.total and self.n - self._initial > 0 and self.n < self.total:
            left = f", ~{_duration(elapsed / (self.n - self._initial) * (self.total - self.n))} left"
        post = f", {self._postfix}" if self._postfix else ""
        stream = self.stream if self.stream is not None else sys.stderr
        print(f"{self.desc}: {self.n}{of} {self.unit}{post} ({_duration(elapsed)} elapsed{left})", file=stream,
              flush=True)  # fmt: skip
        self._last_line = time.perf_counter()

    def close(self) -> None:
        """The loop ended (also after an exception)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def progress_bar(iterable=None, *, total=None, desc: str = "", unit: str = "it", initial: int = 0,
                 leave: bool = True, enabled: bool = True, stream=None, mode=None) -> Progress:  # fmt: skip
    """Progress over ``iterable`` (or ``total`` items): a bar in terminals and notebooks, a line every
    ``QML_PROGRESS_INTERVAL`` seconds (and the first and last item) in logs, nothing when ``enabled`` is False.

    Use it like tqdm: ``for x in progress_bar(items, desc="scan"): ...`` or
    ``with progress_bar(total=n, desc="VQE", enabled=progress) as bar: bar.update(1)``.
    A number as first argument is taken as ``total``.

    Raises:
        ConfigurationError: ``QML_PROGRESS`` or ``QML_PROGRESS_INTERVAL`` is not valid.
    """
    if isinstance(iterable, int) and total is None:
        iterable, total = None, iterable
    return Progress(iterable, total=total, desc=desc, unit=unit, initial=initial, leave=leave, enabled=enabled,
                    stream=stream, mode=mode)  # fmt: skip
