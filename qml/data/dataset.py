"""``load_dataset`` and ``list_datasets``: shipped files -> validated torch Datasets with fixed splits.

Splits are deterministic and independent of numpy/torch random streams: row ``i`` of data set
``name`` gets the key ``sha256(f"{name}:{seed}:{i}")``; rows sorted by key are cut into train,
val and test by the sidecar's fractions (80/10/10 by default), and each split lists its rows
in file order. The same file therefore always gives the same splits, on every machine.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from ..errors import ConfigurationError, DataError, check_choice, one_of
from . import files, registry

SPLITS = ("train", "val", "test", "all")


class MolecularDataset(torch.utils.data.Dataset):
    """Rows of one split of a data set, as float tensors.

    Attributes:
        name: data set name; split: ``"train"``, ``"val"``, ``"test"`` or ``"all"``.
        features: tensor of shape ``(N, F)``; targets: tensor of shape ``(N, 1)``.
        columns: all column names of the file (tuple).
        feature_names: the ``F`` feature columns; target_name: the target column.
        indices: row numbers of these rows in the file, int64 tensor of shape ``(N,)``.
        meta: the sidecar dict plus ``split``, ``split_sizes``, ``features``, ``target``,
            ``path`` and ``train_stats`` (mean/std of features and target over the train split,
            the same for every split, for normalisation).

    ``dataset[i]`` returns ``(x, y)`` with shapes ``(F,)`` and ``(1,)``.
    """

    def __init__(
        self,
        name: str,
        split: str,
        values: np.ndarray,
        columns,
        indices: np.ndarray,
        feature_names,
        target_name: str,
        meta: dict,
        dtype=torch.float64,
    ):
        self.name = name
        self.split = split
        self.columns = tuple(columns)
        self.feature_names = tuple(feature_names)
        self.target_name = target_name
        self.indices = torch.as_tensor(indices, dtype=torch.int64)
        self._rows = torch.as_tensor(values[indices], dtype=dtype)
        pos = {c: j for j, c in enumerate(self.columns)}
        self.features = self._rows[:, [pos[c] for c in self.feature_names]].contiguous()
        self.targets = self._rows[:, [pos[target_name]]].contiguous()
        self.meta = meta

    def __len__(self) -> int:
        return self.features.shape[0]

    def __getitem__(self, i):
        return self.features[i], self.targets[i]

    def column(self, name: str) -> torch.Tensor:
        """Any column of the file for the rows of this split, shape ``(N,)``.

        Raises:
            ConfigurationError: unknown column (the message lists the columns).
        """
        if name not in self.columns:
            raise one_of(f"column of {self.name}", name, self.columns)
        return self._rows[:, self.columns.index(name)]

    def __repr__(self) -> str:
        return (
            f"MolecularDataset({self.name!r}, split={self.split!r}, {len(self)} rows, "
            f"features={list(self.feature_names)} -> target={self.target_name!r}, dtype={self.features.dtype})"
        )


# --------------------------------------------------------------------------- splits
def split_indices(name: str, n_rows: int, splits: dict) -> dict[str, np.ndarray]:
    """Row indices of every split (each sorted), from a sidecar's ``splits`` definition.

    Raises:
        DataError: an unknown split method or fractions that are not train/val/test summing to 1.
    """
    method = splits.get("method") if isinstance(splits, dict) else None
    fractions = splits.get("fractions") if isinstance(splits, dict) else None
    if method != "sha256-rank" or not isinstance(fractions, dict) or set(fractions) != {"train", "val", "test"}:
        raise DataError(
            f"the sidecar of {name!r} has an unsupported split definition {splits!r}; "
            f"expected method 'sha256-rank' with train/val/test fractions; {files.fix_hint(name)}"
        )
    if (
        any(not isinstance(f, (int, float)) or f < 0 for f in fractions.values())
        or abs(sum(fractions.values()) - 1) > 1e-9
    ):
        raise DataError(f"the split fractions of {name!r} must be non-negative and sum to 1, got {fractions}")
    seed = splits.get("seed", 0)
    keys = [hashlib.sha256(f"{name}:{seed}:{i}".encode()).hexdigest() for i in range(n_rows)]
    order = np.array(sorted(range(n_rows), key=keys.__getitem__), dtype=np.int64)
    n_train = int(round(fractions["train"] * n_rows))
    n_val = int(round(fractions["val"] * n_rows))
    return {
        "train": np.sort(order[:n_train]),
        "val": np.sort(order[n_train : n_train + n_val]),
        "test": np.sort(order[n_train + n_val :]),
        "all": np.arange(n_rows, dtype=np.int64),
    }


# --------------------------------------------------------------------------- public functions
def _columns_arg(kind: str, value, columns, name) -> list[str]:
    items = [value] if isinstance(value, str) else value
    try:
        items = list(items)
    except TypeError:
        raise ConfigurationError(f"{kind} must be a column name or a list of column names, got {value!r}") from None
    if not items:
        raise ConfigurationError(f"{kind} must name at least one column of {name!r}: {list(columns)}")
    for c in items:
        check_choice(f"{kind[:-1] if kind.endswith('s') else kind} column of {name!r}", c, columns)
    if len(set(items)) != len(items):
        raise ConfigurationError(f"{kind} {items} name a column twice")
    return items


def load_dataset(
    name: str, split: str = "train", *, features=None, target=None, dtype: torch.dtype = torch.float64, root=None
) -> MolecularDataset:
    """Load one split of a shipped data set as a validated :class:`MolecularDataset`.

    Args:
        name: data set name, e.g. ``"h2o_distortions"`` or ``"lih_pes"`` (see :func:`list_datasets`).
        split: ``"train"`` (80%), ``"val"`` (10%), ``"test"`` (10%) or ``"all"``; fixed and seeded,
            identical on every machine.
        features: column name(s) used as inputs, default the geometry parameters
            (``["r"]`` for a PES, ``["r1", "r2", "angle"]`` for ``h2o_distortions``).
        target: the column to predict (Hartree), default ``"e_fci"``.
        dtype: floating torch dtype of ``features`` and ``targets``.
        root: directory holding ``NAME.csv`` and ``NAME.json`` (default: the shipped data).

    Returns:
        MolecularDataset with ``.features`` of shape ``(N, F)`` and ``.targets`` of shape ``(N, 1)``.

    Raises:
        ConfigurationError: unknown data set, split, column or dtype (the message lists valid choices),
            or a target that is also a feature.
        DataError: a missing or malformed file (message names the file, row and column, and how to
            regenerate it).
    """
    spec = registry.get(name)
    check_choice("split", split, SPLITS)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ConfigurationError(
            f"dtype must be a floating torch dtype such as torch.float64 or torch.float32, got {dtype!r}"
        )
    root = files.data_dir(root)
    meta, columns, values = files.read(spec.name, root)
    features = _columns_arg("features", meta["default_features"] if features is None else features, columns, spec.name)
    target = meta["default_target"] if target is None else target
    if not isinstance(target, str):
        raise ConfigurationError(f"target must be one column name (str), got {target!r}")
    check_choice(f"target column of {spec.name!r}", target, columns)
    if target in features:
        raise ConfigurationError(f"target {target!r} is also a feature {features}; remove it from features")
    parts = split_indices(spec.name, len(values), meta["splits"])
    train = values[parts["train"]]
    fj = [columns.index(c) for c in features]
    tj = columns.index(target)
    meta = dict(
        meta,
        split=split,
        features=features,
        target=target,
        path=str(files.paths(spec.name, root)[0]),
        split_sizes={k: int(len(v)) for k, v in parts.items()},
        train_stats={
            "features_mean": train[:, fj].mean(0).tolist(),
            "features_std": train[:, fj].std(0).tolist(),
            "target_mean": float(train[:, tj].mean()),
            "target_std": float(train[:, tj].std()),
        },
    )
    return MolecularDataset(spec.name, split, values, columns, parts[split], features, target, meta, dtype)


class DatasetCatalog(dict):
    """``{name: one-line description}`` of the shipped data sets; prints as a table."""

    def __repr__(self) -> str:
        width = max(len(n) for n in self)
        lines = [f"{'name':<{width}}  {'rows':>5}  {'features -> target':<28}  description"]
        for name, desc in self.items():
            spec = registry.get(name)
            io = f"{','.join(spec.inputs)} -> {spec.default_target}"
            lines.append(f"{name:<{width}}  {spec.n_rows:>5}  {io:<28}  {desc}")
        return "\n".join(lines)

    __str__ = __repr__

    def _repr_pretty_(self, p, cycle):  # IPython
        p.text(repr(self))


def list_datasets() -> DatasetCatalog:
    """The shipped data sets: a dict ``{name: one-line description}`` that prints as a table.

    Descriptions come from the sidecars (they name the scan range and active space); a data set
    whose sidecar is missing or unreadable keeps its short built-in description.
    """
    try:
        root = files.data_dir()
    except DataError:
        root = None
    out = DatasetCatalog()
    for name, spec in registry.SPECS.items():
        try:
            out[name] = files.read_meta(name, root)["description"] if root is not None else spec.description
        except DataError:
            out[name] = spec.description
    return out
