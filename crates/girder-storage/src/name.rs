//! S3 bucket names.

use girder_core::expr::{Dynamic, fns};
use girder_core::{Expr, Value};

use crate::error::StorageError;

/// The longest AWS region name (`ap-southeast-4`), for names whose region is only known
/// at apply.
const MAX_REGION_LEN: usize = 14;
/// AWS account ids are 12 digits.
const ACCOUNT_LEN: usize = 12;

/// Name prefixes S3 reserves.
const RESERVED_PREFIXES: &[&str] = &["xn--", "sthree-", "amzn-s3-demo-"];
/// Name suffixes S3 reserves, and what for.
const RESERVED_SUFFIXES: &[(&str, &str)] = &[
    ("-s3alias", "access point aliases"),
    ("--ol-s3", "Object Lambda access point aliases"),
    (".mrap", "Multi-Region Access Points"),
    ("--x-s3", "directory buckets"),
    ("--table-s3", "table buckets"),
];

/// A bucket name: a literal, or `<prefix>-<account>-<region>` where account and region may
/// be expressions (then their longest possible length is checked).
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct BucketName {
    prefix: String,
    suffix: Option<(Value<String>, Value<String>)>,
}

impl BucketName {
    /// Exactly `name`.
    pub fn literal(name: impl Into<String>) -> Self {
        Self {
            prefix: name.into(),
            suffix: None,
        }
    }

    /// `<prefix>-<account>-<region>`, unique across accounts and regions
    /// (`pixtools-images-123456789012-us-east-1`).
    pub fn with_account_and_region(
        prefix: impl Into<String>,
        account: impl Into<Value<String>>,
        region: impl Into<Value<String>>,
    ) -> Self {
        Self {
            prefix: prefix.into(),
            suffix: Some((account.into(), region.into())),
        }
    }

    /// Check the name against S3's rules for general purpose buckets and give it as a
    /// Terraform value.
    ///
    /// The rules: 3-63 characters; lowercase letters, digits, '.' and '-'; a letter or
    /// digit at both ends; no `..`, `.-` or `-.`; not an IPv4 address; not the reserved
    /// prefixes `xn--`, `sthree-`, `amzn-s3-demo-`; not the reserved suffixes `-s3alias`,
    /// `--ol-s3`, `.mrap`, `--x-s3`, `--table-s3`. An account or region known only at
    /// apply is checked at its longest (12 digits, 14 characters) and as the digits and
    /// `xx-xxxx-N` shape every account id and region has.
    pub fn resolve(&self) -> Result<Value<String>, StorageError> {
        let len = |v: &Value<String>, worst: usize| match v {
            Value::Literal(text) => text.len(),
            Value::Expr(_) => worst,
        };
        // The name with apply-time parts replaced by values of their shape.
        let (longest, literal_parts, modelled) = match &self.suffix {
            None => (
                self.prefix.len(),
                vec![self.prefix.as_str()],
                self.prefix.clone(),
            ),
            Some((account, region)) => {
                let mut parts = vec![self.prefix.as_str()];
                for v in [account, region] {
                    if let Value::Literal(text) = v {
                        parts.push(text.as_str());
                    }
                }
                let model = |v: &Value<String>, stand_in: &str| match v {
                    Value::Literal(text) => text.clone(),
                    Value::Expr(_) => stand_in.to_owned(),
                };
                (
                    self.prefix.len() + 2 + len(account, ACCOUNT_LEN) + len(region, MAX_REGION_LEN),
                    parts,
                    format!(
                        "{}-{}-{}",
                        self.prefix,
                        model(account, "000000000000"),
                        model(region, "us-east-1")
                    ),
                )
            }
        };
        let name = self.describe();
        if !(3..=63).contains(&longest) {
            return Err(StorageError::NameLength { name, longest });
        }
        for part in literal_parts {
            let ok = part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'))
                && !part.starts_with(['-', '.'])
                && !part.ends_with(['-', '.']);
            if !ok || part.is_empty() {
                return Err(StorageError::NameCharacters {
                    name,
                    part: part.to_owned(),
                });
            }
        }
        for pair in ["..", ".-", "-."] {
            if modelled.contains(pair) {
                return Err(StorageError::NamePair { name, pair });
            }
        }
        let labels: Vec<&str> = modelled.split('.').collect();
        if labels.len() == 4
            && labels
                .iter()
                .all(|l| !l.is_empty() && l.len() <= 3 && l.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(StorageError::NameIpAddress { name });
        }
        for prefix in RESERVED_PREFIXES {
            if modelled.starts_with(prefix) {
                return Err(StorageError::NameReservedPrefix { name, prefix });
            }
        }
        for (suffix, purpose) in RESERVED_SUFFIXES {
            if modelled.ends_with(suffix) {
                return Err(StorageError::NameReservedSuffix {
                    name,
                    suffix,
                    purpose,
                });
            }
        }
        Ok(match &self.suffix {
            None => Value::Literal(self.prefix.clone()),
            Some((Value::Literal(account), Value::Literal(region))) => {
                Value::Literal(format!("{}-{account}-{region}", self.prefix))
            }
            Some((account, region)) => Value::Expr(fns::format(
                format!("{}-%s-%s", self.prefix.replace('%', "%%")),
                [to_expr(account), to_expr(region)],
            )),
        })
    }

    fn describe(&self) -> String {
        match &self.suffix {
            None => format!("{:?}", self.prefix),
            Some((account, region)) => {
                let show = |v: &Value<String>| match v {
                    Value::Literal(text) => text.clone(),
                    Value::Expr(_) => "<apply-time>".into(),
                };
                format!("\"{}-{}-{}\"", self.prefix, show(account), show(region))
            }
        }
    }
}

fn to_expr(value: &Value<String>) -> Expr<Dynamic> {
    match value {
        Value::Literal(text) => Expr::lit(text.clone()).any(),
        Value::Expr(e) => e.clone().any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_with_account_and_region() {
        let name =
            BucketName::with_account_and_region("pixtools-images", "123456789012", "us-east-1");
        assert_eq!(
            name.resolve().unwrap(),
            Value::Literal("pixtools-images-123456789012-us-east-1".into())
        );
        let fits = BucketName::with_account_and_region("a".repeat(40), "123456789012", "us-east-1");
        assert!(fits.resolve().is_ok(), "40 + 1 + 12 + 1 + 9 = 63 fits");
        let long = BucketName::with_account_and_region("a".repeat(41), "123456789012", "us-east-1");
        assert!(matches!(
            long.resolve(),
            Err(StorageError::NameLength { longest: 64, .. })
        ));
        assert!(matches!(
            BucketName::literal("Images").resolve(),
            Err(StorageError::NameCharacters { part, .. }) if part == "Images"
        ));
    }

    #[test]
    fn the_general_purpose_naming_rules() {
        for good in [
            "abc",
            "my-bucket.logs",
            "pixtools-alb-logs-123456789012-us-east-1",
            "a--b",
            "192.168.1.1x",
            "1.2.3",
            "s3alias",
            "xn-a",
        ] {
            BucketName::literal(good).resolve().unwrap();
        }
        let name = |bad: &str| format!("{bad:?}");
        let ip = |bad: &str| StorageError::NameIpAddress { name: name(bad) };
        let suffix = |bad: &str, suffix, purpose| StorageError::NameReservedSuffix {
            name: name(bad),
            suffix,
            purpose,
        };
        let prefix = |bad: &str, prefix| StorageError::NameReservedPrefix {
            name: name(bad),
            prefix,
        };
        let pair = |bad: &str, pair| StorageError::NamePair {
            name: name(bad),
            pair,
        };
        let length = |bad: &str| StorageError::NameLength {
            name: name(bad),
            longest: bad.len(),
        };
        let chars = |bad: &str| StorageError::NameCharacters {
            name: name(bad),
            part: bad.to_owned(),
        };
        let long = "a".repeat(64);
        for (bad, expected) in [
            ("192.168.1.1", ip("192.168.1.1")),
            ("10.0.0.255", ip("10.0.0.255")),
            (
                "x-s3alias",
                suffix("x-s3alias", "-s3alias", "access point aliases"),
            ),
            (
                "x--ol-s3",
                suffix("x--ol-s3", "--ol-s3", "Object Lambda access point aliases"),
            ),
            ("x--x-s3", suffix("x--x-s3", "--x-s3", "directory buckets")),
            (
                "x--table-s3",
                suffix("x--table-s3", "--table-s3", "table buckets"),
            ),
            (
                "x.mrap",
                suffix("x.mrap", ".mrap", "Multi-Region Access Points"),
            ),
            ("amzn-s3-demo-x", prefix("amzn-s3-demo-x", "amzn-s3-demo-")),
            ("xn--bucket", prefix("xn--bucket", "xn--")),
            ("sthree-bucket", prefix("sthree-bucket", "sthree-")),
            (
                "sthree-configurator",
                prefix("sthree-configurator", "sthree-"),
            ),
            ("a..b", pair("a..b", "..")),
            ("a.-b", pair("a.-b", ".-")),
            ("a-.b", pair("a-.b", "-.")),
            ("ab", length("ab")),
            (long.as_str(), length(&long)),
            ("-abc", chars("-abc")),
            ("abc.", chars("abc.")),
            ("a_b", chars("a_b")),
            ("ab\u{e9}c", chars("ab\u{e9}c")),
        ] {
            assert_eq!(BucketName::literal(bad).resolve(), Err(expected), "{bad}");
        }
        assert!(
            ip("1.2.3.4")
                .to_string()
                .starts_with("bucket name \"1.2.3.4\": S3 refuses")
        );
    }

    #[test]
    fn apply_time_parts_are_checked_by_their_shape() {
        let account =
            || Value::Expr(Expr::raw("data.aws_caller_identity.current.account_id").cast());
        let region = || Value::Expr(Expr::raw("data.aws_region.current.region").cast());
        let name = BucketName::with_account_and_region("logs", account(), region());
        assert!(matches!(name.resolve().unwrap(), Value::Expr(_)));
        for (prefix, reserved) in [("amzn-s3-demo", "amzn-s3-demo-"), ("sthree", "sthree-")] {
            let err = BucketName::with_account_and_region(prefix, account(), region())
                .resolve()
                .unwrap_err();
            assert_eq!(
                err,
                StorageError::NameReservedPrefix {
                    name: format!("\"{prefix}-<apply-time>-<apply-time>\""),
                    prefix: reserved
                }
            );
        }
        for prefix in ["logs.", ""] {
            let err = BucketName::with_account_and_region(prefix, account(), region())
                .resolve()
                .unwrap_err();
            assert!(
                matches!(&err, StorageError::NameCharacters { part, name } if part == prefix && name.contains("<apply-time>")),
                "{err}"
            );
        }
    }

    proptest! {
        #[test]
        fn resolved_names_always_fit(prefix in "[a-z][a-z0-9-]{0,60}[a-z0-9]") {
            let name = BucketName::with_account_and_region(prefix.clone(), "123456789012", "ap-southeast-4");
            match name.resolve() {
                Ok(Value::Literal(text)) => prop_assert!(text.len() <= 63 && text.len() >= 3),
                Ok(other) => prop_assert!(false, "unexpected {:?}", other),
                Err(_) => {
                    let reserved = RESERVED_PREFIXES
                        .iter()
                        .any(|r| format!("{}-", prefix).starts_with(r));
                    prop_assert!(prefix.len() + 2 + 12 + 14 > 63 || reserved);
                }
            }
        }
    }
}
