"""Error mitigation computed by qml: readout inversion, zero-noise extrapolation, and presets per device family.

:class:`Mitigation` says what to do; :func:`resolve_mitigation` turns the ``mitigation=`` option of
``aer:<FakeDevice>`` / ``ibm:<FakeDevice>`` backends (``"auto"``, ``None``/``"none"``, a preset name
or a dict of :class:`Mitigation` fields) into one; :class:`~qml.runtime.mitigated.MitigatedEstimator`
does it.

* **Readout** (``readout=True``): a two-point calibration per physical qubit (all measured qubits
  prepared in 0, then all in 1; ``calibration_shots`` each) gives each qubit's confusion matrix
  ``A_q = [[1 - e0, e1], [e0, 1 - e1]]`` (``e0 = P(read 1 | 0)``, ``e1 = P(read 0 | 1)``). A Pauli
  term on qubits ``S`` is then estimated shot by shot as ``prod_{q in S} z_q(r_q)`` with
  ``z_q = [1, -1] A_q^{-1}``, i.e. ``z_q(0) = (1 + e0 - e1) / (1 - e0 - e1)`` and
  ``z_q(1) = -(1 - e0 + e1) / (1 - e0 - e1)``: unbiased for a tensor-product readout error (what
  Aer's device noise models are), and its sample variance is the mitigated energy's variance. The
  calibration's own binomial uncertainty is added to the variance (delta method).
* **ZNE** (``zne=(1, 3, 5)``, ``extrapolator=...``): every two-qubit gate ``G`` of the ISA circuit is
  folded to ``G (G^dagger G)^k`` for noise factor ``2k + 1``; energies at each factor are extrapolated
  to zero (:mod:`qml.runtime.extrapolation`, which propagates the variance). Skipped for circuits
  without two-qubit gates (folding would change nothing).

Presets (:data:`PRESETS`) and the family default (:data:`FAMILY_PRESET`, what ``mitigation="auto"``
picks) were chosen from ``benchmarks/results/noisy.md``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..errors import ConfigurationError, one_of
from .extrapolation import EXTRAPOLATORS, check_factors


@dataclass(frozen=True, kw_only=True)
class Mitigation:
    """What qml's mitigated estimator does (keyword-only, validated).

    Attributes:
        readout: invert each measured qubit's readout confusion matrix.
        calibration_shots: shots of each of the two calibration circuits (>= 1000).
        zne: noise factors (odd integers >= 1, at least two, e.g. ``(1, 3, 5)``) or ``None`` (no ZNE).
        extrapolator: ``"linear"``, ``"richardson"`` or ``"exponential"`` (with ``zne``).
        name: the preset's name (for reports).
    """

    readout: bool = True
    calibration_shots: int = 100_000
    zne: tuple | None = None
    extrapolator: str = "linear"
    name: str = "custom"

    def __post_init__(self):
        if not isinstance(self.readout, bool):
            raise ConfigurationError(f"mitigation readout must be True or False, got {self.readout!r}")
        cs = self.calibration_shots
        if isinstance(cs, bool) or not isinstance(cs, int) or cs < 1000:
            raise ConfigurationError(f"mitigation calibration_shots must be an integer >= 1000, got {cs!r}")
        if self.zne is not None:
            factors = check_factors(self.zne)
            if not all(f == int(f) and int(f) % 2 == 1 for f in factors):
                raise ConfigurationError(
                    f"mitigation zne factors must be odd integers (gate folding G (G^dagger G)^k), e.g. (1, 3, 5); "
                    f"got {self.zne!r}"
                )
            object.__setattr__(self, "zne", tuple(int(f) for f in factors))
        if self.extrapolator not in EXTRAPOLATORS:
            raise one_of("zne extrapolator", self.extrapolator, EXTRAPOLATORS)
        if self.zne is not None and self.extrapolator == "exponential" and len(self.zne) < 3:
            raise ConfigurationError("the exponential extrapolator needs at least three zne factors, e.g. (1, 3, 5)")

    @property
    def active(self) -> bool:
        return self.readout or self.zne is not None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


#: Target standard error (mHa) of each energy on a fake device with mitigation when neither shots nor precision is given.
DEFAULT_PRECISION_MHA = 0.5

#: Named presets users may pass as ``mitigation="<name>"``.
PRESETS: dict[str, Mitigation] = {
    "none": Mitigation(readout=False, name="none"),
    "readout": Mitigation(readout=True, name="readout"),
    "readout+zne": Mitigation(readout=True, zne=(1, 3), extrapolator="linear", name="readout+zne"),
    "readout+zne3": Mitigation(readout=True, zne=(1, 3, 5), extrapolator="richardson", name="readout+zne3"),
    "readout+zne-exp": Mitigation(readout=True, zne=(1, 3, 5), extrapolator="exponential", name="readout+zne-exp"),
}

#: Device family -> the preset ``mitigation="auto"`` picks (measured: benchmarks/results/noisy.md).
FAMILY_PRESET = {"heron": "readout+zne", "eagle": "readout+zne", "falcon": "readout+zne"}


def device_family(device) -> str:
    """``"heron"`` (CZ devices: Fez, Kingston, Torino, Marrakesh), ``"eagle"`` (ECR) or ``"falcon"`` (CX)."""
    names = set(getattr(device, "operation_names", ()) or ())
    if "cz" in names:
        return "heron"
    if "ecr" in names:
        return "eagle"
    return "falcon"


def resolve_mitigation(spec, device=None) -> Mitigation | None:
    """The :class:`Mitigation` of a ``mitigation=`` option.

    Args:
        spec: ``"auto"`` (the device family's preset; ``None`` without a device), ``None``/``"none"``/
            ``False`` (off), a preset name of :data:`PRESETS`, a dict of :class:`Mitigation` fields, or a
            :class:`Mitigation`.
        device: the Qiskit device (to pick the family's preset for ``"auto"``).

    Returns:
        ``None`` when nothing is mitigated, else the :class:`Mitigation`.

    Raises:
        ConfigurationError: an unknown preset, unknown dict keys or invalid values.
    """
    if spec is None or spec is False:
        return None
    if isinstance(spec, Mitigation):
        return spec if spec.active else None
    if isinstance(spec, str):
        if spec == "auto":
            if device is None:
                return None
            return PRESETS[FAMILY_PRESET[device_family(device)]]
        if spec not in PRESETS:
            raise one_of("mitigation preset", spec, ("auto", *PRESETS))
        out = PRESETS[spec]
        return out if out.active else None
    if isinstance(spec, dict):
        valid = {f.name for f in dataclasses.fields(Mitigation)}
        unknown = sorted(set(spec) - valid)
        if unknown:
            raise ConfigurationError(
                f"unknown mitigation option(s) {unknown}; valid keys are: {', '.join(sorted(valid))}"
            )
        out = Mitigation(**spec)
        return out if out.active else None
    raise ConfigurationError(
        f"mitigation must be 'auto', None, a preset name ({', '.join(PRESETS)}) or a dict of "
        f"{', '.join(f.name for f in dataclasses.fields(Mitigation))}; got {spec!r}"
    )
