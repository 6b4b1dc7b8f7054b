//! Amazon Resource Names, formatted one way: `arn:<partition>:<service>:<region>:<account>:<resource>`.
//!
//! The partition is never written as a literal `aws`: it is stated ([`Partition`], when
//! the stack knows where it deploys) or read from the `aws_partition` data source (an
//! expression). Each part may be known at synth or computed by Terraform; an ARN whose
//! parts are all known is a plain string (usable in static Kubernetes manifests), any
//! other is one `format(...)` expression.

use std::fmt;

use crate::expr::{Expr, Value, fns};

/// An AWS partition, stated where a stack knows which one it deploys to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Partition {
    /// The commercial regions (`aws`).
    Aws,
    /// The China regions (`aws-cn`).
    AwsCn,
    /// AWS GovCloud (US) (`aws-us-gov`).
    AwsUsGov,
}

impl Partition {
    /// The partition's name in ARNs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsCn => "aws-cn",
            Partition::AwsUsGov => "aws-us-gov",
        }
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Partition> for Value<String> {
    fn from(partition: Partition) -> Self {
        Value::Literal(partition.as_str().to_owned())
    }
}

/// Why an [`AwsLocation`] was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AwsLocationError {
    /// Not 12 digits.
    #[error("AWS account id {0:?} is not 12 digits")]
    Account(String),
    /// Not a region name (`us-east-1`).
    #[error(
        "AWS region {0:?} is not a region name (lowercase words joined by '-', ending in a number: us-east-1)"
    )]
    Region(String),
}

/// Where ARNs point: partition, region and account, each stated or computed (data
/// sources). A construct told its location gives ARNs known at synth.
#[derive(Clone, Debug, PartialEq)]
pub struct AwsLocation {
    partition: Value<String>,
    region: Value<String>,
    account: Value<String>,
}

impl AwsLocation {
    /// A location known at synth: `partition`, `region` (`us-east-1`) and 12-digit
    /// `account`.
    pub fn stated(
        partition: Partition,
        region: &str,
        account: &str,
    ) -> Result<Self, AwsLocationError> {
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AwsLocationError::Account(account.to_owned()));
        }
        let words: Vec<&str> = region.split('-').collect();
        let region_ok = words.len() >= 3
            && words
                .last()
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            && words[..words.len() - 1]
                .iter()
                .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()));
        if !region_ok {
            return Err(AwsLocationError::Region(region.to_owned()));
        }
        Ok(Self {
            partition: partition.into(),
            region: region.into(),
            account: account.into(),
        })
    }

    /// A location from expressions (the `aws_partition`, `aws_region` and
    /// `aws_caller_identity` data sources) or any mix of literals and expressions.
    pub fn computed(
        partition: impl Into<Value<String>>,
        region: impl Into<Value<String>>,
        account: impl Into<Value<String>>,
    ) -> Self {
        Self {
            partition: partition.into(),
            region: region.into(),
            account: account.into(),
        }
    }

    /// The partition.
    pub fn partition(&self) -> &Value<String> {
        &self.partition
    }

    /// The region.
    pub fn region(&self) -> &Value<String> {
        &self.region
    }

    /// The account id.
    pub fn account(&self) -> &Value<String> {
        &self.account
    }

    /// A regional ARN of `service` in this account (`rds`, `db:pixtools-dev`).
    pub fn arn(&self, service: &str, resource: impl Into<Value<String>>) -> Arn {
        Arn::new(
            self.partition.clone(),
            service,
            self.region.clone(),
            self.account.clone(),
            resource,
        )
    }

    /// A regional ARN owned by no account (`ssm`, `document/AWS-RunShellScript`).
    pub fn regional_arn(&self, service: &str, resource: impl Into<Value<String>>) -> Arn {
        Arn::new(
            self.partition.clone(),
            service,
            self.region.clone(),
            "",
            resource,
        )
    }
}

/// An ARN: literal text and Terraform expressions, concatenated.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct Arn {
    /// Adjacent literals are merged, so a known ARN is one literal part.
    parts: Vec<Value<String>>,
}

impl Arn {
    /// `arn:<partition>:<service>:<region>:<account>:<resource>`; region and account may
    /// be empty (S3 buckets have neither, IAM has no region).
    pub fn new(
        partition: impl Into<Value<String>>,
        service: &str,
        region: impl Into<Value<String>>,
        account: impl Into<Value<String>>,
        resource: impl Into<Value<String>>,
    ) -> Self {
        let mut arn = Self { parts: Vec::new() };
        arn.push("arn:".into());
        arn.push(partition.into());
        arn.push(format!(":{service}:").into());
        arn.push(region.into());
        arn.push(":".into());
        arn.push(account.into());
        arn.push(":".into());
        arn.push(resource.into());
        arn
    }

    /// The ARN a resource reports (`aws_s3_bucket.x.arn`), known only after apply.
    pub fn attribute(arn: impl Into<Expr<String>>) -> Self {
        Self {
            parts: vec![Value::Expr(arn.into())],
        }
    }

    /// This ARN followed by `suffix`: objects of a bucket (`/*`), streams of a log
    /// group (`:*`).
    pub fn join(mut self, suffix: impl Into<Value<String>>) -> Self {
        self.push(suffix.into());
        self
    }

    fn push(&mut self, part: Value<String>) {
        match (self.parts.last_mut(), part) {
            (_, Value::Literal(text)) if text.is_empty() => {}
            (Some(Value::Literal(last)), Value::Literal(text)) => last.push_str(&text),
            (_, part) => self.parts.push(part),
        }
    }

    /// The ARN, if every part is known at synth.
    pub fn known(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [Value::Literal(text)] => Some(text),
            _ => None,
        }
    }

    /// The ARN as a Terraform value: a literal when known, the attribute itself when it
    /// is one, otherwise `format("arn:%s:...", ...)`.
    pub fn value(&self) -> Value<String> {
        match self.parts.as_slice() {
            [] => Value::Literal(String::new()),
            [one] => one.clone(),
            parts => {
                let mut spec = String::new();
                let mut args = Vec::new();
                for part in parts {
                    match part {
                        Value::Literal(text) => spec.push_str(&text.replace('%', "%%")),
                        Value::Expr(e) => {
                            spec.push_str("%s");
                            args.push(e.clone().any());
                        }
                    }
                }
                Value::Expr(fns::format(spec, args))
            }
        }
    }

    /// The ARN as an expression (a literal expression when known).
    pub fn expr(&self) -> Expr<String> {
        match self.value() {
            Value::Literal(text) => Expr::lit(text),
            Value::Expr(e) => e,
        }
    }
}

impl From<Arn> for Value<String> {
    fn from(arn: Arn) -> Self {
        arn.value()
    }
}

impl From<&Arn> for Value<String> {
    fn from(arn: &Arn) -> Self {
        arn.value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(value: &Value<String>) -> String {
        match value {
            Value::Literal(text) => format!("literal {text}"),
            Value::Expr(e) => e.to_terraform_string(),
        }
    }

    #[test]
    fn known_parts_make_a_literal() {
        let here = AwsLocation::stated(Partition::Aws, "us-east-1", "111111111111").unwrap();
        let arn = here.arn("rds", "db:pixtools-dev");
        assert_eq!(
            arn.known(),
            Some("arn:aws:rds:us-east-1:111111111111:db:pixtools-dev")
        );
        assert_eq!(
            arn.value(),
            Value::Literal("arn:aws:rds:us-east-1:111111111111:db:pixtools-dev".into())
        );
        assert_eq!(
            here.regional_arn("ssm", "document/AWS-RunShellScript")
                .known(),
            Some("arn:aws:ssm:us-east-1::document/AWS-RunShellScript")
        );
        let bucket = Arn::new(Partition::AwsCn, "s3", "", "", "logs").join("/alb/*");
        assert_eq!(bucket.known(), Some("arn:aws-cn:s3:::logs/alb/*"));
    }

    #[test]
    fn computed_parts_make_one_format_call() {
        let partition = Expr::raw("data.aws_partition.p.partition").cast::<String>();
        let arn = Arn::new(
            partition,
            "ssm",
            "us-east-1",
            "111111111111",
            "parameter/a%b/*",
        );
        assert_eq!(arn.known(), None);
        let text = rendered(&arn.value());
        assert!(
            text.contains("arn:%s:ssm:us-east-1:111111111111:parameter/a%%b/*"),
            "{text}"
        );
        let attribute = Arn::attribute(Expr::raw("aws_s3_bucket.b.arn").cast::<String>());
        assert!(matches!(attribute.value(), Value::Expr(_)));
        let objects = rendered(&attribute.join("/*").value());
        assert_eq!(objects, "${format(\"%s/*\", aws_s3_bucket.b.arn)}");
    }

    #[test]
    fn stated_locations_are_checked() {
        assert_eq!(
            AwsLocation::stated(Partition::Aws, "us-east-1", "1234"),
            Err(AwsLocationError::Account("1234".into()))
        );
        for bad in ["", "us-east", "US-east-1", "us--1", "useast1"] {
            assert_eq!(
                AwsLocation::stated(Partition::Aws, bad, "111111111111"),
                Err(AwsLocationError::Region(bad.into())),
                "{bad}"
            );
        }
        assert!(AwsLocation::stated(Partition::AwsUsGov, "us-gov-west-1", "111111111111").is_ok());
        assert_eq!(Partition::AwsUsGov.to_string(), "aws-us-gov");
    }
}
