"""pyproject.toml, requirements.lock and environment.yml describe one environment."""

import re
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def lock_pins(path: Path = ROOT / "requirements.lock") -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{path.name}: '{line}' is not pinned with =="
            pins[canonicalize_name(name)] = version
    return pins


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


# Extras that live outside the course environment, each with its own lock (installed by its make target).
SEPARATE_LOCKS = {"bench": ROOT / "benchmarks" / "requirements-bench.lock"}


def pyproject_requirements() -> list[Requirement]:
    """The requirements of the course environment: dependencies and every extra but SEPARATE_LOCKS."""
    project = pyproject()["project"]
    groups = [group for name, group in project["optional-dependencies"].items() if name not in SEPARATE_LOCKS]
    return [Requirement(text) for text in project["dependencies"] + [req for group in groups for req in group]]


def environment_yml() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def environment_pins() -> tuple[str, dict[str, str], list[str]]:
    python, pins, other = None, {}, []
    for entry in environment_yml()["dependencies"]:
        if isinstance(entry, dict):
            for line in entry["pip"]:
                if "==" in line and not line.startswith("-"):
                    name, _, version = line.partition("==")
                    pins[canonicalize_name(name)] = version
                else:
                    other.append(line)
        elif entry.startswith("python="):
            python = entry.split("=", 1)[1]
    return python, pins, other


def test_every_pyproject_requirement_is_locked_at_a_version_it_allows():
    pins = lock_pins()
    for requirement in pyproject_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is in pyproject.toml but not in requirements.lock"
        assert pins[name] in requirement.specifier, (
            f"requirements.lock pins {name}=={pins[name]}, outside pyproject.toml's '{requirement}'"
        )


def test_environment_yml_pins_the_direct_dependencies_at_the_locked_versions():
    _, env_pins, _ = environment_pins()
    direct = {canonicalize_name(requirement.name) for requirement in pyproject_requirements()}
    assert set(env_pins) == direct, f"environment.yml and pyproject.toml list different packages: {set(env_pins) ^ direct}"
    pins = lock_pins()
    for name, version in env_pins.items():
        assert version == pins[name], f"environment.yml pins {name}=={version}, the lock {pins[name]}"


def test_environment_yml_installs_the_package_under_the_lock():
    _, _, other = environment_pins()
    assert "-c requirements.lock" in other, "environment.yml must constrain pip with the lock"
    assert any(line.startswith("-e .") for line in other), "environment.yml must install course_lib itself"


def test_environment_yml_python_satisfies_requires_python():
    python, _, _ = environment_pins()
    assert python, "environment.yml must pin python"
    assert SpecifierSet(pyproject()["project"]["requires-python"]).contains(python + ".0")


def test_jax_and_haiku_are_pinned_as_a_pair():
    """dm-haiku 0.0.16 breaks on jax >= 0.11; the pair must move together."""
    pins = lock_pins()
    assert pins["jax"] == pins["jaxlib"], "jax and jaxlib must have the same version"
    specifiers = {canonicalize_name(r.name): r.specifier for r in pyproject_requirements()}
    assert "0.11.0" not in specifiers["jax"], "allowing jax 0.11 needs a dm-haiku known to work with it"


def test_the_running_environment_is_the_locked_one():
    """The tests themselves run on the locked versions (catches a .venv set up from something else)."""
    from importlib.metadata import version

    pins = lock_pins()
    for name in ("jax", "jaxlib", "dm-haiku", "optax", "gymnasium", "numpy"):
        assert version(name) == pins[name], f"installed {name} {version(name)}, locked {pins[name]}"
    assert sys.version_info >= (3, 11)


def test_each_separately_locked_extra_is_pinned_in_its_own_lock_without_contradicting_the_course():
    extras = pyproject()["project"]["optional-dependencies"]
    course = lock_pins()
    for name, path in SEPARATE_LOCKS.items():
        pins = lock_pins(path)
        for requirement in map(Requirement, extras[name]):
            package = canonicalize_name(requirement.name)
            assert package in pins, f"{requirement.name} (extra '{name}') is not in {path.name}"
            assert pins[package] in requirement.specifier, f"{path.name} pins {package}=={pins[package]}"
        clashes = {package for package in pins if package in course and pins[package] != course[package]}
        assert not clashes, f"{path.name} would change packages of the course environment: {sorted(clashes)}"
        # It holds what the extra needs beyond requirements.lock; a second pin would be one more to keep in step.
        doubled = sorted(package for package in pins if package in course)
        assert not doubled, f"{path.name} pins again what requirements.lock pins: {doubled}"
