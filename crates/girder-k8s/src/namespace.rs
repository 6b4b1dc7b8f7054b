//! Namespaces with Pod Security Admission labels and an optional default-deny policy.

use std::collections::BTreeMap;

use girder_core::construct::Construct;
use girder_core::{Result, Scope};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::meta::{object_meta, plain_labels};
use crate::validate;

/// A Pod Security Standard level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PodSecurity {
    /// Hardened pods only (girder's workloads meet it by default).
    #[default]
    Restricted,
    /// Known privilege escalations blocked.
    Baseline,
    /// No restrictions (system namespaces, node agents).
    Privileged,
}

impl PodSecurity {
    fn as_str(self) -> &'static str {
        match self {
            PodSecurity::Restricted => "restricted",
            PodSecurity::Baseline => "baseline",
            PodSecurity::Privileged => "privileged",
        }
    }
}

/// A Namespace. Pod Security `restricted` is enforced, audited and warned by default.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespace {
    name: String,
    security: PodSecurity,
    default_deny: bool,
    deny_egress: bool,
    labels: BTreeMap<String, String>,
}

/// A Namespace in the stack: what workloads and objects are created in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamespaceHandle {
    name: String,
}

impl NamespaceHandle {
    /// A namespace created elsewhere (declare it on the stack with
    /// `Stack::external_kube_object("Namespace", None, name, reason)`).
    pub fn existing(name: impl Into<String>) -> Self {
        Self { name: name.into() }
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Namespace {
    /// Namespace `name` with Pod Security `restricted`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            security: PodSecurity::Restricted,
            default_deny: false,
            deny_egress: false,
            labels: BTreeMap::new(),
        }
    }

    /// Enforce another Pod Security level.
    pub fn pod_security(mut self, level: PodSecurity) -> Self {
        self.security = level;
        self
    }

    /// Add a NetworkPolicy that denies all ingress to every pod of the namespace; traffic
    /// is then allowed per workload with `WorkloadHandle::allow_from`.
    pub fn default_deny_ingress(mut self) -> Self {
        self.default_deny = true;
        self
    }

    /// Deny all ingress and all egress to every pod of the namespace (NetworkPolicy
    /// `default-deny`), but DNS: egress to the cluster's DNS (`kube-system` pods labelled
    /// `k8s-app: kube-dns`, port 53 over UDP and TCP) is allowed (`allow-dns`). What else a
    /// workload may reach is allowed per flow.
    pub fn default_deny(mut self) -> Self {
        self.default_deny = true;
        self.deny_egress = true;
        self
    }

    /// An extra label (for namespace selectors).
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }
}

impl Construct for Namespace {
    type Handle = NamespaceHandle;

    /// Add the Namespace (and its default-deny policy) as construct `id`, into the
    /// scope's Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<NamespaceHandle> {
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        validate::dns_label(&at, "namespace name", &self.name)?;
        let mut labels = plain_labels(&self.name);
        labels.extend(self.labels.clone());
        for mode in ["enforce", "audit", "warn"] {
            labels.insert(
                format!("pod-security.kubernetes.io/{mode}"),
                self.security.as_str().to_owned(),
            );
        }
        let namespace = core::Namespace {
            metadata: object_meta(None, &self.name, labels, BTreeMap::new()),
            ..core::Namespace::default()
        };
        crate::meta::add_object(scope, &namespace)?;
        if self.default_deny {
            let (name, types) = if self.deny_egress {
                ("default-deny", vec!["Ingress".into(), "Egress".into()])
            } else {
                ("default-deny-ingress", vec!["Ingress".into()])
            };
            let policy = net::NetworkPolicy {
                metadata: object_meta(Some(&self.name), name, plain_labels(name), BTreeMap::new()),
                spec: Some(net::NetworkPolicySpec {
                    pod_selector: Some(LabelSelector::default()),
                    policy_types: Some(types),
                    ..net::NetworkPolicySpec::default()
                }),
            };
            crate::meta::add_object(scope, &policy)?;
        }
        if self.deny_egress {
            crate::meta::add_object(scope, &allow_dns(&self.name))?;
        }
        Ok(NamespaceHandle { name: self.name })
    }
}

/// Egress from every pod of `namespace` to the cluster's DNS: CoreDNS's pods in
/// `kube-system` (`k8s-app: kube-dns`, the label EKS, K3s and kubeadm give them), port 53.
fn allow_dns(namespace: &str) -> net::NetworkPolicy {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let label = |key: &str, value: &str| LabelSelector {
        match_labels: Some([(key.to_owned(), value.to_owned())].into()),
        match_expressions: None,
    };
    net::NetworkPolicy {
        metadata: object_meta(
            Some(namespace),
            "allow-dns",
            plain_labels("allow-dns"),
            BTreeMap::new(),
        ),
        spec: Some(net::NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec!["Egress".into()]),
            egress: Some(vec![net::NetworkPolicyEgressRule {
                to: Some(vec![net::NetworkPolicyPeer {
                    namespace_selector: Some(label("kubernetes.io/metadata.name", "kube-system")),
                    pod_selector: Some(label("k8s-app", "kube-dns")),
                    ip_block: None,
                }]),
                ports: Some(
                    ["UDP", "TCP"]
                        .into_iter()
                        .map(|protocol| net::NetworkPolicyPort {
                            port: Some(IntOrString::Int(53)),
                            protocol: Some(protocol.into()),
                            end_port: None,
                        })
                        .collect(),
                ),
            }]),
            ingress: None,
        }),
    }
}
