"""Shared fixtures: one tolerance per dtype, a seeded generator, offline guard."""

import os
import socket
import warnings

# One intra-op thread per test process (set before torch loads; notebook kernels inherit it): the
# tests' models are tiny, and with 2 xdist workers on 2 shared cores, torch's spinning threads cost
# several times the CPU time (measured: a README example took 454 s with 2 threads, 123 s with 1).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

# One tolerance per dtype (as e3nn does): comparisons between exact simulators.
TOL = {torch.float32: 1e-4, torch.float64: 1e-9}

os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", category=DeprecationWarning)


@pytest.fixture
def rng():
    """A seeded torch Generator: every random test draws the same numbers."""
    return torch.Generator().manual_seed(1234)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Tests run offline: any attempt to open an internet socket fails loudly."""

    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("/"):
            raise RuntimeError(f"test tried to reach the network ({address}); tests must run offline")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def _qml_home(tmp_path, monkeypatch):
    """Keep job stores and caches of every test inside its tmp folder."""
    monkeypatch.setenv("QML_HOME", str(tmp_path / "qml_home"))
