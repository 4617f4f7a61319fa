//! Files of a Monte Carlo run: `moments.csv`, `histogram.csv` and `mc.json`.

use crate::analysis::montecarlo::snapshot::McReport;
use crate::error::{Error, Result};

/// Write `moments.csv` (`t,mass,mean,sd,mass_<region>...,mean_se,sd_se,mass_<region>_se...`)
/// and `histogram.csv` (`t,w,p,p_se,h`: `w` the cell centre, `h` its width) into `dir`.
pub fn write_mc(report: &McReport, dir: &std::path::Path) -> Result<()> {
    let io = |path: &std::path::Path| {
        let path = path.to_path_buf();
        move |source| Error::Io {
            path: path.clone(),
            source,
        }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut s = String::from("t,mass,mean,sd");
    for r in &report.region_names {
        s += &format!(",mass_{r}");
    }
    s += ",mean_se,sd_se";
    for r in &report.region_names {
        s += &format!(",mass_{r}_se");
    }
    s.push('\n');
    for m in &report.moments {
        let mut row = vec![m.t, m.mass, m.mean, m.sd];
        row.extend(&m.regions);
        row.push(m.mean_se);
        row.push(m.sd_se);
        row.extend(&m.regions_se);
        s += &row
            .iter()
            .map(|v| format!("{v:.10e}"))
            .collect::<Vec<_>>()
            .join(",");
        s.push('\n');
    }
    let p = dir.join("moments.csv");
    std::fs::write(&p, s).map_err(io(&p))?;
    let mut s = String::from("t,w,p,p_se,h\n");
    for hgm in &report.histograms {
        for i in 0..report.grid.n {
            s += &format!(
                "{},{:.10e},{:.10e},{:.10e},{:.10e}\n",
                hgm.t,
                report.grid.centre(i),
                hgm.p[i],
                hgm.se[i],
                report.grid.width(i)
            );
        }
    }
    let p = dir.join("histogram.csv");
    std::fs::write(&p, s).map_err(io(&p))?;
    let p = dir.join("mc.json");
    let js = serde_json::to_string_pretty(report).map_err(|e| Error::Malformed {
        path: p.clone(),
        message: e.to_string(),
    })?;
    std::fs::write(&p, js + "\n").map_err(io(&p))
}
