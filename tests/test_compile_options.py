"""The compiler option sets the chapters pass to ``jax.jit``: XLA accepts every name in them, and they
change how long compiling takes, never what the program computes beyond the last bits."""

import jax
import numpy as np
import pytest

from course_lib.agents import dqn
from course_lib.compile_options import QUICK_COMPILE, QUICK_XLA_FLAGS, SHORT_RUN_COMPILE

TINY = dqn.DQNConfig(num_steps=256, buffer_size=256, batch_size=8, learning_starts=32, eval_every=128, num_envs=4,
                       target_update_period=16, train_every=4)


def test_short_run_compile_is_quick_compile_and_more():
    assert SHORT_RUN_COMPILE.items() >= QUICK_COMPILE.items()
    assert SHORT_RUN_COMPILE["xla_cpu_use_fusion_emitters"] is False


def test_quick_xla_flags_spell_the_same_settings():
    assert QUICK_XLA_FLAGS.split() == [f"--{name}={str(value).lower()}" for name, value in QUICK_COMPILE.items()]


@pytest.mark.parametrize("options", [QUICK_COMPILE, SHORT_RUN_COMPILE], ids=["quick", "short_run"])
def test_options_compile_a_training_run_that_agrees_with_xla_defaults(options):
    """An option XLA does not know fails here, at compile time. Losses are compared early, before
    last-bit differences have grown into another run."""
    train = dqn.make_train(TINY)
    reference = jax.jit(train)(jax.random.key(3))
    result = jax.jit(train, compiler_options=options)(jax.random.key(3))
    np.testing.assert_array_equal(result.steps.done[:64], reference.steps.done[:64])
    np.testing.assert_allclose(result.steps.loss[:64], reference.steps.loss[:64], rtol=1e-4, atol=1e-6)


def test_an_unknown_option_is_an_error():
    with pytest.raises(Exception, match="no_such_option"):
        jax.jit(lambda x: x + 1, compiler_options={"xla_no_such_option": True})(1.0)
