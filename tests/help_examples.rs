//! Every example printed by `probcurrent --help` and the commands' `--help` (the files
//! in `src/cli/help/`) runs as written and exits 0, in a fresh folder so that relative
//! output paths stay inside it.

use std::path::Path;
use std::process::Command;

fn examples() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli/help");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        for line in std::fs::read_to_string(&f).unwrap().lines() {
            let line = line.split('#').next().unwrap().trim();
            if let Some(cmd) = line.strip_prefix("probcurrent ") {
                out.push(cmd.to_string());
            }
        }
    }
    out
}

#[test]
fn every_help_example_runs() {
    let all = examples();
    assert!(all.len() >= 10, "help examples found: {all:?}");
    let dir = std::env::temp_dir().join(format!("probcurrent-help-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for cmd in &all {
        let out = Command::new(env!("CARGO_BIN_EXE_probcurrent"))
            .args(cmd.split_whitespace())
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`probcurrent {cmd}` exited {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !out.stdout.is_empty(),
            "`probcurrent {cmd}` printed nothing"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
