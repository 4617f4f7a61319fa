//! The source folders are layers, each importing only those below it:
//! model → space → time → scheme → run → analysis → testbed → reports → cli
//! (with `error` and `stats` shared by all). A file that names a module of a higher
//! layer (`crate::<module>` anywhere in its code) fails this test, so the layering
//! cannot erode silently.

use std::path::Path;

const LAYERS: &[&str] = &[
    "model", "space", "time", "scheme", "run", "analysis", "testbed", "reports", "cli",
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == module)
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn lower_layers_never_import_upper_ones() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let top = top.trim_end_matches(".rs");
        let Some(mine) = layer_of(top) else { continue };
        let text = std::fs::read_to_string(f).unwrap();
        for (k, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for (i, _) in code.match_indices("crate::") {
                let name: String = code[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if let Some(theirs) = layer_of(&name) {
                    if theirs > mine {
                        violations.push(format!("{}:{}: {}", rel.display(), k + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports of a higher layer:\n{}",
        violations.join("\n")
    );
}

/// A file over 800 lines holds more than one idea: split it.
#[test]
fn no_source_file_over_800_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let long: Vec<String> = files
        .iter()
        .map(|f| (f, std::fs::read_to_string(f).unwrap().lines().count()))
        .filter(|(_, n)| *n > 800)
        .map(|(f, n)| format!("{} ({n} lines)", f.display()))
        .collect();
    assert!(long.is_empty(), "files over 800 lines: {long:?}");
}
