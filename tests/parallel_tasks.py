"""Task functions for tests/test_parallel.py, in a module of their own.

Worker processes import the module of a task function to unpickle it; this one imports only the
standard library (torch only inside ``make_mlp``), so spawned workers start in a second or two.
"""

import math
import os
from pathlib import Path


def square_logged(job):
    """``job = (x, log_dir)``: x**2, and one file in ``log_dir`` per call (counts recomputations)."""
    x, log = job
    Path(log, f"{x}.{os.getpid()}.{len(os.listdir(log))}").touch()
    if x < 0:
        raise ValueError(f"negative input {x}")
    return x * x


def die_once(job):
    """``job = (x, flag)``: the first call with x == 3 creates ``flag`` and kills its own process.

    Returns ``sin(x)`` plus the number of OpenMP threads the task ran with (1 in every task).
    """
    x, flag = job
    if x == 3:
        try:
            fd = os.open(flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pass
        else:
            os.close(fd)
            os.kill(os.getpid(), 9)  # SIGKILL: the worker is lost mid-task
    return math.sin(x) + int(os.environ["OMP_NUM_THREADS"])


def make_mlp(hidden):
    import torch

    return torch.nn.Sequential(torch.nn.Linear(2, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1)).double()


def stretched_h2(r):
    """A module-level surface builder (plain pickle sends it by name): H2 at bond length ``r`` Angstrom."""
    from qml.chem import Molecule

    return Molecule(["H", "H"], [[0.0, 0.0, 0.0], [0.0, 0.0, r]], name="H2 builder")


def logged_die_once(job):
    """``job = (x, log_dir, flag)``: x**2 + 0.5, one file in ``log_dir`` per call; the first call with
    x == 3 creates ``flag`` and kills its own process (a worker lost mid-task)."""
    x, log, flag = job
    Path(log, f"{x}.{os.getpid()}.{len(os.listdir(log))}").touch()
    if x == 3:
        try:
            fd = os.open(flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pass
        else:
            os.close(fd)
            os.kill(os.getpid(), 9)
    return x * x + 0.5


def slow_square(x):
    """x**2 after 0.3 s (a task long enough to lose its scheduler in the middle of a run)."""
    import time

    time.sleep(0.3)
    return float(x * x)
