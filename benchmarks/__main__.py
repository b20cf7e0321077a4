"""``python -m benchmarks --scale small|full [--only NAME] [--list]``: run the scenarios."""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks import scenarios
from benchmarks._harness import add_common_args


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Run Grove's side-by-side benchmarks."
    )
    add_common_args(parser)
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="run only this scenario (repeatable)"
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = parser.parse_args(argv)

    found = scenarios()
    if args.list:
        for name, module in found.items():
            print(f"{name:<18} {module.DESCRIPTION}")
        return 0

    chosen = list(found)
    if args.only:
        unknown = sorted(set(args.only) - set(found))
        if unknown:
            parser.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(found)}")
        chosen = [name for name in found if name in args.only]

    started = time.perf_counter()
    for name in chosen:
        module = found[name]
        print(f"\n=== {name} (scale {args.scale}) — {module.DESCRIPTION}", flush=True)
        module.run(scale=args.scale, reps=args.reps, skip_peers=args.skip_peers)
    print(f"\nall scenarios done in {time.perf_counter() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
