"""Geometries in and out: XYZ files and strings, PySCF ``Mole`` and ASE ``Atoms``.

The ``Molecule`` classmethods (``Molecule.from_xyz``, ``from_pyscf``, ``from_ase``) and methods
(``to_xyz``, ``to_ase``) delegate here. XYZ input is checked line by line; every error names the
line it found wrong::

    3
    water, Angstrom
    O  0.000  0.000  0.117
    H  0.000  0.757 -0.467
    H  0.000 -0.757 -0.467

ASE is an optional extra (``pip install "qml-hybrid[interop]"``), imported only when used.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import ConfigurationError, DataError, MissingDependencyError

#: Length units an XYZ file may be written in -> factor to Angstrom.
UNITS = {"angstrom": 1.0, "bohr": 0.52917721092, "pm": 0.01, "nm": 10.0}


def require(module: str, pip_name: str | None = None):
    """Import an optional dependency or raise :class:`MissingDependencyError` naming the pip command."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        pip_name = pip_name or module
        raise MissingDependencyError(
            f"this needs the optional package {pip_name!r}, which is not installed; install it with "
            f'pip install "qml-hybrid[interop]" (or pip install {pip_name})'
        ) from None


def _symbol(token: str, where: str) -> str:
    from .molecule import ATOMIC_NUMBERS

    numbers = {z: s for s, z in ATOMIC_NUMBERS.items()}
    if token.isdigit() and int(token) in numbers:
        return numbers[int(token)]
    sym = token[:1].upper() + token[1:].lower()
    if sym not in ATOMIC_NUMBERS:
        raise DataError(
            f"{where}: unknown element {token!r}; qml knows {', '.join(ATOMIC_NUMBERS)} (symbols or atomic numbers)"
        )
    return sym


def _units(units) -> float:
    if not isinstance(units, str) or units.lower() not in UNITS:
        raise ConfigurationError(f"units must be one of {', '.join(map(repr, UNITS))}, got {units!r}")
    return UNITS[units.lower()]


def parse_xyz(text: str, *, source: str = "XYZ text", units: str = "angstrom") -> tuple[tuple, np.ndarray, str]:
    """Parse one XYZ frame: ``(symbols, coordinates in Angstrom (n_atoms, 3), comment)``.

    Args:
        text: the XYZ content (atom count, comment line, one ``El x y z`` line per atom).
        source: name used in error messages (the file's path).
        units: unit of the coordinates: ``"angstrom"`` (default), ``"bohr"``, ``"pm"`` or ``"nm"``.

    Raises:
        DataError: an atom count that is missing, not a positive integer or not the number of
            atom lines; an unknown element; a line without three numeric, finite coordinates;
            a second frame. The message names the line.
        ConfigurationError: unknown ``units``.
    """
    scale = _units(units)
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise DataError(f"{source} is empty; an XYZ file starts with the atom count, then a comment line")
    head = lines[0].split()
    if len(head) != 1 or not head[0].isdigit() or int(head[0]) < 1:
        raise DataError(
            f"{source}, line 1: expected the number of atoms (a positive integer), got {lines[0].strip()!r}"
        )
    n = int(head[0])
    body = lines[2:]
    if len(body) < n:
        raise DataError(
            f"{source}, line 1: the file says {n} atoms but has {len(body)} atom line(s) after the comment line"
        )
    if len(body) > n:
        extra = 3 + n
        raise DataError(
            f"{source}, line {extra}: the file says {n} atoms but has more lines ({lines[extra - 1].strip()!r}); "
            "fix the atom count (multi-frame files are not read: keep one frame)"
        )
    symbols, coords = [], []
    for i, line in enumerate(body, start=3):
        where = f"{source}, line {i}"
        parts = line.split()
        if len(parts) < 4:
            raise DataError(f"{where}: expected 'element x y z', got {line.strip()!r}")
        symbols.append(_symbol(parts[0], where))
        try:
            xyz = [float(v) for v in parts[1:4]]
        except ValueError:
            raise DataError(f"{where}: coordinates must be numbers, got {' '.join(parts[1:4])!r}") from None
        if not all(np.isfinite(xyz)):
            raise DataError(f"{where}: coordinates must be finite, got {' '.join(parts[1:4])!r}")
        coords.append(xyz)
    coords = np.array(coords, dtype=float) * scale
    if n > 1:
        d = np.linalg.norm(coords[:, None] - coords[None], axis=-1) + np.eye(n) * 1e9
        i, j = np.unravel_index(np.argmin(d), d.shape)
        if d[i, j] < 0.1:
            raise DataError(
                f"{source}, lines {i + 3} and {j + 3}: atoms {d[i, j]:.3g} Angstrom apart; check units= "
                f"(the file is read as {units}) and that no atom is duplicated"
            )
        if d.min() > 10.0 and scale == 1.0:
            raise DataError(
                f"{source}: the closest two atoms are {d.min():.3g} Angstrom apart, too far for a molecule; if "
                "the file is in picometres or Bohr pass units='pm' or units='bohr'"
            )
    return tuple(symbols), coords, lines[1] if len(lines) > 1 else ""


def from_xyz(cls, source, *, charge: int = 0, multiplicity: int = 1, units: str = "angstrom", **kwargs):
    """``Molecule.from_xyz``: see :meth:`qml.chem.Molecule.from_xyz`."""
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source.strip()):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(
                f"no XYZ file {str(path)!r}; pass a path to an existing file or the XYZ text itself (with newlines)"
            )
        text, where = path.read_text(), str(path)
        kwargs.setdefault("name", path.stem)
    elif isinstance(source, str):
        text, where = source, "XYZ text"
    else:
        raise TypeError(f"source must be a path or an XYZ string, got {type(source).__name__}")
    _units(units)
    symbols, coords, _ = parse_xyz(text, source=where, units=units)
    return cls(symbols, coords, charge=charge, multiplicity=multiplicity, **kwargs)


def to_xyz(mol, path=None, *, comment: str | None = None) -> str:
    """``Molecule.to_xyz``: XYZ text in Angstrom (written to ``path`` when given)."""
    if comment is None:
        comment = f"{mol.name or ''.join(mol.symbols)} charge={mol.charge} multiplicity={mol.multiplicity} (Angstrom)"
    if not isinstance(comment, str) or "\n" in comment:
        raise ConfigurationError("comment must be a single line of text")
    rows = [f"{s:<2} {x:17.10f} {y:17.10f} {z:17.10f}" for s, (x, y, z) in zip(mol.symbols, mol.coordinates)]
    text = "\n".join([str(len(mol.symbols)), comment, *rows]) + "\n"
    if path is not None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file path, got {type(path).__name__}")
        Path(path).write_text(text)
    return text


def from_pyscf(cls, mole, **kwargs):
    """``Molecule.from_pyscf``: see :meth:`qml.chem.Molecule.from_pyscf`."""
    from pyscf import gto

    if not isinstance(mole, gto.Mole):
        raise TypeError(f"mole must be a pyscf.gto.Mole (e.g. pyscf.gto.M(atom=...)), got {type(mole).__name__}")
    if not mole._built:
        mole.build()
    basis = mole.basis
    if not isinstance(basis, str):
        raise ConfigurationError(
            "this PySCF molecule uses a per-element basis dict; qml needs one basis name for every atom "
            "(e.g. gto.M(..., basis='sto-3g'))"
        )
    symbols = tuple(_symbol(mole.atom_pure_symbol(i), f"pyscf atom {i}") for i in range(mole.natm))
    kwargs.setdefault("basis", basis)
    return cls(
        symbols,
        mole.atom_coords(unit="Angstrom"),
        charge=int(mole.charge),
        multiplicity=int(mole.spin) + 1,
        **kwargs,
    )


def from_ase(cls, atoms, *, charge: int | None = None, multiplicity: int | None = None, **kwargs):
    """``Molecule.from_ase``: see :meth:`qml.chem.Molecule.from_ase`."""
    ase = require("ase")
    if not isinstance(atoms, ase.Atoms):
        raise TypeError(f"atoms must be an ase.Atoms, got {type(atoms).__name__}")
    if len(atoms) == 0:
        raise DataError("atoms is empty; an ase.Atoms with at least one atom is needed")
    info = atoms.info
    charge = int(info.get("charge", 0)) if charge is None else charge
    multiplicity = int(info.get("multiplicity", 1)) if multiplicity is None else multiplicity
    symbols = tuple(_symbol(s, f"atom {i}") for i, s in enumerate(atoms.get_chemical_symbols()))
    return cls(symbols, atoms.get_positions(), charge=charge, multiplicity=multiplicity, **kwargs)


def to_ase(mol):
    """``Molecule.to_ase``: an ``ase.Atoms`` (Angstrom) with ``info`` charge and multiplicity."""
    ase = require("ase")
    return ase.Atoms(
        symbols=list(mol.symbols),
        positions=np.array(mol.coordinates),
        info={"charge": mol.charge, "multiplicity": mol.multiplicity, "name": mol.name},
    )


def repr_html(mol) -> str:
    """``Molecule._repr_html_``: a small HTML table of the atoms and the active space."""
    from html import escape

    title = escape(repr(mol))
    rows = "".join(
        f"<tr><td>{i}</td><td>{s}</td><td>{x:.6f}</td><td>{y:.6f}</td><td>{z:.6f}</td></tr>"
        for i, (s, (x, y, z)) in enumerate(zip(mol.symbols, mol.coordinates))
    )
    return (
        f"<div><b>{title}</b><table><thead><tr><th>#</th><th>element</th><th>x (&#8491;)</th>"
        f"<th>y (&#8491;)</th><th>z (&#8491;)</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )
