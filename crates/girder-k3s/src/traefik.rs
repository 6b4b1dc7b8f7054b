//! The in-cluster half of serving through the ALB: K3s's bundled Traefik, its `web`
//! entry point on the fixed NodePort the ALB target group sends to, trusting
//! `X-Forwarded-*` only from the VPC (the ALB's addresses), so access logs and rate
//! limits see the real client.

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

    /// Trust `X-Forwarded-For` / `-Proto` from `cidr` (the VPC the load balancer is in).
    pub fn trust_forwarded_headers_from(mut self, cidr: Ipv4Cidr) -> Self {
        self.trusted.push(cidr);
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
            "service": {"type": "NodePort"},
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
