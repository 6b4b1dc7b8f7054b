//! A workload in the stack, and the network policies that admit traffic to it.

use std::collections::BTreeMap;

use girder_core::{Result, Scope};
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::error::K8sError;
use crate::meta::{match_labels, object_meta};
use crate::network_policy::NetworkPolicyPeer;
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

    /// The names of its containers' ports (for monitors and policies that name one).
    pub fn port_names(&self) -> &[String] {
        &self.port_names
    }

    /// Admit traffic from `peer` (a workload's pods, a namespace, an [`IpBlock`]) to this
    /// workload's named port `port`: a NetworkPolicy `<workload>-from-<peer>`, written
    /// into `scope`'s Kubernetes app; meaningful on top of the namespace's default-deny
    /// policy.
    ///
    /// [`IpBlock`]: crate::IpBlock
    pub fn allow_from(
        &self,
        scope: &mut Scope<'_>,
        peer: &impl NetworkPolicyPeer,
        port: &str,
    ) -> Result<()> {
        let name = format!("{}-from-{}", self.name, peer.policy_suffix());
        let peer = peer.peer(&scope.location(), &name, &self.namespace)?;
        self.allow(scope, &name, peer, port)
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
            return Err(K8sError::NoSuchPort {
                workload: format!("{} {}/{}", self.kind, self.namespace, self.name),
                port: port.to_owned(),
                ports: self.port_names.clone(),
            }
            .at(at));
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
