"""PPO on its PureJaxRL configuration solves CartPole-v1 on seeds chapter 06 does not use (it trains on
``jax.random.split(jax.random.key(2026), 16)``). About 15 s on 2 cores."""

import jax
import numpy as np

from course_lib.agents import ppo


def test_ppo_solves_cartpole_on_new_seeds():
    results = jax.jit(jax.vmap(ppo.make_train(ppo.PUREJAXRL_CONFIG)))(jax.random.split(jax.random.key(1), 4))
    final = np.nanmean(np.asarray(results.mean_returns)[:, -20:], axis=1)  # the last 20 updates
    assert np.all(final >= 475), f"mean return over the last 20 updates, per seed: {final}"
