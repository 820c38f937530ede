"""PPO solves CartPole-v1 on seeds chapter 06 does not use (it trains on
``jax.random.split(jax.random.key(2026), 16)``), in both configurations the chapter runs: PureJaxRL's and
the faster one of its 16 seeds. About 25 s on 2 cores."""

import jax
import numpy as np
import pytest

from course_lib.agents import ppo


@pytest.mark.parametrize("config", [ppo.PUREJAXRL_CONFIG, ppo.FAST_CARTPOLE_CONFIG], ids=["purejaxrl", "fast"])
def test_ppo_solves_cartpole_on_new_seeds(config):
    results = jax.jit(jax.vmap(ppo.make_train(config)))(jax.random.split(jax.random.key(1), 4))
    final = np.nanmean(np.asarray(results.mean_returns)[:, -20:], axis=1)  # the last 20 updates
    # A claim over seeds that must hold on any CPU: another instruction set gives other runs. At the
    # rate seen when the configurations were chosen (80 of 80 runs of the fast one), 3 or more of 4
    # fails less than 2 % of the time even at a true rate of 95 %.
    assert (final >= 475).sum() >= 3, f"mean return over the last 20 updates, per seed: {final}"
