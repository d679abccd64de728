#!/usr/bin/env python3
"""Cold starts of two builds of the same functions, interleaved: a before/after comparison
that a busy machine skews less than two separate scripts/bench runs (each round starts A
and B of every function back to back, alternating which goes first).

Uses run.py's stand-in driver. Each side has its own app env file (KEY=VALUE lines, as
scripts/bench writes); JWT_SIGNING_KEY_SECRET is kept for the signing functions only, as in
run.py. The cold requests are scripts/bench's: none reaches DynamoDB, so no table or data is
needed, only what a function reads at init (for a signing function, its secret in the
emulator). Prints a markdown table of init and cold total, median (p90), in ms, and peak RSS.

  ab.py --stand-in BIN --a-dir DIR --a-env FILE --b-dir DIR --b-env FILE \\
        [--floors DIR] [--functions "auth accept orgs"] [--rounds 40] [--quiet-wait 600] \\
        --work DIR

Used for docs/BENCHMARKS.md's "Signing key from Secrets Manager".
"""

import argparse
import os
import statistics
import sys
import time
import types

sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (scripts/bench.d/run.py)

COLD = {
    "auth": run.Req("GET", "/.well-known/jwks.json"),
    "accept": run.Req("GET", "/invitations/preview", expect=400),
    "orgs": run.Req("GET", "/orgs", expect=401),
    "users": run.Req("GET", "/users", expect=401),
    "hello": run.Req("GET", "/hello"),
    "sdk-hello": run.Req("GET", "/hello"),
}


def side(root, work, stand_in, env):
    os.makedirs(work, exist_ok=True)
    args = types.SimpleNamespace(root=root, work=work, stand_in=stand_in, app_env=env)
    return run.Bench(args)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    p.add_argument("--work", required=True)
    p.add_argument("--stand-in", required=True)
    p.add_argument("--a-dir", required=True)
    p.add_argument("--a-env", required=True)
    p.add_argument("--a-name", default="before")
    p.add_argument("--b-dir", required=True)
    p.add_argument("--b-env", required=True)
    p.add_argument("--b-name", default="after")
    p.add_argument("--floors", help="directory with hello and/or sdk-hello (run with A's env)")
    p.add_argument("--functions", default="auth accept orgs")
    p.add_argument("--rounds", type=int, default=40)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--quiet-wait", type=int, default=600,
                   help="seconds to wait for other processes to go quiet before measuring")
    a = p.parse_args()

    benches = {
        a.a_name: side(a.root, os.path.join(a.work, "a"), a.stand_in, a.a_env),
        a.b_name: side(a.root, os.path.join(a.work, "b"), a.stand_in, a.b_env),
    }
    dirs = {a.a_name: a.a_dir, a.b_name: a.b_dir}
    runs = []  # (label, bench, target, request)
    if a.floors:
        for name in ["hello", "sdk-hello"]:
            if not os.path.exists(os.path.join(a.floors, name)):
                continue
            t = run.Target(name, "floor", [os.path.join(a.floors, name)])
            runs.append((f"*{name}*", benches[a.a_name], t, COLD[name]))
    for name in a.functions.split():
        for label in (a.a_name, a.b_name):
            t = run.Target(name, "function", [os.path.join(dirs[label], name)])
            runs.append((f"**{name}** {label}", benches[label], t, COLD[name]))

    for label, bench, t, req in runs:
        for _ in range(a.warmup):
            bench.start(t, req, "cold", log_tag="warmup")
    quiet = run.wait_for_quiet(a.quiet_wait)
    b0, o0, t0 = run.cpu_busy_seconds(), run.own_cpu_seconds(), time.monotonic()
    results = {label: [] for label, *_ in runs}
    for r in range(a.rounds):
        order = runs if r % 2 == 0 else list(reversed(runs))
        for label, bench, t, req in order:
            results[label].append(bench.start(t, req, "cold"))
        if (r + 1) % 10 == 0:
            run.log(f"  {r + 1}/{a.rounds} rounds")
    foreign = (run.cpu_busy_seconds() - b0 - (run.own_cpu_seconds() - o0)) / (
        time.monotonic() - t0)

    print(f"{a.rounds} interleaved cold starts per row (after {a.warmup} unrecorded); other "
          f"processes used {quiet:.2f} cores just before and {foreign:.2f} during. "
          f"Times in ms, median (p90).\n")
    print("| target | size | init | cold total | peak RSS MiB | cold request |")
    print("|---|---:|---:|---:|---:|---|")
    for label, _, t, req in runs:
        init = [x["init_ns"] for x in results[label]]
        total = [x["cold_total_ns"] for x in results[label]]
        what = "constant" if t.kind == "floor" else f"{req.label()} → {req.expect}"
        size = os.path.getsize(t.program[0]) / 1e6
        rss = max(x["vmhwm_kb"] for x in results[label]) / 1024
        print(f"| {label} | {size:.2f} MB | {run.fmt_ms(init)} | {run.fmt_ms(total)} | "
              f"{rss:.1f} | {what} |")
    print()
    names = a.functions.split()
    for name in names:
        med = {}
        for label in (a.a_name, a.b_name):
            key = f"**{name}** {label}"
            med[label] = (
                statistics.median(x["init_ns"] for x in results[key]),
                statistics.median(x["cold_total_ns"] for x in results[key]),
            )
        d_init = run.ms(med[a.b_name][0] - med[a.a_name][0])
        d_total = run.ms(med[a.b_name][1] - med[a.a_name][1])
        print(f"- {name}: init {d_init:+.2f} ms, cold total {d_total:+.2f} ms "
              f"({a.b_name} minus {a.a_name}, medians)")


if __name__ == "__main__":
    main()
