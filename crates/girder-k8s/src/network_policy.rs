//! The cluster's one connection model (cdk8s-plus's `INetworkPolicyPeer`): whatever a
//! NetworkPolicy can admit traffic from is a [`NetworkPolicyPeer`] (a workload's pods,
//! every pod of a namespace, an IP block), and a workload admits any of them with one
//! method, [`WorkloadHandle::allow_from`](crate::WorkloadHandle::allow_from).

use std::collections::BTreeMap;

use girder_core::Result;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::meta::match_labels;
use crate::namespace::NamespaceHandle;
use crate::validate;
use crate::workload::WorkloadHandle;

/// Something a NetworkPolicy admits traffic from.
pub trait NetworkPolicyPeer {
    /// What the policy's name says it admits: the policy is `<workload>-from-<suffix>`.
    fn policy_suffix(&self) -> String;

    /// The `from` entry of a policy in namespace `policy_namespace`, after checking the
    /// peer (`at` names the construct in errors; `policy` the policy being written).
    fn peer(
        &self,
        at: &str,
        policy: &str,
        policy_namespace: &str,
    ) -> Result<net::NetworkPolicyPeer>;
}

/// The pods of another workload, in its namespace.
impl NetworkPolicyPeer for WorkloadHandle {
    fn policy_suffix(&self) -> String {
        self.name().to_owned()
    }

    fn peer(
        &self,
        _at: &str,
        _policy: &str,
        policy_namespace: &str,
    ) -> Result<net::NetworkPolicyPeer> {
        Ok(net::NetworkPolicyPeer {
            pod_selector: Some(match_labels(self.selector().clone())),
            namespace_selector: (self.namespace() != policy_namespace)
                .then(|| namespace_selector(self.namespace())),
            ip_block: None,
        })
    }
}

/// Every pod of a namespace (`NamespaceHandle::existing("kube-system")` for the
/// cluster's own components).
impl NetworkPolicyPeer for NamespaceHandle {
    fn policy_suffix(&self) -> String {
        format!("ns-{}", self.name())
    }

    fn peer(
        &self,
        at: &str,
        _policy: &str,
        _policy_namespace: &str,
    ) -> Result<net::NetworkPolicyPeer> {
        validate::dns_label(at, "namespace", self.name())?;
        Ok(net::NetworkPolicyPeer {
            namespace_selector: Some(namespace_selector(self.name())),
            ..net::NetworkPolicyPeer::default()
        })
    }
}

/// Clients in an IPv4 or IPv6 block (a load balancer's subnets), named `id` in the
/// policy's name.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpBlock {
    id: String,
    cidr: String,
}

impl IpBlock {
    /// Block `cidr` (`10.20.0.0/16`, network form), called `id` (`alb`) in the name of
    /// the policies that admit it. The CIDR is checked when a policy uses it.
    pub fn new(id: impl Into<String>, cidr: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            cidr: cidr.into(),
        }
    }
}

impl NetworkPolicyPeer for IpBlock {
    fn policy_suffix(&self) -> String {
        self.id.clone()
    }

    fn peer(
        &self,
        at: &str,
        policy: &str,
        _policy_namespace: &str,
    ) -> Result<net::NetworkPolicyPeer> {
        validate::cidr(at, &format!("NetworkPolicy {policy} ipBlock"), &self.cidr)?;
        Ok(net::NetworkPolicyPeer {
            ip_block: Some(net::IPBlock {
                cidr: self.cidr.clone(),
                except: None,
            }),
            ..net::NetworkPolicyPeer::default()
        })
    }
}

fn namespace_selector(namespace: &str) -> LabelSelector {
    match_labels(BTreeMap::from([(
        "kubernetes.io/metadata.name".to_owned(),
        namespace.to_owned(),
    )]))
}
