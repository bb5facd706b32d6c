"""Circuits and operators out: a bound ansatz circuit and its qubit Hamiltonian for other tools.

For one geometry of a :class:`~qml.PESModel` (or the optimum of a :func:`qml.chem.vqe` run):

* :func:`to_qiskit`: ``(QuantumCircuit, SparsePauliOp)``, logical (qubit ``i`` = wire ``i``), or
  transpiled to a device's ISA with the operator mapped to the physical layout (``device=``);
* :func:`to_qasm3`: the bound logical circuit as OpenQASM 3 text;
* :func:`to_pennylane`: ``(QuantumScript, operator)``: the ansatz's tape, measuring
  ``expval(H)``, and the PennyLane Hamiltonian.

The circuit is the one the Qiskit backends run: the PennyLane ansatz decomposed to
``{RX, RY, RZ, CNOT, ...}`` by :mod:`qml.backends.qiskit_circuits` (a global phase is dropped),
its angles bound to numbers. ``Estimator(circuit, operator)`` gives the model's energy.
"""

from __future__ import annotations

import numpy as np
import torch

from .errors import BackendError, ConfigurationError


def bound(ansatz, params, molecule):
    """``(ansatz, params (n_params,) float64 tensor, molecule)`` after checking them."""
    from .chem.ansatz import ChemAnsatz
    from .chem.molecule import Molecule

    if not isinstance(ansatz, ChemAnsatz) or not isinstance(molecule, Molecule):
        raise TypeError("export needs a chemistry ansatz (qml.chem.ChemAnsatz) and a qml.chem.Molecule")
    p = torch.as_tensor(np.asarray(params, dtype=float), dtype=torch.float64).reshape(-1)
    if p.numel() != ansatz.n_params:
        raise ConfigurationError(f"params has {p.numel()} values but the {ansatz.name} ansatz needs {ansatz.n_params}")
    return ansatz, p, molecule


def _traced(ansatz, params: torch.Tensor):
    from .backends.qiskit_circuits import trace_ansatz

    with torch.no_grad():
        return trace_ansatz(ansatz, params.reshape(1, -1), ansatz.n_qubits)


def _device(device):
    if device is None:
        return None
    if isinstance(device, str):
        from .backends.aer import fake_device

        name = device.split(":", 1)[1] if ":" in device else device
        try:
            return fake_device(name)
        except BackendError:
            raise BackendError(
                f"device {device!r} is not a fake IBM device name (e.g. 'FakeFez'); for a real device pass its "
                "Qiskit backend object, e.g. QiskitRuntimeService().backend('ibm_fez')"
            ) from None
    if not hasattr(device, "target"):
        raise TypeError(
            f"device must be None (logical circuit), a fake device name such as 'FakeFez', or a Qiskit BackendV2; "
            f"got {type(device).__name__}"
        )
    return device


def circuit_and_operator(ansatz, params, molecule, *, device=None, optimization_level: int = 1, seed: int = 0):
    """The bound circuit and its Hamiltonian as Qiskit objects.

    Args:
        ansatz: a :class:`qml.chem.ChemAnsatz`.
        params: its parameters, ``ansatz.n_params`` numbers.
        molecule: the :class:`qml.chem.Molecule` whose Hamiltonian is measured.
        device: ``None`` (logical circuit, qubit ``i`` = wire ``i``), a fake device name such as
            ``"FakeFez"`` (``"aer:FakeFez"`` also accepted) or a Qiskit ``BackendV2``: the
            circuit transpiled to its ISA and the operator laid out on its physical qubits.
        optimization_level, seed: of the preset pass manager (ISA only).

    Returns:
        ``(QuantumCircuit, SparsePauliOp)`` with no free parameters.

    Raises:
        TypeError / ConfigurationError / BackendError: a bad ``device`` or ``params``, or a device
            too small for the circuit.
    """
    from .backends.qiskit_circuits import compile_circuit, sparse_pauli, to_qiskit

    if isinstance(optimization_level, bool) or optimization_level not in (0, 1, 2, 3):
        raise ConfigurationError(f"optimization_level must be 0, 1, 2 or 3, got {optimization_level!r}")
    dev = _device(device)
    ansatz, p, molecule = bound(ansatz, params, molecule)
    traced = _traced(ansatz, p)
    angles = traced.angles[0].numpy()
    op = sparse_pauli(molecule.hamiltonian(), molecule.n_qubits)
    if dev is None:
        qc = to_qiskit(traced)
        return qc.assign_parameters({q: angles[q.index] for q in qc.parameters}), op
    compiled = compile_circuit(traced, dev, optimization_level=optimization_level, seed=seed, shift_rule=False)
    isa = compiled.isa
    values = {q: angles[q.index] for q in isa.parameters}
    return isa.assign_parameters(values), compiled.map(op)


def qasm3(circuit) -> str:
    """OpenQASM 3 text of a bound Qiskit circuit."""
    from qiskit import qasm3 as _qasm3

    return _qasm3.dumps(circuit)


def tape_and_operator(ansatz, params, molecule):
    """``(QuantumScript, operator)``: the ansatz's gates measuring ``expval(H)``, and ``H`` (PennyLane)."""
    import pennylane as qp

    ansatz, p, molecule = bound(ansatz, params, molecule)
    h = molecule.hamiltonian()
    ops = qp.tape.make_qscript(ansatz)(p.reshape(ansatz.weight_shape).numpy()).operations
    return qp.tape.QuantumScript(ops, [qp.expval(h)]), h


# ---------------------------------------------------------------------- PESModel / VQEResult
def _model_point(model, x):
    """``(ansatz, params, molecule)`` of a PESModel at one geometry ``x``."""
    coords = model.check(x)
    if coords.shape[0] != 1:
        raise ConfigurationError(
            f"export one geometry at a time: x has {coords.shape[0]} geometries; pass a single point, e.g. x=1.6"
        )
    with torch.no_grad():
        params = model.params(coords)[0].detach().cpu()
    molecule = model.bank.entries(coords)[0].molecule
    return model.ansatz, params, molecule


def _result_point(result):
    circuit = getattr(result, "_circuit", None)
    if circuit is None:
        raise ConfigurationError(
            "this VQEResult does not carry its molecule and ansatz (it was loaded or built by hand); "
            "export from the result that qml.chem.vqe returned"
        )
    molecule, ansatz = circuit
    return ansatz, result.params, molecule


def model_to_qiskit(model, x, *, device=None, optimization_level: int = 1, seed: int = 0):
    return circuit_and_operator(
        *_model_point(model, x), device=device, optimization_level=optimization_level, seed=seed
    )


def model_to_qasm3(model, x) -> str:
    return qasm3(circuit_and_operator(*_model_point(model, x))[0])


def model_to_pennylane(model, x):
    return tape_and_operator(*_model_point(model, x))


def result_to_qiskit(result, *, device=None, optimization_level: int = 1, seed: int = 0):
    return circuit_and_operator(*_result_point(result), device=device, optimization_level=optimization_level, seed=seed)


def result_to_qasm3(result) -> str:
    return qasm3(circuit_and_operator(*_result_point(result))[0])


def result_to_pennylane(result):
    return tape_and_operator(*_result_point(result))
