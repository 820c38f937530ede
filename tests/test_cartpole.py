"""CartPole against gymnasium's CartPoleEnv, step for step, plus jit/vmap behaviour."""

import math

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gymnasium.envs.classic_control import CartPoleEnv

from course_lib.envs import CartPole, CartPoleParams, CartPoleState, auto_reset

ENV = CartPole()
STEP = jax.jit(ENV.step)
ATOL = 1e-5  # float32 against gymnasium's float64


def to_state(values, time=0) -> CartPoleState:
    x, x_dot, theta, theta_dot = (jnp.float32(v) for v in values)
    return CartPoleState(x, x_dot, theta, theta_dot, jnp.int32(time))


def near_boundary(values) -> bool:
    """Within float32 rounding of a termination threshold, where the two may legitimately disagree."""
    x, _, theta, _ = values
    return abs(abs(x) - 2.4) < 1e-5 or abs(abs(theta) - 12 * 2 * math.pi / 360) < 1e-6


def pd_action(obs, rng, noise):
    """A noisy proportional-derivative controller: balances long enough to hit the time limit."""
    push_right = obs[2] + 0.5 * obs[3] + 0.01 * obs[0] + 0.1 * obs[1] > 0
    return int(push_right) if rng.random() > noise else int(rng.integers(2))


def test_constants_are_those_of_cartpole_v1():
    gym_env = CartPoleEnv()
    params = CartPole.default_params
    for name in ("gravity", "masscart", "masspole", "length", "force_mag", "tau", "x_threshold", "theta_threshold_radians"):
        assert getattr(params, name) == pytest.approx(getattr(gym_env, name)), name
    assert params.masspole * params.length == pytest.approx(gym_env.polemass_length) == pytest.approx(0.05)
    assert params.max_steps == gymnasium.spec("CartPole-v1").max_episode_steps == 500


def test_agrees_with_gymnasium_step_for_step_over_episodes():
    """Over 10,000+ transitions of episodes with random and controlled actions, ending by both
    termination and truncation, every next observation and every flag agrees with gymnasium."""
    rng = np.random.default_rng(0)
    gym_env = gymnasium.wrappers.TimeLimit(CartPoleEnv(), max_episode_steps=500)
    before, times, actions, after, gym_obs, gym_flags = [], [], [], [], [], []
    episode = 0
    while len(actions) < 10_000 or sum(f == (False, True) for f in gym_flags) < 3:
        obs, _ = gym_env.reset(seed=episode)
        noise = 0.05 if episode % 5 == 4 else 1.0  # mostly random (short), some controlled (to the limit)
        done = False
        while not done:
            before.append(np.array(gym_env.unwrapped.state, dtype=np.float64))
            times.append(gym_env._elapsed_steps)
            actions.append(pd_action(obs, rng, noise))
            obs, reward, terminated, truncated, _ = gym_env.step(actions[-1])
            assert reward == 1.0
            after.append(np.array(gym_env.unwrapped.state))
            gym_obs.append(obs)
            gym_flags.append((terminated, truncated))
            done = terminated or truncated
        episode += 1

    states = to_state(np.array(before).T, time=jnp.asarray(times, jnp.int32))
    our_obs, _, rewards, terminated, truncated, _ = jax.jit(jax.vmap(ENV.step, in_axes=(None, 0, 0)))(
        jax.random.key(0), states, jnp.asarray(actions)
    )
    np.testing.assert_allclose(our_obs, np.array(gym_obs), atol=ATOL, rtol=1e-5)
    assert (rewards == 1.0).all()
    flags = np.array(gym_flags)
    ambiguous = np.array([near_boundary(state) for state in after])
    np.testing.assert_array_equal(np.asarray(terminated)[~ambiguous], flags[~ambiguous, 0])
    np.testing.assert_array_equal(np.asarray(truncated), flags[:, 1])
    assert len(actions) >= 10_000 and ambiguous.sum() < 5
    assert flags[:, 0].sum() >= 50 and (flags[:, 1] & ~flags[:, 0]).sum() >= 3, "both kinds of episode end"


def test_agrees_with_gymnasium_from_states_all_over_the_state_space():
    rng = np.random.default_rng(1)
    gym_env = CartPoleEnv()
    gym_env.reset(seed=0)
    low, high = np.array([-2.4, -3.0, -0.21, -3.5]), np.array([2.4, 3.0, 0.21, 3.5])
    states = rng.uniform(low, high, size=(5_000, 4))
    actions = rng.integers(0, 2, size=5_000)
    ours = jax.jit(jax.vmap(ENV.step, in_axes=(None, 0, 0)))(
        jax.random.key(0), to_state(states.T, time=jnp.zeros(5_000, jnp.int32)), jnp.asarray(actions)
    )
    checked = 0
    for i in range(5_000):
        gym_env.state = states[i].astype(np.float32).astype(np.float64)
        gym_env.steps_beyond_terminated = None
        obs, _, terminated, _, _ = gym_env.step(int(actions[i]))
        np.testing.assert_allclose(ours[0][i], obs, atol=ATOL, rtol=1e-5)
        if not near_boundary(gym_env.state):
            assert bool(ours[3][i]) == terminated
            checked += 1
    assert checked > 4_990
    assert 0.05 < float(ours[3].mean()) < 0.95, "the sample must contain both terminating and ongoing steps"


def test_reset_is_uniform_in_the_gymnasium_range_and_reproducible():
    keys = jax.random.split(jax.random.key(3), 4_000)
    obs, state = jax.vmap(ENV.reset)(keys)
    assert obs.shape == (4_000, 4) and obs.dtype == jnp.float32
    assert float(obs.min()) >= -0.05 and float(obs.max()) <= 0.05
    assert float(jnp.abs(obs.mean(axis=0)).max()) < 0.003  # uniform on (-0.05, 0.05): mean 0, sd 0.029/sqrt(n)
    assert (state.time == 0).all()
    again, _ = jax.vmap(ENV.reset)(keys)
    assert jnp.array_equal(obs, again)


def test_step_does_not_reset_and_returns_the_true_next_observation():
    state = to_state([2.39, 1.0, 0.0, 0.0])
    obs, next_state, _, terminated, _, _ = ENV.step(jax.random.key(0), state, 1)
    assert bool(terminated) and float(obs[0]) > 2.4  # the cart has left the track; nothing was reset
    assert float(next_state.x) == float(obs[0])


def test_truncation_at_500_steps_independent_of_termination():
    _, _, _, terminated, truncated, _ = ENV.step(jax.random.key(0), to_state([0, 0, 0, 0], time=499), 0)
    assert bool(truncated) and not bool(terminated)
    _, _, _, _, truncated, _ = ENV.step(jax.random.key(0), to_state([0, 0, 0, 0], time=498), 0)
    assert not bool(truncated)


def test_vmap_over_a_thousand_environments_matches_single_steps():
    keys = jax.random.split(jax.random.key(7), 1_000)
    _, states = jax.vmap(ENV.reset)(keys)
    actions = jax.random.randint(jax.random.key(8), (1_000,), 0, 2)
    batched = jax.jit(jax.vmap(ENV.step))(keys, states, actions)
    for i in (0, 123, 999):
        single = ENV.step(keys[i], jax.tree.map(lambda leaf: leaf[i], states), actions[i])
        np.testing.assert_allclose(batched[0][i], single[0], atol=1e-6)


def test_vmap_over_params():
    gravities = jnp.array([1.0, 9.8, 30.0])
    params = CartPoleParams()._replace(gravity=gravities)
    in_axes = CartPoleParams(*([None] * len(CartPoleParams._fields)))._replace(gravity=0)
    state = to_state([0.0, 0.0, 0.1, 0.0])
    obs = jax.vmap(ENV.step, in_axes=(None, None, None, in_axes))(jax.random.key(0), state, 0, params)[0]
    for i, gravity in enumerate(gravities):
        single = ENV.step(jax.random.key(0), state, 0, CartPoleParams(gravity=float(gravity)))[0]
        np.testing.assert_allclose(obs[i], single, atol=1e-6)
    assert float(obs[0, 3]) < float(obs[1, 3]) < float(obs[2, 3]), "stronger gravity tips the pole faster"


def test_jit_is_reproducible():
    def rollout(key):
        obs, state = ENV.reset(key)

        def body(state, step_key):
            action = jax.random.randint(step_key, (), 0, 2)
            obs, state, *_ = ENV.step(step_key, state, action)
            return state, obs

        return jax.lax.scan(body, state, jax.random.split(key, 100))[1]

    run = jax.jit(rollout)
    assert jnp.array_equal(run(jax.random.key(1)), run(jax.random.key(1)))


@pytest.mark.parametrize(
    "action, message",
    [(2, "action must lie in \\[0, 2\\), got 2"), (jnp.array([0, 1]), "action must be a scalar"), (0.5, "must be an integer")],
)
def test_bad_actions_are_named(action, message):
    _, state = ENV.reset(jax.random.key(0))
    with pytest.raises((ValueError, TypeError), match=message):
        ENV.step(jax.random.key(0), state, action)


# --- Many environments with one key: reset_batch and AutoReset.step_batch. ----------------------------


def test_reset_batch_draws_every_start_from_one_key_in_the_start_range():
    env = CartPole()
    obs, state = env.reset_batch(jax.random.key(0), 4096)
    obs = np.asarray(obs)
    assert obs.shape == (4096, 4) and np.asarray(state.time).tolist() == [0] * 4096
    assert np.all(np.abs(obs) < 0.05) and np.all(obs.std(axis=0) > 0.025)  # uniform(-0.05, 0.05): std 0.029
    np.testing.assert_array_equal(obs, np.asarray(jax.vmap(CartPole.observation)(state)))
    assert len({tuple(row) for row in obs}) == 4096, "every environment starts somewhere else"


def test_step_batch_is_the_vmapped_step_where_episodes_go_on_and_a_fresh_start_where_they_end():
    env = auto_reset(CartPole())
    _, state = env.env.reset_batch(jax.random.key(1), 64)
    state = state._replace(theta=state.theta.at[:8].set(0.25))  # 8 poles past 12 degrees: they fall now
    actions = jax.random.randint(jax.random.key(2), (64,), 0, 2)
    obs, next_state, reward, terminated, truncated, info = jax.jit(env.step_batch)(jax.random.key(3), state, actions)
    want_obs, *_ = jax.vmap(env.env.step, in_axes=(None, 0, 0))(jax.random.key(0), state, actions)
    # jit and eager may fuse the float32 arithmetic differently: equal to the last bit or two
    same = dict(rtol=1e-6, atol=1e-7)
    terminated = np.asarray(terminated)
    assert terminated[:8].all() and not terminated[8:].any()
    np.testing.assert_allclose(np.asarray(info["final_observation"]), np.asarray(want_obs), **same)
    np.testing.assert_allclose(np.asarray(obs)[8:], np.asarray(want_obs)[8:], **same)
    np.testing.assert_array_equal(np.asarray(next_state.time), [0] * 8 + [1] * 56)
    assert np.all(np.abs(np.asarray(obs)[:8]) < 0.05), "ended episodes restart from a fresh start"
    np.testing.assert_array_equal(np.asarray(reward), np.ones(64))


def test_step_batch_falls_back_to_one_key_per_environment_and_names_bad_actions():
    from course_lib.envs import GridWorld

    grid = auto_reset(GridWorld())
    _, states = jax.vmap(grid.reset)(jax.random.split(jax.random.key(0), 3))
    obs, *_ = jax.jit(grid.step_batch)(jax.random.key(1), states, jnp.array([0, 1, 2]))
    assert obs.shape[0] == 3
    env = auto_reset(CartPole())
    _, state = env.env.reset_batch(jax.random.key(0), 3)
    with pytest.raises(ValueError, match="one action per environment"):
        env.step_batch(jax.random.key(1), state, jnp.int32(0))
    with pytest.raises(ValueError, match="num_envs must be a whole number"):
        env.env.reset_batch(jax.random.key(0), 0)
    with pytest.raises(Exception, match="action must lie in \\[0, 2\\)"):
        jax.block_until_ready(jax.jit(env.step_batch)(jax.random.key(1), state, jnp.array([0, 2, 1])))


def _fall(state, which):
    """``state`` with the poles of the environments in ``which`` past 12 degrees: they end on the next step."""
    return state._replace(theta=jnp.where(which, 0.25, state.theta))


@pytest.mark.parametrize("num_ended", [0, 1, 3, 4, 5, 64], ids=lambda n: f"{n}-of-64-end")
def test_step_batch_restarts_exactly_the_ended_environments_each_from_its_own_start(num_ended):
    # 64 environments draw 4 starts when at most 4 end (ceil(64 / 16)), all 64 when more do: both sides
    # of that boundary, no ended episode, and every one.
    from course_lib.envs import wrappers

    assert wrappers.FEW_RESTARTS_DIVISOR == 16
    env = auto_reset(CartPole())
    _, state = env.env.reset_batch(jax.random.key(1), 64)
    ended = np.zeros(64, bool)
    ended[np.random.default_rng(num_ended).choice(64, num_ended, replace=False)] = True
    actions = jnp.zeros(64, jnp.int32)
    obs, next_state, _, terminated, _, info = jax.jit(env.step_batch)(jax.random.key(3), _fall(state, ended), actions)
    np.testing.assert_array_equal(np.asarray(terminated), ended)
    np.testing.assert_array_equal(np.asarray(next_state.time), np.where(ended, 0, 1))
    obs, final = np.asarray(obs), np.asarray(info["final_observation"])
    np.testing.assert_array_equal(obs[~ended], final[~ended])  # going on: the step's own observation
    starts = obs[ended]
    assert np.all(np.abs(starts) < 0.05), "an ended episode restarts inside the start range"
    assert len({tuple(row) for row in starts}) == num_ended, "no two restarts share a start"
    np.testing.assert_array_equal(starts, np.asarray(jax.vmap(CartPole.observation)(next_state))[ended])


@pytest.mark.parametrize("num_ended", [2, 40], ids=["few-draws", "all-draws"])
def test_step_batch_restarts_are_uniform_in_the_start_range_whichever_draw_serves_them(num_ended):
    # 2,000 steps of 64 environments with the same num_ended poles falling: restarts pooled over keys.
    # Uniform(-0.05, 0.05) has mean 0 and std 0.0289; with 4,000 or more draws per variable the sample
    # mean's std is under 0.0005 and the sample std's under 0.0003, so 0.003 and 0.002 are > 6 sigma.
    env = auto_reset(CartPole())
    _, state = env.env.reset_batch(jax.random.key(1), 64)
    state = _fall(state, jnp.arange(64) < num_ended)
    step = jax.jit(jax.vmap(env.step_batch, in_axes=(0, None, None)))
    obs, *_ = step(jax.random.split(jax.random.key(5), 2_000), state, jnp.zeros(64, jnp.int32))
    starts = np.asarray(obs)[:, :num_ended].reshape(-1, 4)
    assert np.all(np.abs(starts) < 0.05)
    np.testing.assert_allclose(starts.mean(axis=0), 0.0, atol=0.003)
    np.testing.assert_allclose(starts.std(axis=0), 0.1 / np.sqrt(12), atol=0.002)
    first, second = starts[::num_ended], starts[1::num_ended] if num_ended > 1 else starts[::num_ended]
    assert abs(np.corrcoef(first[:, 0], second[:, 0])[0, 1]) < 0.1, "two restarts of one step are independent"


def test_step_and_step_batch_compile_their_input_checks_into_one_branch_and_name_each_bad_input():
    env = auto_reset(CartPole())
    _, state = env.env.reset_batch(jax.random.key(0), 3)
    actions = jnp.array([0, 1, 1])
    for step in (env.step_batch, jax.vmap(env.step, in_axes=(None, 0, 0))):
        jaxpr = str(jax.make_jaxpr(step)(jax.random.key(1), state, actions))
        assert jaxpr.count("debug_callback[") == 1, "one branch holds both checks"
        with pytest.raises(Exception, match=r"action must lie in \[0, 2\)"):
            jax.block_until_ready(jax.jit(step)(jax.random.key(1), state, jnp.array([0, 2, 1])))
        nan_state = state._replace(x_dot=state.x_dot.at[1].set(jnp.nan))
        with pytest.raises(Exception, match="state must be finite"):
            jax.block_until_ready(jax.jit(step)(jax.random.key(1), nan_state, actions))
        with pytest.raises(Exception, match=r"action must lie in \[0, 2\)"):  # both bad: the first check's
            jax.block_until_ready(jax.jit(step)(jax.random.key(1), nan_state, jnp.array([0, 2, 1])))
