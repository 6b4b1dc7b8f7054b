//! A workload in the stack, and the network policies that admit traffic to it.

use std::collections::BTreeMap;

use girder_core::{Error, Result, Scope};
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::meta::{match_labels, object_meta};
use crate::validate;

/// A workload in the stack: its selector and ports, for Services, network policies and
/// monitors that need to find its pods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadHandle {
    pub(crate) kind: &'static str,
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) selector: BTreeMap<String, String>,
    pub(crate) port_names: Vec<String>,
    pub(crate) service: Option<String>,
}

impl WorkloadHandle {
    /// `metadata.name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `metadata.namespace`.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// `Deployment`, `StatefulSet`, ...
    pub fn kind(&self) -> &str {
        self.kind
    }

    /// The labels that select its pods.
    pub fn selector(&self) -> &BTreeMap<String, String> {
        &self.selector
    }

    /// The Service it is exposed as, if any.
    pub fn service_name(&self) -> Option<&str> {
        self.service.as_deref()
    }

    /// Allow pods of `other` to reach this workload's named port `port` (a NetworkPolicy;
    /// meaningful on top of the namespace's default-deny policy).
    pub fn allow_from(
        &self,
        scope: &mut Scope<'_>,
        other: &WorkloadHandle,
        port: &str,
    ) -> Result<()> {
        let peer = net::NetworkPolicyPeer {
            pod_selector: Some(match_labels(other.selector.clone())),
            namespace_selector: (other.namespace != self.namespace)
                .then(|| namespace_selector(&other.namespace)),
            ip_block: None,
        };
        self.allow(
            scope,
            &format!("{}-from-{}", self.name, other.name),
            peer,
            port,
        )
    }

    /// Allow every pod of namespace `namespace` to reach named port `port`.
    pub fn allow_from_namespace(
        &self,
        scope: &mut Scope<'_>,
        namespace: &str,
        port: &str,
    ) -> Result<()> {
        validate::dns_label(&scope.location(), "namespace", namespace)?;
        let peer = net::NetworkPolicyPeer {
            namespace_selector: Some(namespace_selector(namespace)),
            ..net::NetworkPolicyPeer::default()
        };
        self.allow(
            scope,
            &format!("{}-from-ns-{namespace}", self.name),
            peer,
            port,
        )
    }

    /// Allow clients in `cidr` (a load balancer's subnets) to reach named port `port`.
    pub fn allow_from_cidr(
        &self,
        scope: &mut Scope<'_>,
        id: &str,
        cidr: &str,
        port: &str,
    ) -> Result<()> {
        validate::cidr(
            &scope.location(),
            &format!("NetworkPolicy {}-from-{id} ipBlock", self.name),
            cidr,
        )?;
        let peer = net::NetworkPolicyPeer {
            ip_block: Some(net::IPBlock {
                cidr: cidr.to_owned(),
                except: None,
            }),
            ..net::NetworkPolicyPeer::default()
        };
        self.allow(scope, &format!("{}-from-{id}", self.name), peer, port)
    }

    fn allow(
        &self,
        scope: &mut Scope<'_>,
        name: &str,
        peer: net::NetworkPolicyPeer,
        port: &str,
    ) -> Result<()> {
        let at = scope.location();
        validate::dns_label(&at, "NetworkPolicy name", name)?;
        if !self.port_names.iter().any(|p| p == port) {
            return Err(Error::invalid(
                at,
                format!(
                    "{} {}/{}: no container port named {port:?} to allow traffic to (ports: {})",
                    self.kind,
                    self.namespace,
                    self.name,
                    self.port_names.join(", ")
                ),
            ));
        }
        let object = net::NetworkPolicy {
            metadata: object_meta(
                Some(&self.namespace),
                name,
                crate::meta::plain_labels(name),
                BTreeMap::new(),
            ),
            spec: Some(net::NetworkPolicySpec {
                pod_selector: Some(match_labels(self.selector.clone())),
                policy_types: Some(vec!["Ingress".into()]),
                ingress: Some(vec![net::NetworkPolicyIngressRule {
                    from: Some(vec![peer]),
                    ports: Some(vec![net::NetworkPolicyPort {
                        port: Some(IntOrString::String(port.to_owned())),
                        protocol: Some("TCP".into()),
                        end_port: None,
                    }]),
                }]),
                ..net::NetworkPolicySpec::default()
            }),
        };
        crate::meta::add_object(scope, &object)
    }
}

fn namespace_selector(
    namespace: &str,
) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector {
    match_labels(BTreeMap::from([(
        "kubernetes.io/metadata.name".to_owned(),
        namespace.to_owned(),
    )]))
}
