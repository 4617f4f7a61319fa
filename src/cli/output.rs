//! What a command prints on standard output, under the global flags: by default its
//! text; with `--json` exactly one JSON object (the command's result) and nothing else;
//! with `--quiet` only a result that is itself text (a listing, a diagnosis), no
//! summary prose. Errors and progress go to standard error in every mode.

use serde::Serialize;
use serde_json::{Map, Value};

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
}

fn malformed(e: serde_json::Error) -> Error {
    Error::Malformed {
        path: "standard output (--json)".into(),
        message: e.to_string(),
    }
}

/// `value` as a JSON object with the `(key, value)` pairs of `extra` added (a value
/// that does not serialise to an object is put under `result`).
pub fn object(value: &impl Serialize, extra: &[(&str, Value)]) -> Result<Value> {
    let map = match serde_json::to_value(value).map_err(malformed)? {
        Value::Object(m) => m,
        other => Map::from_iter([("result".to_string(), other)]),
    };
    let mut map = map;
    for (k, v) in extra {
        map.insert((*k).to_string(), v.clone());
    }
    Ok(Value::Object(map))
}

/// The paths `dir/name` of the files a command wrote, as a JSON array.
pub fn files(dir: &std::path::Path, names: &[&str]) -> Value {
    let paths = names.iter().map(|n| dir.join(n).display().to_string());
    Value::Array(paths.map(Value::String).collect())
}
