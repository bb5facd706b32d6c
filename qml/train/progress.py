"""Progress that fits where it runs: bars in terminals and notebooks, plain lines in logs.

Where the output goes decides the form (``QML_PROGRESS`` overrides it):

* ``bar``: a tqdm bar (``tqdm.auto``: a widget in Jupyter, text in a terminal). Chosen when the
  stream is a terminal or the code runs in a Jupyter kernel.
* ``log``: one plain line at most every ``QML_PROGRESS_INTERVAL`` seconds (default 30), plus the
  first and the last epoch: a log file or a CI transcript gets a readable record instead of
  hundreds of kilobytes of bar frames.
* ``off``: nothing.

Long epochs (hardware, large data) also get a step-level bar (or, in ``log`` form, step lines at
the same interval) once an epoch has run for :data:`STEP_BAR_AFTER` seconds, or at once when the
backend reports jobs: it shows the optimizer steps of the epoch and the jobs sent to the backend
(the ``jobs`` counter that hardware executors record through :func:`qml.backends.context.record`)
and received back (a step ends only when its jobs have returned), with "waiting" while a job is out.
"""

from __future__ import annotations

import math
import sys
import time

from ..backends import context
from ..progress import DEFAULT_INTERVAL as DEFAULT_INTERVAL
from ..progress import MODES as MODES
from ..progress import Closing, _duration, _interval
from ..progress import choose_mode as choose_mode

STEP_BAR_AFTER = 5.0


def _jobs_text(sent: int, back: int | None = None) -> str:
    if back is None:
        return f"jobs {sent}"
    return f"jobs {sent} sent, {back} back" + (", waiting" if sent > back else "")


class EpochProgress(Closing):
    """Progress of a training run: ``fit`` calls :meth:`start_epoch`, :meth:`step_done`,
    :meth:`epoch_done` and :meth:`close`.

    Args:
        total: epochs of the whole run.
        initial: epochs already done (resume).
        steps: optimizer steps per epoch.
        enabled: ``False`` shows nothing.
        desc: label of the bar or line.
        stream: where to write (default ``sys.stderr``).
        mode: force ``"bar"``, ``"log"`` or ``"off"`` (default: :func:`choose_mode`).
        interval: seconds between two plain lines (default ``QML_PROGRESS_INTERVAL`` or 30).
    """

    def __init__(
        self,
        total: int,
        *,
        initial: int = 0,
        steps: int = 1,
        enabled: bool = True,
        desc: str = "fit",
        stream=None,
        mode: str | None = None,
        interval: float | None = None,
    ):
        self.total, self.done, self.steps, self.desc = int(total), int(initial), int(steps), desc
        self.stream = stream
        self.mode = mode if mode is not None else choose_mode(enabled, stream)
        self.interval = _interval() if interval is None else float(interval)
        self.t_start = time.perf_counter()
        self._last_line = -math.inf
        self._epochs_timed = 0
        self._bar = self._step_bar = None
        self._epoch, self._t_epoch, self._step, self._counters, self._back = 0, 0.0, 0, {}, 0
        self._listener = None
        self._unwritten = None
        if self.mode == "bar":
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=self.total, initial=self.done, desc=desc, unit="epoch", dynamic_ncols=True, file=stream
            )

    # -- lines (log mode) -------------------------------------------------------------
    def _write(self, text: str) -> None:
        stream = self.stream if self.stream is not None else sys.stderr
        print(f"{self.desc}: {text}", file=stream, flush=True)
        self._last_line = time.perf_counter()

    def _due(self) -> bool:
        return time.perf_counter() - self._last_line >= self.interval

    # -- hooks called by fit ----------------------------------------------------------
    def start_epoch(self, epoch: int) -> None:
        """Epoch ``epoch`` (1-based) starts."""
        self._epoch, self._t_epoch, self._step, self._counters, self._back = epoch, time.perf_counter(), 0, {}, 0
        if self.mode != "off" and self._listener is None:
            self._listener = context.add_listener(self._on_record)

    def _on_record(self, name: str, value: float) -> None:
        self._counters[name] = self._counters.get(name, 0) + value
        if name == "jobs":
            self._show_steps(force_open=True)

    def step_done(self, step: int) -> None:
        """Optimizer step ``step`` (0-based) of the running epoch finished."""
        self._step = step + 1
        self._back = int(self._counters.get("jobs", 0))  # the step waited for every job it sent
        self._show_steps()

    def _show_steps(self, force_open: bool = False) -> None:
        if self.mode == "off":
            return
        long_epoch = time.perf_counter() - self._t_epoch >= STEP_BAR_AFTER and self.steps > 1
        jobs = _jobs_text(int(self._counters["jobs"]), self._back) if "jobs" in self._counters else ""
        if self.mode == "bar":
            if self._step_bar is None and (long_epoch or force_open or jobs):
                from tqdm.auto import tqdm

                self._step_bar = tqdm(
                    total=self.steps,
                    desc=f"epoch {self._epoch}",
                    unit="step",
                    leave=False,
                    dynamic_ncols=True,
                    file=self.stream,
                )
            if self._step_bar is not None:
                self._step_bar.n = self._step
                if jobs:
                    self._step_bar.set_postfix_str(jobs, refresh=False)
                self._step_bar.refresh()
        elif (long_epoch or jobs) and self._due():
            extra = f", {jobs}" if jobs else ""
            self._write(
                f"epoch {self._epoch}/{self.total} step {self._step}/{self.steps}{extra} "
                f"({_duration(time.perf_counter() - self._t_epoch)} into the epoch)"
            )

    def epoch_done(self, record: dict) -> None:
        """The epoch's history ``record`` (``train_loss``, ``val_loss``, ``time``, counters) is complete."""
        self.done = record.get("epoch", self.done + 1)
        self._epochs_timed += 1
        if self._step_bar is not None:
            self._step_bar.close()
            self._step_bar = None
        jobs = "jobs" in record
        if self.mode == "bar":
            post = {"loss": f"{record['train_loss']:.3g}"}
            if record.get("val_loss") is not None:
                post["val"] = f"{record['val_loss']:.3g}"
            if jobs:
                post["jobs"] = int(record.get("jobs", 0))
            self._bar.set_postfix(post, refresh=False)
            self._bar.update(1)
        elif self.mode == "log":
            self._unwritten = record
            if self._epochs_timed == 1 or self.done >= self.total or self._due():
                self._write_epoch(record)

    def _write_epoch(self, record: dict) -> None:
        elapsed = time.perf_counter() - self.t_start
        left = elapsed / max(self._epochs_timed, 1) * (self.total - self.done)
        text = f"epoch {self.done}/{self.total}, loss {record['train_loss']:.3g}"
        if record.get("val_loss") is not None:
            text += f", val {record['val_loss']:.3g}"
        if "jobs" in record:
            text += f", {_jobs_text(int(record['jobs']))}"
        tail = f", ~{_duration(left)} left" if self.done < self.total else ""
        self._write(f"{text} ({_duration(elapsed)} elapsed{tail})")
        self._unwritten = None

    def close(self) -> None:
        """End of training (also after an exception)."""
        if self._unwritten is not None:  # stopped early: the last epoch gets its line
            self._write_epoch(self._unwritten)
        if self._listener is not None:
            context.remove_listener(self._listener)
            self._listener = None
        for bar in (self._step_bar, self._bar):
            if bar is not None:
                bar.close()
        self._step_bar = self._bar = None
