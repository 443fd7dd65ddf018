//! Results read back from the JSON files fogg wrote: what `compare`,
//! `merge` and `report` start from.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::de::DeserializeOwned;

/// A result file, read and recognised by its `kind`, not yet typed.
#[derive(Debug)]
pub struct SavedResult {
    path: PathBuf,
    /// What the file says it is.
    pub kind: super::ResultKind,
    value: serde_json::Value,
}

impl SavedResult {
    /// Reads `path`, saying what is wrong when it is not a fogg result.
    pub fn read(path: &Path) -> anyhow::Result<SavedResult> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read '{}'", path.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text).with_context(|| {
            format!("'{}' is not JSON: give a result fogg wrote (reports/KIND-STEM.json)", path.display())
        })?;
        let Some(name) = value.get("kind").and_then(|k| k.as_str()) else {
            bail!("'{}' has no \"kind\": it is not a fogg result", path.display())
        };
        let Some(kind) = super::ResultKind::from_name(name) else {
            let known: Vec<&str> = super::ResultKind::ALL.iter().map(|k| k.name()).collect();
            bail!(
                "'{}' is a '{name}' result, which this version of fogg does not know (it knows {})",
                path.display(),
                known.join(", ")
            )
        };
        let version = value.get("schema_version").and_then(|v| v.as_u64());
        if version != Some(u64::from(super::SCHEMA_VERSION)) {
            let wrote = value.get("fogg_version").and_then(|v| v.as_str()).unwrap_or("an unknown version");
            let version = version.map_or("no schema_version".to_owned(), |v| format!("schema {v}"));
            bail!(
                "'{}' was written by fogg {wrote} ({version}); this fogg {} reads schema {}: run the command again with this version",
                path.display(),
                env!("CARGO_PKG_VERSION"),
                super::SCHEMA_VERSION
            )
        }
        Ok(SavedResult { path: path.to_owned(), kind, value })
    }

    /// The file as it was named.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// The typed result, or what keeps the file from being one.
    pub fn parse<T: DeserializeOwned>(self) -> anyhow::Result<T> {
        let (path, kind) = (self.path, self.kind);
        serde_json::from_value(self.value).with_context(|| {
            format!(
                "'{}' does not match the {kind} result schema (schema/{kind}.schema.json); was it written by another version of fogg?",
                path.display()
            )
        })
    }
}
