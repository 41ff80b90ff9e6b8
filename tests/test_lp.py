"""The array model the rules write into: rows, merged terms, families, names."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimize.model.lp import Linear, LinearModel, Row


def test_rows_go_into_compressed_row_arrays_with_duplicates_merged():
    m = LinearModel()
    x = m.add_variables("flow", [("a", 1), ("b", 1)])
    y = m.add_variables("pick", ["c"], upper=1.0, integer=True)
    m.add_constraints("cap", {
        "a": Linear([(2.0, x["a", 1]), (1.0, x["a", 1]), (-1.0, y["c"])]) <= 4,
        "b": Linear([(1.0, x["b", 1]), (0.0, y["c"])]) == 2,
        "gone": Linear([(1.0, x["b", 1]), (-1.0, x["b", 1])]) <= 0,
    })
    assert m.n_columns == 3 and m.n_rows == 2
    assert list(m.row_start) == [0, 2, 3]
    assert list(m.row_columns) == [0, 2, 1] and list(m.row_coefs) == [3.0, -1.0, 1.0]
    assert list(m.row_lower) == [-math.inf, 2.0] and list(m.row_upper) == [4.0, 2.0]
    assert list(m.integer) == [0, 0, 1] and list(m.col_upper) == [math.inf, math.inf, 1.0]
    assert "gone" not in m.cap and list(m.cap_index) == ["a", "b"]
    assert m.column_names() == ["flow[a,1]", "flow[b,1]", "pick[c]"]
    assert m.row_names() == ["cap[a]", "cap[b]"]


def test_values_and_objective_parts():
    m = LinearModel()
    x = m.add_variables("flow", [1, 2, 3])
    m.minimize(cost=Linear([(2.0, x[1]), (5.0, x[3])]))
    assert m.costs("cost").tolist() == [2.0, 0.0, 5.0]
    assert m.value(x[2]) == 0.0 and m.values(x).tolist() == [0.0, 0.0, 0.0]
    m.load(np.array([1.0, 2.0, 3.0]))
    assert m.value(x[2]) == 2.0 and m.values(x).tolist() == [1.0, 2.0, 3.0]


def test_a_row_without_variables_that_cannot_hold_is_an_error():
    m = LinearModel()
    with pytest.raises(ValueError, match="no variable"):
        m.add_constraints("bad", {"k": Linear([]) == 5})
    with pytest.raises(AttributeError):
        _ = m.no_such_family
    m.add_variables("flow", [1])
    for taken in ("flow", "x", "costs"):
        with pytest.raises(ValueError, match="is taken"):
            m.add_variables(taken, [1])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.0, 1.0, -1.0, 0.5, 1e-3, -2.5, 1e6]),
                          st.integers(0, 40)), min_size=0, max_size=200))
def test_long_and_short_terms_merge_alike(terms):
    """Long term lists merge with arrays (_merge_arrays), short ones with a dict: same sums,
    added in the same order, and the same column order (first non-zero term)."""
    merged: dict[int, float] = {}
    for c, j in terms:
        if c:
            merged[j] = merged.get(j, 0.0) + c
    expected = [(j, c) for j, c in merged.items() if c != 0]
    got = Linear(terms)
    assert list(zip(got.columns, got.coefs, strict=True)) == expected
    assert all(type(j) is int and type(c) is float
               for j, c in zip(got.columns, got.coefs, strict=True))


def test_rows_given_as_arrays_go_in_as_lists_do():
    m = LinearModel()
    x = m.add_variables("flow", range(4))
    m.add_constraints("cap", {"list": Linear([(1.0, x[0]), (-2.0, x[3])]) <= 1,
                              "array": Row(np.array([x[1], x[2]]), np.array([3.0, 4.0]), 0, 0)})
    assert list(m.row_start) == [0, 2, 4]
    assert list(m.row_columns) == [0, 3, 1, 2] and list(m.row_coefs) == [1.0, -2.0, 3.0, 4.0]
    assert x.columns([3, 1]).tolist() == [3, 1]
