"""Checks for chapter 04, CartPole in JAX."""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp

from course_lib.checking import Case, check
from course_lib.envs.cartpole import CartPoleParams, CartPoleState, dynamics


def _state(x: float, x_dot: float, theta: float, theta_dot: float, time: int = 0) -> CartPoleState:
    return CartPoleState(jnp.float32(x), jnp.float32(x_dot), jnp.float32(theta), jnp.float32(theta_dot), jnp.int32(time))


def check_dynamics(fn: Callable) -> Callable:
    """Exercise 4.1: ``cartpole_dynamics(state, action, params) -> CartPoleState``."""
    params = CartPoleParams()
    cases = [
        Case(
            "upright and still, push right",
            (_state(0.0, 0.0, 0.0, 0.0), 1, params),
            hint="the force is +force_mag for action 1 and -force_mag for action 0; then the two "
            "accelerations; then explicit Euler: the new x uses the old x_dot (and the new theta the old "
            "theta_dot); time goes up by one.",
        ),
        Case("upright and still, push left", (_state(0.0, 0.0, 0.0, 0.0), 0, params)),
        Case(
            "leaning and moving, push left",
            (_state(0.3, -0.4, 0.1, 0.8, time=7), 0, params),
            hint="explicit Euler: the new x uses the old x_dot and the new theta the old theta_dot; "
            "time goes up by one.",
        ),
        Case(
            "on the Moon (gravity 1.62) with a heavier pole (0.5 kg)",
            (_state(-0.2, 0.5, -0.15, -1.0), 1, params._replace(gravity=1.62, masspole=0.5)),
            hint="read every constant from params (params.gravity, params.masspole, ...), not from numbers.",
        ),
    ]
    return check("Exercise 4.1 (cartpole_dynamics)", fn, dynamics, cases, rtol=1e-5, atol=1e-6, jit=True)
