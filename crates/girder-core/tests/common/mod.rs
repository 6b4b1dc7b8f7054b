//! Setup shared by the integration tests.

#![allow(dead_code, clippy::unwrap_used)] // each test file uses a subset

use girder_core::Stack;
use girder_core::prelude::*;
use serde_json::json;

/// A stack that requires the AWS provider.
pub(crate) fn aws_stack(name: &str, env: &str, backend: Backend) -> Stack {
    let mut stack = Stack::new(name, env, backend).unwrap();
    stack
        .require_provider(ProviderRequirement::new("aws", "hashicorp/aws", "~> 6.0"))
        .unwrap();
    stack
}

/// An `aws_vpc` with the given CIDR.
pub(crate) fn vpc(cidr: &str) -> ResourceSpec {
    ResourceSpec::resource("aws_vpc", &json!({ "cidr_block": cidr }))
}

/// Read back a Terraform template string (the value of a JSON string in `.tf.json`):
/// `$${` and `%%{` are literal; a bare `${` or `%{` starts an interpolation or directive,
/// which is an error here because the input was supposed to be a plain literal.
pub(crate) fn read_template_literal(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("$${") || rest.starts_with("%%{") {
            out.push_str(&rest[1..3]);
            rest = &rest[3..];
        } else if rest.starts_with("${") || rest.starts_with("%{") {
            return Err(format!("interpolation in {text:?}"));
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    Ok(out)
}
