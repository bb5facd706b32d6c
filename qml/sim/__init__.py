"""Fast batched state-vector simulation in torch: :class:`FastDevice` (backend ``"fast"``).

``FastDevice(wires, *, c_dtype=torch.complex128, seed=None)`` is a PennyLane device (new device
API) that runs a parameter-broadcast tape (a batch of ``B`` samples) as ONE execution on a state
of shape ``(2**n, B)`` and differentiates by torch autograd::

    import pennylane as qp
    from qml.sim import FastDevice

    qnode = qp.QNode(circuit, FastDevice(wires=8), interface="torch", diff_method="backprop")

Modules: :mod:`~qml.sim.device` (the device), :mod:`~qml.sim.engine` (gate fusion, one tape ->
state), :mod:`~qml.sim.gates` (gate tables), :mod:`~qml.sim.kernels` (torch kernels),
:mod:`~qml.sim.measure` (expectations, probs, state), :mod:`~qml.sim.cache` (bounded caches).
"""

from .device import FastDevice as FastDevice

__all__ = ["FastDevice"]
