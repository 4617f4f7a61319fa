//! Embeds every scheme card of `schemes/` into the binary: writes
//! `$OUT_DIR/catalogue.rs`, a slice of (file name, `include_str!` of the file) sorted by
//! file stem, which `src/scheme` includes as the catalogue.

use std::fmt::Write;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=schemes");
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"))
        .join("schemes");
    let mut cards: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| {
            let path = entry.expect("directory entry").path();
            let stem = path.file_stem()?.to_str()?.to_string();
            (path.extension()? == "toml").then_some((stem, path))
        })
        .collect();
    cards.sort();
    let mut out = String::from("&[\n");
    for (stem, path) in &cards {
        println!("cargo:rerun-if-changed={}", path.display());
        let _ = writeln!(
            out,
            "    ({:?}, include_str!({:?})),",
            format!("{stem}.toml"),
            path.display().to_string()
        );
    }
    out.push(']');
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("catalogue.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}
