"""Checks for chapter 04, CartPole in JAX."""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp
import numpy as np

from course_lib.checking import Case, Mistake, check
from course_lib.envs.cartpole import CartPoleParams, CartPoleState, dynamics

PHYSICAL = ("gravity", "masscart", "masspole", "length", "force_mag", "tau")


def _state(x: float, x_dot: float, theta: float, theta_dot: float, time: int = 0) -> CartPoleState:
    return CartPoleState(jnp.float32(x), jnp.float32(x_dot), jnp.float32(theta), jnp.float32(theta_dot), jnp.int32(time))


def _physics(
    state: CartPoleState,
    action: jnp.ndarray,
    params: CartPoleParams,
    *,
    force_sign: float = 1.0,
    left_push: float = -1.0,
    total_mass: Callable[[CartPoleParams], float] = lambda p: p.masscart + p.masspole,
    half_length: Callable[[CartPoleParams], float] = lambda p: p.length,
    angle: Callable[[jnp.ndarray], jnp.ndarray] = lambda theta: theta,
    theta_dot_power: int = 2,
    numerator_sign: float = -1.0,
    denominator_length: bool = True,
    denominator_cos_power: int = 2,
    four_thirds: float = 4.0 / 3.0,
    x_acc_sign: float = -1.0,
    semi_implicit: bool = False,
    time_step: Callable[[jnp.ndarray, CartPoleParams], jnp.ndarray] = lambda time, p: time + 1,
) -> CartPoleState:
    """The reference's equations with one piece changed by a keyword: each known mistake is one call."""
    force = force_sign * jnp.where(action == 1, params.force_mag, left_push * params.force_mag)
    theta = angle(state.theta)
    cos_theta, sin_theta = jnp.cos(theta), jnp.sin(theta)
    mass = total_mass(params)
    length = half_length(params)
    polemass_length = params.masspole * length
    temp = (force + polemass_length * state.theta_dot**theta_dot_power * sin_theta) / mass
    denominator = four_thirds - params.masspole * cos_theta**denominator_cos_power / mass
    if denominator_length:
        denominator = length * denominator
    theta_acc = (params.gravity * sin_theta + numerator_sign * cos_theta * temp) / denominator
    x_acc = temp + x_acc_sign * polemass_length * theta_acc * cos_theta / mass
    x_dot = state.x_dot + params.tau * x_acc
    theta_dot = state.theta_dot + params.tau * theta_acc
    return CartPoleState(
        x=state.x + params.tau * (x_dot if semi_implicit else state.x_dot),
        x_dot=x_dot,
        theta=state.theta + params.tau * (theta_dot if semi_implicit else state.theta_dot),
        theta_dot=theta_dot,
        time=time_step(state.time, params),
    )


def _mistake(hint: str, **change) -> Mistake:
    return Mistake(hint, lambda state, action, params: _physics(state, action, params, **change))


def _hard_coded(field: str) -> Mistake:
    default = getattr(CartPoleParams(), field)
    return Mistake(
        f"your function ignores params.{field}: it computes as if it were {default:g} (CartPole-v1's value). "
        f"Read every constant from params (params.{field}), so other physics work too.",
        lambda state, action, params: dynamics(state, action, params._replace(**{field: default})),
    )


MISTAKES = [
    _mistake(
        "positions move with the *new* velocities in your function (semi-implicit Euler). Gymnasium's "
        "CartPole-v1 takes an explicit Euler step: the new x uses the old x_dot and the new theta the old "
        "theta_dot.",
        semi_implicit=True,
    ),
    _mistake(
        "the force has the wrong sign: action 1 pushes right (+force_mag), action 0 pushes left (-force_mag).",
        force_sign=-1.0,
    ),
    _mistake(
        "action 0 gives no force in your function: it must push left with -force_mag, as action 1 pushes "
        "right with +force_mag. The cart is always pushed, one way or the other.",
        left_push=0.0,
    ),
    _mistake(
        "your function divides by the pole's mass where the equations use the total mass "
        "m = masscart + masspole.",
        total_mass=lambda p: p.masspole,
    ),
    _mistake(
        "your function uses the cart's mass where the equations use the total mass m = masscart + masspole.",
        total_mass=lambda p: p.masscart,
    ),
    _mistake(
        "params.length is already *half* the pole's length, the l of the equations: use it as it is, not "
        "halved.",
        half_length=lambda p: p.length / 2,
    ),
    _mistake(
        "params.length is already *half* the pole's length, the l of the equations: use it as it is, not "
        "doubled.",
        half_length=lambda p: 2 * p.length,
    ),
    _mistake(
        "theta is in radians, as jnp.sin and jnp.cos expect: no conversion from degrees.",
        angle=jnp.deg2rad,
    ),
    _mistake(
        "theta is in radians, as jnp.sin and jnp.cos expect: no conversion to degrees.",
        angle=jnp.rad2deg,
    ),
    _mistake("in temp, the angular velocity is squared: theta_dot ** 2.", theta_dot_power=1),
    _mistake(
        "theta_acc's numerator is g sin(theta) *minus* cos(theta) * temp.",
        numerator_sign=1.0,
    ),
    _mistake(
        "theta_acc's denominator is l * (4/3 - m_p cos^2(theta) / m): your function leaves out the factor l.",
        denominator_length=False,
    ),
    _mistake(
        "theta_acc's denominator has cos(theta) *squared*: l * (4/3 - m_p cos^2(theta) / m).",
        denominator_cos_power=1,
    ),
    _mistake(
        "4/3 in theta_acc's denominator became 1: write 4.0 / 3.0 (4 // 3 is integer division).",
        four_thirds=1.0,
    ),
    _mistake(
        "x_acc is temp *minus* m_p l theta_acc cos(theta) / m.",
        x_acc_sign=1.0,
    ),
    _mistake("x_acc is not temp alone: subtract m_p l theta_acc cos(theta) / m.", x_acc_sign=0.0),
    _mistake("`time` counts steps: it goes up by one each step.", time_step=lambda time, p: time),
    _mistake(
        "`time` counts steps, not seconds: add 1, not tau.",
        time_step=lambda time, p: time + p.tau,
    ),
    *(_hard_coded(field) for field in PHYSICAL),
]

GENERAL_HINT = (
    "compare your lines with the equations above one at a time: the force's sign, temp, theta_acc, x_acc, "
    "then an explicit Euler step (positions with the old velocities) and time + 1."
)


def _random_cases(count: int, seed: int) -> list[Case]:
    """States from all over the track, both actions, and every physical constant drawn at random."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(count):
        state = _state(
            rng.uniform(-2.4, 2.4), rng.uniform(-2.0, 2.0), rng.uniform(-0.6, 0.6), rng.uniform(-3.0, 3.0),
            time=int(rng.integers(0, 500)),
        )  # fmt: skip
        params = CartPoleParams()._replace(
            gravity=float(rng.uniform(1.0, 25.0)),
            masscart=float(rng.uniform(0.3, 3.0)),
            masspole=float(rng.uniform(0.05, 1.0)),
            length=float(rng.uniform(0.2, 1.5)),
            force_mag=float(rng.uniform(2.0, 30.0)),
            tau=float(rng.uniform(0.005, 0.05)),
        )
        cases.append(
            Case(
                f"random state and physics {i + 1}, push {'right' if i % 2 else 'left'}",
                (state, jnp.int32(i % 2), params),
                hint="read every constant from params; " + GENERAL_HINT,
            )
        )
    return cases


def check_dynamics(fn: Callable) -> Callable:
    """Exercise 4.1: ``cartpole_dynamics(state, action, params) -> CartPoleState``.

    Named states with CartPole-v1's constants, then one case per physical constant changed on its own, then
    random states with every constant drawn at random; each case again under ``jax.jit`` and ``jax.vmap``
    (the chapter compiles and batches the environment). A wrong answer is matched against known slips in
    the physics so the hint names the one made."""
    default = CartPoleParams()
    right, left = jnp.int32(1), jnp.int32(0)
    named = [
        Case(name, (state, action, default), hint=GENERAL_HINT)
        for name, state, action in [
            ("leaning and moving, push left", _state(0.3, -0.4, 0.1, 0.8, time=7), left),
            ("leaning the other way, push right", _state(-1.1, 0.7, -0.15, -1.3, time=42), right),
            ("upright and still, push right", _state(0.0, 0.0, 0.0, 0.0), right),
            ("upright and still, push left", _state(0.0, 0.0, 0.0, 0.0), left),
            ("far past 12 degrees (1.2 rad), spinning", _state(2.0, 1.5, 1.2, 4.0, time=499), right),
        ]
    ]
    changed = {
        "gravity": ("on the Moon (gravity 1.62)", 1.62),
        "masscart": ("a heavier cart (2.5 kg)", 2.5),
        "masspole": ("a heavier pole (0.5 kg)", 0.5),
        "length": ("a longer pole (half-length 1.2 m)", 1.2),
        "force_mag": ("a stronger push (force_mag 25 N)", 25.0),
        "tau": ("a shorter time step (tau 0.005 s)", 0.005),
    }
    one_at_a_time = [
        Case(
            name,
            (_state(0.5, -0.8, 0.12, -0.9, time=3), jnp.int32(i % 2), default._replace(**{field: value})),
            hint=f"read params.{field} from params, not a number.",
        )
        for i, (field, (name, value)) in enumerate(changed.items())
    ]
    cases = named + one_at_a_time + _random_cases(12, seed=2024)
    return check(
        "Exercise 4.1 (cartpole_dynamics)",
        fn,
        dynamics,
        cases,
        rtol=1e-5,
        atol=1e-6,
        jit=True,
        vmap=True,
        mistakes=MISTAKES,
    )
