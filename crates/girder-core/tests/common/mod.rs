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
