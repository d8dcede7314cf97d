"""The identities a file has shown so far, as an import numbers the rows that repeat one."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from incidents.imports.matching import SeenKeys

# Few distinct identities, so that many repeat, within a batch and across batches; some share
# their first 8 bytes, which the search goes by first.
IDENTITIES = (
    [bytes([n]) * 15 + bytes([n % 3]) for n in range(6)]
    + [b"\x00" * 16]
    + [b"\x07" * 8 + bytes([n]) * 8 for n in (0, 1, 255)]
)


@given(st.lists(st.lists(st.sampled_from(IDENTITIES), max_size=12), max_size=40))
def test_each_row_learns_how_often_its_identity_came_before_and_on_which_row_first(batches):
    seen, rows_so_far, first_row = SeenKeys(), [], {}
    row = 2
    for batch in batches:
        numbers = np.arange(row, row + len(batch))
        before, first = seen.add(np.array(batch, "S16"), numbers)
        shown = rows_so_far + batch
        expected_before = [shown[: len(rows_so_far) + at].count(identity) for at, identity in enumerate(batch)]
        for identity, number in zip(batch, numbers, strict=True):
            first_row.setdefault(identity, int(number))
        assert before.tolist() == expected_before
        assert first.tolist() == [first_row[identity] for identity in batch]
        rows_so_far += batch
        row += len(batch)
