//! Progress bars on standard error (indicatif), and the report runner that shows them.

use indicatif::{ProgressBar, ProgressStyle};

use probcurrent::analysis::montecarlo::{simulate, McReport, McSettings};
use probcurrent::error::Result;
use probcurrent::model::problem::Problem;
use probcurrent::reports::validation::Runner;
use probcurrent::run::{run_with_progress, RunReport, RunSettings};
use probcurrent::scheme::Scheme;

/// A bar labelled `label`; `unit` is the template after the bar.
pub fn bar(label: &str, unit: &str) -> ProgressBar {
    let pb = ProgressBar::new(1);
    let template = format!("{{msg:>28}} [{{bar:30}}] {unit} ({{elapsed}})");
    pb.set_style(
        ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(label.to_string());
    pb
}

/// A callback for (t, t_end) that moves `pb`.
pub fn time_callback(pb: &ProgressBar) -> impl FnMut(f64, f64) + '_ {
    pb.set_length(1000);
    move |t, t_end| {
        pb.set_prefix(format!("{t:.0}"));
        pb.set_position((1000.0 * t / t_end) as u64);
    }
}

/// A callback for (done, total) that moves `pb`.
pub fn count_callback(pb: &ProgressBar) -> impl Fn(usize, usize) + Sync + '_ {
    move |done, total| {
        pb.set_length(total as u64);
        pb.set_position(done as u64);
    }
}

/// Runs with progress bars on standard error.
pub struct WithProgress;

impl Runner for WithProgress {
    fn solve(&self, problem: &Problem, scheme: &Scheme, s: &RunSettings) -> Result<RunReport> {
        let label = format!("{} / {}", problem.name, scheme.name);
        let pb = bar(&label, "t = {prefix}");
        let r = run_with_progress(problem, scheme, s, &mut time_callback(&pb));
        pb.finish_and_clear();
        r
    }
    fn mc(&self, problem: &Problem, settings: &McSettings) -> Result<McReport> {
        let label = format!("mc {} ({})", problem.name, settings.mode.as_str());
        let pb = bar(&label, "{pos}/{len} blocks");
        let r = simulate(problem, settings, &count_callback(&pb));
        pb.finish_and_clear();
        r
    }
}
