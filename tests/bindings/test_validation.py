"""bindings.validation: the one set of argument checks. Wrong types raise TypeError, wrong values of the
right type ValueError, and every message names the argument."""
import math

import numpy as np
import pytest

from bindings.validation import (as_class_indices, as_finite_array, as_vector, check_choice, check_feature_names, check_int, check_n_jobs,
                                 check_number, check_positive_int, check_probability, column_names)


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.uint8(2)])
def test_positive_int_accepts_integers_and_returns_python_ints(value):
    out = check_positive_int(value, "n")
    assert out == int(value) and type(out) is int


@pytest.mark.parametrize("value", [1.0, 2.5, "3", None, True, np.float64(2.0)])
def test_positive_int_refuses_other_types_with_type_error(value):
    with pytest.raises(TypeError, match="n_arms must be a positive integer"):
        check_positive_int(value, "n_arms")


@pytest.mark.parametrize("value", [0, -1, np.int32(-5)])
def test_positive_int_refuses_small_values_with_value_error(value):
    with pytest.raises(ValueError, match="n_arms must be a positive integer"):
        check_positive_int(value, "n_arms")


def test_int_bounds_are_inclusive():
    assert check_int(0, "k", low=0) == 0 and check_int(5, "k", low=0, high=5) == 5
    with pytest.raises(ValueError, match="k must be a non-negative integer, got -1"):
        check_int(-1, "k", low=0)
    with pytest.raises(ValueError, match=r"k must be an integer >= 2 and <= 5, got 6"):
        check_int(6, "k", low=2, high=5)
    assert check_int(-10**12, "k") == -10**12


def test_number_intervals_open_and_closed():
    assert check_number(0, "lr", low=0.0) == 0.0 and type(check_number(3, "lr")) is float
    with pytest.raises(ValueError, match=r"lr must be a finite number in \(0.0, inf\]"):
        check_number(0.0, "lr", low=0.0, low_open=True)
    assert check_number(1.0, "p", high=1.0) == 1.0
    with pytest.raises(ValueError, match=r"p must be a finite number in \[-inf, 1.0\), got 1.0"):
        check_number(1.0, "p", high=1.0, high_open=True)
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="tol"):
            check_number(bad, "tol")
    for bad in ("0.1", None, False, [0.1]):
        with pytest.raises(TypeError, match="tol must be a number"):
            check_number(bad, "tol")


def test_probability():
    assert check_probability(0, "q") == 0.0 and check_probability(1, "q") == 1.0
    with pytest.raises(ValueError, match=r"alpha must be a finite number in \(0.0, 1.0\)"):
        check_probability(1.0, "alpha", open_interval=True)
    with pytest.raises(ValueError, match="q"):
        check_probability(1.5, "q")


def test_choice_lists_the_choices():
    assert check_choice("l1", "penalty", ("l1", None)) == "l1"
    assert check_choice(None, "penalty", ("l1", None)) is None
    with pytest.raises(ValueError, match=r"penalty must be one of \('l1', None\), got 'l3'"):
        check_choice("l3", "penalty", ("l1", None))
    with pytest.raises(ValueError,
                       match=r"activation must be one of \('relu', 'gelu'\), got 'gleu'; did you mean 'gelu'\?"):
        check_choice("gleu", "activation", ("relu", "gelu"))
    with pytest.raises(ValueError, match=r"got 3$"):  # no suggestion for a non-string or a far-off name
        check_choice(3, "activation", ("relu", "gelu"))


def test_n_jobs_as_scikit_learn_spells_it():
    assert check_n_jobs(None) is None and check_n_jobs(-1) is None and check_n_jobs(3) == 3
    with pytest.raises(ValueError, match="n_jobs"):
        check_n_jobs(0)
    with pytest.raises(ValueError, match="n_jobs"):
        check_n_jobs(-2)
    with pytest.raises(TypeError, match="n_jobs"):
        check_n_jobs(1.0)


def test_vector_shape_checks():
    np.testing.assert_array_equal(as_vector([1, 2, 3], "y", n_rows=3), [1, 2, 3])
    with pytest.raises(ValueError, match="y must be 1-D, got shape"):
        as_vector([[1, 2]], "y")
    with pytest.raises(ValueError, match=r"weight must have one entry per row \(4\), got 3"):
        as_vector([1, 2, 3], "weight", n_rows=4)
    with pytest.raises(ValueError, match="scores is empty"):
        as_vector([], "scores", non_empty=True)
    assert as_vector([], "scores").shape == (0,)


def test_finite_array_checks():
    out = as_finite_array([[1, 2], [3, 4]], "theta", 2)
    assert out.dtype == np.float64 and out.flags.c_contiguous
    with pytest.raises(ValueError, match="theta must be a non-empty 2-d array"):
        as_finite_array([1.0, 2.0], "theta", 2)
    with pytest.raises(ValueError, match="means must be finite"):
        as_finite_array([0.1, np.nan], "means", 1)
    with pytest.raises(TypeError, match="means must be numeric"):
        as_finite_array(["a", "b"], "means", 1)


def test_feature_names_follow_scikit_learn():
    pd = pytest.importorskip("pandas")
    fitted = column_names(pd.DataFrame(np.zeros((1, 3)), columns=["a", "b", "c"]))
    assert list(fitted) == ["a", "b", "c"] and column_names(np.zeros((1, 3))) is None
    assert column_names(pd.DataFrame(np.zeros((1, 2)))) is None  # integer labels are no names
    check_feature_names(fitted, fitted.copy(), "Model")
    check_feature_names(None, None, "Model")
    with pytest.raises(ValueError, match="unseen at fit time:\n- x\n.*missing:\n- a\n"):
        check_feature_names(fitted, np.array(["x", "b", "c"], dtype=object), "Model")
    with pytest.raises(ValueError, match="same order as they were in fit.\nColumn 1 is 'c' where fit had 'b'"):
        check_feature_names(fitted, np.array(["a", "c", "b"], dtype=object), "Model")
    many = np.array([f"n{i}" for i in range(8)], dtype=object)
    with pytest.raises(ValueError, match=r"- n4\n- \.\.\.\n"):
        check_feature_names(fitted, many, "Model")
    with pytest.warns(UserWarning, match="Model was fitted without feature names"):
        check_feature_names(None, fitted, "Model")


def test_class_indices_are_checked_before_kernels_index_with_them():
    out = as_class_indices(np.array([[0, 2], [1, 1]], np.int32), "targets", (2, 2), 3)
    assert out.dtype == np.int64 and out.flags.c_contiguous
    with pytest.raises(ValueError, match=r"targets must be in \[0, 3\), got values in \[0, 3\]"):
        as_class_indices([0, 3], "targets", (2,), 3)
    with pytest.raises(ValueError, match=r"labels must be an int array of shape \(3,\)"):
        as_class_indices([0, 1], "labels", (3,), 3)
    with pytest.raises(TypeError, match="labels must be integer classes"):
        as_class_indices([0.0, 1.0], "labels", (2,), 3)
