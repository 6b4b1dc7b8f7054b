//! The allowlist: which providers and which of their types girder-aws generates.
//!
//! ```text
//! provider aws hashicorp/aws
//! resource aws_vpc
//! data aws_ami
//! ```

use std::collections::BTreeMap;

/// Managed resource or data source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    Resource,
    Data,
}

impl Kind {
    /// The key of this kind in a provider schema document.
    pub(crate) fn schema_key(self) -> &'static str {
        match self {
            Kind::Resource => "resource_schemas",
            Kind::Data => "data_source_schemas",
        }
    }
}

/// One provider of the allowlist and its types, in the order written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ProviderEntry {
    /// Local name and type prefix (`aws`).
    pub(crate) name: String,
    /// Registry source (`hashicorp/aws`).
    pub(crate) source: String,
    /// `(kind, type)` pairs.
    pub(crate) types: Vec<(Kind, String)>,
}

impl ProviderEntry {
    /// The full source address the schema JSON keys providers by.
    pub(crate) fn schema_address(&self) -> String {
        if self.source.matches('/').count() >= 2 {
            self.source.clone()
        } else {
            format!("registry.terraform.io/{}", self.source)
        }
    }
}

/// Parse the allowlist text. Errors name the line.
pub(crate) fn parse(text: &str, file: &str) -> Result<Vec<ProviderEntry>, String> {
    let mut providers: Vec<ProviderEntry> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut pending: Vec<(usize, Kind, String)> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let number = number + 1;
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let at = || format!("{file}:{number}");
        match words.as_slice() {
            ["provider", name, source] => {
                if index.contains_key(*name) {
                    return Err(format!("{}: provider `{name}` is declared twice", at()));
                }
                if !name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                {
                    return Err(format!(
                        "{}: provider name `{name}` must be lowercase letters and digits",
                        at()
                    ));
                }
                index.insert((*name).to_owned(), providers.len());
                providers.push(ProviderEntry {
                    name: (*name).to_owned(),
                    source: (*source).to_owned(),
                    types: Vec::new(),
                });
            }
            ["resource", name] => pending.push((number, Kind::Resource, (*name).to_owned())),
            ["data", name] => pending.push((number, Kind::Data, (*name).to_owned())),
            _ => {
                return Err(format!(
                    "{}: expected `provider <name> <source>`, `resource <type>` or \
                     `data <type>`, found `{line}`",
                    at()
                ));
            }
        }
    }
    for (number, kind, name) in pending {
        let prefix = name.split('_').next().unwrap_or_default();
        let Some(&i) = index.get(prefix) else {
            return Err(format!(
                "{file}:{number}: `{name}` belongs to provider `{prefix}`, which has no \
                 `provider {prefix} <source>` line"
            ));
        };
        let entry = &mut providers[i];
        if entry.types.iter().any(|(k, n)| *k == kind && *n == name) {
            return Err(format!("{file}:{number}: `{name}` is listed twice"));
        }
        entry.types.push((kind, name));
    }
    Ok(providers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_grouped_under_their_provider() {
        let list = parse(
            "# comment\nprovider aws hashicorp/aws\nresource aws_vpc\ndata aws_ami # why\n",
            "allowlist.txt",
        )
        .unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(
            list[0].types,
            [
                (Kind::Resource, "aws_vpc".into()),
                (Kind::Data, "aws_ami".into())
            ]
        );
        assert_eq!(
            list[0].schema_address(),
            "registry.terraform.io/hashicorp/aws"
        );
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse(
            "provider aws hashicorp/aws\nresource tls_private_key\n",
            "a.txt",
        )
        .unwrap_err();
        assert!(err.starts_with("a.txt:2:"), "{err}");
        let err = parse("resource\n", "a.txt").unwrap_err();
        assert!(err.contains("a.txt:1"), "{err}");
        let err = parse(
            "provider aws x/aws\nresource aws_vpc\nresource aws_vpc\n",
            "a.txt",
        )
        .unwrap_err();
        assert!(err.contains("listed twice"), "{err}");
    }
}
