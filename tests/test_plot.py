"""qml.plot.basic: titles state the numbers they are computed from; test points and residuals shown."""

import numpy as np
import pytest

import qml
from qml.plot.basic import format_mha


def _curve():
    x = np.linspace(0.3, 2.5, 20)
    ref = -1.1 + 0.2 * (x - 0.74) ** 2
    pred = ref + 1e-3 * np.sin(7 * x)  # errors up to 1 mHa
    return x, ref, pred


def test_title_reports_the_test_points_error_and_marks_them():
    x, ref, pred = _curve()
    test = np.zeros(20, dtype=bool)
    test[[3, 9, 15]] = True
    fig = qml.plot.predictions(ref, pred, x=x, title="H2", test=test, residuals=True)
    expected = np.abs(pred - ref)[test].mean() * 1000
    assert fig.axes[0].get_title() == f"H2: test MAE {format_mha(expected)} (3 points)"
    marked = [line for line in fig.axes[0].lines if line.get_label() == "predicted (test)"]
    np.testing.assert_allclose(marked[0].get_xdata(), x[test])
    # Residual panel: predicted - reference in mHa, the test points drawn again, the +-1.6 mHa band.
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "residual [mHa]"
    resid = np.concatenate([line.get_ydata() for line in fig.axes[1].lines[1:]])
    np.testing.assert_allclose(
        np.sort(resid), np.sort(np.concatenate([((pred - ref) * 1000)[~test], ((pred - ref) * 1000)[test]]))
    )
    band = fig.axes[1].patches[0]
    assert band.get_y() == pytest.approx(-1.6) and band.get_y() + band.get_height() == pytest.approx(1.6)


def test_indices_and_parity_plot_and_all_points():
    x, ref, pred = _curve()
    fig = qml.plot.predictions(ref, pred, test=[0, 1])
    assert fig.axes[0].get_title() == f"test MAE {format_mha(np.abs(pred - ref)[:2].mean() * 1000)} (2 points)"
    fig = qml.plot.predictions(ref, pred)
    assert fig.axes[0].get_title() == f"MAE {format_mha(np.abs(pred - ref).mean() * 1000)} (20 points)"


def test_bad_test_selection():
    x, ref, pred = _curve()
    with pytest.raises(ValueError, match="selects no point"):
        qml.plot.predictions(ref, pred, test=np.zeros(20, dtype=bool))
    with pytest.raises(ValueError, match=r"shape \(3,\); expected \(20,\)"):
        qml.plot.predictions(ref, pred, test=np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match=r"must lie in \[0, 20\)"):
        qml.plot.predictions(ref, pred, test=[25])
    with pytest.raises(ValueError, match="x has 5 values for 20 points"):
        qml.plot.predictions(ref, pred, x=x[:5])


def test_history_title_states_the_final_losses():
    h = qml.History()
    h.append({"epoch": 1, "train_loss": 0.5, "val_loss": 0.75, "time": 1.0})
    h.append({"epoch": 2, "train_loss": 0.125, "val_loss": 0.25, "time": 1.0})
    fig = qml.plot.history(h)
    assert fig.axes[0].get_title() == "training history: final loss train 0.125, validation 0.25"


def test_format_mha():
    assert format_mha(0.11638) == "0.116 mHa" and format_mha(2.134) == "2.13 mHa" and format_mha(12.04) == "12 mHa"
