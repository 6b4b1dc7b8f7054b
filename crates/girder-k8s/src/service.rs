//! How a workload is reached: a Service (ClusterIP, headless or LoadBalancer) and an
//! Ingress in front of it, including the AWS Load Balancer Controller's annotations.

use std::collections::BTreeMap;

/// The kind of Service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ServiceType {
    /// A virtual IP inside the cluster.
    #[default]
    ClusterIp,
    /// No virtual IP: DNS returns the pods (StatefulSet peers, client-side balancing).
    Headless,
    /// A cloud load balancer.
    LoadBalancer,
}

/// A Service in front of a workload. Its selector is the workload's, never typed twice;
/// its ports point at the containers' named ports.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub(crate) kind: ServiceType,
    /// (service port, container port name).
    pub(crate) ports: Vec<(u16, String)>,
    pub(crate) annotations: BTreeMap<String, String>,
    /// The Ingress in front of it: only a Service has one, so an Ingress cannot route
    /// to a workload that is not exposed.
    pub(crate) ingress: Option<Ingress>,
}

impl Service {
    pub(crate) fn with(kind: ServiceType) -> Self {
        Self {
            kind,
            ports: Vec::new(),
            annotations: BTreeMap::new(),
            ingress: None,
        }
    }

    /// A ClusterIP Service.
    pub fn cluster_ip() -> Self {
        Self::with(ServiceType::ClusterIp)
    }

    /// A headless Service.
    pub fn headless() -> Self {
        Self::with(ServiceType::Headless)
    }

    /// A LoadBalancer Service.
    pub fn load_balancer() -> Self {
        Self::with(ServiceType::LoadBalancer)
    }

    /// Serve `port`, forwarding to the container port named `target`.
    pub fn port(mut self, port: u16, target: impl Into<String>) -> Self {
        self.ports.push((port, target.into()));
        self
    }

    /// An annotation (load balancer settings).
    pub fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// Route HTTP to this Service through an Ingress named like the workload.
    pub fn ingress(mut self, ingress: Ingress) -> Self {
        self.ingress = Some(ingress);
        self
    }
}

/// An Ingress routing HTTP to the workload's Service.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ingress {
    pub(crate) class: String,
    /// (host, path, service port).
    pub(crate) rules: Vec<(Option<String>, String, u16)>,
    pub(crate) annotations: BTreeMap<String, String>,
    pub(crate) tls: Vec<(Vec<String>, String)>,
    /// Internet-facing without an address allowlist: the reason it is meant to be.
    pub(crate) open_to_internet: Option<String>,
    pub(crate) internet_facing: bool,
}

/// The annotation prefix of the AWS Load Balancer Controller.
const ALB: &str = "alb.ingress.kubernetes.io";

impl Ingress {
    /// An Ingress of class `class` (`nginx`, `traefik`, `alb`).
    pub fn new(class: impl Into<String>) -> Self {
        Self {
            class: class.into(),
            rules: Vec::new(),
            annotations: BTreeMap::new(),
            tls: Vec::new(),
            open_to_internet: None,
            internet_facing: false,
        }
    }

    /// An ALB through the AWS Load Balancer Controller: internal, IP targets (pods
    /// directly), HTTP health checks on `/`. Make it public with [`Ingress::internet_facing`].
    pub fn aws_load_balancer() -> Self {
        Self::new("alb")
            .annotation(format!("{ALB}/scheme"), "internal")
            .annotation(format!("{ALB}/target-type"), "ip")
    }

    /// Route requests for `path` (a prefix) on any host to service port `port`.
    pub fn path(mut self, path: impl Into<String>, port: u16) -> Self {
        self.rules.push((None, path.into(), port));
        self
    }

    /// Route requests for `host` and `path` (a prefix) to service port `port`.
    pub fn host_path(
        mut self,
        host: impl Into<String>,
        path: impl Into<String>,
        port: u16,
    ) -> Self {
        self.rules.push((Some(host.into()), path.into(), port));
        self
    }

    /// Terminate TLS for `hosts` with the certificate in Secret `secret`.
    pub fn tls<S: Into<String>>(
        mut self,
        hosts: impl IntoIterator<Item = S>,
        secret: impl Into<String>,
    ) -> Self {
        self.tls
            .push((hosts.into_iter().map(Into::into).collect(), secret.into()));
        self
    }

    /// An annotation.
    pub fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// ALB: reachable from the internet. Restrict it with [`Ingress::inbound_cidrs`], or
    /// state why it is open to all with [`Ingress::open_to_internet`].
    pub fn internet_facing(mut self) -> Self {
        self.internet_facing = true;
        self.annotation(format!("{ALB}/scheme"), "internet-facing")
    }

    /// ALB: only these client CIDRs may connect.
    pub fn inbound_cidrs<S: AsRef<str>>(self, cidrs: impl IntoIterator<Item = S>) -> Self {
        let list: Vec<String> = cidrs.into_iter().map(|c| c.as_ref().to_owned()).collect();
        self.annotation(format!("{ALB}/inbound-cidrs"), list.join(","))
    }

    /// ALB: open to every address, on purpose.
    pub fn open_to_internet(mut self, reason: impl Into<String>) -> Self {
        self.open_to_internet = Some(reason.into());
        self
    }

    /// ALB: the health check path of the target group.
    pub fn healthcheck_path(self, path: impl Into<String>) -> Self {
        self.annotation(format!("{ALB}/healthcheck-path"), path)
    }

    /// ALB: HTTPS on 443 with this ACM certificate, HTTP redirected to it.
    pub fn https(self, certificate_arn: impl Into<String>) -> Self {
        self.annotation(format!("{ALB}/certificate-arn"), certificate_arn)
            .annotation(
                format!("{ALB}/listen-ports"),
                r#"[{"HTTP": 80}, {"HTTPS": 443}]"#,
            )
            .annotation(format!("{ALB}/ssl-redirect"), "443")
    }

    /// ALB: instance targets (through node ports) instead of pod IPs.
    pub fn target_type_instance(self) -> Self {
        self.annotation(format!("{ALB}/target-type"), "instance")
    }

    /// ALB: share one load balancer among Ingresses of this group.
    pub fn group(self, name: impl Into<String>) -> Self {
        self.annotation(format!("{ALB}/group.name"), name)
    }
}
