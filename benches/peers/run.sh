#!/usr/bin/env bash
# Side-by-side peer benchmarks on `seed` (docs/validation.md, "Peer benchmarks"):
#   (a) probcurrent solve vs a numpy backward-Euler Scharfetter–Gummel stepper and SciPy
#       solve_ivp BDF, time to accuracy (W1 against a converged solution) at t = 500;
#   (b) probcurrent mc vs a vectorised numpy SGD stepper, particle-steps per second.
#
# usage: benches/peers/run.sh [--quick] [fp|mc|all]
# environment:
#   PEERS_VENV       virtual environment to create/use (default target/peers-venv)
#   PROBCURRENT_BIN  binary to benchmark (default: target/release/probcurrent, built
#                    with `cargo build --release` when missing or out of date)
#   PEERS_CORES      processes/threads for (b) (default: all cores)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${PEERS_VENV:-$root/target/peers-venv}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    echo "creating the virtual environment $venv" >&2
    "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" - "$here/requirements.txt" <<'PY' 2>/dev/null; then
import sys
from importlib.metadata import version
want = [l.split("==") for l in open(sys.argv[1]) if "==" in l and not l.startswith("#")]
sys.exit(any(version(n.strip()) != v.strip() for n, v in want))
PY
    echo "installing $(grep -v '^#' "$here/requirements.txt" | tr '\n' ' ')into $venv" >&2
    "$venv/bin/python" -m pip install --quiet -r "$here/requirements.txt" >&2
fi

if [ -n "${PROBCURRENT_BIN:-}" ]; then
    bin="$PROBCURRENT_BIN"
else
    bin="$root/target/release/probcurrent"
    # build only when the binary is missing or older than a source file (a needless
    # `cargo build` may relink with another feature set than the last test build)
    if [ ! -x "$bin" ] || [ -n "$(cd "$root" && find src build.rs Cargo.toml Cargo.lock \
            -newer "$bin" -print -quit 2>/dev/null)" ]; then
        echo "building $bin" >&2
        (cd "$root" && cargo build --release --quiet) >&2
    fi
fi

# one thread per numpy process: the peers get one core each, explicitly
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONDONTWRITEBYTECODE=1
cd "$here"
exec "$venv/bin/python" peers.py "$bin" "$@"
