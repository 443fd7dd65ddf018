"""fogg's attribution beside ChannelAttribution's, on the package's own
sample file (Data.csv, shipped in its wheel).

For orders 1 to 3, with and without the journeys that did not convert:
- the package's `markov_model` (simulated, `nsim_start` journeys at least)
  against `fogg attribute --max-steps auto` (exact): every channel's
  conversion and value removal effect must be within SIGMAS standard
  errors of the package's simulation;
- the package's `heuristic_models` against fogg's first, last and linear
  touch, conversions and value: equal to 1e-9 (relative).

The standard errors are those of the package's own estimate. It walks its
journeys in `nfold` folds and returns the removal effects of one fold (the
one nearest the folds' median), so an estimate rests on the conversions of
nsim / nfold journeys, nsim being the simulations the package reports it
ran. With n such conversions and a removal effect e:
- conversions: sqrt(e (1 - e) / n), the binomial error;
- value: the value-weighted share's error has no such closed form, so
  fogg estimates it the package's way: `--simulate` walks SIMULATED
  journeys on the same chain, drawing each conversion's value as the
  package does, and gives the ratio estimator's standard error, which is
  then scaled to the package's journeys: se * sqrt(SIMULATED / (nsim /
  nfold)).

Prints a Markdown table per configuration, and exits 1 when a check fails.

    python tools/channelattribution-parity.py FOGG [--simulations 1e7]
"""

import argparse
import contextlib
import io
import json
import math
import os
import re
import subprocess
import sys
import tempfile

import ChannelAttribution as ca
import pandas as pd

NFOLD = 10


def data_file():
    """The sample file inside the installed package."""
    here = os.path.dirname(ca.__file__)
    path = os.path.normpath(os.path.join(here, "..", "cypack", "data", "Data.csv"))
    if not os.path.exists(path):
        sys.exit(f"error: the package has no sample file at {path}")
    return path


SIMULATED = 1_000_000


def fogg_attribute(fogg, data, order, nulls):
    """fogg's JSON result for the file."""
    with tempfile.TemporaryDirectory() as out:
        command = [fogg, "attribute", "--paths", data, "--order", str(order),
                   "--max-steps", "auto", "--simulate", str(SIMULATED),
                   "--format", "json", "--out", out]
        if not nulls:
            command.append("--no-null")
        run = subprocess.run(command, capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"error: {' '.join(command)} failed:\n{run.stderr}")
        return json.loads(run.stdout)


def package_markov(frame, order, nulls, simulations, seed):
    """The package's removal effects, with the simulations it ran and the
    maximum number of steps it used."""
    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        result = ca.markov_model(
            frame, "path", "total_conversions",
            var_value="total_conversion_value",
            var_null="total_null" if nulls else None,
            order=order, nsim_start=int(simulations), out_more=True,
            ncore=os.cpu_count() or 1, nfold=NFOLD, seed=seed, flg_pro=False)
    text = said.getvalue()
    ran = [int(n) for n in re.findall(r"Number of simulations: (\d+)", text)]
    steps = re.findall(r"maximum number of steps \((\d+)\)", text)
    if not ran or not steps:
        sys.exit(f"error: the package did not say how many journeys it simulated:\n{text}")
    effects = result["removal_effects"].set_index("channel_name")
    return effects, ran[-1], int(steps[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("fogg", help="the fogg binary")
    parser.add_argument("--simulations", type=float, default=1e7,
                        help="the package's nsim_start (default 1e7)")
    parser.add_argument("--sigmas", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    data = data_file()
    frame = pd.read_csv(data, sep=";")
    failures = []

    # Heuristics: exactly.
    fogg = fogg_attribute(args.fogg, data, 1, True)
    ours = {c["channel"]: c for c in fogg["channels"]}
    theirs = ca.heuristic_models(frame, "path", "total_conversions",
                                 var_value="total_conversion_value",
                                 flg_pro=False).set_index("channel_name")
    pairs = [("first_touch", "first_touch_conversions"), ("last_touch", "last_touch_conversions"),
             ("linear_touch", "linear_touch_conversions"), ("first_touch_value", "first_touch_value"),
             ("last_touch_value", "last_touch_value"), ("linear_touch_value", "linear_touch_value")]
    worst = 0.0
    for channel, row in theirs.iterrows():
        for mine, package in pairs:
            a, b = ours[channel][mine], float(row[package])
            gap = abs(a - b) / max(abs(b), 1.0)
            worst = max(worst, gap)
            if gap > 1e-9:
                failures.append(f"heuristics: {channel} {mine}: fogg {a} vs package {b}")
    print(f"## Heuristics\n\n{len(theirs)} channels × 6 values; largest relative difference {worst:.1e}\n")

    for order in (1, 2, 3):
        for nulls in (True, False):
            name = f"order {order}, {'with nulls' if nulls else 'without nulls (var_null=None)'}"
            fogg = fogg_attribute(args.fogg, data, order, nulls)
            ours = {c["channel"]: c for c in fogg["channels"]}
            effects, ran, steps = package_markov(frame, order, nulls, args.simulations, args.seed)
            if steps != fogg["max_steps"]:
                failures.append(f"{name}: the package cut at {steps} steps, fogg at {fogg['max_steps']}")
            n = ran / NFOLD * fogg["conversion_probability"]
            scale = math.sqrt(SIMULATED / (ran / NFOLD))
            print(f"## {name}\n\nthe package simulated {ran:,} journeys ({ran // NFOLD:,} a fold), "
                  f"cut at {steps} steps (fogg: {fogg['max_steps']})\n")
            print("| channel | fogg | package | σ | diff/σ | fogg value | package value | σ | diff/σ |")
            print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            for channel, row in effects.iterrows():
                mine = ours[channel]
                e, p = mine["removal_effect"], float(row["removal_effects_conversion"])
                se = math.sqrt(max(e * (1 - e), 1e-12) / n)
                ev, pv = mine["value_removal_effect"], float(row["removal_effects_conversion_value"])
                sev = max(mine["simulated_value_removal_effect_se"] * scale, 1e-9)
                z, zv = abs(e - p) / se, abs(ev - pv) / sev
                print(f"| {channel} | {e:.5f} | {p:.5f} | {se:.5f} | {z:.1f} "
                      f"| {ev:.5f} | {pv:.5f} | {sev:.5f} | {zv:.1f} |")
                if z > args.sigmas:
                    failures.append(f"{name}: {channel} removal effect: fogg {e:.5f}, package {p:.5f} ({z:.1f}σ)")
                if zv > args.sigmas:
                    failures.append(f"{name}: {channel} value removal effect: fogg {ev:.5f}, package {pv:.5f} ({zv:.1f}σ)")
            print()
            sys.stdout.flush()

    if failures:
        print("FAILED:\n" + "\n".join(failures))
        sys.exit(1)
    print(f"parity: every removal effect within {args.sigmas:g}σ, heuristics equal")


if __name__ == "__main__":
    main()
