"""The one set of input validators (qml.errors, re-exported by qml.inputs): types, ranges, messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qml import inputs
from qml.errors import ArgumentTypeError, ConfigurationError, check_bool, check_choice, check_int, check_number


def test_check_int_accepts_integers_and_refuses_bools_and_floats():
    assert check_int("n", np.int64(3)) == 3 and type(check_int("n", np.int64(3))) is int
    assert check_int("charge", -2, None) == -2
    for bad in (True, 2.0, "3", None):
        with pytest.raises(TypeError, match="n must be a positive integer, got"):
            check_int("n", bad)
    with pytest.raises(ConfigurationError, match=r"n must be >= 1, got 0"):
        check_int("n", 0)
    with pytest.raises(ConfigurationError, match=r"level must be an integer from 0 to 2, got 3"):
        check_int("level", 3, 0, maximum=2)
    with pytest.raises(TypeError, match=r"seed must be a non-negative integer \(a seed\), got 1.5"):
        check_int("seed", 1.5, 0, what="a seed")


def test_a_wrong_type_is_both_a_type_error_and_a_configuration_error():
    with pytest.raises(ArgumentTypeError) as info:
        check_bool("resume", "yes")
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)
    assert str(info.value) == "resume must be True or False, got 'yes'"
    assert check_bool("resume", False) is False


def test_check_number_ranges_and_messages():
    assert check_number("lr", 1) == 1.0 and check_number("x", -3, minimum=None) == -3.0
    with pytest.raises(ConfigurationError, match=r"lr must be a positive number, got 0.0"):
        check_number("lr", 0, positive=True)
    with pytest.raises(TypeError, match="lr must be a positive number, got True"):
        check_number("lr", True, positive=True)
    with pytest.raises(ConfigurationError, match=r"min_delta must be a finite number >= 0, got nan"):
        check_number("min_delta", math.nan)
    with pytest.raises(ConfigurationError, match=r"prune must be a fraction in \[0, 1\), got 1.0"):
        check_number("prune", 1.0, below=1, kind="a fraction in [0, 1)")


def test_check_choice_lists_the_valid_choices():
    assert check_choice("loss", "mse", {"mse": 1, "mae": 2}) == "mse"
    with pytest.raises(ConfigurationError, match=r"unknown loss 'msa'; valid choices are: 'mae', 'mse'"):
        check_choice("loss", "msa", {"mse": 1, "mae": 2})
    with pytest.raises(ConfigurationError, match="unknown loss"):
        check_choice("loss", ["unhashable"], {"mse"})


def test_qml_inputs_reexports_the_same_functions():
    assert inputs.check_int is check_int and inputs.check_bool is check_bool
    assert inputs.check_number is check_number and inputs.check_choice is check_choice
