//! Landscapes given by Rust closures: a loss, gradient and curvature per datapoint (or a
//! loss and gradient, the curvature by a central difference), optionally with a part
//! shared by every datapoint.

use std::fmt;
use std::sync::Arc;

use super::{Form, Landscape, ScalarFn};

/// One datapoint given by closures for its loss, gradient and curvature.
#[derive(Clone)]
pub struct ClosureDatapoint {
    label: String,
    loss: ScalarFn,
    grad: ScalarFn,
    curv: ScalarFn,
}

/// Landscape given by Rust closures (library API, and the built-in problems).
///
/// Each datapoint is given by closures; optionally a part shared by every datapoint
/// ([`ClosureLandscape::shared`]), in which case the datapoints give only their own
/// parts r_j and the losses are l_j = s + r_j.
#[derive(Clone, Default)]
pub struct ClosureLandscape {
    shared: Option<ClosureDatapoint>,
    points: Vec<ClosureDatapoint>,
    /// The closed form of a built-in landscape (cleared by any builder call after it).
    form: Option<Form>,
}

impl fmt::Debug for ClosureLandscape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let labels: Vec<_> = self.points.iter().map(|p| p.label.as_str()).collect();
        f.debug_struct("ClosureLandscape")
            .field("shared", &self.shared.as_ref().map(|s| s.label.as_str()))
            .field("datapoints", &labels)
            .finish()
    }
}

impl ClosureLandscape {
    /// An empty landscape; add datapoints with [`ClosureLandscape::datapoint`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a datapoint with loss l, gradient l′ and curvature l″ (builder style).
    pub fn datapoint(
        mut self,
        label: impl Into<String>,
        loss: impl Fn(f64) -> f64 + Send + Sync + 'static,
        grad: impl Fn(f64) -> f64 + Send + Sync + 'static,
        curv: impl Fn(f64) -> f64 + Send + Sync + 'static,
    ) -> Self {
        self.form = None;
        self.points.push(ClosureDatapoint {
            label: label.into(),
            loss: Arc::new(loss),
            grad: Arc::new(grad),
            curv: Arc::new(curv),
        });
        self
    }

    /// Set the part s shared by every datapoint, with its gradient and curvature
    /// (builder style; given before or after the datapoints). The datapoints then give
    /// only their own parts r_j: the loss of datapoint j is s + r_j, G is the mean of
    /// s′ + r_j′, and S², (S²)′ are computed from the r_j′, r_j″ alone, in which s′ has
    /// cancelled exactly (no rounding of s′ reaches S²).
    ///
    /// ```
    /// use probcurrent::{ClosureLandscape, Landscape};
    /// // l_1 = s, l_2 = s + 1e-9·w with a large shared s = 1e3·w²:
    /// // S² = (1e-9 / 2)² exactly, though g_j ≈ 2e3·w
    /// let landscape = ClosureLandscape::new()
    ///     .shared("1e3*w^2", |w| 1e3 * w * w, |w| 2e3 * w, |_| 2e3)
    ///     .datapoint("0", |_| 0.0, |_| 0.0, |_| 0.0)
    ///     .datapoint("1e-9*w", |w| 1e-9 * w, |_| 1e-9, |_| 0.0);
    /// let s = landscape.stats(0.7);
    /// assert!((s.s2 - 0.25e-18).abs() < 1e-33);
    /// assert!((s.g - (1.4e3 + 0.5e-9)).abs() < 1e-12);
    /// ```
    pub fn shared(
        mut self,
        label: impl Into<String>,
        loss: impl Fn(f64) -> f64 + Send + Sync + 'static,
        grad: impl Fn(f64) -> f64 + Send + Sync + 'static,
        curv: impl Fn(f64) -> f64 + Send + Sync + 'static,
    ) -> Self {
        self.form = None;
        self.shared = Some(ClosureDatapoint {
            label: label.into(),
            loss: Arc::new(loss),
            grad: Arc::new(grad),
            curv: Arc::new(curv),
        });
        self
    }

    /// Declare the closed form these closures compute (the built-in landscapes only).
    pub(super) fn with_form(mut self, form: Form) -> Self {
        self.form = Some(form);
        self
    }

    /// Value of the shared part (`which`: 0 loss, 1 gradient, 2 curvature; 0 if none).
    fn shared_value(&self, which: u8, w: f64) -> f64 {
        match &self.shared {
            None => 0.0,
            Some(s) => match which {
                0 => (s.loss)(w),
                1 => (s.grad)(w),
                _ => (s.curv)(w),
            },
        }
    }
}

/// Step of the central difference of [`ClosureLandscape::datapoint_from_gradient`]:
/// h = ε^{1/3} max(1, |w|) balances the truncation error h² g‴/6 against the
/// rounding error ε |g| / h, leaving a relative error near ε^{2/3} ≈ 4e-11.
fn fd_step(w: f64) -> f64 {
    f64::EPSILON.cbrt() * w.abs().max(1.0)
}

impl ClosureLandscape {
    /// Add a datapoint given by its loss l and gradient l′ only (builder style); the
    /// curvature l″ is the central difference (l′(w + h) − l′(w − h)) / 2h with
    /// h ≈ 6e-6 max(1, |w|), accurate to about 1e-10 relative for smooth l′. The
    /// gradient is then evaluated up to h beyond the domain, so it must be finite there.
    ///
    /// The curvature cannot be left out: D′ (from (S²)′) enters the drift of the
    /// fluxes fitted on P, the default among them, and G′ the end-state analysis.
    ///
    /// ```
    /// use probcurrent::{ClosureLandscape, Landscape, Problem};
    /// // G = W − 1 (mean of the gradients W − 1 ± 1), S² = 1
    /// let landscape = ClosureLandscape::new()
    ///     .datapoint_from_gradient("0.5*(w-2)^2", |w| 0.5 * (w - 2.0).powi(2), |w| w - 2.0)
    ///     .datapoint_from_gradient("0.5*w^2", |w| 0.5 * w * w, |w| w);
    /// let s = landscape.stats(0.3);
    /// assert!((s.g - (0.3 - 1.0)).abs() < 1e-12);
    /// assert!((s.g_prime - 1.0).abs() < 1e-9 && (s.s2 - 1.0).abs() < 1e-12);
    /// let problem = Problem::builder(landscape).domain(-1.0, 3.0).build().unwrap();
    /// assert_eq!(problem.name, "custom");
    /// ```
    pub fn datapoint_from_gradient(
        self,
        label: impl Into<String>,
        loss: impl Fn(f64) -> f64 + Send + Sync + 'static,
        grad: impl Fn(f64) -> f64 + Send + Sync + 'static,
    ) -> Self {
        let grad = Arc::new(grad);
        let g = Arc::clone(&grad);
        let curv = move |w: f64| {
            let h = fd_step(w);
            let (hi, lo) = (w + h, w - h);
            // divide by the representable spacing, not by 2h
            (g(hi) - g(lo)) / (hi - lo)
        };
        self.datapoint(label, loss, move |w| grad(w), curv)
    }
}

impl Landscape for ClosureLandscape {
    fn len(&self) -> usize {
        self.points.len()
    }
    fn loss(&self, j: usize, w: f64) -> f64 {
        match &self.shared {
            None => (self.points[j].loss)(w),
            Some(_) => self.shared_value(0, w) + (self.points[j].loss)(w),
        }
    }
    fn grad(&self, j: usize, w: f64) -> f64 {
        match &self.shared {
            None => (self.points[j].grad)(w),
            Some(_) => self.shared_value(1, w) + (self.points[j].grad)(w),
        }
    }
    fn curv(&self, j: usize, w: f64) -> f64 {
        match &self.shared {
            None => (self.points[j].curv)(w),
            Some(_) => self.shared_value(2, w) + (self.points[j].curv)(w),
        }
    }
    fn part_grad(&self, j: usize, w: f64) -> f64 {
        (self.points[j].grad)(w)
    }
    fn part_curv(&self, j: usize, w: f64) -> f64 {
        (self.points[j].curv)(w)
    }
    fn form(&self) -> Option<Form> {
        self.form
    }
    fn describe(&self, j: usize) -> String {
        match &self.shared {
            None => format!("datapoint {} ({})", j + 1, self.points[j].label),
            Some(s) => format!(
                "datapoint {} (shared `{}` + `{}`)",
                j + 1,
                s.label,
                self.points[j].label
            ),
        }
    }
}
