"""Chapter 04's check: the reference passes, typical slips in the physics are caught."""

import jax.numpy as jnp
import pytest

from course_lib.envs.cartpole import CartPoleState, dynamics
from course_lib.exercises import ch04


def semi_implicit(state, action, params):
    """Positions moved with the *new* velocities: a valid integrator, but not gymnasium's."""
    nxt = dynamics(state, action, params)
    return nxt._replace(x=state.x + params.tau * nxt.x_dot, theta=state.theta + params.tau * nxt.theta_dot)


def hard_coded_gravity(state, action, params):
    return dynamics(state, action, params._replace(gravity=9.8))


def python_if(state, action, params):
    force_sign = 1.0 if action == 1 else -1.0
    return dynamics(state, jnp.where(force_sign > 0, 1, 0), params)


def not_started(*args):
    raise NotImplementedError


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (dynamics, "✅", ""),
        (semi_implicit, "❌", "explicit Euler"),
        (hard_coded_gravity, "❌", "from params"),
        (python_if, "❌", "jnp.where"),
        (lambda s, a, p: CartPoleState(*dynamics(s, a, p)[:4], s.time), "❌", "time goes up"),
        (not_started, "⏳", ""),
    ],
)
def test_dynamics_check(learner, status, says, capsys):
    used = ch04.check_dynamics(learner)
    out = " ".join(capsys.readouterr().out.split())
    assert status in out and says in out, out
    assert (used is learner) == (status == "✅")
