"""Shared test set-up: every test runs JAX on the CPU. (The repository's root is on the import path
through pytest's ``pythonpath`` setting in pyproject.toml, so ``tools`` and ``benchmarks`` import as
packages.)"""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
