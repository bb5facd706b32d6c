"""Fast batched state-vector simulation in torch: :class:`FastDevice` (backend ``"fast"``).

``FastDevice(wires, *, c_dtype=torch.complex128, seed=None, gradient="auto", memory_budget=None)`` is a
PennyLane device (new device API) that runs a parameter-broadcast tape (a batch of ``B`` samples) as ONE
execution on a state of shape ``(2**n, B)`` and differentiates for torch autograd, by backprop or, when
backprop's memory estimate exceeds the budget (or with ``gradient="adjoint"``), by the adjoint method
(recompute instead of store: a few states of memory whatever the depth; :mod:`~qml.sim.adjoint`)::

    import pennylane as qp
    from qml.sim import FastDevice

    qnode = qp.QNode(circuit, FastDevice(wires=8), interface="torch", diff_method="backprop")

Modules: :mod:`~qml.sim.device` (the device), :mod:`~qml.sim.engine` (gate fusion, one tape ->
recorded kernels), :mod:`~qml.sim.adjoint` (running them: backprop or adjoint, the memory budget),
:mod:`~qml.sim.gates` (gate tables), :mod:`~qml.sim.kernels` (torch kernels and their vjps),
:mod:`~qml.sim.measure` (expectations, probs, state), :mod:`~qml.sim.cache` (bounded caches).
"""

from .device import FastDevice as FastDevice

__all__ = ["FastDevice"]
