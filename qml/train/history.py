"""History: what ``fit`` measured, one record per epoch."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path


def score(record: dict) -> float:
    """The loss an epoch is judged by: its validation loss, or its training loss without validation data."""
    return record["val_loss"] if record.get("val_loss") is not None else record["train_loss"]


@dataclass
class BestSoFar:
    """The one best-so-far rule (``fit``'s early stopping, ``History.best_epoch``, ``sweep``'s best loss).

    A score improves on the best when it is lower by more than ``min_delta``; ``since`` counts the
    epochs since the last improvement.
    """

    min_delta: float = 0.0
    best: float = math.inf
    epoch: int | None = None
    since: int = 0

    def update(self, value: float, epoch: int) -> bool:
        """Take the score of ``epoch``; return whether it is a new best."""
        if value < self.best - self.min_delta:
            self.best, self.epoch, self.since = value, epoch, 0
            return True
        self.since += 1
        return False


@dataclass
class History:
    """Per-epoch records of a training run.

    Each record is a dict with ``epoch`` (1-based), ``train_loss``, ``val_loss`` (``None``
    without validation data), ``time`` (seconds of that epoch), ``lr`` and any counters the
    backend reported (``jobs``, ``circuits``, ``shots`` on hardware).
    """

    records: list[dict] = field(default_factory=list)
    stopped_early: bool = False
    config: dict = field(default_factory=dict)

    def append(self, record: dict) -> None:
        self.records.append(dict(record))

    def column(self, key: str) -> list:
        return [r.get(key) for r in self.records]

    @property
    def epochs(self) -> list[int]:
        return self.column("epoch")

    @property
    def train_loss(self) -> list[float]:
        return self.column("train_loss")

    @property
    def val_loss(self) -> list[float | None]:
        return self.column("val_loss")

    @property
    def time(self) -> list[float]:
        return self.column("time")

    @property
    def best_epoch(self) -> int | None:
        """Epoch of the lowest validation loss (training loss without validation data)."""
        return self.best_so_far().epoch

    def best_so_far(self, min_delta: float = 0.0) -> "BestSoFar":
        """The :class:`BestSoFar` rule replayed over every epoch recorded so far."""
        best = BestSoFar(min_delta)
        for r in self.records:
            best.update(score(r), r["epoch"])
        return best

    def __len__(self) -> int:
        return len(self.records)

    def to_dict(self) -> dict:
        return {"records": self.records, "stopped_early": self.stopped_early, "config": self.config}

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        return cls(
            [dict(r) for r in d.get("records", [])], bool(d.get("stopped_early", False)), dict(d.get("config", {}))
        )

    def save(self, path) -> None:
        """Write JSON atomically (temp file + rename)."""
        from .._sealed import seal
        from .checkpoint import atomic_write_bytes

        record = json.loads(json.dumps(self.to_dict(), default=_json_default))
        atomic_write_bytes(Path(path), json.dumps(seal(record), indent=1).encode())

    @classmethod
    def load(cls, path) -> "History":
        """Read a history written by :meth:`save` (JSON: nothing in it can run code), checking its sha256.

        Raises:
            DataError: the file is not a JSON history (damaged, edited, or another kind of file).
        """
        from .._sealed import KEY, unseal

        try:
            d = json.loads(Path(path).read_bytes().decode("utf-8"))
            if not isinstance(d, dict):
                raise ValueError(f"a JSON {type(d).__name__}, not an object")
            if KEY in d:  # written by save(); files without it (older versions, hand-written) load as they are
                d = unseal(d)
            return cls.from_dict(d)
        except (ValueError, TypeError, AttributeError) as exc:
            from ..errors import DataError

            raise DataError(f"{path} is not a training history written by qml ({exc}); nothing was loaded") from None

    def to_pandas(self):
        """One row per epoch as a ``pandas.DataFrame`` (optional extra ``pandas``)."""
        from ..tables import history, to_pandas

        return to_pandas(history(self))

    def to_csv(self, path):
        """Write one row per epoch to a CSV file (no pandas needed); returns the path."""
        from ..tables import history, write_csv

        return write_csv(history(self), path)

    def _repr_html_(self) -> str:
        from ..tables import history, html

        return html(history(self), repr(self))

    def __repr__(self) -> str:
        if not self.records:
            return "History(no epochs)"
        last = self.records[-1]
        val = "" if last.get("val_loss") is None else f", val_loss={last['val_loss']:.4g}"
        total = sum(t for t in self.time if t is not None and math.isfinite(t))
        return f"History({len(self)} epochs, train_loss={last['train_loss']:.4g}{val}, {total:.1f} s)"


def _json_default(obj):
    try:
        return float(obj)
    except (TypeError, ValueError):
        return str(obj)
