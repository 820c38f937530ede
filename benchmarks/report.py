"""Targets, the Markdown table and the plot, from a results dictionary (``benchmarks/results.json``)."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Anchors measured on this machine kind (2 CPU cores) with the other projects' own code; see the issue
# "Benchmarks" and ../shared/FACTS.md. The environment comparison is measured again in every run.
GYMNAX_ANCHOR = {1: 316e3, 64: 1.96e6, 1024: 4.76e6, 16384: 8.31e6}
PUREJAXRL_STEPS_PER_SECOND = 88.8e3  # PureJaxRL PPO, CartPole config, steady state
DQN_TARGET = 20_000.0  # steps/s, article configuration, steady state
PPO_FACTOR = 1.2  # times PureJaxRL's steady throughput
PPO_COMPILE_TARGET = 4.0  # seconds


def env_rows(results: dict[str, Any], implementation: str) -> dict[int, dict[str, Any]]:
    return {row["num_envs"]: row for row in results["environments"]["rows"] if row["implementation"] == implementation}


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of the issue, with what was measured and whether it was met."""
    out = []
    ours, gymnax = env_rows(results, "course_lib"), env_rows(results, "gymnax")
    for num_envs, row in sorted(ours.items()):
        if num_envs in gymnax:
            goal, against = gymnax[num_envs]["steps_per_second"], "gymnax, same run"
        elif num_envs in GYMNAX_ANCHOR:
            goal, against = GYMNAX_ANCHOR[num_envs], "gymnax anchor (not installed)"
        else:
            continue
        out.append({
            "name": f"CartPole steps/s, {num_envs:,} env{'s' if num_envs > 1 else ''} (>= {against})",
            "measured": row["steps_per_second"], "target": goal, "met": row["steps_per_second"] >= goal,
        })  # fmt: skip
    article = results["dqn"]["article"]["scan"]["steps_per_second"]
    out.append({"name": "DQN, article configuration, steady steps/s (>= 20,000)", "measured": article,
                "target": DQN_TARGET, "met": article >= DQN_TARGET})  # fmt: skip
    one = results["ppo"]["one_seed"]
    goal = PPO_FACTOR * PUREJAXRL_STEPS_PER_SECOND
    out.append({"name": "PPO, PureJaxRL configuration, steady steps/s (>= 1.2 x PureJaxRL's 88.8k)",
                "measured": one["steps_per_second"], "target": goal, "met": one["steps_per_second"] >= goal})  # fmt: skip
    out.append({"name": "PPO compile time, seconds (< 4)", "measured": one["compile"],
                "target": PPO_COMPILE_TARGET, "met": one["compile"] < PPO_COMPILE_TARGET})  # fmt: skip
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


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        f"Measured {meta['date']} on {meta['cpu']} ({meta['cores']} cores), jax {meta['jax']}, "
        f"Python {meta['python']}{', QUICK MODE (tiny sizes, not comparable)' if results['quick'] else ''}. "
        f"Every figure is the median of {results['repeats']} runs after compilation; compile times apart.",
        "",
        "**Targets**",
        "",
        "| target | measured | goal | |",
        "|---|---:|---:|---|",
    ]
    for target in results["targets"]:
        fmt = seconds if "seconds" in target["name"] else rate
        verdict = "met" if target["met"] else "**missed**"
        lines.append(f"| {target['name']} | {fmt(target['measured'])} | {fmt(target['target'])} | {verdict} |")

    ours, gymnax = env_rows(results, "course_lib"), env_rows(results, "gymnax")
    vector, single = env_rows(results, "gymnasium make_vec"), env_rows(results, "gymnasium")
    lines += [
        "",
        "**CartPole, random actions, steps per second** (auto-reset; JAX: `jit` of `lax.scan` over `vmap`)",
        "",
        "| environments | course_lib | gymnax | gymnasium `make_vec` | course_lib / gymnax | compile (course_lib) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for num_envs, row in sorted(ours.items()):
        other = gymnax.get(num_envs)
        ratio = f"{row['steps_per_second'] / other['steps_per_second']:.2f}x" if other else "-"
        lines.append(
            f"| {num_envs:,} | {rate(row['steps_per_second'])} | {rate(other['steps_per_second']) if other else '-'} "
            f"| {rate(vector[num_envs]['steps_per_second']) if num_envs in vector else '-'} | {ratio} "
            f"| {seconds(row['compile'])} |"
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
    for key in ("one_seed", "many_seeds"):
        run = ppo[key]
        lines.append(f"| PPO PureJaxRL configuration, {run['seeds']} seed{'s' if run['seeds'] > 1 else ''}"
                     f"{' (`vmap`)' if key == 'many_seeds' else ''}, {run['steps']:,} steps "
                     f"| {rate(run['steps_per_second'])} | {rate(run['steps_per_second_with_compile'])} "
                     f"| {seconds(run['compile'])} |")  # fmt: skip
    lines.append(f"| PPO, PureJaxRL's own code (anchor, not run here) | {rate(PUREJAXRL_STEPS_PER_SECOND)} | - | - |")

    solve = dqn["time_to_475"]
    lines += ["", "**Wall time until a return of 475** (steady; with compile in brackets)", ""]
    if solve["reached"]:
        lines.append(f"* DQN, tuned configuration, seed {solve['seed']}: greedy evaluation (20 episodes) first >= 475 "
                     f"after {solve['steps']:,} steps: {seconds(solve['steady_seconds'])} "
                     f"({seconds(solve['first_call_seconds'])}).")  # fmt: skip
    else:
        lines.append(f"* DQN, tuned configuration, seed {solve['seed']}: not reached in {solve['num_steps']:,} steps "
                     f"(best evaluation {solve['best_evaluation']:.0f}).")  # fmt: skip
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
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], path: str) -> None:
    # One panel above the other, 7 inches wide: the book's column is about 750 px, so at 110 dpi the
    # figure shows at its own size and its labels stay readable (side by side they were scaled to 2/3).
    fig, (left, right) = plt.subplots(2, 1, figsize=(7, 8), gridspec_kw={"height_ratios": [1, 0.9]})
    styles = {"course_lib": ("C0", "o"), "gymnax": ("C1", "s"), "gymnasium make_vec": ("C2", "^")}
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
        ("PPO, PureJaxRL's code (anchor)", PUREJAXRL_STEPS_PER_SECOND, "C1"),
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
