//! Writing run results: `moments.csv`, `density.csv` and `run.json`.
//!
//! Every number written is finite: the driver stops before a blow-up reaches a
//! snapshot, and the writers refuse a non-finite value rather than print `NaN`.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::run::RunReport;

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn num(v: f64, what: &str, path: &Path) -> Result<String> {
    if v.is_finite() {
        Ok(format!("{v:.12e}"))
    } else {
        Err(Error::NonFinite {
            what: format!("{what} written to {}", path.display()),
            w: f64::NAN,
            value: v,
            origin: String::new(),
        })
    }
}

/// Write `moments.csv`: `t,mass,mean,sd,min_p,tv,mass_<region>...`.
pub fn write_moments(report: &RunReport, path: &Path) -> Result<()> {
    let mut s = String::from("t,mass,mean,sd,min_p,tv");
    for r in &report.region_names {
        s.push_str(",mass_");
        s.push_str(r);
    }
    s.push('\n');
    for m in &report.moments {
        let mut row = vec![
            num(m.t, "t", path)?,
            num(m.mass, "mass", path)?,
            num(m.mean, "mean", path)?,
            num(m.sd, "sd", path)?,
            num(m.min_p, "min_p", path)?,
            num(m.tv, "tv", path)?,
        ];
        for v in &m.regions {
            row.push(num(*v, "region mass", path)?);
        }
        s.push_str(&row.join(","));
        s.push('\n');
    }
    fs::write(path, s).map_err(io_err(path))
}

/// Write `density.csv`: `t,w,p,h` (time, cell centre, cell average, cell width), one
/// row per cell per snapshot; Σ h·p over a snapshot's rows is its mass.
pub fn write_density(report: &RunReport, path: &Path) -> Result<()> {
    let f = fs::File::create(path).map_err(io_err(path))?;
    let mut out = std::io::BufWriter::new(f);
    writeln!(out, "t,w,p,h").map_err(io_err(path))?;
    for snap in &report.snapshots {
        for (i, &v) in snap.p.iter().enumerate() {
            writeln!(
                out,
                "{},{},{},{}",
                num(snap.t, "t", path)?,
                num(report.grid.centre(i), "w", path)?,
                num(v, "density", path)?,
                num(report.grid.width(i), "h", path)?
            )
            .map_err(io_err(path))?;
        }
    }
    out.flush().map_err(io_err(path))
}

/// Write `run.json` (the report without densities).
pub fn write_run_json(report: &RunReport, path: &Path) -> Result<()> {
    let s = serde_json::to_string_pretty(report).map_err(|e| Error::Malformed {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    fs::write(path, s + "\n").map_err(io_err(path))
}

/// Write all three files into `dir` (created if missing).
pub fn write_run(report: &RunReport, dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    write_moments(report, &dir.join("moments.csv"))?;
    write_density(report, &dir.join("density.csv"))?;
    write_run_json(report, &dir.join("run.json"))
}
