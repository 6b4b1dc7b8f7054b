//! S3 bucket names.

use girder_core::expr::{Dynamic, fns};
use girder_core::{Error, Expr, Result, Value};

/// The longest AWS region name (`ap-southeast-4`), for names whose region is only known
/// at apply.
const MAX_REGION_LEN: usize = 14;
/// AWS account ids are 12 digits.
const ACCOUNT_LEN: usize = 12;

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

    /// Check the name and give it as a Terraform value. `at` names the construct.
    pub fn resolve(&self, at: &str) -> Result<Value<String>> {
        let len = |v: &Value<String>, worst: usize| match v {
            Value::Literal(text) => text.len(),
            Value::Expr(_) => worst,
        };
        let (longest, literal_parts) = match &self.suffix {
            None => (self.prefix.len(), vec![self.prefix.clone()]),
            Some((account, region)) => {
                let mut parts = vec![self.prefix.clone()];
                for v in [account, region] {
                    if let Value::Literal(text) = v {
                        parts.push(text.clone());
                    }
                }
                (
                    self.prefix.len() + 2 + len(account, ACCOUNT_LEN) + len(region, MAX_REGION_LEN),
                    parts,
                )
            }
        };
        let shown = self.describe();
        if !(3..=63).contains(&longest) {
            return Err(Error::invalid(
                at,
                format!(
                    "bucket name {shown} can be {longest} characters; S3 allows 3 to 63 (shorten the prefix)"
                ),
            ));
        }
        for part in &literal_parts {
            let ok = part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'))
                && !part.contains("..")
                && !part.starts_with(['-', '.'])
                && !part.ends_with(['-', '.']);
            if !ok || part.is_empty() {
                return Err(Error::invalid(
                    at,
                    format!(
                        "bucket name {shown}: {part:?} may hold only lowercase letters, digits, '-' and '.', and start and end with a letter or digit"
                    ),
                ));
            }
        }
        if self.prefix.starts_with("xn--") || self.prefix.starts_with("sthree-") {
            return Err(Error::invalid(
                at,
                format!("bucket name {shown}: S3 reserves this prefix"),
            ));
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

    proptest! {
        #[test]
        fn resolved_names_always_fit(prefix in "[a-z][a-z0-9-]{0,60}[a-z0-9]") {
            let name = BucketName::with_account_and_region(prefix.clone(), "123456789012", "ap-southeast-4");
            match name.resolve("x") {
                Ok(Value::Literal(text)) => prop_assert!(text.len() <= 63 && text.len() >= 3),
                Ok(other) => prop_assert!(false, "unexpected {:?}", other),
                Err(_) => prop_assert!(prefix.len() + 2 + 12 + 14 > 63 || prefix.starts_with("xn--")),
            }
        }
    }
}
