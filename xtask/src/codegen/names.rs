//! Rust names for Terraform names: `aws_s3_bucket` -> `S3Bucket`, `type` -> `type_`.

/// Rust keywords (strict, reserved and edition-2024 weak ones that cannot name a field).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "union", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// A snake_case Rust identifier for a Terraform attribute or block name. Characters that
/// cannot appear in an identifier become `_`; a leading digit, and a keyword, get a `_`
/// (prefix and suffix respectively), so the result is always a plain identifier.
pub(crate) fn snake_ident(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.chars().all(|c| c == '_') {
        out = format!("field{out}");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// An UpperCamelCase type name from snake-case parts (`["block_device_mappings", "ebs"]`
/// -> `BlockDeviceMappingsEbs`). Digits stay where they are (`s3_bucket` -> `S3Bucket`).
pub(crate) fn camel(parts: &[&str]) -> String {
    let mut out = String::new();
    for part in parts {
        for word in part.split(|c: char| !c.is_ascii_alphanumeric()) {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                out.push(first.to_ascii_uppercase());
                out.extend(chars.map(|c| c.to_ascii_lowercase()));
            }
        }
    }
    if out.is_empty() {
        out.push_str("Unnamed");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'N');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keywords_and_digits_are_escaped() {
        assert_eq!(snake_ident("type"), "type_");
        assert_eq!(snake_ident("self"), "self_");
        assert_eq!(snake_ident("cidr_block"), "cidr_block");
        assert_eq!(snake_ident("3d"), "_3d");
        assert_eq!(snake_ident("Tag-Name"), "tag_name");
    }

    #[test]
    fn camel_case_keeps_digits() {
        assert_eq!(camel(&["s3_bucket"]), "S3Bucket");
        assert_eq!(
            camel(&["block_device_mappings", "ebs"]),
            "BlockDeviceMappingsEbs"
        );
        assert_eq!(camel(&["config_map_v1"]), "ConfigMapV1");
        assert_eq!(camel(&["wafv2_web_acl"]), "Wafv2WebAcl");
    }

    proptest! {
        #[test]
        fn any_name_gives_a_plain_identifier(name in "\\PC{0,24}") {
            let ident = snake_ident(&name);
            prop_assert!(ident.starts_with(|c: char| c == '_' || c.is_ascii_lowercase()));
            prop_assert!(ident.chars().all(|c| c == '_' || c.is_ascii_lowercase() || c.is_ascii_digit()));
            prop_assert!(!KEYWORDS.contains(&ident.as_str()));
        }

        #[test]
        fn any_parts_give_a_type_name(parts in proptest::collection::vec("[a-z0-9_]{0,12}", 1..4)) {
            let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
            let name = camel(&refs);
            prop_assert!(name.starts_with(|c: char| c.is_ascii_uppercase()));
            prop_assert!(name.chars().all(|c| c.is_ascii_alphanumeric()));
        }
    }
}
