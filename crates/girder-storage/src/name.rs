//! S3 bucket names.

use girder_core::expr::{Dynamic, fns};
use girder_core::{Error, Expr, Result, Value};

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
    /// Terraform value. `at` names the construct.
    ///
    /// The rules: 3-63 characters; lowercase letters, digits, '.' and '-'; a letter or
    /// digit at both ends; no `..`, `.-` or `-.`; not an IPv4 address; not the reserved
    /// prefixes `xn--`, `sthree-`, `amzn-s3-demo-`; not the reserved suffixes `-s3alias`,
    /// `--ol-s3`, `.mrap`, `--x-s3`, `--table-s3`. An account or region known only at
    /// apply is checked at its longest (12 digits, 14 characters) and as the digits and
    /// `xx-xxxx-N` shape every account id and region has.
    pub fn resolve(&self, at: &str) -> Result<Value<String>> {
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
        let shown = self.describe();
        let refuse = |why: String| Err(Error::invalid(at, format!("bucket name {shown}: {why}")));
        if !(3..=63).contains(&longest) {
            return Err(Error::invalid(
                at,
                format!(
                    "bucket name {shown} can be {longest} characters; S3 allows 3 to 63 (shorten the prefix)"
                ),
            ));
        }
        for part in literal_parts {
            let ok = part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'))
                && !part.starts_with(['-', '.'])
                && !part.ends_with(['-', '.']);
            if !ok || part.is_empty() {
                return refuse(format!(
                    "{part:?} may hold only lowercase letters, digits, '-' and '.', and start and end with a letter or digit"
                ));
            }
        }
        for pair in ["..", ".-", "-."] {
            if modelled.contains(pair) {
                return refuse(format!(
                    "{pair:?} is not allowed: S3 names are dot-separated labels that start and end with a letter or digit"
                ));
            }
        }
        let labels: Vec<&str> = modelled.split('.').collect();
        if labels.len() == 4
            && labels
                .iter()
                .all(|l| !l.is_empty() && l.len() <= 3 && l.chars().all(|c| c.is_ascii_digit()))
        {
            return refuse("S3 refuses names formatted as an IP address".into());
        }
        for reserved in RESERVED_PREFIXES {
            if modelled.starts_with(reserved) {
                return refuse(format!("S3 reserves the prefix {reserved:?}"));
            }
        }
        for (reserved, for_what) in RESERVED_SUFFIXES {
            if modelled.ends_with(reserved) {
                return refuse(format!(
                    "S3 reserves the suffix {reserved:?} for {for_what}"
                ));
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
            name.resolve("x").unwrap(),
            Value::Literal("pixtools-images-123456789012-us-east-1".into())
        );
        let fits = BucketName::with_account_and_region("a".repeat(40), "123456789012", "us-east-1");
        assert!(fits.resolve("x").is_ok(), "40 + 1 + 12 + 1 + 9 = 63 fits");
        let long = BucketName::with_account_and_region("a".repeat(41), "123456789012", "us-east-1");
        let err = long.resolve("stack:bucket").unwrap_err().to_string();
        assert!(err.starts_with("stack:bucket: bucket name"), "{err}");
        assert!(
            err.contains("can be 64 characters; S3 allows 3 to 63"),
            "{err}"
        );
        let err = BucketName::literal("Images")
            .resolve("x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("lowercase"), "{err}");
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
            BucketName::literal(good).resolve("x").unwrap();
        }
        for (bad, why) in [
            ("192.168.1.1", "formatted as an IP address"),
            ("10.0.0.255", "formatted as an IP address"),
            ("x-s3alias", "reserves the suffix \"-s3alias\""),
            ("x--ol-s3", "reserves the suffix \"--ol-s3\""),
            ("x--x-s3", "reserves the suffix \"--x-s3\""),
            ("x--table-s3", "reserves the suffix \"--table-s3\""),
            ("x.mrap", "reserves the suffix \".mrap\""),
            ("amzn-s3-demo-x", "reserves the prefix \"amzn-s3-demo-\""),
            ("xn--bucket", "reserves the prefix \"xn--\""),
            ("sthree-bucket", "reserves the prefix \"sthree-\""),
            ("sthree-configurator", "reserves the prefix \"sthree-\""),
            ("a..b", "\"..\" is not allowed"),
            ("a.-b", "\".-\" is not allowed"),
            ("a-.b", "\"-.\" is not allowed"),
            ("ab", "S3 allows 3 to 63"),
            (&"a".repeat(64), "S3 allows 3 to 63"),
            ("-abc", "start and end with a letter or digit"),
            ("abc.", "start and end with a letter or digit"),
            ("a_b", "lowercase letters, digits"),
            ("ab\u{e9}c", "lowercase letters, digits"),
        ] {
            let err = BucketName::literal(bad)
                .resolve("stack:b")
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("stack:b: bucket name {bad:?}")),
                "{bad}: {err}"
            );
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn apply_time_parts_are_checked_by_their_shape() {
        let account =
            || Value::Expr(Expr::raw("data.aws_caller_identity.current.account_id").cast());
        let region = || Value::Expr(Expr::raw("data.aws_region.current.region").cast());
        let name = BucketName::with_account_and_region("logs", account(), region());
        assert!(matches!(name.resolve("x").unwrap(), Value::Expr(_)));
        for (prefix, why) in [
            ("amzn-s3-demo", "reserves the prefix \"amzn-s3-demo-\""),
            ("sthree", "reserves the prefix \"sthree-\""),
            ("logs.", "start and end with a letter or digit"),
            ("", "start and end with a letter or digit"),
        ] {
            let err = BucketName::with_account_and_region(prefix, account(), region())
                .resolve("x")
                .unwrap_err()
                .to_string();
            assert!(err.contains(why), "{prefix}: {err}");
            assert!(err.contains("<apply-time>"), "{err}");
        }
    }

    proptest! {
        #[test]
        fn resolved_names_always_fit(prefix in "[a-z][a-z0-9-]{0,60}[a-z0-9]") {
            let name = BucketName::with_account_and_region(prefix.clone(), "123456789012", "ap-southeast-4");
            match name.resolve("x") {
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
