//! The plain-text rendering of an [`EscapeReport`]: one line per method, then the
//! automatic choices of `from`/`past` and the verdict against Monte Carlo of SGD.

use std::fmt::Write as _;

use super::EscapeReport;

impl EscapeReport {
    /// Plain-text summary (what `probcurrent escape` prints).
    pub fn text(&self) -> String {
        let mut s = String::new();
        for line in &self.auto {
            let _ = writeln!(s, "{line}");
        }
        let _ = writeln!(
            s,
            "mean first-passage time of `{}` (T = {}, B = {}) from W = {} past W = {} (reflecting wall at {})",
            self.problem, self.lr, self.batch, self.from, self.past, self.wall
        );
        match &self.formula {
            Some(f) => {
                let _ = writeln!(
                    s,
                    "  formula (double integral)       τ = {:.6e} steps (quadrature error ~{:.0e}; reflecting end {:.6})",
                    f.tau, f.rel_error, f.reflecting_end
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "  formula (double integral)       n/a: {}",
                    self.formula_note.as_deref().unwrap_or("")
                );
            }
        }
        match &self.kramers {
            Some(k) => {
                let _ = writeln!(
                    s,
                    "  Kramers (large barrier)         τ = {:.6e} steps (minimum {:.5}, barrier {:.5}, ΔΦ = {:.3}, factor {:.3})",
                    k.tau, k.minimum, k.barrier, k.delta_phi, k.past_factor
                );
            }
            None => {
                let _ = writeln!(s, "  Kramers (large barrier)         n/a (no minimum and barrier top before `past`)");
            }
        }
        self.text_pde(&mut s);
        self.text_mc(&mut s);
        if let Some(v) = &self.verdict {
            let _ = writeln!(s, "{}", v.line);
        }
        s
    }

    /// The discrete operator's lines.
    fn text_pde(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "  PDE {} ({} cells), backward equation  τ = {:.6e} steps",
            self.pde.flux, self.pde.cells, self.pde.tau
        );
        let _ = writeln!(
            s,
            "  PDE, ∫ survival dt (backward Euler)     τ = {:.6e} steps",
            self.pde.tau_survival
        );
        match self.pde.escape_rate {
            Some(r) => {
                let _ = writeln!(
                    s,
                    "  PDE escape rate λ₀ (smallest eigenvalue of −A): {r:.6e} per step, 1/λ₀ = {:.6e} steps",
                    1.0 / r
                );
            }
            None if self.pde.tau.is_infinite() => {
                let _ = writeln!(
                    s,
                    "  PDE escape rate λ₀ = 0: some mass never reaches `past`"
                );
            }
            None => {
                let _ = writeln!(s, "  PDE escape rate: not resolved");
            }
        }
    }

    /// The Monte Carlo lines.
    fn text_mc(&self, s: &mut String) {
        for m in &self.mc {
            if m.censored == 0 {
                let _ = writeln!(
                    s,
                    "  Monte Carlo {:<9} ({} particles) τ = {:.6e} ± {:.2e} steps (1 s.e.; median {})",
                    m.mode.as_str(),
                    m.particles,
                    m.mean,
                    m.se,
                    m.median
                );
            } else {
                let _ = writeln!(
                    s,
                    "  Monte Carlo {:<9} ({} particles) τ > {:.6e} steps: {} of {} still inside after {} steps",
                    m.mode.as_str(),
                    m.particles,
                    m.mean,
                    m.censored,
                    m.particles,
                    m.max_steps
                );
            }
        }
    }
}
