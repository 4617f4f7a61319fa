//! The testbed: sweeps of many runs scored against converged references, and
//! recommendations drawn from them.

pub mod recommend;
pub mod sweep;
