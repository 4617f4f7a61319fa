"""The numpy/scipy peers of `probcurrent solve` on `seed`.

* `sg_backward_euler`: the textbook Scharfetter-Gummel flux (Scharfetter & Gummel 1969)
  fitted on P with the face-midpoint exponent, J = (D/h)[B(-Pe) P_L - B(Pe) P_R],
  Pe = (-T G - D') h / D at the face, B(x) = x / (e^x - 1), first-order upwind where
  D = 0 or Pe overflows; zero-flux walls; backward Euler with the tridiagonal matrix
  I - dt A factorised once (LAPACK dgttrf) and one dgttrs solve per step.
* `bdf`: SciPy's solve_ivp BDF on the same semi-discretisation dP/dt = A P with A as
  a sparse Jacobian.
Each returns (edges, density at t_end, seconds of set-up + solve).
"""

import time

import numpy as np
from scipy.integrate import solve_ivp
from scipy.linalg.lapack import dgttrf, dgttrs
from scipy.sparse import diags

import seed


def bernoulli(x):
    """B(x) = x / (e^x - 1) without overflow or cancellation (B(0) = 1)."""
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    small = np.abs(x) < 1e-5
    pos = (x > 0.0) & ~small
    neg = (x < 0.0) & ~small
    xs = x[small]
    out[small] = 1.0 - 0.5 * xs + xs * xs / 12.0
    xp = x[pos]
    out[pos] = xp * np.exp(-xp) / -np.expm1(-xp)
    xn = x[neg]
    out[neg] = xn / np.expm1(xn)
    return out


def operator(n):
    """Uniform edges and the tridiagonal (lower, diag, upper) of A with dP/dt = A P."""
    edges = np.linspace(seed.A, seed.B, n + 1)
    h = (seed.B - seed.A) / n
    faces = edges[1:-1]
    g, d, d_prime = seed.coefficients(faces)
    v = -seed.LR * g - d_prime
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        pe = v * h / d
    fitted = (d > 0.0) & np.isfinite(pe)
    pe_safe = np.where(fitted, pe, 0.0)
    alpha = np.where(fitted, d / h * bernoulli(-pe_safe), np.maximum(v, 0.0))
    beta = np.where(fitted, d / h * bernoulli(pe_safe), np.maximum(-v, 0.0))
    # J_{i+1/2} = alpha P_i - beta P_{i+1}; dP_i/dt = -(J_{i+1/2} - J_{i-1/2}) / h
    diag = np.zeros(n)
    diag[:-1] -= alpha / h
    diag[1:] -= beta / h
    upper = beta / h
    lower = alpha / h
    return edges, lower, diag, upper


def sg_backward_euler(n, dt, t_end):
    """Backward Euler on the SG operator, factorised once; (edges, P(t_end), seconds)."""
    start = time.perf_counter()
    edges, lower, diag, upper = operator(n)
    p = seed.initial_density(edges)
    steps = int(round(t_end / dt))
    dl, d, du, du2, ipiv, info = dgttrf(-dt * lower, 1.0 - dt * diag, -dt * upper)
    if info != 0:
        raise RuntimeError(f"dgttrf failed (info {info}) at n = {n}, dt = {dt}")
    for _ in range(steps):
        p, info = dgttrs(dl, d, du, du2, ipiv, p)
    seconds = time.perf_counter() - start
    return edges, p, seconds


def bdf(n, rtol, atol, t_end):
    """solve_ivp(method='BDF') with the constant sparse Jacobian A; (edges, P, seconds)."""
    start = time.perf_counter()
    edges, lower, diag, upper = operator(n)
    a = diags([lower, diag, upper], [-1, 0, 1], format="csr")
    p0 = seed.initial_density(edges)
    sol = solve_ivp(
        lambda _t, y: a @ y,
        (0.0, t_end),
        p0,
        method="BDF",
        jac=a,
        rtol=rtol,
        atol=atol,
        t_eval=[t_end],
    )
    seconds = time.perf_counter() - start
    if not sol.success:
        raise RuntimeError(f"solve_ivp BDF failed at n = {n}: {sol.message}")
    return edges, sol.y[:, -1], seconds
