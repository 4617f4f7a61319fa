"""Monte Carlo throughput on `seed`: `probcurrent mc` beside a vectorised numpy SGD stepper.

The numpy stepper follows the same SGD as `probcurrent mc --mode sgd` (batch 1, with
replacement): each step every particle draws one of the two datapoints, takes that
datapoint's gradient (datapoint 1: the shared part; datapoint 2: shared + pit) and
steps W <- W - T g, mirrored at the walls 0 and 3 (then clipped, for safety). Particles
are processed in cache-sized chunks with preallocated buffers and in-place ufuncs; the
datapoint draw is one random bit per particle (np.unpackbits of random bytes). One
process per core (multiprocessing), each with its own generator and share of the
particles. Two more variants are timed for context: the pit gradient evaluated only at
the particles that drew datapoint 2, and a plain stepper (whole arrays, an integer draw,
np.where, clipping at the walls). Both tools draw the initial truncated normal and run the same
particle-steps; throughput = particle-steps / wall seconds.
"""

import json
import multiprocessing as mp
import os
import resource
import subprocess
import time

import numpy as np
from scipy.special import ndtr, ndtri

import seed

CHUNK = 8192


def initial(rng, count):
    """Exact draws of the truncated normal by inverting its CDF."""
    lo, hi = ndtr((seed.A - seed.MEAN0) / seed.SD0), ndtr((seed.B - seed.MEAN0) / seed.SD0)
    return seed.MEAN0 + seed.SD0 * ndtri(lo + (hi - lo) * rng.random(count))


def chunk_steps(rng, w, steps, mode):
    """Advance the particles w (in place) by `steps` SGD steps."""
    n = w.size
    x = np.empty(n)
    e = np.empty(n)
    g = np.empty(n)
    nbytes = (n + 7) // 8
    for _ in range(steps):
        bits = np.unpackbits(rng.integers(0, 256, nbytes, dtype=np.uint8), count=n)
        # shared part: 2 (W-2) e^{-(W-2)^2}
        np.subtract(w, 2.0, out=x)
        np.multiply(x, x, out=e)
        np.negative(e, out=e)
        np.exp(e, out=e)
        np.multiply(x, e, out=g)
        np.multiply(g, 2.0, out=g)
        if mode == "select":
            # pit part 2k (W-1) e^{-k(W-1)^2} for every particle, kept where bit = 1
            np.subtract(w, 1.0, out=x)
            np.multiply(x, x, out=e)
            np.multiply(e, -seed.K, out=e)
            np.exp(e, out=e)
            np.multiply(x, e, out=e)
            np.multiply(e, 2.0 * seed.K, out=e)
            np.multiply(e, bits, out=e)
            np.add(g, e, out=g)
        else:
            # pit part only at the particles that drew datapoint 2
            idx = np.flatnonzero(bits)
            xs = w[idx] - 1.0
            g[idx] += 2.0 * seed.K * xs * np.exp(-seed.K * xs * xs)
        np.multiply(g, seed.LR, out=g)
        np.subtract(w, g, out=w)
        # mirror at the walls: W < 0 -> -W, W > 3 -> 6 - W
        np.abs(w, out=w)
        np.subtract(2.0 * seed.B, w, out=x)
        np.minimum(w, x, out=w)
        np.clip(w, seed.A, seed.B, out=w)


def plain_steps(rng, w, steps):
    """The straightforward stepper: whole arrays, an integer draw per particle, both
    gradients and np.where, clipping at the walls (no chunking, no in-place buffers)."""
    for _ in range(steps):
        j = rng.integers(0, 2, w.size)
        shared = seed.wide_grad(w)
        g = np.where(j == 1, shared + seed.pit_grad(w), shared)
        w = np.clip(w - seed.LR * g, seed.A, seed.B)
    return w


def worker(args):
    """One process's share: (sum of final W, sum of W^2, count, CPU seconds)."""
    count, steps, seed_value, mode = args
    start = time.process_time()
    rng = np.random.default_rng(seed_value)
    total, total2 = 0.0, 0.0
    if mode == "plain":
        w = plain_steps(rng, initial(rng, count), steps)
        return float(np.sum(w)), float(np.sum(w * w)), count, time.process_time() - start
    for lo in range(0, count, CHUNK):
        w = initial(rng, min(CHUNK, count - lo))
        chunk_steps(rng, w, steps, mode)
        total += float(np.sum(w))
        total2 += float(np.sum(w * w))
    return total, total2, count, time.process_time() - start


def run_numpy(pool, processes, particles, steps, mode):
    shares = [particles // processes + (1 if i < particles % processes else 0)
              for i in range(processes)]
    start = time.perf_counter()
    parts = pool.map(worker, [(c, steps, 1000 + i, mode) for i, c in enumerate(shares)])
    seconds = time.perf_counter() - start
    s = sum(p[0] for p in parts)
    s2 = sum(p[1] for p in parts)
    mean = s / particles
    cpu = sum(p[3] for p in parts)
    return seconds, mean, (s2 / particles - mean * mean) ** 0.5, cpu


def run_probcurrent(binary, out, threads, particles, steps):
    cmd = [binary, "--quiet", "--json", "mc", "--problem", "seed", "--particles",
           str(particles), "--t-end", str(steps), "--every", str(steps), "--out", out]
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    whole = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stderr}")
    run = json.loads(res.stdout)
    last = run["moments"][-1]
    return run["wall_s"], whole, last["mean"], last["sd"], run["particle_steps"], cpu


def main(binary, quick, tmp):
    processes = int(os.environ.get("PEERS_CORES", os.cpu_count() or 1))
    particles = 100_000 if quick else 400_000
    steps = 500
    repeats = 1 if quick else 2
    work = particles * steps
    print(f"\n== (b) Monte Carlo throughput: seed, {particles} particles x {steps} steps "
          f"= {work:.3g} particle-steps, {processes} threads / processes ==")
    ctx = mp.get_context("fork")
    with ctx.Pool(processes) as pool:
        pool.map(worker, [(CHUNK, 1, 0, "select")] * processes)  # start the workers
        pc_best, np_best, masked_best = None, None, None
        for _ in range(repeats):
            pc = run_probcurrent(binary, os.path.join(tmp, "mc"), processes, particles, steps)
            if pc[4] != work:
                raise RuntimeError(f"probcurrent ran {pc[4]} particle-steps, not {work}")
            pc_best = pc if pc_best is None or pc[0] < pc_best[0] else pc_best
            npr = run_numpy(pool, processes, particles, steps, "select")
            np_best = npr if np_best is None or npr[0] < np_best[0] else np_best
        masked_best = run_numpy(pool, processes, particles, steps, "masked")
        plain_best = run_numpy(pool, processes, particles, steps, "plain")
    rows = [
        ("probcurrent mc (its wall_s)", work / pc_best[0], work / pc_best[5], pc_best[2:4]),
        ("probcurrent mc (whole process)", work / pc_best[1], None, None),
        ("numpy stepper, both gradients + select", work / np_best[0], work / np_best[3],
         np_best[1:3]),
        ("numpy stepper, pit gradient where drawn", work / masked_best[0],
         work / masked_best[3], masked_best[1:3]),
        ("numpy stepper, plain (whole arrays, clip)", work / plain_best[0],
         work / plain_best[3], plain_best[1:3]),
    ]
    print(f"  {'tool':<42}{'per wall s':>12}{'per CPU s':>12}{'mean W':>9}{'sd W':>8}")
    for name, rate, per_cpu, moments in rows:
        cpu_txt = f"{per_cpu:>12.3e}" if per_cpu else f"{'-':>12}"
        mom = f"{moments[0]:>9.4f}{moments[1]:>8.4f}" if moments else ""
        print(f"  {name:<42}{rate:>12.3e}{cpu_txt}{mom}")
    print("  (particle-steps per second of wall time, and per CPU second summed over "
          "threads/processes; probcurrent's CPU time is its whole process; mean and sd of "
          f"W at t = {steps})")
    fastest = max(rows[2:], key=lambda r: r[1])
    print(f"  RATIO probcurrent mc / fastest numpy stepper ({fastest[0]}): "
          f"{rows[0][1] / fastest[1]:.2f}x per wall second, "
          f"{rows[0][2] / fastest[2]:.2f}x per CPU second "
          f"(whole process, wall: {rows[1][1] / fastest[1]:.2f}x; target >= 2.5x)")
    plain = rows[4]
    print(f"  ratio probcurrent mc / plain numpy stepper: {rows[0][1] / plain[1]:.2f}x per wall "
          f"second, {rows[0][2] / plain[2]:.2f}x per CPU second")
