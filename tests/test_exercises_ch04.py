"""Chapter 04's check: the reference and other correct ways of writing the physics pass, and typical slips get
❌ with the hint that names the slip (not one hint for every formula error).

The wrong answers are written out in full, as a learner would write them, not taken from the check's own
Mistake list."""

import jax.numpy as jnp
import pytest
from jax import lax

from course_lib.envs.cartpole import CartPoleState, dynamics
from course_lib.exercises import ch04
from tests.exercise_helpers import assert_verdict, not_started, run


def learner_physics(state, action, params, slip=""):
    """A learner's dynamics, written out; ``slip`` names one mistake to make."""
    force = jnp.where(action == 1, params.force_mag, -params.force_mag)
    if slip == "force sign":
        force = jnp.where(action == 1, -params.force_mag, params.force_mag)
    if slip == "action times force":  # 0 for action 0, not a push to the left
        force = action * params.force_mag
    theta = state.theta
    if slip == "degrees":
        theta = theta * jnp.pi / 180  # "convert to radians"
    cos_theta, sin_theta = jnp.cos(theta), jnp.sin(theta)
    gravity = 9.8 if slip == "gravity 9.8" else params.gravity
    tau = 0.02 if slip == "tau 0.02" else params.tau
    masscart = 1.0 if slip == "masscart 1.0" else params.masscart
    total_mass = params.masspole if slip == "pole mass" else masscart + params.masspole
    length = params.length / 2 if slip == "half of half" else params.length
    polemass_length = params.masspole * length
    theta_dot_term = state.theta_dot if slip == "theta_dot not squared" else state.theta_dot**2
    temp = (force + polemass_length * theta_dot_term * sin_theta) / total_mass
    four_thirds = 4 // 3 if slip == "integer 4/3" else 4.0 / 3.0
    if slip == "theta_acc plus":
        numerator = gravity * sin_theta + cos_theta * temp
    else:
        numerator = gravity * sin_theta - cos_theta * temp
    if slip == "no l in denominator":
        theta_acc = numerator / (four_thirds - params.masspole * cos_theta**2 / total_mass)
    else:
        theta_acc = numerator / (length * (four_thirds - params.masspole * cos_theta**2 / total_mass))
    x_acc = temp - polemass_length * theta_acc * cos_theta / total_mass
    if slip == "x_acc plus":
        x_acc = temp + polemass_length * theta_acc * cos_theta / total_mass
    x_dot = state.x_dot + tau * x_acc
    theta_dot = state.theta_dot + tau * theta_acc
    if slip == "semi-implicit":  # gymnasium's other integrator: positions with the new velocities
        x, theta_new = state.x + tau * x_dot, state.theta + tau * theta_dot
    else:
        x, theta_new = state.x + tau * state.x_dot, state.theta + tau * state.theta_dot
    time = state.time if slip == "no time" else state.time + 1
    return CartPoleState(x=x, x_dot=x_dot, theta=theta_new, theta_dot=theta_dot, time=time)


def slip(name):
    def wrong(state, action, params):
        return learner_physics(state, action, params, name)

    wrong.__name__ = name.replace(" ", "_")
    return wrong


def two_slips(state, action, params):
    """Two mistakes at once match no single known mistake: the general hint."""
    nxt = learner_physics(state, action, params, "force sign")
    return nxt._replace(time=state.time)


def python_if(state, action, params):
    force_sign = 1.0 if action == 1 else -1.0
    return dynamics(state, jnp.where(force_sign > 0, 1, 0), params)


def signed_force_with_lax_select(state, action, params):
    """Valid: the force as (2 a - 1) F, other names, and the state updated with _replace."""
    force = (2 * action - 1) * params.force_mag
    c, s = jnp.cos(state.theta), jnp.sin(state.theta)
    m = params.masscart + params.masspole
    ml = params.masspole * params.length
    temp = (force + ml * jnp.square(state.theta_dot) * s) / m
    alpha = (params.gravity * s - c * temp) / (params.length * (4 / 3 - params.masspole * c * c / m))
    a = temp - ml * alpha * c / m
    return state._replace(
        x=state.x + params.tau * state.x_dot,
        x_dot=state.x_dot + params.tau * a,
        theta=state.theta + params.tau * state.theta_dot,
        theta_dot=state.theta_dot + params.tau * alpha,
        time=state.time + 1,
    )


def vectorised(state, action, params):
    """Valid: the four variables as one vector, one Euler step for all."""
    force = lax.select(action == 1, jnp.float32(params.force_mag), jnp.float32(-params.force_mag))
    cos_theta, sin_theta = jnp.cos(state.theta), jnp.sin(state.theta)
    total = params.masscart + params.masspole
    temp = (force + params.masspole * params.length * state.theta_dot**2 * sin_theta) / total
    theta_acc = (params.gravity * sin_theta - cos_theta * temp) / (
        params.length * (4.0 / 3.0 - params.masspole * cos_theta**2 / total)
    )
    x_acc = temp - params.masspole * params.length * theta_acc * cos_theta / total
    old = jnp.stack([state.x, state.x_dot, state.theta, state.theta_dot])
    rates = jnp.stack([state.x_dot, x_acc, state.theta_dot, theta_acc])
    x, x_dot, theta, theta_dot = old + params.tau * rates
    return CartPoleState(x=x, x_dot=x_dot, theta=theta, theta_dot=theta_dot, time=state.time + 1)


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (dynamics, "✅", ""),
        (learner_physics, "✅", ""),
        (signed_force_with_lax_select, "✅", ""),
        (vectorised, "✅", ""),
        (slip("semi-implicit"), "❌", "explicit Euler"),
        (slip("force sign"), "❌", "the wrong sign"),
        (slip("action times force"), "❌", "action 0 gives no force"),
        (slip("pole mass"), "❌", "total mass"),
        (slip("half of half"), "❌", "half* the pole's length"),
        (slip("no time"), "❌", "goes up by one"),
        (slip("degrees"), "❌", "radians"),
        (slip("theta_dot not squared"), "❌", "squared: theta_dot ** 2"),
        (slip("theta_acc plus"), "❌", "numerator"),
        (slip("no l in denominator"), "❌", "leaves out the factor l"),
        (slip("integer 4/3"), "❌", "4.0 / 3.0"),
        (slip("x_acc plus"), "❌", "x_acc is temp *minus*"),
        (slip("gravity 9.8"), "❌", "params.gravity"),
        (slip("masscart 1.0"), "❌", "params.masscart"),
        (slip("tau 0.02"), "❌", "params.tau"),
        (two_slips, "❌", "compare your lines with the equations"),
        (python_if, "❌", "jnp.where"),
        (not_started, "⏳", ""),
    ],
)
def test_dynamics_check(learner, status, says, capsys):
    assert_verdict(*run(ch04.check_dynamics, learner, capsys), learner, status, says)


@pytest.mark.parametrize("name", ["semi-implicit", "force sign", "pole mass", "theta_acc plus", "degrees"])
def test_a_formula_error_is_not_told_about_euler_unless_it_is_one(name, capsys):
    _, out = run(ch04.check_dynamics, slip(name), capsys)
    assert ("explicit Euler step" in out) == (name == "semi-implicit"), out


def test_the_check_varies_every_physical_constant(capsys):
    """Each of CartPole's physical constants, hard-coded at its default, fails the check."""
    for field in ch04.PHYSICAL:
        hard_coded = lambda s, a, p, field=field: dynamics(s, a, p._replace(**{field: getattr(type(p)(), field)}))
        assert ch04.check_dynamics(hard_coded) is dynamics, field
        assert f"params.{field}" in " ".join(capsys.readouterr().out.split()), field


def test_the_reference_passes_under_jit_and_vmap(capsys):
    _, out = run(ch04.check_dynamics, dynamics, capsys)
    assert "It also works under jax.jit and jax.vmap." in out

