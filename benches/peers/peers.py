"""Side-by-side peer benchmarks of probcurrent on `seed` (see docs/validation.md).

usage: peers.py BINARY [--quick] [fp|mc|all]
"""

import sys
import tempfile

import fp
import mc


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    binary, rest = argv[0], argv[1:]
    quick = "--quick" in rest
    parts = [a for a in rest if a != "--quick"] or ["all"]
    unknown = [p for p in parts if p not in ("fp", "mc", "all")]
    if unknown:
        print(f"unknown part {unknown[0]!r}: expected fp, mc or all", file=sys.stderr)
        return 2
    print("Timings are noisy on a shared machine: compare the ratios measured side by side "
          "in this run, not absolute times across runs.")
    if "fp" in parts or "all" in parts:
        fp.main(binary, quick)
    if "mc" in parts or "all" in parts:
        with tempfile.TemporaryDirectory(prefix="probcurrent-peers-mc-") as tmp:
            mc.main(binary, quick, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
