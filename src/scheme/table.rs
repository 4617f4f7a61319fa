//! The catalogue as tables: one [`CardRow`] per card, rendered as Markdown (the
//! README's `## Schemes` section, checked by a test) or as plain text
//! (`probcurrent schemes`), followed by the flux and integrator registries.

use std::fmt::Write;

use super::{catalogue, integrators, Positivity, Scheme};
use crate::error::Result;
use crate::space::flux::FLUXES;

/// One card as shown in the catalogue tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardRow {
    /// Card name.
    pub card: String,
    /// Flux registry name.
    pub flux: String,
    /// Integrator with its parameters.
    pub integrator: String,
    /// The claims in words.
    pub claims: String,
    /// The card's summary.
    pub summary: String,
}

impl CardRow {
    /// The row of `s`.
    pub fn of(s: &Scheme) -> CardRow {
        let c = &s.claims;
        let order = |o: Option<f64>| o.map_or("–".to_string(), |v| v.to_string());
        let mut claims = Vec::new();
        if c.order_space.is_some() || c.order_time.is_some() {
            claims.push(format!(
                "order {}/{}",
                order(c.order_space),
                order(c.order_time)
            ));
        }
        if let Some(d) = c.order_space_degenerate {
            claims.push(format!("order ≥ {d} (W1) on degenerate problems"));
        }
        if let Some(p) = c.positive {
            claims.push(
                match p {
                    Positivity::Always => "positive at any dt",
                    Positivity::BelowLimit => "positive below the step limit",
                    Positivity::No => "not positive",
                }
                .into(),
            );
        }
        if c.conservative == Some(false) {
            claims.push("not conservative".into());
        }
        if c.exact_stationary == Some(true) {
            claims.push("exact stationary state".into());
        }
        if claims.is_empty() {
            claims.push("unclaimed".into());
        }
        CardRow {
            card: s.name.clone(),
            flux: s.flux.name().into(),
            integrator: s.integrator.describe(),
            claims: claims.join(", "),
            summary: s.summary.clone(),
        }
    }
}

/// A Markdown table cell: `|` escaped.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The catalogue as Markdown: the cards (orders are space/time), then the fluxes and
/// the integrators with their card keys. The README's `## Schemes` section holds
/// exactly this text between `<!-- schemes:begin -->` and `<!-- schemes:end -->`.
pub fn catalogue_table_markdown() -> Result<String> {
    let mut md = String::from("| card | flux | integrator | claims |\n|---|---|---|---|\n");
    for s in catalogue()? {
        let r = s.row();
        let cells = [r.card, r.flux, r.integrator, r.claims].map(|c| cell(&c));
        let _ = writeln!(md, "| {} |", cells.join(" | "));
    }
    md.push_str("\n| flux | order | M-matrix | summary |\n|---|---|---|---|\n");
    for f in FLUXES {
        let m = if f.m_matrix { "yes" } else { "no" };
        let _ = writeln!(
            md,
            "| {} | {} | {m} | {} |",
            f.name,
            f.order,
            cell(f.summary)
        );
    }
    md.push_str("\n| integrator `kind` | order | keys | summary |\n|---|---|---|---|\n");
    for i in integrators() {
        let keys: Vec<String> = i
            .keys
            .iter()
            .map(|(k, what)| format!("`{k}`: {}", cell(what)))
            .collect();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            i.kind,
            cell(i.order),
            keys.join("; "),
            cell(i.summary)
        );
    }
    Ok(md)
}

/// The catalogue as plain text (`probcurrent schemes`): per card its name, flux,
/// integrator and claims, then the summary.
pub fn catalogue_table_text() -> Result<String> {
    let rows: Vec<CardRow> = catalogue()?.iter().map(Scheme::row).collect();
    let width = rows
        .iter()
        .map(|r| r.card.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for r in rows {
        let _ = writeln!(
            out,
            "{:<width$}  {} + {}; {}\n{:<width$}  {}",
            r.card, r.flux, r.integrator, r.claims, "", r.summary
        );
    }
    Ok(out)
}
