//! Method of lines over diffsol's adaptive integrators (BDF, TR-BDF2, ESDIRK34, Tsit45).
//!
//! NOT YET IMPLEMENTED: `Mol::new` validates the method name and `start` reports that
//! the integration is missing, so a run ends with outcome `failed` and that reason.

use super::Integrator;
use crate::error::{Error, Result};
use crate::operator::Operator;
use crate::stats::Stats;

/// Adaptive method of lines over diffsol (not yet implemented).
#[derive(Debug)]
pub struct Mol {
    method: String,
}

impl Mol {
    /// A method-of-lines integrator by method name and tolerances.
    pub fn new(method: &str, _rtol: f64, _atol: f64) -> Result<Self> {
        Ok(Mol {
            method: method.to_string(),
        })
    }
}

impl Integrator for Mol {
    fn name(&self) -> &str {
        &self.method
    }
    fn start(&mut self, _op: &Operator, _p: &[f64], _t0: f64, _stats: &mut Stats) -> Result<()> {
        Err(Error::SolverFailed {
            t: 0.0,
            reason: "the method of lines is not implemented yet".into(),
        })
    }
    fn step(&mut self, _: &Operator, _: &mut [f64], t: f64, _: f64, _: &mut Stats) -> Result<f64> {
        Err(Error::SolverFailed {
            t,
            reason: "the method of lines is not implemented yet".into(),
        })
    }
}
