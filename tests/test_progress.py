"""course_lib.progress: the bar's text, and reports from inside a jitted scan."""

import jax
import jax.numpy as jnp
import pytest

from course_lib import progress


def test_the_bar_fills_in_proportion_and_prints_outside_a_notebook(capsys):
    bar = progress.ProgressBar(200, width=10)
    assert bar.line(0).startswith("[..........] 0/200 steps")
    assert bar.line(100).startswith("[#####.....] 100/200 steps")
    assert bar.line(500).startswith("[##########] 200/200 steps")  # clipped to the total
    assert "steps/s" not in bar.line(100)  # no rate before two updates
    bar(50)
    assert capsys.readouterr().out.startswith("[##........] 50/200 steps")
    bar(100)
    assert "k steps/s" in capsys.readouterr().out


@pytest.mark.parametrize("total", [0, -3, 2.5, True])
def test_a_bar_needs_a_positive_int_total(total):
    with pytest.raises(ValueError, match="total"):
        progress.ProgressBar(total)


def test_report_calls_back_every_so_many_steps_from_a_jitted_scan():
    seen = []

    def body(carry, step):
        progress.report(lambda s: seen.append(int(s)), step, every=4)
        return carry + 1, None

    jax.block_until_ready(jax.jit(lambda: jax.lax.scan(body, 0, jnp.arange(1, 13)))())
    assert sorted(seen) == [4, 8, 12]


def test_report_also_fires_at_the_last_step_when_every_does_not_divide_it():
    seen = []

    def body(carry, step):
        progress.report(lambda s: seen.append(int(s)), step, every=5, last=12)
        return carry, None

    jax.block_until_ready(jax.jit(lambda: jax.lax.scan(body, 0, jnp.arange(1, 13)))())
    assert sorted(seen) == [5, 10, 12]


def test_report_without_a_callback_does_nothing_and_checks_every():
    progress.report(None, jnp.int32(3), every=1)
    with pytest.raises(ValueError, match="every"):
        progress.report(print, jnp.int32(3), every=0)
