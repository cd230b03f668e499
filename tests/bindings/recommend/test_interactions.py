"""Interactions, id mapping, duplicate rules, bad input and evaluation splits."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from bindings.recommend import IdMap, Interactions, leave_last_out


def dense(x):
    return x.to_scipy().toarray()


@pytest.mark.parametrize("user_ids, item_ids", [
    ([10, 10, 30, 20], [7, 8, 7, 9]),
    (["b", "b", "z", "a"], ["x", "y", "x", "w"]),
    ([("g", 1), ("g", 1), 3.5, None], [(1, 2), "k", (1, 2), 0]),  # mixed Python objects
])
def test_table_of_any_id_type_round_trips(user_ids, item_ids):
    values = [4.0, 2.5, 1.0, 5.0]
    x = Interactions.from_table(user_ids, item_ids, values)
    assert x.shape == (3, 3) and x.nnz == 4
    m = dense(x)
    for u, i, v in zip(user_ids, item_ids, values):
        assert m[x.users.lookup([u])[0], x.items.lookup([i])[0]] == v
    assert x.users.lookup(["never seen"])[0] == -1
    np.testing.assert_array_equal(dense(x).T, sp.csr_matrix(
        (x.item_data, x.item_indices, x.item_indptr), shape=x.shape[::-1]).toarray())


@pytest.mark.parametrize("rule, expected", [("last", 2.0), ("first", 4.0), ("sum", 9.0),
                                            ("mean", 3.0)])
def test_duplicate_pairs_follow_the_documented_rule(rule, expected):
    x = Interactions.from_table([1, 1, 2, 1], [5, 5, 5, 5], [4.0, 3.0, 1.0, 2.0],
                                duplicates=rule)
    assert x.nnz == 2
    assert dense(x)[x.users.lookup([1])[0], 0] == expected


def test_dataframe_columns_and_numpy_arrays_are_accepted():
    frame = pd.DataFrame({"user": ["u1", "u2", "u1"], "item": [3, 3, 4], "rating": [1, 2, 3]})
    x = Interactions.from_table(frame["user"], frame["item"], frame["rating"])
    assert x.shape == (2, 2) and dense(x)[x.users.lookup("u1")[0], x.items.lookup(4)[0]] == 3.0
    y = Interactions.from_table(frame["user"].to_numpy(), frame["item"].to_numpy())
    np.testing.assert_array_equal(dense(y), dense(x) > 0)


def test_duplicate_pairs_raise_when_asked():
    with pytest.raises(ValueError, match="duplicate"):
        Interactions.from_table([1, 1], [5, 5], [4.0, 3.0], duplicates="error")
    with pytest.raises(ValueError, match="duplicates must be one of"):
        Interactions.from_table([1], [5], [4.0], duplicates="max")


@pytest.mark.parametrize("users, items, values, error, match", [
    ([], [], [], ValueError, "empty"),
    ([1, 2], [3], [1.0, 2.0], ValueError, "same length"),
    ([1, 2], [3, 4], [1.0, np.nan], ValueError, "NaN"),
    ([1, 2], [3, 4], [1.0, np.inf], ValueError, "NaN/inf"),
    ([1.0, np.nan], [3, 4], [1.0, 2.0], ValueError, "users contain NaN"),
    ([[1, 2]], [[3, 4]], [[1.0, 2.0]], ValueError, "1-D"),
    ([1, 2], [3, 4], ["a", "b"], TypeError, "numeric"),
])
def test_bad_tables_raise_clear_errors(users, items, values, error, match):
    with pytest.raises(error, match=match):
        Interactions.from_table(users, items, values)


def test_from_csr_drops_stored_zeros_sums_duplicates_and_keeps_ids():
    coo = sp.coo_matrix(([1.0, 2.0, 0.0, 5.0], ([0, 0, 1, 2], [1, 1, 0, 2])), shape=(3, 3))
    x = Interactions.from_csr(coo, user_ids=["a", "b", "c"])
    assert x.nnz == 2
    assert dense(x)[0, 1] == 3.0
    assert list(x.users.ids) == ["a", "b", "c"] and len(x.items) == 3
    with pytest.raises(ValueError, match="no non-zero"):
        Interactions.from_csr(sp.csr_matrix((2, 2)))
    with pytest.raises(TypeError, match="scipy sparse"):
        Interactions.from_csr(np.eye(2))
    with pytest.raises(ValueError, match="user_ids/item_ids"):
        Interactions.from_csr(coo, item_ids=[1, 2])


def test_id_map_rejects_repeated_ids():
    with pytest.raises(ValueError, match="unique"):
        IdMap([1, 1])


def test_leave_last_out_holds_out_each_users_latest_rows():
    users = np.array([1, 1, 1, 2, 2, 3, 1])
    times = np.array([5, 1, 9, 3, 3, 7, 2])
    train, test = leave_last_out(users, times, n_last=2)
    # user 1: times 9 and 5 held out; user 2: tie at 3 -> both held?  no: 2 rows <= n_last stay
    np.testing.assert_array_equal(test, [0, 2])
    np.testing.assert_array_equal(train, [1, 3, 4, 5, 6])
    _, test_random = leave_last_out(users, n_last=1, random_state=0)
    assert sorted(users[test_random]) == [1, 2]
