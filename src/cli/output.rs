//! What a command prints on standard output, under the global flags: by default its
//! text; with `--json` exactly one JSON object (the command's result) and nothing else;
//! with `--quiet` only a result that is itself text (a listing, a diagnosis), no
//! summary prose. Errors and progress go to standard error in every mode.

use serde::Serialize;
use serde_json::Value;

use probcurrent::error::{Error, Result};

/// The output mode of one invocation.
#[derive(Clone, Copy, Debug)]
pub struct Out {
    /// `--json`: one JSON object on standard output.
    pub json: bool,
    /// `--quiet`: no progress and no summary prose.
    pub quiet: bool,
}

impl Out {
    /// Summary prose (what ran, what was written): hidden by `--quiet` and `--json`.
    pub fn prose(&self, text: &str) {
        if !self.json && !self.quiet {
            print!("{text}");
        }
    }

    /// A result that is text (a listing, a table, a diagnosis): hidden by `--json` only.
    pub fn result(&self, text: &str) {
        if !self.json {
            print!("{text}");
        }
    }

    /// The JSON object of the command, printed (on one line) with `--json` only.
    pub fn json(&self, value: Value) -> Result<()> {
        if self.json {
            let s = serde_json::to_string(&value).map_err(malformed)?;
            println!("{s}");
        }
        Ok(())
    }

    /// [`Out::json`] for an object serialised by `text` (e.g. by [`object`]), which
    /// runs with `--json` only.
    pub fn json_text(&self, text: impl FnOnce() -> Result<String>) -> Result<()> {
        if self.json {
            println!("{}", text()?);
        }
        Ok(())
    }
}

fn malformed(e: serde_json::Error) -> Error {
    Error::Malformed {
        path: "standard output (--json)".into(),
        message: e.to_string(),
    }
}

/// `value` serialised as one JSON object, its fields in declaration order (so that
/// `problem`, `scheme` and `outcome` come first), with the `(key, value)` pairs of
/// `extra` appended; a value that is not an object is put under `result`.
pub fn object(value: &impl Serialize, extra: &[(&str, Value)]) -> Result<String> {
    let text = serde_json::to_string(value).map_err(malformed)?;
    let mut out = match text.strip_suffix('}') {
        Some(body) if text.starts_with('{') => body.to_string(),
        _ => format!("{{\"result\":{text}"),
    };
    for (k, v) in extra {
        if out.len() > 1 {
            out.push(',');
        }
        let k = serde_json::to_string(k).map_err(malformed)?;
        out += &format!("{k}:{}", serde_json::to_string(v).map_err(malformed)?);
    }
    out.push('}');
    Ok(out)
}

/// The paths `dir/name` of the files a command wrote, as a JSON array.
pub fn files(dir: &std::path::Path, names: &[&str]) -> Value {
    let paths = names.iter().map(|n| dir.join(n).display().to_string());
    Value::Array(paths.map(Value::String).collect())
}
