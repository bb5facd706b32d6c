"""HybridModel: classical pre-network -> QuantumLayer -> classical post-network."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..circuits.embeddings import EMBEDDINGS
from ..errors import ConfigurationError, check_int, one_of
from ..inputs import check_device
from ..layers import QuantumLayer, check_inputs
from .normalized import Normalized


class HybridModel(Normalized, nn.Module):
    """A plain ``nn.Module``: ``pre -> QuantumLayer -> post``, trainable by any PyTorch loop.

    The pre-network maps ``in_features`` to the embedding's inputs (bounded by ``tanh``
    and scaled to ``[-pi, pi]`` for rotation embeddings); the post-network maps the
    ``n_qubits`` expectation values to ``out_features``. Normalisation buffers let the model
    take and return data in physical units (Angstrom in, Hartree out) while training on
    standardised values: ``qml.fit`` fills them from the training data before the first step
    unless :meth:`set_normalization` was called (or ``normalize=False``).

    Args:
        in_features: features per sample.
        out_features: outputs per sample.
        n_qubits: wires of the quantum layer.
        layers: ansatz layers.
        embedding: ``"angle"`` (default), ``"amplitude"``, ``"iqp"``, ``"reupload"``.
        ansatz: ``"strongly_entangling"`` (default), ``"hardware_efficient"``, ``"basic_entangler"``.
        hidden: width of the hidden layer of the pre- and post-networks; ``0`` for single linear maps.
        backend: backend string (default ``"auto"``); see ``qml.backends.BACKENDS``.
        shots, seed: shot sampling of the quantum layer.
        dtype: parameter dtype, ``torch.float64`` (default) or ``torch.float32``.
        normalize: let ``qml.fit`` standardise features and targets with the training data's mean
            and spread when :meth:`set_normalization` was not called (default ``True``).
        device: torch device of parameters, buffers and computation (default cpu), e.g.
            ``"cuda"``; inputs are moved there. Backends that simulate in torch (``fast``) run on
            it; outputs are on it.
        **quantum_kwargs: passed to :class:`qml.QuantumLayer` (``observables``, ``init_scale``, ...).

    Raises:
        ConfigurationError: bad sizes, unknown names, backend problems, a device torch cannot use.
        TypeError: non-integer sizes.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int = 1,
        *,
        n_qubits: int = 4,
        layers: int = 2,
        embedding: str = "angle",
        ansatz: str = "strongly_entangling",
        hidden: int = 16,
        backend="auto",
        shots: int | None = None,
        seed: int | None = None,
        dtype: torch.dtype = torch.float64,
        normalize: bool = True,
        device=None,
        **quantum_kwargs,
    ):
        super().__init__()
        in_features = check_int("in_features", in_features)
        out_features = check_int("out_features", out_features)
        hidden = check_int("hidden", hidden, minimum=0)
        device = check_device(device)
        if not isinstance(embedding, str) or embedding not in EMBEDDINGS:
            raise one_of("embedding", embedding, EMBEDDINGS)
        if dtype not in (torch.float32, torch.float64):
            raise ConfigurationError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        self.in_features, self.out_features, self.hidden = in_features, out_features, hidden
        q_in = n_qubits if embedding != "amplitude" else None
        self.quantum = QuantumLayer(
            n_qubits,
            n_inputs=q_in,
            embedding=embedding,
            ansatz=ansatz,
            layers=layers,
            backend=backend,
            shots=shots,
            seed=seed,
            **quantum_kwargs,
        )
        q_in = self.quantum.n_inputs
        self.input_scale = math.pi if embedding != "amplitude" else 1.0
        self.pre = _mlp(in_features, hidden, q_in, final_tanh=True)
        self.post = _mlp(self.quantum.n_outputs, hidden, out_features, final_tanh=False)
        self._init_normalization(in_features, out_features, auto=normalize)
        self.to(device=device, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``x`` of shape ``(B, in_features)`` (or ``(in_features,)``) to ``(B, out_features)``."""
        x = check_inputs(x, self.in_features, where="HybridModel")
        single = x.ndim == 1
        x = x.reshape(-1, self.in_features).to(device=self.x_mean.device, dtype=self.x_mean.dtype)
        z = self.pre((x - self.x_mean) / self.x_std) * self.input_scale
        q = self.quantum(z)
        y = self.post(q) * self.y_std + self.y_mean
        return y[0] if single else y

    # -- inspection -------------------------------------------------------------------
    def parameter_counts(self) -> dict:
        quantum = sum(p.numel() for p in self.quantum.parameters())
        classical = sum(p.numel() for p in self.parameters()) - quantum
        return {"classical": classical, "quantum": quantum, "total": classical + quantum}

    def draw(self, style: str = "text"):
        """The circuit drawing: a string (``"text"``) or a matplotlib Figure (``"mpl"``)."""
        return self.quantum.draw(style=style)

    def extra_repr(self) -> str:
        if "quantum" not in self._modules:  # half-built (an exception in __init__): repr must not raise
            return "not fully built"
        counts = self.parameter_counts()
        res = self.quantum.specs()
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"n_qubits={self.quantum.spec.n_qubits}, circuit_depth={res['depth']}, "
            f"two_qubit_gates={res['two_qubit_gates']}, parameters: classical={counts['classical']}, "
            f"quantum={counts['quantum']}"
        )


def _mlp(n_in: int, hidden: int, n_out: int, *, final_tanh: bool) -> nn.Sequential:
    if hidden == 0:
        layers = [nn.Linear(n_in, n_out)]
    else:
        layers = [nn.Linear(n_in, hidden), nn.Tanh(), nn.Linear(hidden, n_out)]
    if final_tanh:
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)
