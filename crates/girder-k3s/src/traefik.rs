//! The in-cluster half of serving through the ALB: K3s's bundled Traefik, its `web`
//! entry point on the fixed NodePort the ALB target group sends to, trusting
//! `X-Forwarded-*` only from the load balancer's subnets, so access logs and rate
//! limits see the real client.
//!
//! The Service keeps the packet's source (`externalTrafficPolicy: Local`): with
//! `Cluster`, kube-proxy source-NATs NodePort traffic to the node's pod-network address,
//! Traefik sees that peer instead of the ALB, does not trust its `X-Forwarded-For`, and
//! every client shares one rate-limit bucket. With `Local` a node answers on the NodePort
//! only while it runs a Traefik pod: a node without one fails the ALB's health check and
//! gets no traffic. On a single node (PixTools) Traefik runs there or nowhere, so that
//! changes nothing; with several nodes, run Traefik on every node the target group
//! registers (a DaemonSet) or accept that only those nodes are healthy targets.

use girder_core::construct::Construct;
use girder_core::{Error, Result, Scope};
use girder_k8s::crds::k3s::{CONTROLLER_NAMESPACE, HelmChartConfig, HelmChartConfigSpec};
use girder_k8s::crds::{Extra, ObjectRef};
use girder_network::Ipv4Cidr;
use serde_json::json;

use crate::K3sError;

/// The NodePort range of a default Kubernetes API server.
const NODE_PORTS: std::ops::RangeInclusive<u16> = 30000..=32767;

/// K3s's bundled Traefik, configured for a load balancer in front (a `HelmChartConfig`
/// named `traefik` in `kube-system`). The node must keep Traefik:
/// [`crate::K3sNode::bundled_traefik`].
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Traefik {
    node_port: u16,
    trusted: Vec<Ipv4Cidr>,
}

impl Traefik {
    /// Serve plain HTTP on NodePort `node_port` (30000-32767), the port the load
    /// balancer's target group uses.
    pub fn node_port(node_port: u16) -> Self {
        Self {
            node_port,
            trusted: Vec::new(),
        }
    }

    /// Trust `X-Forwarded-For` / `-Proto` from `cidr`: the subnets the load balancer's
    /// nodes are in (`VpcHandle::public_subnet_cidrs` for an internet-facing ALB), and
    /// nothing wider (any other address in a trusted block could forge a client address).
    pub fn trust_forwarded_headers_from(mut self, cidr: Ipv4Cidr) -> Self {
        self.trusted.push(cidr);
        self
    }

    /// Trust `X-Forwarded-*` from each of `cidrs` (the load balancer's subnets).
    pub fn trust_forwarded_headers_from_subnets(
        mut self,
        cidrs: impl IntoIterator<Item = Ipv4Cidr>,
    ) -> Self {
        self.trusted.extend(cidrs);
        self
    }
}

impl Construct for Traefik {
    type Handle = ObjectRef;

    /// Add the HelmChartConfig as construct `id`, into the scope's Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<ObjectRef> {
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        if !NODE_PORTS.contains(&self.node_port) {
            return Err(Error::construct(
                &at,
                K3sError::NodePortOutOfRange {
                    port: self.node_port,
                    low: *NODE_PORTS.start(),
                    high: *NODE_PORTS.end(),
                },
            ));
        }
        let mut web = json!({"nodePort": self.node_port});
        if !self.trusted.is_empty() {
            let trusted: Vec<String> = self.trusted.iter().map(ToString::to_string).collect();
            web["forwardedHeaders"] = json!({"trustedIPs": trusted});
        }
        let values = json!({
            // Keep the client's (the ALB node's) source address: see the module docs.
            "service": {"type": "NodePort", "spec": {"externalTrafficPolicy": "Local"}},
            "ports": {"web": web},
        });
        let values_content = girder_core::yaml::to_yaml(&at, &values)?;
        HelmChartConfig::new(
            CONTROLLER_NAMESPACE,
            "traefik",
            HelmChartConfigSpec {
                values_content,
                extra: Extra::new(),
            },
        )
        .add(scope, "config")
    }
}
