//! The README's worked example is run and its printed output checked, so the README
//! cannot drift from what the tool prints (wall-clock and set-up times and the output folder are
//! masked).

use std::process::Command;

/// Mask the number after "wall" and "set-up" (machine-dependent).
fn mask(line: &str) -> String {
    let mut out = Vec::new();
    let mut words = line.split_whitespace().peekable();
    while let Some(w) = words.next() {
        out.push(w.to_string());
        if (w == "wall" || w == "set-up") && words.next().is_some() {
            out.push("<t>".into());
        }
    }
    out.join(" ")
}

#[test]
fn worked_example_prints_what_the_readme_says() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("    $ cargo run --release -- solve")
        .expect("README has a worked solve example");
    let block: Vec<&str> = readme[start..]
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .collect();
    // the command may continue over lines ending in a backslash
    let mut cmd = String::new();
    let mut k = 0;
    while k < block.len() {
        let l = block[k].trim().trim_start_matches("$ ");
        k += 1;
        if let Some(stripped) = l.strip_suffix('\\') {
            cmd.push_str(stripped);
            cmd.push(' ');
        } else {
            cmd.push_str(l);
            break;
        }
    }
    let expected: Vec<&str> = block[k..].to_vec();
    assert!(expected.len() >= 3, "example output missing");
    let args: Vec<&str> = cmd
        .split_whitespace()
        .skip_while(|w| *w != "--")
        .skip(1)
        .collect();
    let dir = std::env::temp_dir().join(format!("probcurrent-readme-{}", std::process::id()));
    let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let i = args
        .iter()
        .position(|a| a == "--out")
        .expect("--out in the example");
    args[i + 1] = dir.display().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_probcurrent"))
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = String::from_utf8_lossy(&out.stdout);
    let got: Vec<String> = got.lines().map(mask).collect();
    for line in expected {
        if line.contains("wrote ") {
            continue;
        }
        let want = mask(line);
        assert!(
            got.contains(&want),
            "README line\n  {want}\nnot printed; got:\n{}",
            got.join("\n")
        );
    }
}
