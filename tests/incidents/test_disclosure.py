"""The method of disclosure control on small tables: what it hides and why (the attack on whole forces is in
tests/test_disclosure_attack.py)."""

import numpy as np

from incidents.disclosure import hidden_names
from incidents.suppression import determined_cells, suppressed_cells


def test_two_ones_beside_a_shown_total_are_given_away_by_the_fact_that_neither_is_zero():
    # 10 = 1 + 1 + 8: hiding both 1s leaves 2 for two counts of at least 1 each, so both are 1.
    counts = {"total": 10, "a": 1, "b": 1, "c": 8}
    assert hidden_names(counts, [("total", ["a", "b", "c"])], threshold=5) == {"a", "b", "c"}


def test_two_small_counts_with_room_between_them_need_no_partner():
    counts = {"total": 12, "a": 2, "b": 3, "c": 7}
    assert hidden_names(counts, [("total", ["a", "b", "c"])], threshold=5) == {"a", "b"}


def test_a_month_hidden_in_one_table_is_found_through_its_quarter_and_another_table():
    # Two areas' months (cells 0-5) and quarters (6, 7), the force's quarter (8) and months (9-11).
    values = np.array([3, 20, 20, 30, 30, 30, 43, 90, 133, 33, 50, 50])
    equations = [(6, [0, 1, 2]), (7, [3, 4, 5]), (8, [6, 7]), (9, [0, 3]), (10, [1, 4]), (11, [2, 5]), (8, [9, 10, 11])]
    primary_only = suppressed_cells(values, equations, threshold=5, secondary=False)
    assert determined_cells(values, [np.array([t, *p]) for t, p in equations], primary_only) == [0]
    hidden = suppressed_cells(values, equations, threshold=5)
    assert hidden[0] and determined_cells(values, [np.array([t, *p]) for t, p in equations], hidden) == []
