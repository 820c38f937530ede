import numpy as np
import pytest

from course_lib.curves import first_at_least, trailing_mean


def test_trailing_mean_skips_nans_and_forgets_old_values():
    values = np.array([np.nan, 2.0, 4.0, np.nan, 500.0, 6.0])
    np.testing.assert_allclose(trailing_mean(values, 3), [np.nan, 2.0, 3.0, 3.0, 252.0, 253.0])
    # One lucky update of 500 among low ones does not read as "reached 475".
    assert first_at_least(trailing_mean(np.array([20.0] * 9 + [500.0]), 10), 475) is None


def test_trailing_mean_works_row_by_row():
    rows = np.array([[1.0, 3.0, 5.0], [np.nan, 10.0, np.nan]])
    np.testing.assert_allclose(trailing_mean(rows, 2), [[1.0, 2.0, 4.0], [np.nan, 10.0, 10.0]])
    with pytest.raises(ValueError, match="window"):
        trailing_mean(rows, 0)


def test_first_at_least():
    assert first_at_least(np.array([10.0, np.nan, 475.0, 500.0]), 475) == 2
    assert first_at_least(np.array([np.nan, 474.9]), 475) is None
    with pytest.raises(ValueError, match="1-D"):
        first_at_least(np.ones((2, 2)), 475)
