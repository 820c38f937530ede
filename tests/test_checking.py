"""Exercise checks: three verdicts, specific hints, and never a traceback from inside course_lib."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from course_lib.checking import Case, Mistake, check, compare, evaluate


def reference(x):
    return 2 * x


CASES = [Case("a vector", (jnp.arange(3.0),)), Case("a scalar", (jnp.float32(1.5),), hint="scalars too")]


def not_started(*args):
    raise NotImplementedError("Exercise not started: return twice x")


def test_correct_function_is_returned_and_praised(capsys):
    learner = lambda x: x + x
    assert check("Exercise 9.1", learner, reference, CASES) is learner
    assert capsys.readouterr().out.startswith("✅ Exercise 9.1: correct.")


def test_not_started_falls_back_to_the_reference(capsys):
    assert check("Exercise 9.1", not_started, reference, CASES) is reference
    out = capsys.readouterr().out
    assert "not started" in out and "reference implementation" in out and "Traceback" not in out


def test_wrong_values_name_the_case_expected_and_got(capsys):
    assert check("Exercise 9.1", lambda x: x * 3, reference, CASES) is reference
    out = capsys.readouterr().out
    assert "not yet" in out and "'a vector'" in out
    assert "index (1,): expected 2, got 3" in out


def test_wrong_shape_is_reported_as_shapes():
    verdict = evaluate(lambda x: jnp.stack([x, x]), reference, CASES)
    assert verdict.status == "not yet" and "expected shape (3,), got shape (2, 3)" in verdict.message


def test_wrong_dtype_kind_is_reported():
    verdict = evaluate(lambda x: (2 * x).astype(jnp.int32), reference, CASES)
    assert "expected dtype float32 (floats), got int32 (integers)" in verdict.message


def test_case_hint_is_shown_for_the_failing_case():
    learner = lambda x: 2 * x if jnp.ndim(x) else jnp.zeros(3)
    verdict = evaluate(learner, reference, CASES)
    assert "'a scalar'" in verdict.message and "Hint: scalars too" in verdict.message


def test_exception_in_learner_code_is_a_verdict_not_a_traceback(capsys):
    def broken(x):
        y = x + "text"
        return y

    check("Exercise 9.1", broken, reference, CASES)
    out = capsys.readouterr().out
    assert "raised TypeError" in out and "Traceback" not in out
    assert 'line 2 of broken: y = x + "text"' in out


def test_missing_return_is_explained():
    def forgot(x):
        2 * x

    assert "forget to return" in evaluate(forgot, reference, CASES).message


def test_tuple_structure_mismatch_is_explained():
    verdict = evaluate(lambda x: (x, x), reference, CASES)
    assert "expected a result shaped like array(3,)" in verdict.message


def test_jit_failure_gets_a_branch_free_hint():
    def python_if(x):
        if x.sum() > 100:
            return x
        return 2 * x

    verdict = evaluate(python_if, reference, CASES, jit=True)
    assert verdict.status == "not yet" and "jnp.where" in verdict.message
    assert evaluate(python_if, reference, CASES).status == "correct"


def test_not_a_function():
    assert "expected a function" in evaluate(3, reference, CASES).message


def test_a_check_needs_cases():
    with pytest.raises(ValueError, match="cases"):
        evaluate(reference, reference, [])


def test_compare_tolerates_float_noise_but_not_errors():
    assert compare(jnp.array([1.0, 2.0]), jnp.array([1.0, 2.0 + 1e-7]), rtol=1e-5, atol=1e-6) is None
    assert compare(jnp.array([1.0, 2.0]), jnp.array([1.0, 2.1]), rtol=1e-5, atol=1e-6) is not None
    assert compare(jnp.array(1.0), jnp.array(1.5), rtol=1e-5, atol=1e-6) == "expected 1, got 1.5"


# The chapter checks themselves are tested in tests/test_exercises_chNN.py.


# Random functions are checked by the distribution of their outcomes.

from course_lib.checking import evaluate_sampler  # noqa: E402
from course_lib.tabular import epsilon_greedy  # noqa: E402

SAMPLER_CASES = [Case("three actions, one best", (jnp.array([0.0, 2.0, 1.0]), 0.3))]


def test_sampler_accepts_a_correct_function_that_uses_its_key_differently():
    def mine(key, q_values, epsilon):
        coin, pick = jax.random.split(key)  # a different split from the reference's
        random_action = jax.random.randint(pick, (), 0, q_values.shape[0])
        return jnp.where(jax.random.uniform(coin) < epsilon, random_action, jnp.argmax(q_values))

    assert evaluate_sampler(mine, epsilon_greedy, SAMPLER_CASES, 3).status == "correct"


@pytest.mark.parametrize(
    "learner, fragment",
    [
        (lambda key, q, eps: jnp.argmax(q), "outcome 1 came up 100.0%"),  # never explores
        (lambda key, q, eps: jnp.where(jax.random.uniform(key) < eps, 0, jnp.argmax(q)), "outcome"),  # explores badly
        (lambda key, q, eps: jnp.float32(1.0), "expected one integer"),
        (lambda key, q, eps: 1 if float(jax.random.uniform(key)) < eps else 2, "fails under jax.vmap"),
        (lambda key, q, eps: jnp.int32(5), "outcomes must lie in [0, 3)"),
    ],
)
def test_sampler_rejects_wrong_distributions_with_a_reason(learner, fragment):
    verdict = evaluate_sampler(learner, epsilon_greedy, SAMPLER_CASES, 3)
    assert verdict.status == "not yet" and fragment in verdict.message


def test_sampler_not_started_and_printing(capsys):
    from course_lib.checking import check_sampler

    assert check_sampler("Exercise 1.1", not_started, epsilon_greedy, SAMPLER_CASES, 3) is epsilon_greedy
    assert "not started" in capsys.readouterr().out
    with pytest.raises(ValueError, match="cases"):
        evaluate_sampler(not_started, epsilon_greedy, [], 3)


def scale(x, factor):
    return x * factor


CASES_2 = [Case("a vector", (jnp.arange(3.0), 2.0)), Case("a matrix", (jnp.ones((2, 2)), -1.0))]


def test_compile_first_runs_a_compiling_answer_compiled_and_says_so(capsys):
    def answer(x, factor):
        return factor * x

    assert check("t", answer, scale, CASES_2, compile_first=True) is answer
    assert "It also works under jax.jit." in capsys.readouterr().out.replace("\n   ", " ")


def test_compile_first_still_diagnoses_an_answer_that_does_not_compile(capsys):
    def branches(x, factor):
        return x * factor if factor > 0 else x * factor  # a Python `if` on a traced value

    assert check("t", branches, scale, CASES_2, jit=True, compile_first=True) is scale
    out = capsys.readouterr().out
    assert "not yet" in out and "fails under jax.jit" in out


def test_compile_first_reports_wrong_values_and_unstarted_work(capsys):
    def wrong(x, factor):
        return x + factor

    def placeholder(x, factor):
        raise NotImplementedError

    assert check("t", wrong, scale, CASES_2, compile_first=True) is scale
    assert "On the case 'a vector'" in capsys.readouterr().out
    assert check("t", placeholder, scale, CASES_2, compile_first=True) is scale
    assert "not started" in capsys.readouterr().out


# --- Properties beyond one value: known mistakes, gradients, purity, vmap, other conventions. ---------


def half_square(x):
    return 0.5 * jnp.sum(x**2)


SQUARE_CASES = [Case("a vector", (jnp.array([1.0, -2.0, 3.0]),)), Case("zeros", (jnp.zeros(3),))]


def test_a_known_mistake_gets_its_own_hint_not_the_case_hint():
    mistakes = [Mistake("you forgot the 1/2", lambda x: jnp.sum(x**2)), Mistake("never this", lambda x: x)]
    verdict = evaluate(lambda x: jnp.sum(x * x), half_square, SQUARE_CASES, mistakes=mistakes)
    assert "Hint: you forgot the 1/2" in verdict.message and "never this" not in verdict.message
    other = evaluate(lambda x: jnp.sum(x), half_square, SQUARE_CASES, mistakes=mistakes)
    assert "forgot" not in other.message  # an unknown mistake falls back to the case's hint (none here)


def test_gradients_are_compared_and_a_misplaced_stop_gradient_is_named():
    frozen = lambda x: 0.5 * jnp.sum(lax.stop_gradient(x) ** 2)  # the right value, no gradient
    assert evaluate(frozen, half_square, SQUARE_CASES).passed
    verdict = evaluate(frozen, half_square, SQUARE_CASES, grad_argnums=0)
    assert not verdict.passed and "gradient with respect to `x`" in verdict.message
    assert "stop_gradient" in verdict.message
    named = evaluate(frozen, half_square, SQUARE_CASES, grad_argnums=0, mistakes=[Mistake("frozen x", frozen)])
    assert "Hint: frozen x" in named.message
    assert evaluate(lambda x: 0.5 * jnp.vdot(x, x), half_square, SQUARE_CASES, grad_argnums=0).passed


def test_a_function_that_mutates_its_input_is_caught():
    def mutates(params):
        params["w"] = params["w"] * 2  # changes the caller's dictionary
        return params["w"]

    cases = [Case("a dictionary", ({"w": jnp.ones(2)},))]
    verdict = evaluate(mutates, lambda params: params["w"] * 2, cases)
    assert not verdict.passed and "changed its argument `params` in place" in verdict.message
    assert cases[0].args[0]["w"].tolist() == [1.0, 1.0]  # and the case itself is untouched


def test_vmap_catches_a_python_conversion_that_op_by_op_hides():
    def converts(x, factor):
        return x * float(factor)

    assert evaluate(converts, scale, CASES_2).passed
    verdict = evaluate(converts, scale, CASES_2, vmap=True)
    assert not verdict.passed and "jax.vmap" in verdict.message
    assert evaluate(lambda x, f: f * x, scale, CASES_2, vmap=True, jit=True).passed


def test_jit_runs_every_case_not_only_the_first():
    def breaks_on_matrices(x, factor):
        return x * factor if x.ndim == 1 or factor > 0 else x * factor

    verdict = evaluate(breaks_on_matrices, scale, CASES_2, jit=True)
    assert not verdict.passed and "'a matrix'" in verdict.message


def test_another_valid_convention_is_accepted():
    sample_std = lambda x: jnp.std(x, ddof=1)
    cases = [Case("five numbers", (jnp.array([1.0, 2.0, 4.0, 8.0, 16.0]),))]
    assert check("t", sample_std, jnp.std, cases, quiet=True) is jnp.std
    assert check("t", sample_std, jnp.std, cases, accept=[sample_std], quiet=True) is sample_std
    assert check("t", lambda x: x.sum(), jnp.std, cases, accept=[sample_std], quiet=True) is jnp.std


def test_sampler_mistakes_are_diagnosed_by_distribution():
    never_explores = lambda key, q, eps: jnp.argmax(q)
    verdict = evaluate_sampler(
        lambda key, q, eps: jnp.argmax(q) + 0 * jax.random.bits(key, dtype=jnp.uint32).astype(jnp.int32),
        epsilon_greedy,
        SAMPLER_CASES,
        3,
        mistakes=[Mistake("you never explore", never_explores)],
    )
    assert "Hint: you never explore" in verdict.message


def test_whose_code_says_which_function_runs():
    from course_lib.checking import whose_code

    mine = lambda x: x
    assert whose_code(gae=(mine, reference)) == "This experiment runs your gae."
    line = whose_code(gae=(reference, reference), ppo_loss=(mine, reference))
    assert line == "This experiment runs the reference gae (course_lib) and your ppo_loss."
    with pytest.raises(ValueError, match="in_use"):
        whose_code()


def test_a_known_mistake_that_raises_the_same_error_gets_its_hint():
    """A learner's error is diagnosed like a wrong value: the mistake that raises the same error (type and
    first line of message) on the failing case names it, instead of the case's hint."""

    def scalar_start(x):  # a scan whose carry starts as a number: fails once x has a second axis
        return lax.scan(lambda c, row: (c + row,) * 2, 0.0, x)[1]

    cumulative = lambda x: jnp.cumsum(x, axis=0)
    cases = [Case("a vector", (jnp.arange(3.0),)), Case("a matrix", (jnp.ones((3, 2)),), hint="the case's hint")]
    mistakes = [Mistake("never this", lambda x: 1 / 0), Mistake("start the carry with rows' shape", scalar_start)]

    def mine(x):
        return lax.scan(lambda total, row: (total + row, total + row), jnp.float32(0), x)[1]

    verdict = evaluate(mine, cumulative, cases, mistakes=mistakes)
    assert "raised TypeError" in verdict.message and "Hint: start the carry with rows' shape" in verdict.message
    assert "the case's hint" not in verdict.message and "never this" not in verdict.message
    other = evaluate(lambda x: x[10], cumulative, cases, mistakes=mistakes)  # an error no mistake raises
    assert "Hint: the case's hint" in other.message or "Hint" not in other.message


def test_sampler_single_use_keys_catches_a_reused_key_that_the_distribution_hides():
    """A coin and a randint from one key each look right (randint splits its key inside), so only JAX's
    key-reuse checker sees it; keys derived with fold_in or split and used once pass."""

    def coin_and_action_from_one_key(key, q, eps):
        coin_key, greedy_key = jax.random.split(key)
        explore = jax.random.uniform(coin_key) < eps
        return jnp.where(explore, jax.random.randint(coin_key, (), 0, q.shape[0]), jnp.argmax(q))

    def fold_in_keys(key, q, eps):
        explore = jax.random.uniform(jax.random.fold_in(key, 0)) < eps
        return jnp.where(explore, jax.random.randint(jax.random.fold_in(key, 1), (), 0, q.shape[0]), jnp.argmax(q))

    argmax_reference = fold_in_keys  # SAMPLER_CASES has one best action, so argmax is the greedy action
    assert evaluate_sampler(coin_and_action_from_one_key, argmax_reference, SAMPLER_CASES, 3).passed
    verdict = evaluate_sampler(coin_and_action_from_one_key, argmax_reference, SAMPLER_CASES, 3, single_use_keys=True)
    assert not verdict.passed and "uses one key for two random draws" in verdict.message
    assert "line 4 of coin_and_action_from_one_key" in verdict.message
    passed = evaluate_sampler(fold_in_keys, argmax_reference, SAMPLER_CASES, 3, single_use_keys=True)
    assert passed.passed and "uses each key once" in passed.message
    assert evaluate_sampler(epsilon_greedy, epsilon_greedy, SAMPLER_CASES, 3, single_use_keys=True).passed


def test_sampler_diagnosis_skips_mistakes_that_do_not_apply():
    """Mistakes are compiled together; one that fails on the case is skipped, the others still match."""
    never_explores = lambda key, q, eps: jnp.argmax(q)
    broken = lambda key, q, eps: q[100, 100]  # raises on a vector
    learner = lambda key, q, eps: jnp.argmax(q) + 0 * jax.random.bits(key, dtype=jnp.uint32).astype(jnp.int32)
    mistakes = [Mistake("broken", broken), Mistake("you never explore", never_explores)]
    verdict = evaluate_sampler(learner, epsilon_greedy, SAMPLER_CASES, 3, mistakes=mistakes)
    assert "Hint: you never explore" in verdict.message
