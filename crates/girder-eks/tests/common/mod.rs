//! A stack with a VPC and an EKS cluster, for the tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // each test file uses part

use girder_aws::aws;
use girder_core::Result;
use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_eks::{EksCluster, EksClusterHandle, KubernetesVersion};
use girder_network::{Vpc, VpcHandle};

/// Kubernetes 1.36.
pub(crate) fn v1_36() -> KubernetesVersion {
    KubernetesVersion::new(36).unwrap()
}

/// A stack with VPC `network` (10.50.0.0/16) and cluster `eks` (`piksel-dev`, 1.36, as
/// `configure` sets it up), then `more`; the template, or the error `more` or the
/// cluster gave.
pub(crate) fn try_build(
    configure: impl FnOnce(EksCluster) -> EksCluster,
    more: impl FnOnce(&mut Scope<'_>, &VpcHandle, &EksClusterHandle) -> Result<()>,
) -> Result<Template> {
    let mut stack = Stack::new("eks", "dev", Backend::local())?;
    stack.require_provider(aws::requirement())?;
    stack.add_provider(aws::Provider::new().region("eu-central-1").into())?;
    let mut scope = stack.root();
    let vpc = Vpc::new("piksel-dev", "10.50.0.0/16".parse().unwrap()).add(&mut scope, "network")?;
    let cluster = configure(EksCluster::new(&vpc, "piksel-dev", v1_36())).add(&mut scope, "eks")?;
    more(&mut scope, &vpc, &cluster)?;
    drop(scope);
    Template::from_stack(stack)
}

/// [`try_build`], which must succeed.
pub(crate) fn build(
    configure: impl FnOnce(EksCluster) -> EksCluster,
    more: impl FnOnce(&mut Scope<'_>, &VpcHandle, &EksClusterHandle) -> Result<()>,
) -> Template {
    try_build(configure, more).unwrap()
}

/// The `EksError` inside a construct error.
pub(crate) fn eks_error(error: &girder_core::Error) -> girder_eks::EksError {
    error
        .construct_error::<girder_eks::EksError>()
        .unwrap_or_else(|| panic!("not an EksError: {error}"))
        .clone()
}

/// A cluster named `name`, alone.
pub(crate) fn try_build_named(name: &str) -> Result<Template> {
    let mut stack = Stack::new("eks", "dev", Backend::local())?;
    stack.require_provider(aws::requirement())?;
    let mut scope = stack.root();
    let vpc = Vpc::new("piksel-dev", "10.50.0.0/16".parse().unwrap()).add(&mut scope, "network")?;
    let _cluster = EksCluster::new(&vpc, name, v1_36()).add(&mut scope, "eks")?;
    drop(scope);
    Template::from_stack(stack)
}
