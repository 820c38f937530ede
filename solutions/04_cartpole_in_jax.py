# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · CartPole in JAX
#
# By the end of this chapter you will have written the physics of gymnasium's CartPole in JAX,
# **checked it against gymnasium step by step**, and run **16,384 cart-poles at once** inside one
# compiled program.
#
# ## Before you start
#
# **You will learn to**
#
# 1. read the cart-pole equations of motion and the explicit Euler step that gymnasium uses;
# 2. tell *terminated* from *truncated*, and say what each means for a value target;
# 3. turn Python control flow into JAX (`jnp.where`, `lax.select`, `jnp.cos`) and recognise the errors
#    that Python branches on traced values raise;
# 4. verify an environment against a reference, and measure its speed as it scales with `vmap`.
#
# **You need** chapter 00 (`jit`, `vmap`, `lax.scan`). Chapters 02 and 03 used this environment; here
# you build it.
#
# **Time and compute.** The notebook runs top to bottom in about 15 seconds on 2 CPU cores, kernel
# start included (measured with `make bench`). No GPU needed.

# %% tags=["remove-cell"]
# Colab, or any Jupyter without the course installed: `%pip install` the
# course's helper package, course_lib, from its repository. In the course's own
# environment (make lab, make test) it is installed already: this does nothing.
try:
    import course_lib  # noqa: F401
except ModuleNotFoundError:
    get_ipython().run_line_magic(
        "pip",
        "install --quiet "
        '"course_lib @ git+https://github.com/drl-jax/drl-jax-course"',
    )

# %%
import math
import time

import gymnasium
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from gymnasium.envs.classic_control import CartPoleEnv
from IPython.display import HTML
from jax import lax

from course_lib import checking, envs, plotting, rollouts
from course_lib.envs import CartPole, CartPoleParams, CartPoleState, auto_reset
from course_lib.envs.rendering import animate_episode, render_frame
from course_lib.exercises import ch04
from course_lib.timing import time_call

np.set_printoptions(precision=5, suppress=True)

# %% [markdown]
# ## The system
#
# A pole is hinged on a cart that rolls along a frictionless track. Each step the agent pushes the cart
# left or right with a force of 10 N. The task (Barto, Sutton & Anderson 1983) is to keep the pole
# upright. The state has four numbers: the cart's position $x$ and velocity $\dot x$, the pole's angle
# $\theta$ from vertical and its angular velocity $\dot\theta$. These are gymnasium's constants for
# CartPole-v1, and `course_lib`'s:

# %%
params = CartPoleParams()
gym_env = CartPoleEnv()
for name in ("gravity", "masscart", "masspole", "length", "force_mag", "tau"):
    print(
        f"{name:10} gymnasium {getattr(gym_env, name):<8} course_lib {getattr(params, name)}"
    )
print(
    f"{'max_steps':10} gymnasium {gymnasium.spec('CartPole-v1').max_episode_steps:<8} "
    f"course_lib {params.max_steps}"
)
fig, ax = plotting.new_axes(6, 2.4)
render_frame(ax, CartPoleState(0.5, 0.0, 0.15, 0.0, 0), params)
plt.show()

# %% [markdown]
# `length` is *half* the pole's length (0.5 m, so the pole is 1 m long), and `tau` is the time step:
# 0.02 s, 50 steps per second.
#
# ### The equations of motion
#
# With $F = \pm 10$ N, total mass $m = m_c + m_p$ and $l$ the half-length, gymnasium computes the two
# accelerations as
#
# $$
# \begin{aligned}
# \text{temp} &= \frac{F + m_p\, l\, \dot\theta^2 \sin\theta}{m}, \\
# \ddot\theta &= \frac{g \sin\theta - \cos\theta \cdot \text{temp}}
#                    {l\left(\tfrac{4}{3} - \tfrac{m_p \cos^2\theta}{m}\right)}, \\
# \ddot x &= \text{temp} - \frac{m_p\, l\, \ddot\theta \cos\theta}{m},
# \end{aligned}
# $$
#
# and moves the state forward by one **explicit Euler** step of $\tau$ seconds, where positions move
# with the *old* velocities:
#
# $$
# x \leftarrow x + \tau \dot x, \quad \dot x \leftarrow \dot x + \tau \ddot x, \quad
# \theta \leftarrow \theta + \tau \dot\theta, \quad \dot\theta \leftarrow \dot\theta + \tau \ddot\theta.
# $$
#
# ### When an episode ends
#
# The episode **terminates** when the pole leans more than 12° ($|\theta| > 0.2094$ rad) or the cart leaves
# the track ($|x| > 2.4$). It is **truncated** after 500 steps by the `TimeLimit` of the CartPole-v1
# registration. Every step pays reward 1, the terminating one included.
#
# The difference matters for learning. A value target $r + \gamma V(s')$ says "this reward, plus what
# comes after". After a termination nothing comes after: the target is $r$. After a truncation the
# pole was still up and the future was cut off by our clock, not by the task: the target must keep
# $\gamma V(s')$. Treat a truncation as a termination and you teach the agent that step 500 is a
# disaster, in states where nothing is wrong.
#
# ## From Python control flow to JAX
#
# gymnasium's `step` is ordinary Python, with lines such as
# `force = self.force_mag if action == 1 else -self.force_mag` and `math.cos(theta)`. Under `jax.jit`
# the inputs are *tracers*: placeholders for any value of their shape and dtype, with no value yet.
# Python cannot decide an `if` on them, and `math.cos` wants a real number:


# %%
def force_python(action):
    return 10.0 if action == 1 else -10.0


def cos_python(theta):
    return math.cos(theta)


for fn, argument in ((force_python, 1), (cos_python, 0.1)):
    try:
        jax.jit(fn)(argument)
    except Exception as error:  # noqa: BLE001 -- we want to show the error
        print(f"jit({fn.__name__}): {type(error).__name__}")

# %% [markdown]
# The JAX versions compute both sides and select, element by element, and use `jax.numpy`'s functions,
# which accept tracers:


# %%
def force_jax(action):
    return jnp.where(action == 1, 10.0, -10.0)


print(jax.jit(force_jax)(1), jax.jit(force_jax)(0))
print(jax.jit(jnp.cos)(0.1))
# lax.select is the strict form: a boolean predicate and two arrays of one shape
# and dtype
print(lax.select(jnp.array(True), jnp.float32(10.0), jnp.float32(-10.0)))

# %% [markdown]
# `jnp.where` broadcasts and promotes dtypes like NumPy (an integer and a float branch give a float);
# `lax.select` does neither and raises a `TypeError` for branches of different shapes or dtypes, which
# catches a shape mismatch, or an integer where a float was meant. Both evaluate both branches: for two
# numbers that costs nothing. For expensive branches, `lax.cond` runs only one (except under `vmap`,
# where it becomes a select too).
#
# ### Exercise 4.1: the dynamics
#
# Write `cartpole_dynamics(state, action, params)`: one step of the equations above, returning the new
# `CartPoleState` (with `time + 1`). A `CartPoleState` is a NamedTuple with the fields `x`, `x_dot`,
# `theta`, `theta_dot` and `time`; build it by keyword, `CartPoleState(x=..., x_dot=..., ...)`.
# Read every constant from `params`: the check changes each of them, on random states and both
# actions. No Python `if` on `action`: the check also runs it under `jit` and `vmap`, as the
# environment below does. Termination is not part of this function.


# %%
def cartpole_dynamics(state, action, params):
    ### BEGIN SOLUTION: the force from the action (jnp.where), then temp, theta_acc and x_acc from the equations above, one explicit Euler step of params.tau seconds; time goes up by one
    force = jnp.where(action == 1, params.force_mag, -params.force_mag)
    cos_theta, sin_theta = jnp.cos(state.theta), jnp.sin(state.theta)
    total_mass = params.masspole + params.masscart
    polemass_length = params.masspole * params.length
    temp = (
        force + polemass_length * state.theta_dot**2 * sin_theta
    ) / total_mass
    theta_acc = (params.gravity * sin_theta - cos_theta * temp) / (
        params.length
        * (4.0 / 3.0 - params.masspole * cos_theta**2 / total_mass)
    )
    x_acc = temp - polemass_length * theta_acc * cos_theta / total_mass
    return CartPoleState(
        x=state.x + params.tau * state.x_dot,
        x_dot=state.x_dot + params.tau * x_acc,
        theta=state.theta + params.tau * state.theta_dot,
        theta_dot=state.theta_dot + params.tau * theta_acc,
        time=state.time + 1,
    )
    ### END SOLUTION


# %%
cartpole_dynamics = ch04.check_dynamics(cartpole_dynamics)

# %% [markdown]
# The rest of `step` adds the end conditions and the reward. `course_lib.envs.CartPole.step` is
# exactly this, and it never resets by itself: it always returns the true next observation, so you
# can see the terminal transition. (`auto_reset`, from chapter 01, starts new episodes inside a jitted
# loop and keeps that final observation in `info`.)
#
# Every environment in `course_lib` keeps one contract, written down as `course_lib.envs.Environment`:
# `reset(key, params)` and a six-value `step(key, state, action, params)` returning `(obs, state,
# reward, terminated, truncated, info)`, with `params=None` meaning the defaults. It is gymnax's: since
# version 1.0, gymnax's `step` returns the same six values and its auto-reset keeps the true final
# observation in `info["final_observation"]`. So the code you write against ours carries over to
# gymnax's environments (its many classic-control, bsuite and MinAtar tasks) when you move on.


# %%
def step(state, action, params=params):
    next_state = cartpole_dynamics(state, action, params)
    terminated = (jnp.abs(next_state.x) > params.x_threshold) | (
        jnp.abs(next_state.theta) > params.theta_threshold_radians
    )
    truncated = next_state.time >= params.max_steps
    return next_state, jnp.float32(1.0), terminated, truncated


# %% [markdown]
# ## Is it really gymnasium's CartPole?
#
# Trust comes from comparison. We let gymnasium play 5,000 steps with random actions (many short
# episodes), record every state before a step, the action and gymnasium's result, and then compute all
# 5,000 steps with our `step` from the same states, in one `vmap`. gymnasium computes in float64, we
# in float32, so we expect agreement to about 1e-6, not to the last bit.

# %% tags=["nbval-ignore-output"]
rng = np.random.default_rng(0)
env = gymnasium.wrappers.TimeLimit(CartPoleEnv(), max_episode_steps=500)
before, times, actions, after, gym_flags = [], [], [], [], []
episode = 0
while len(actions) < 5_000:
    env.reset(seed=episode)
    episode += 1
    done = False
    while not done:
        before.append(np.array(env.unwrapped.state))
        times.append(env._elapsed_steps)
        actions.append(int(rng.integers(2)))
        _, _, terminated, truncated, _ = env.step(actions[-1])
        after.append(np.array(env.unwrapped.state))
        gym_flags.append((terminated, truncated))
        done = terminated or truncated
before, after = np.array(before), np.array(after)

states = CartPoleState(*jnp.asarray(before.T, jnp.float32), jnp.asarray(times))
ours, _, our_terminated, our_truncated = jax.jit(jax.vmap(step))(
    states, jnp.asarray(actions)
)
ours = np.stack([ours.x, ours.x_dot, ours.theta, ours.theta_dot], axis=1)

difference = np.abs(ours - after).max(axis=0)
flags_agree = np.mean(
    (np.asarray(our_terminated) == np.array(gym_flags)[:, 0])
    & (np.asarray(our_truncated) == np.array(gym_flags)[:, 1])
)
print(f"{len(actions):,} steps in {episode} episodes")
print(
    "largest |ours - gymnasium| for x, x_dot, theta, theta_dot:",
    ", ".join(f"{d:.1e}" for d in difference),
)
print(f"terminated and truncated agree on {flags_agree:.2%} of steps")
# The last digits above differ between CPUs (rounding inside XLA); the checks do
# not.
assert (
    difference.max() < 1e-5
), "the dynamics should match gymnasium's to float32 precision"
assert flags_agree == 1.0

# %%
print(
    checking.whose_code(
        cartpole_dynamics=(cartpole_dynamics, envs.cartpole.dynamics)
    )
)

# %% [markdown]
# One step at a time the two agree to float32 precision. What about a whole episode, run open loop with
# the same actions from the same start? Here both follow the same 200 actions of a noisy balancing
# controller:


# %% tags=["nbval-ignore-output"]
def controller(obs):
    """Push towards where the pole is falling: a proportional-derivative rule on angle and position."""
    return int(obs[2] + 0.5 * obs[3] + 0.01 * obs[0] + 0.1 * obs[1] > 0)


obs, _ = env.reset(seed=123)
state = CartPoleState(*jnp.asarray(env.unwrapped.state, jnp.float32), 0)
gym_theta, our_theta = [], []
jit_step = jax.jit(step)
for t in range(200):
    action = controller(obs) if rng.random() > 0.2 else int(rng.integers(2))
    obs, *_ = env.step(action)
    state, *_ = jit_step(state, action)
    gym_theta.append(env.unwrapped.state[2])
    our_theta.append(float(state.theta))

fig, (ax_theta, ax_diff) = plt.subplots(1, 2, figsize=(11, 3))
ax_theta.plot(np.degrees(gym_theta), label="gymnasium (float64)")
ax_theta.plot(np.degrees(our_theta), "--", label="course_lib (float32, JAX)")
ax_theta.set(xlabel="step", ylabel="θ (degrees)", title="The same 200 actions")
ax_theta.legend()
theta_gap = np.abs(np.array(gym_theta) - np.array(our_theta))  # (200,) radians
ax_diff.semilogy(theta_gap + 1e-12)
ax_diff.set(
    xlabel="step",
    ylabel="|difference in θ| (rad)",
    title="How far apart they drift",
)
plt.show()
print(f"largest difference in θ over 200 steps: {theta_gap.max():.1e} rad")
# How far they drift differs between CPUs; that they agree at first and stay
# close does not.
assert theta_gap[:50].max() < 1e-5, "the first 50 steps should agree closely"
assert (
    theta_gap.max() < 0.1
), "after 200 steps the two should still be within 0.1 rad"

# %% [markdown]
# The curves stay together for a long time and then drift apart, to a difference of the order of
# 1e-2 rad after 200 steps. Nothing is wrong: an upright pole is unstable, so it amplifies any
# difference exponentially, here the float32 rounding of our start state and of each step (about
# 1e-7). The same would happen between two float64 runs whose starts differed in the last digit. That
# is why the test suite (`tests/test_cartpole.py`) compares step by step, over 10,000 transitions that
# end in both termination and truncation, not whole trajectories.
#
# ## Speed: one environment, or sixteen thousand
#
# Now the payoff. Our `step` is a pure function of arrays, so `vmap` runs any number of cart-poles side
# by side, and `lax.scan` runs them for many steps inside one compiled program, with random actions
# and `auto_reset` starting new episodes where old ones end.

# %%
looping_cartpole = auto_reset(CartPole())


def random_rollout(key, num_envs, num_steps):
    """num_envs cart-poles, num_steps steps each, random actions; returns the number of episodes ended."""
    reset_keys = jax.random.split(key, num_envs)
    obs, states = jax.vmap(looping_cartpole.reset)(reset_keys)
    batched_step = jax.vmap(looping_cartpole.step)

    def one_step(carry, key):
        states, ended = carry
        action_key, step_key = jax.random.split(key)
        actions = jax.random.randint(action_key, (num_envs,), 0, 2)
        _, states, _, terminated, truncated, _ = batched_step(
            jax.random.split(step_key, num_envs), states, actions
        )
        return (states, ended + (terminated | truncated).sum()), None

    (_, ended), _ = lax.scan(
        one_step, (states, 0), jax.random.split(key, num_steps)
    )
    return ended


rollout = jax.jit(random_rollout, static_argnums=(1, 2))
jax_rates = {}
for num_envs, num_steps in (
    (1, 20_000),
    (64, 2_000),
    (1024, 1_000),
    (16_384, 200),
):
    timing = time_call(rollout, jax.random.key(0), num_envs, num_steps)
    jax_rates[num_envs] = num_envs * num_steps / timing.median

# gymnasium's CartPole, one environment in a Python loop
gym_single = CartPoleEnv()
gym_single.reset(seed=0)
start = time.perf_counter()
for action in rng.integers(2, size=20_000):
    _, _, terminated, truncated, _ = gym_single.step(int(action))
    if terminated or truncated:
        gym_single.reset()
gym_single_rate = 20_000 / (time.perf_counter() - start)

# gymnasium's vectorised CartPole: NumPy arrays over all environments,
# auto-reset built in
gym_vec_rates = {}
for num_envs in (64, 1024, 16_384):
    vec_env = gymnasium.make_vec(
        "CartPole-v1",
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
    )
    vec_env.reset(seed=0)
    num_steps = 200
    batch_actions = rng.integers(2, size=(num_steps, num_envs))
    start = time.perf_counter()
    for actions_now in batch_actions:
        vec_env.step(actions_now)
    gym_vec_rates[num_envs] = (
        num_envs * num_steps / (time.perf_counter() - start)
    )
    vec_env.close()

# %% tags=["nbval-ignore-output"]
print(f"{'environments':>14}{'course_lib (JAX)':>20}{'gymnasium vector':>20}")
for num_envs, rate in jax_rates.items():
    vec = f"{gym_vec_rates[num_envs]:,.0f}" if num_envs in gym_vec_rates else ""
    print(f"{num_envs:>14,}{rate:>20,.0f}{vec:>20}")
print(
    f"gymnasium, one environment in a Python loop: {gym_single_rate:,.0f} steps/s"
)

fig, ax = plotting.new_axes(6.5, 3.8)
ax.loglog(
    list(jax_rates),
    list(jax_rates.values()),
    "o-",
    label="course_lib, jit(scan(vmap))",
)
ax.loglog(
    list(gym_vec_rates),
    list(gym_vec_rates.values()),
    "s-",
    label="gymnasium make_vec",
)
ax.axhline(
    gym_single_rate, color="0.4", linestyle="--", label="gymnasium, one env"
)
ax.set(
    xlabel="environments side by side",
    ylabel="steps per second",
    title="CartPole throughput (2 CPU cores)",
)
ax.legend()
plt.show()

# %% [markdown]
# (The numbers are from the machine that built this page; `make bench` measures them on yours.) Read
# them honestly. One jitted environment ran at about three quarters of the speed of gymnasium's Python
# loop on the book's machine (and as fast on an AMD EPYC we measured). With `vmap` our
# throughput grows with the number of environments, and at 64 we lead; but from about a thousand
# environments on, gymnasium's NumPy-vectorised CartPole is faster in this test. Where does our time go?
# Mostly into random numbers: every step, *every* environment splits a PRNG key and draws a fresh reset
# state for `auto_reset` (computed everywhere, kept only where an episode ended), and JAX's
# counter-based generator costs dozens of integer operations per number. NumPy draws a reset only where
# an episode ended.
#
# The physics itself is cheap in both. What the JAX version buys is different: the environment lives
# inside the compiled program, so an agent can act, step and learn without returning to Python once.
# That is where the next chapter's speed comes from.
#
# ## Watching it
#
# First a random policy: the pole falls within a second or so.


# %%
# `course_lib.rollouts.run_episode(env, policy, key)` plays one episode in a
# `lax.scan` and returns the states, stacked along a time axis of length 500
# (frozen after the end).
random_policy = lambda key, obs: jax.random.randint(key, (), 0, 2)
play = jax.jit(rollouts.run_episode, static_argnums=(0, 1))
random_episode = play(CartPole(), random_policy, jax.random.key(1))
random_length = int(random_episode.length)
print(f"random policy: the episode ends after {random_length} steps")

# %% tags=["nbval-ignore-output"]
HTML(
    animate_episode(
        random_episode.states,
        params,
        every=1,
        max_frames=random_length,
        title="random",
    )
)

# %% [markdown]
# Now the controller from the comparison above, without noise. It pushes the cart towards the side the
# pole is falling to, weighting the angle, the angular velocity, and a little of the cart's position and
# velocity so the cart does not drift off the track. Four hand-tuned numbers balance the pole for the
# full 500 steps.

# %%
pd_policy = lambda key, obs: (
    obs[2] + 0.5 * obs[3] + 0.01 * obs[0] + 0.1 * obs[1] > 0
).astype(jnp.int32)
pd_episode = play(CartPole(), pd_policy, jax.random.key(1))
pd_states, pd_length = pd_episode.states, int(pd_episode.length)
print(
    f"PD controller: {pd_length} steps, largest angle {np.degrees(np.abs(pd_states.theta).max()):.1f}°"
)
assert (
    pd_length == 500
), "the controller should balance the pole until the time limit"

# %% tags=["nbval-ignore-output"]
HTML(
    animate_episode(
        pd_states, params, every=8, max_frames=63, title="PD controller"
    )
)

# %% [markdown]
# That episode ended by **truncation**: the pole was still up at step 500. A learning agent must bootstrap
# from that last state, as the chapter said at the start.
#
# ## Pitfalls
#
# * **A Python `if` on a traced value.** `TracerBoolConversionError` under `jit`. Use `jnp.where` (both
#   sides are computed) or `lax.cond`.
# * **`math` and `numpy` functions on tracers.** `math.cos(x)` and `np.cos(x)` need a concrete value;
#   use `jnp.cos`.
# * **A different integrator.** Semi-implicit Euler (positions moved with the *new* velocities) is a
#   fine integrator, but not gymnasium's default; results drift apart and a "CartPole" score stops being
#   comparable.
# * **float64 where you expect float32.** By default JAX computes in 32 bits and turns NumPy's float64
#   inputs into float32 (gymnasium's float64 states arrive as float32 above). Switch on 64-bit mode
#   (`jax.config.update("jax_enable_x64", True)`) and a float64 constant does promote float32 arrays,
#   doubling memory and time; `lax.select` then refuses the mixed dtypes and catches it.
# * **Treating truncation as termination.** See above: it teaches the agent a cliff at step 500 that
#   isn't there.
#
# ## Summary
#
# You wrote CartPole's physics as a pure JAX function, checked it against gymnasium to float32 precision
# one step at a time, and ran thousands of environments at once inside one compiled program. You also
# animated two policies and saw the difference between an episode that terminates and one that is
# truncated.
#
# **Next:** chapter 05 puts the environment, the replay buffer and the Q-network into one jitted
# training loop.
#
# ## Further reading
#
# * Barto, A. G., Sutton, R. S. & Anderson, C. W. (1983). Neuronlike adaptive elements that can solve
#   difficult learning control problems. *IEEE Transactions on Systems, Man, and Cybernetics* 13(5),
#   834–846.
# * gymnasium's `gymnasium/envs/classic_control/cartpole.py`, the reference implemented here.
# * Lange, R. T. (2022). gymnax: a JAX-based reinforcement learning environment library. (The same idea,
#   for many classic environments.)
