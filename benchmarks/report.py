"""Targets, the Markdown table and the plot, from a results dictionary (``benchmarks/results.json``)."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from benchmarks.chapters import HELD_BY_CALLBACKS  # noqa: E402

DQN_TARGET = 20_000.0  # steps/s, article configuration, steady state
DQN_SOLVE_STEADY_TARGET = 1.0  # seconds: median over seeds of the wall time until a greedy mean >= 475
DQN_SOLVE_FIRST_CALL_TARGET = 3.0  # seconds, the same with compilation
PPO_COMPILE_TARGET = 3.0  # seconds
CACHE_FACTOR = 0.5  # a chapter's second run (persistent compilation cache filled) takes at most half the first
# PureJaxRL's code cannot ship with the course, so PPO's ratio to it is measured outside the project,
# side by side on one machine, and never here against a number from another machine.


def env_rows(results: dict[str, Any], implementation: str) -> dict[int, dict[str, Any]]:
    return {row["num_envs"]: row for row in results["environments"]["rows"] if row["implementation"] == implementation}


def _target(name: str, measured: float | None, target: float, unit: str, at_most: bool = False) -> dict[str, Any]:
    """One row: ``met`` when ``measured`` >= ``target`` (<= with ``at_most``); never met unmeasured."""
    met = measured is not None and (measured <= target if at_most else measured >= target)
    return {"name": name, "measured": measured, "target": target, "unit": unit, "met": bool(met)}


def gymnax_factor(num_envs: int) -> float:
    """The issue's goal: at least gymnax everywhere, at least twice gymnax from 1,024 environments on."""
    return 2.0 if num_envs >= 1024 else 1.0


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of the speed issue, with what was measured and whether it was met. Every ratio is of
    two figures from this run; a comparison that could not run here is shown unmeasured, never filled in
    from another machine."""
    out = []
    ours, gymnax = env_rows(results, "course_lib step_batch") or env_rows(results, "course_lib"), env_rows(results, "gymnax")
    for num_envs, row in sorted(ours.items()):
        other = gymnax.get(num_envs)
        ratio = row["steps_per_second"] / other["steps_per_second"] if other else None
        envs = f"{num_envs:,} env{'s' if num_envs > 1 else ''}"
        out.append(_target(f"CartPole, {envs}: course_lib (step_batch) / gymnax, same run", ratio,
                           gymnax_factor(num_envs), "x"))  # fmt: skip
    dqn = results["dqn"]
    solve = dqn["time_to_475"]
    seeds = len(solve["seeds"])
    out.append(_target(f"DQN FAST_CONFIG solves CartPole (greedy mean >= 475), seeds of {seeds}", solve["solved"], seeds, "seeds"))
    out.append(_target("DQN FAST_CONFIG time to 475, median over seeds, steady (SHORT_RUN_COMPILE, as chapter 05)", solve["median_steady_seconds"],
                       DQN_SOLVE_STEADY_TARGET, "s", at_most=True))  # fmt: skip
    out.append(_target("DQN FAST_CONFIG time to 475, median over seeds, with compile (SHORT_RUN_COMPILE, as chapter 05)", solve["median_first_call_seconds"],
                       DQN_SOLVE_FIRST_CALL_TARGET, "s", at_most=True))  # fmt: skip
    out.append(_target("DQN, article configuration, steady", dqn["article"]["scan"]["steps_per_second"], DQN_TARGET,
                       "steps/s"))  # fmt: skip
    out.append(_target("PPO compile, QUICK_COMPILE as chapters 06 and 07 use it",
                       results["ppo"]["one_seed_quick_compile"]["compile"], PPO_COMPILE_TARGET, "s", at_most=True))  # fmt: skip
    out.append(_target("PPO compile, XLA's default options", results["ppo"]["one_seed"]["compile"],
                       PPO_COMPILE_TARGET, "s", at_most=True))  # fmt: skip
    for row in results.get("chapters", []):
        out.append(_target(f"chapter {row['chapter']}, first run", row["first_run"], row["budget"], "s", at_most=True))
        out.append(_target(f"chapter {row['chapter']}, second run / first run (compilation cache)",
                           row["second_run"] / row["first_run"], CACHE_FACTOR, "x", at_most=True))  # fmt: skip
    return out


def rate(value: float | None) -> str:
    if value is None:
        return "-"
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value:.3g}"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def formatted(value: float | None, unit: str) -> str:
    if value is None:
        return "not measured"
    if unit == "s":
        return seconds(value)
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "seeds":
        return f"{value:.0f}"
    return rate(value)


def solve_lines(solve: dict[str, Any]) -> list[str]:
    """DQN's time to 475 over seeds: one summary line and a row per seed."""
    lines = [
        f"* DQN, {solve.get('label', 'tuned configuration')}: greedy evaluation (20 episodes) first >= 475 on "
        f"{solve['solved']} of {len(solve['seeds'])} seeds within {solve['num_steps']:,} steps"
        f"{', each run stopping there' if solve.get('stop_at') is not None else ''}; median "
        f"{seconds(solve['median_steady_seconds'])} ({seconds(solve['median_first_call_seconds'])}), "
        f"compile {seconds(solve['compile'])}. Per seed:",
        "",
        "  | seed | steps to 475 | steady | with compile | best evaluation |",
        "  |---:|---:|---:|---:|---:|",
    ]
    for row in solve["seeds"]:
        steps = f"{row['steps']:,}" if row["reached"] else "not reached"
        lines.append(f"  | {row['seed']} | {steps} | {seconds(row['steady_seconds'])} "
                     f"| {seconds(row['first_call_seconds'])} | {row['best_evaluation']:.0f} |")  # fmt: skip
    lines.append("")
    return lines


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        f"Measured {meta['date']} on {meta['cpu']} ({meta['cores']} cores, XLA compiling for {meta.get('isa', '?')}), "
        f"jax {meta['jax']}, Python {meta['python']}"
        f"{', QUICK MODE (tiny sizes, not comparable)' if results['quick'] else ''}. "
        f"Every figure is the median of {results['repeats']} runs after compilation unless stated; compile times "
        "apart. Every ratio divides two figures of this run.",
        "",
        "**Targets**",
        "",
        "| target | measured | goal | |",
        "|---|---:|---:|---|",
    ]
    for target in results["targets"]:
        unit = target.get("unit", "steps/s")
        goal = ("<= " if unit in ("s",) or "second run" in target["name"] else ">= ") + formatted(target["target"], unit)
        verdict = "met" if target["met"] else "**missed**"
        lines.append(f"| {target['name']} | {formatted(target['measured'], unit)} | {goal} | {verdict} |")

    ours, gymnax = env_rows(results, "course_lib"), env_rows(results, "gymnax")
    vector, single = env_rows(results, "gymnasium make_vec"), env_rows(results, "gymnasium")
    lines += [
        "",
        "**CartPole, random actions, steps per second** (auto-reset; JAX: `jit` of `lax.scan` over `vmap`)",
        "",
        "| environments | course_lib `vmap(step)` | course_lib `step_batch` | gymnax | gymnasium `make_vec` "
        "| `step_batch` / gymnax | compile (`step_batch`) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    batched = env_rows(results, "course_lib step_batch")
    for num_envs, row in sorted(ours.items()):
        other, fast = gymnax.get(num_envs), batched.get(num_envs, row)
        ratio = f"{fast['steps_per_second'] / other['steps_per_second']:.2f}x" if other else "-"
        lines.append(
            f"| {num_envs:,} | {rate(row['steps_per_second'])} | {rate(fast['steps_per_second'])} "
            f"| {rate(other['steps_per_second']) if other else '-'} "
            f"| {rate(vector[num_envs]['steps_per_second']) if num_envs in vector else '-'} | {ratio} "
            f"| {seconds(fast['compile'])} |"
        )
    if 1 in single:
        lines.append(f"\ngymnasium `CartPole-v1`, one environment in a Python loop: {rate(single[1]['steps_per_second'])} steps/s.")

    dqn, ppo = results["dqn"], results["ppo"]
    lines += [
        "",
        "**Training, environment steps per second (one seed unless stated)**",
        "",
        "| run | steady | with compile | compile |",
        "|---|---:|---:|---:|",
    ]
    for label, key in (("article configuration", "article"), ("tuned configuration", "tuned")):
        scan, loop = dqn[key]["scan"], dqn[key]["python_loop"]
        steps = f"{scan['steps']:,} steps"
        lines.append(f"| DQN {label}, one `lax.scan` ({steps}) | {rate(scan['steps_per_second'])} "
                     f"| {rate(scan['steps_per_second_with_compile'])} | {seconds(scan['compile'])} |")  # fmt: skip
        lines.append(f"| DQN {label}, Python loop on gymnasium ({steps}) | {rate(loop['steps_per_second'])} "
                     f"| {rate(loop['steps_per_second_with_compile'])} | - |")  # fmt: skip
    for key in ("one_seed", "one_seed_quick_compile", "many_seeds"):
        run = ppo[key]
        lines.append(f"| PPO PureJaxRL configuration, {run['seeds']} seed{'s' if run['seeds'] > 1 else ''}"
                     f"{' (`vmap`)' if key == 'many_seeds' else ''}"
                     f"{', `QUICK_COMPILE`' if key == 'one_seed_quick_compile' else ''}, {run['steps']:,} steps "
                     f"| {rate(run['steps_per_second'])} | {rate(run['steps_per_second_with_compile'])} "
                     f"| {seconds(run['compile'])} |")  # fmt: skip

    lines += ["", "**Wall time until a return of 475** (steady; with compile in brackets)", ""]
    for solve in (dqn[key] for key in ("time_to_475", "time_to_475_quick_compile", "time_to_475_one_env") if key in dqn):
        lines += solve_lines(solve)
    for key in ("one_seed", "many_seeds"):
        run, reach = ppo[key], ppo[key]["time_to_475"]
        who = "one seed" if run["seeds"] == 1 else f"mean of {run['seeds']} seeds (`vmap`)"
        if reach["reached"]:
            lines.append(f"* PPO, {who}: mean episode return over the last 10 updates first >= 475 after "
                         f"{reach['steps']:,} steps per seed: {seconds(reach['steady_seconds'])} "
                         f"({seconds(reach['first_call_seconds'])}); "
                         f"{run['seeds_at_least_475']} of {run['seeds']} end >= 475.")  # fmt: skip
        else:
            lines.append(f"* PPO, {who}: not reached; {run['seeds_at_least_475']} of {run['seeds']} end >= 475.")
    if results.get("chapters"):
        lines += [
            "",
            "**Chapters, top to bottom in a fresh kernel** (compile: JAX's own tracing, lowering and XLA "
            "compile events; second run: a new kernel, the persistent compilation cache filled by the first; "
            "held by callbacks: the second run's XLA compile of programs that hold a host callback, which JAX "
            "never writes to the cache)",
            "",
            "| chapter | first run | of which compile | second run | of which compile | held by callbacks "
            "| second / first | budget |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in results["chapters"]:
            held = row["second_run_xla_by_fate"].get(HELD_BY_CALLBACKS, 0.0)  # absent: nothing held
            lines.append(f"| {row['chapter']} | {seconds(row['first_run'])} | {seconds(row['first_run_compile'])} "
                         f"| {seconds(row['second_run'])} | {seconds(row['second_run_compile'])} "
                         f"| {seconds(held)} "
                         f"| {row['second_run'] / row['first_run']:.2f} | {seconds(row['budget'])} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], path: str) -> None:
    # One panel above the other, 7 inches wide: the book's column is about 750 px, so at 110 dpi the
    # figure shows at its own size and its labels stay readable (side by side they were scaled to 2/3).
    fig, (left, right) = plt.subplots(2, 1, figsize=(7, 8), gridspec_kw={"height_ratios": [1, 0.9]})
    styles = {"course_lib": ("C0", "o"), "course_lib step_batch": ("C3", "D"), "gymnax": ("C1", "s"),
              "gymnasium make_vec": ("C2", "^")}  # fmt: skip
    for implementation, (color, marker) in styles.items():
        rows = env_rows(results, implementation)
        if rows:
            sizes = sorted(rows)
            left.plot(sizes, [rows[n]["steps_per_second"] for n in sizes], marker=marker, color=color, label=implementation)
    single = env_rows(results, "gymnasium")
    if 1 in single:
        left.axhline(single[1]["steps_per_second"], color="0.5", linestyle=":", label="gymnasium, 1 env, Python loop")
    left.set(xscale="log", yscale="log", xlabel="environments side by side", ylabel="steps per second",
             title="CartPole with random actions")  # fmt: skip
    left.legend(fontsize=8)
    left.grid(alpha=0.3, which="both")

    dqn, ppo = results["dqn"], results["ppo"]
    bars = [
        ("DQN article, Python loop", dqn["article"]["python_loop"]["steps_per_second"], "C2"),
        ("DQN article, lax.scan", dqn["article"]["scan"]["steps_per_second"], "C0"),
        ("DQN tuned, Python loop", dqn["tuned"]["python_loop"]["steps_per_second"], "C2"),
        ("DQN tuned, lax.scan", dqn["tuned"]["scan"]["steps_per_second"], "C0"),
        ("PPO, course_lib, 1 seed", ppo["one_seed"]["steps_per_second"], "C0"),
        (f"PPO, course_lib, {ppo['many_seeds']['seeds']} seeds (vmap)", ppo["many_seeds"]["steps_per_second"], "C0"),
    ]
    right.barh([b[0] for b in bars], [b[1] for b in bars], color=[b[2] for b in bars])
    right.axvline(DQN_TARGET, color="C3", linewidth=0.8, linestyle="--", label=f"DQN target, {DQN_TARGET:,.0f}")
    right.legend(fontsize=8, loc="upper right")
    right.set(xscale="log", xlabel="environment steps per second (steady)", title="Training")
    right.invert_yaxis()
    right.grid(alpha=0.3, axis="x", which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
