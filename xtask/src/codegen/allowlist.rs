//! The allowlist: which providers and which of their types girder-aws generates.
//!
//! ```text
//! provider aws hashicorp/aws
//! resource aws_vpc
//! data aws_ami
//! sensitive resource aws_db_instance password password_wo
//! credential provider tfe token
//! ```
//!
//! `sensitive` lines restore flags the stored schemas lack (they were rebuilt without
//! `sensitive`, see their provenance): the attribute is marked sensitive, as the provider
//! marks it. `credential` lines name arguments that hold credentials although the provider
//! does not mark them sensitive; `NoLiteralSecrets` refuses literals there. Both take
//! `resource <type>`, `data <type>` or `provider <name>`, then dotted attribute paths
//! through nested blocks.

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
    /// `sensitive` and `credential` lines for this provider's blocks.
    pub(crate) marks: Vec<Mark>,
}

/// The block a `sensitive` / `credential` line is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum MarkedBlock {
    /// The provider configuration block.
    Provider,
    /// A resource or data source of the allowlist.
    Type(Kind, String),
}

/// What a line says about its attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Marking {
    /// The provider marks it sensitive.
    Sensitive,
    /// It holds a credential the provider does not mark.
    Credential,
}

/// One `sensitive` or `credential` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mark {
    /// `allowlist.txt:12`, for errors.
    pub(crate) at: String,
    pub(crate) block: MarkedBlock,
    pub(crate) marking: Marking,
    /// Dotted attribute paths.
    pub(crate) paths: Vec<String>,
}

impl ProviderEntry {
    /// The `sensitive` / `credential` lines for one block.
    pub(crate) fn marks_for<'a>(
        &'a self,
        block: &'a MarkedBlock,
    ) -> impl Iterator<Item = &'a Mark> {
        self.marks.iter().filter(move |m| m.block == *block)
    }
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
    let mut pending_marks: Vec<(usize, Mark, String)> = Vec::new();
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
                    marks: Vec::new(),
                });
            }
            [word @ ("sensitive" | "credential"), what, name, paths @ ..] => {
                let marking = if *word == "sensitive" {
                    Marking::Sensitive
                } else {
                    Marking::Credential
                };
                let (block, provider) = match *what {
                    "provider" => (MarkedBlock::Provider, (*name).to_owned()),
                    "resource" | "data" => {
                        let kind = if *what == "resource" {
                            Kind::Resource
                        } else {
                            Kind::Data
                        };
                        let prefix = name.split('_').next().unwrap_or_default().to_owned();
                        (MarkedBlock::Type(kind, (*name).to_owned()), prefix)
                    }
                    other => {
                        return Err(format!(
                            "{}: `{word}` takes `resource <type>`, `data <type>` or \
                             `provider <name>`, found `{other}`",
                            at()
                        ));
                    }
                };
                if paths.is_empty() {
                    return Err(format!(
                        "{}: `{word} {what} {name}` names no attribute path",
                        at()
                    ));
                }
                if let Some(bad) = paths.iter().find(|p| {
                    p.split('.').any(|s| {
                        s.is_empty()
                            || !s
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    })
                }) {
                    return Err(format!(
                        "{}: attribute path `{bad}` must be dotted names of lowercase \
                         letters, digits and `_`",
                        at()
                    ));
                }
                pending_marks.push((
                    number,
                    Mark {
                        at: at(),
                        block,
                        marking,
                        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
                    },
                    provider,
                ));
            }
            ["resource", name] => pending.push((number, Kind::Resource, (*name).to_owned())),
            ["data", name] => pending.push((number, Kind::Data, (*name).to_owned())),
            _ => {
                return Err(format!(
                    "{}: expected `provider <name> <source>`, `resource <type>`, \
                     `data <type>`, `sensitive ...` or `credential ...`, found `{line}`",
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
    for (number, mark, provider) in pending_marks {
        let Some(&i) = index.get(&provider) else {
            return Err(format!(
                "{file}:{number}: provider `{provider}` has no `provider {provider} <source>` line"
            ));
        };
        let entry = &mut providers[i];
        if let MarkedBlock::Type(kind, name) = &mark.block {
            if !entry.types.iter().any(|(k, n)| k == kind && n == name) {
                return Err(format!(
                    "{file}:{number}: `{name}` is not on the allowlist as a {}",
                    match kind {
                        Kind::Resource => "resource",
                        Kind::Data => "data source",
                    }
                ));
            }
        }
        entry.marks.push(mark);
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

    #[test]
    fn sensitive_and_credential_lines_attach_to_their_provider() {
        let list = parse(
            "provider aws x/aws\nresource aws_db_instance\n\
             sensitive resource aws_db_instance password a.b_c\n\
             credential provider aws secret_key\n",
            "a.txt",
        )
        .unwrap();
        assert_eq!(
            list[0].marks,
            [
                Mark {
                    at: "a.txt:3".into(),
                    block: MarkedBlock::Type(Kind::Resource, "aws_db_instance".into()),
                    marking: Marking::Sensitive,
                    paths: vec!["password".into(), "a.b_c".into()],
                },
                Mark {
                    at: "a.txt:4".into(),
                    block: MarkedBlock::Provider,
                    marking: Marking::Credential,
                    paths: vec!["secret_key".into()],
                },
            ]
        );
        for (text, expected) in [
            ("sensitive resource aws_vpc id\n", "not on the allowlist"),
            (
                "sensitive data aws_db_instance password\n",
                "not on the allowlist as a data source",
            ),
            ("sensitive provider tls password\n", "provider `tls`"),
            (
                "sensitive resource aws_db_instance\n",
                "names no attribute path",
            ),
            ("credential module x y\n", "takes `resource <type>`"),
            ("sensitive resource aws_db_instance a..b\n", "dotted names"),
        ] {
            let err = parse(
                &format!("provider aws x/aws\nresource aws_db_instance\n{text}"),
                "a.txt",
            )
            .unwrap_err();
            assert!(
                err.contains(expected) && err.starts_with("a.txt:3"),
                "{err}"
            );
        }
    }
}
