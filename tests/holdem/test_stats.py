"""The one 95% interval: 1.96 sample standard errors of the mean, scaled with the mean."""

from __future__ import annotations

import math

import numpy as np

from holdem.stats import mean_interval


def test_the_interval_is_1_96_standard_errors_of_the_mean() -> None:
    mean, half = mean_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and half == 1.96 * 1.0 / math.sqrt(3)


def test_scale_multiplies_the_mean_and_the_half_width() -> None:
    values = np.array([0.5, -1.5, 4.0, 2.25])
    mean, half = mean_interval(values, scale=250.0)
    assert mean == float(values.mean()) * 250.0
    assert half == 1.96 * float(values.std(ddof=1)) * 250.0 / 2.0


def test_fewer_than_two_values_give_an_infinite_interval() -> None:
    assert mean_interval([7.0]) == (7.0, math.inf)
    mean, half = mean_interval([])
    assert math.isnan(mean) and half == math.inf
