//! Problems as TOML tables: a resolved problem rendered with every setting explicit
//! ([`Problem::resolved_table`], what `problems --show` prints), `key=value` overrides
//! applied to that table at any dotted path ([`Problem::resolve_with`], the CLI's
//! `--set`), and `base` naming another problem file (with cycle detection).
//!
//! An override is applied to the table and the table is then read by the one strict
//! path of problem files ([`ProblemFile::build`]), so an override is checked exactly like
//! the same key written in a file; an error names the `--set` that caused it.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::{Initial, Problem, ProblemFile, BUILTINS};
use crate::error::{Error, Result};

/// One `key=value` override: a dotted key path and a TOML value.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// The text as given (`lr=0.01`), quoted in errors.
    pub text: String,
    /// The key path (`schedule.lr.kind` → three parts).
    pub path: Vec<String>,
    /// The value: a TOML literal (number, boolean, string, array, inline table), or the
    /// bare text as a string when it is not one.
    pub value: Value,
}

impl Override {
    /// Parse `key=value`. The value is read as a TOML literal; a bare word becomes a
    /// string.
    pub fn parse(text: &str) -> Result<Override> {
        let bad = |why: &str| Error::invalid("--set", format!("{text:?}"), why);
        let (key, raw) = text
            .split_once('=')
            .ok_or_else(|| bad("expected key=value, e.g. lr=0.01"))?;
        let key = key.trim();
        let path: Vec<String> = key.split('.').map(|s| s.trim().to_string()).collect();
        let ok = |s: &String| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
        if !path.iter().all(ok) {
            return Err(bad(
                "the key is a dotted path of field names, e.g. initial.mean",
            ));
        }
        let raw = raw.trim();
        let value = match toml::from_str::<Table>(&format!("v = {raw}")) {
            Ok(mut t) => t.remove("v").unwrap_or(Value::String(raw.into())),
            Err(_) => Value::String(raw.into()),
        };
        Ok(Override {
            text: text.to_string(),
            path,
            value,
        })
    }

    /// Whether the value is a list of alternatives (`lr=0.02,0.01`): a comma outside
    /// brackets and quotes, which only `scan` accepts.
    pub fn split_list(text: &str) -> Option<(String, Vec<String>)> {
        let (key, raw) = text.split_once('=')?;
        let (mut depth, mut quote, mut parts, mut cur) = (0i32, None, vec![], String::new());
        for c in raw.chars() {
            match (c, quote) {
                ('"' | '\'', None) => quote = Some(c),
                (q, Some(open)) if q == open => quote = None,
                ('[' | '{', None) => depth += 1,
                (']' | '}', None) => depth -= 1,
                (',', None) if depth == 0 => {
                    parts.push(std::mem::take(&mut cur));
                    continue;
                }
                _ => {}
            }
            cur.push(c);
        }
        parts.push(cur);
        (parts.len() > 1).then(|| (key.to_string(), parts))
    }

    /// Set the value in `table`, creating tables on the way. Changing a `kind` drops
    /// the other keys of that table except a warm-up (they belonged to the old kind).
    pub(crate) fn apply(&self, table: &mut Table) -> Result<()> {
        let mut t = table;
        let (last, parents) = self.path.split_last().expect("a key has one part at least");
        for (i, part) in parents.iter().enumerate() {
            let entry = t
                .entry(part.clone())
                .or_insert_with(|| Value::Table(Table::new()));
            t = entry.as_table_mut().ok_or_else(|| {
                Error::invalid(
                    "--set",
                    &self.text,
                    format!("`{}` is not a table", self.path[..=i].join(".")),
                )
            })?;
        }
        if last == "kind" && t.get("kind") != Some(&self.value) {
            t.retain(|k, _| k == "warmup" || k == "warmup_start");
        }
        t.insert(last.clone(), self.value.clone());
        Ok(())
    }
}

impl Problem {
    /// The problem named by `name_or_path` (built-in or file) as a table with every
    /// setting explicit; reading it back gives the same problem. The landscape comes from
    /// `base` when the problem has one, else from the file's `[landscape]` table. Also
    /// the directory relative paths are taken from.
    pub fn resolved_table(name_or_path: &str) -> Result<(Table, PathBuf)> {
        let path = Path::new(name_or_path);
        if !(name_or_path.ends_with(".toml") || path.is_file()) {
            let p = Problem::builtin(name_or_path)?;
            let mut t = p.to_table();
            t.insert("base".into(), Value::String(name_or_path.into()));
            return Ok((t, PathBuf::from(".")));
        }
        let p = Problem::from_file(path)?;
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let raw: Table = toml::from_str(&text).map_err(|e| Error::Malformed {
            path: path.to_path_buf(),
            message: crate::error::toml_message(&e, &text),
        })?;
        let mut t = p.to_table();
        merge(&mut t, raw);
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        Ok((t, dir))
    }

    /// [`Problem::resolve`] with `key=value` overrides applied in order (a `kind` before
    /// the other keys, so `schedule.lr.kind=cosine` may come after its period).
    pub fn resolve_with(name_or_path: &str, sets: &[String]) -> Result<Problem> {
        if sets.is_empty() {
            return Problem::resolve(name_or_path);
        }
        let mut overrides = sets
            .iter()
            .map(|s| Override::parse(s))
            .collect::<Result<Vec<_>>>()?;
        overrides.sort_by_key(|o| o.path.last().map(String::as_str) != Some("kind"));
        let (table, dir) = Problem::resolved_table(name_or_path)?;
        let build = |n: usize| -> Result<Problem> {
            let mut t = table.clone();
            overrides[..n].iter().try_for_each(|o| o.apply(&mut t))?;
            from_table(t, &dir, name_or_path, sets)
        };
        match build(overrides.len()) {
            Ok(p) => Ok(p),
            Err(e) => {
                // blame the first override after which this error appears
                let msg = e.to_string();
                let first = (1..=overrides.len())
                    .find(|&n| build(n).err().map(|e| e.to_string()) == Some(msg.clone()));
                let blamed = match first {
                    Some(n) => overrides[n - 1].text.clone(),
                    None => sets.join(" --set "),
                };
                Err(Error::Malformed {
                    path: format!("--set {blamed}").into(),
                    message: msg,
                })
            }
        }
    }

    /// Every setting of the problem except the landscape, as problem-file keys.
    pub fn to_table(&self) -> Table {
        let mut t = Table::new();
        let f = |v: f64| Value::Float(v);
        t.insert("name".into(), Value::String(self.name.clone()));
        t.insert("summary".into(), Value::String(self.summary.clone()));
        t.insert("lr".into(), f(self.lr));
        t.insert("batch".into(), Value::Integer(self.batch as i64));
        let s = toml::Value::try_from(self.sampling).unwrap_or(Value::String(String::new()));
        t.insert("sampling".into(), s);
        t.insert("domain".into(), Value::Array(vec![f(self.a), f(self.b)]));
        let b = toml::Value::try_from(self.boundary).unwrap_or(Value::String(String::new()));
        t.insert("boundary".into(), b);
        let mut init = Table::new();
        match &self.initial {
            Initial::Normal { mean, sd } => {
                init.insert("kind".into(), Value::String("normal".into()));
                init.insert("mean".into(), f(*mean));
                init.insert("sd".into(), f(*sd));
            }
            Initial::Uniform => {
                init.insert("kind".into(), Value::String("uniform".into()));
            }
            Initial::Table { .. } => {
                // only a file's `initial.path` can say where a table came from
                init.insert("kind".into(), Value::String("csv".into()));
            }
        }
        t.insert("initial".into(), Value::Table(init));
        let regions = self.regions.iter().map(|r| {
            let mut rt = Table::new();
            rt.insert("name".into(), Value::String(r.name.clone()));
            r.lo.map(|v| rt.insert("lo".into(), f(v)));
            r.hi.map(|v| rt.insert("hi".into(), f(v)));
            Value::Table(rt)
        });
        t.insert("regions".into(), Value::Array(regions.collect()));
        t.insert("noise_scale".into(), f(self.noise_scale));
        t.insert("noise_floor".into(), f(self.noise_floor));
        t.insert("t_end".into(), f(self.t_end));
        t.insert("every".into(), f(self.every));
        if let Ok(Value::Table(s)) = toml::Value::try_from(&self.schedule) {
            t.insert("schedule".into(), Value::Table(s));
        }
        let mut grid = Table::new();
        grid.insert("kind".into(), Value::String(self.grid.name().into()));
        if let crate::model::grid_choice::GridChoice::Edges(e) = &self.grid {
            grid.insert(
                "edges".into(),
                Value::Array(e.iter().map(|&v| f(v)).collect()),
            );
        }
        t.insert("grid".into(), Value::Table(grid));
        t
    }
}

/// Read a problem table through the strict problem-file path.
fn from_table(t: Table, dir: &Path, origin: &str, sets: &[String]) -> Result<Problem> {
    let file: ProblemFile = t
        .try_into()
        .map_err(|e: toml::de::Error| Error::Malformed {
            path: origin.into(),
            message: e.message().trim().to_string(),
        })?;
    // a built-in is not a problem file: say which one, and what was set
    let what = if origin.ends_with(".toml") || Path::new(origin).is_file() {
        format!("problem file {origin}")
    } else {
        format!("built-in problem `{origin}`")
    };
    file.build_as(
        dir,
        origin,
        format!("{what} with --set {}", sets.join(" --set ")),
    )
}

/// `src` over `dst`: tables of the same `kind` (or without one) merge key by key,
/// anything else is replaced.
fn merge(dst: &mut Table, src: Table) {
    for (k, v) in src {
        match (dst.get_mut(&k), v) {
            (Some(Value::Table(d)), Value::Table(s)) if d.get("kind") == s.get("kind") => {
                merge(d, s)
            }
            (_, v) => {
                dst.insert(k, v);
            }
        }
    }
}

thread_local! {
    /// The problem files being read as bases, outermost first (cycle detection).
    static BASES: RefCell<Vec<PathBuf>> = const { RefCell::new(Vec::new()) };
}

/// The problem `base` names: a built-in, or a problem file relative to `dir` (a name
/// ending in `.toml`, or an existing file that is not a built-in name). A file that is
/// its own base, directly or through others, is an error listing the chain.
pub(super) fn base_problem(base: &str, dir: &Path, origin: &str) -> Result<Problem> {
    let path = dir.join(base);
    let builtin = BUILTINS.iter().any(|b| b.name == base);
    if builtin || !(base.ends_with(".toml") || path.is_file()) {
        return Problem::builtin(base);
    }
    let key = path.canonicalize().unwrap_or_else(|_| path.clone());
    let chain = BASES.with(|b| b.borrow().clone());
    if chain.contains(&key) {
        let names: Vec<String> = chain.iter().map(|p| p.display().to_string()).collect();
        return Err(Error::Malformed {
            path: origin.into(),
            message: format!(
                "base = \"{base}\": a cycle of bases ({} → {})",
                names.join(" → "),
                key.display()
            ),
        });
    }
    BASES.with(|b| b.borrow_mut().push(key));
    let r = Problem::from_file(&path);
    BASES.with(|b| b.borrow_mut().pop());
    r.map_err(|e| match e {
        Error::Io { source, .. } => Error::Malformed {
            path: origin.into(),
            message: format!(
                "base = \"{base}\": cannot read {}: {source}",
                path.display()
            ),
        },
        other => other,
    })
}
