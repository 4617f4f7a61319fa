//! Progress on standard error: a bar (indicatif) when standard error is a terminal, a
//! plain line at most every few seconds when it is not (a log file, a pipe, a batch
//! job), nothing with `--quiet`. Standard output carries only results.

use std::io::IsTerminal;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use probcurrent::analysis::montecarlo::{simulate, McReport, McSettings};
use probcurrent::error::Result;
use probcurrent::model::problem::Problem;
use probcurrent::reports::validation::Runner;
use probcurrent::run::{run_with_progress, RunReport, RunSettings};
use probcurrent::scheme::Scheme;

/// Seconds between two plain progress lines.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// How progress is shown, chosen once per process by [`init`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// An animated bar on a terminal.
    Bar,
    /// Plain lines on a non-terminal.
    Lines,
    /// Nothing (`--quiet`).
    Hidden,
}

static MODE: OnceLock<Mode> = OnceLock::new();
/// Start of the process and time of the last plain line, shared by every meter so that
/// a sequence of short runs still prints a line every few seconds.
static CLOCK: OnceLock<(Instant, Mutex<Instant>)> = OnceLock::new();

/// Choose the progress mode: hidden when `quiet`, else a bar on a terminal and plain
/// lines elsewhere.
pub fn init(quiet: bool) {
    let mode = if quiet {
        Mode::Hidden
    } else if std::io::stderr().is_terminal() {
        Mode::Bar
    } else {
        Mode::Lines
    };
    let _ = MODE.set(mode);
    let now = Instant::now();
    let _ = CLOCK.set((now, Mutex::new(now)));
}

fn mode() -> Mode {
    *MODE.get().unwrap_or(&Mode::Hidden)
}

/// One progress display: a label and either a time (t of t_end) or a count (done of
/// total).
pub struct Meter {
    bar: Option<ProgressBar>,
    label: Mutex<String>,
}

impl Meter {
    /// A meter labelled `label`; `unit` is the bar's template after the bar.
    pub fn new(label: &str, unit: &str) -> Meter {
        let bar = (mode() == Mode::Bar).then(|| {
            let pb = ProgressBar::new(1);
            let template = format!("{{msg:>28}} [{{bar:30}}] {unit} ({{elapsed}})");
            pb.set_style(
                ProgressStyle::with_template(&template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            pb.set_message(label.to_string());
            pb
        });
        Meter {
            bar,
            label: Mutex::new(label.to_string()),
        }
    }

    /// Change the label.
    pub fn set_label(&self, label: &str) {
        if let Some(pb) = &self.bar {
            pb.set_message(label.to_string());
        }
        if let Ok(mut l) = self.label.lock() {
            *l = label.to_string();
        }
    }

    /// Report simulated time `t` of `t_end`.
    pub fn time(&self, t: f64, t_end: f64) {
        if let Some(pb) = &self.bar {
            pb.set_length(1000);
            pb.set_prefix(format!("{t:.0}"));
            pb.set_position((1000.0 * t / t_end) as u64);
        }
        self.line(|| format!("t = {t:.0} of {t_end:.0} ({:.0}%)", 100.0 * t / t_end));
    }

    /// Report `done` of `total` units of work.
    pub fn count(&self, done: usize, total: usize) {
        if let Some(pb) = &self.bar {
            pb.set_length(total as u64);
            pb.set_position(done as u64);
        }
        let pct = 100.0 * done as f64 / total.max(1) as f64;
        self.line(|| format!("{done}/{total} ({pct:.0}%)"));
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(pb) = &self.bar {
            pb.finish_and_clear();
        }
    }

    /// In plain-line mode, print `label: what, elapsed` when the last line is at least
    /// [`LINE_EVERY`] old.
    fn line(&self, what: impl FnOnce() -> String) {
        if mode() != Mode::Lines {
            return;
        }
        let Some((start, last)) = CLOCK.get() else {
            return;
        };
        let Ok(mut last) = last.lock() else { return };
        if last.elapsed() < LINE_EVERY {
            return;
        }
        *last = Instant::now();
        let label = self.label.lock().map(|l| l.clone()).unwrap_or_default();
        let secs = start.elapsed().as_secs_f64();
        eprintln!("[{secs:6.1} s] {label}: {}", what());
    }
}

/// Runs with progress on standard error.
pub struct WithProgress;

impl Runner for WithProgress {
    fn solve(&self, problem: &Problem, scheme: &Scheme, s: &RunSettings) -> Result<RunReport> {
        let m = Meter::new(
            &format!("{} / {}", problem.name, scheme.name),
            "t = {prefix}",
        );
        let r = run_with_progress(problem, scheme, s, &mut |t, end| m.time(t, end));
        m.finish();
        r
    }
    fn mc(&self, problem: &Problem, settings: &McSettings) -> Result<McReport> {
        let label = format!("mc {} ({})", problem.name, settings.mode.as_str());
        let m = Meter::new(&label, "{pos}/{len} blocks");
        let r = simulate(problem, settings, &|d, t| m.count(d, t));
        m.finish();
        r
    }
}
