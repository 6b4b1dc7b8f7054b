//! Security groups without inline rules; rules are added through their [`Connections`].

use girder_aws::aws;
use girder_core::construct::Construct;
use girder_core::expr::Reference;
use girder_core::terraform::Dependency;
use girder_core::{Error, Expr, Result, Scope};

use crate::connections::{Connectable, Connections, GroupRef};
use crate::error::NetworkError;
use crate::vpc::VpcHandle;

/// A port or port range and its protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Port {
    protocol: &'static str,
    from: u16,
    to: u16,
}

impl Port {
    /// One TCP port (1-65535; 0 is refused when a rule names it).
    pub fn tcp(port: u16) -> Self {
        Self {
            protocol: "tcp",
            from: port,
            to: port,
        }
    }

    /// A TCP range, inclusive.
    pub fn tcp_range(from: u16, to: u16) -> Self {
        Self {
            protocol: "tcp",
            from,
            to,
        }
    }

    /// One UDP port.
    pub fn udp(port: u16) -> Self {
        Self {
            protocol: "udp",
            from: port,
            to: port,
        }
    }

    pub(crate) fn check(&self) -> std::result::Result<(), NetworkError> {
        if self.from == 0 || self.to == 0 || self.from > self.to {
            return Err(NetworkError::PortRange {
                from: self.from,
                to: self.to,
            });
        }
        Ok(())
    }

    pub(crate) fn protocol(&self) -> &'static str {
        self.protocol
    }

    pub(crate) fn from(&self) -> u16 {
        self.from
    }

    pub(crate) fn to(&self) -> u16 {
        self.to
    }

    /// `tcp-5432`, `tcp-8000-8080`: how rule ids name the port.
    pub fn id(&self) -> String {
        if self.from == self.to {
            format!("{}-{}", self.protocol, self.from)
        } else {
            format!("{}-{}-{}", self.protocol, self.from, self.to)
        }
    }
}

/// A security group to create.
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct SecurityGroup {
    vpc_id: Expr<String>,
    name: String,
    description: String,
}

/// A security group in the stack; rules are added through its [`Connections`].
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct SecurityGroupHandle {
    group: aws::SecurityGroupHandle,
    connections: Connections,
}

impl SecurityGroup {
    /// Group `name` in `vpc` with `description` (what it protects; AWS shows it
    /// everywhere).
    pub fn new(vpc: &VpcHandle, name: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            vpc_id: vpc.id(),
            name: name.into(),
            description: description.into(),
        }
    }
}

impl Construct for SecurityGroup {
    type Handle = SecurityGroupHandle;

    /// Add it as construct `id`. It starts with no rules: no ingress, no egress.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<SecurityGroupHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        if self.description.trim().is_empty() {
            return Err(Error::construct(at, NetworkError::NoDescription));
        }
        let group = scope.add_default(
            aws::SecurityGroup::new()
                .name(&self.name)
                .description(&self.description)
                .vpc_id(self.vpc_id)
                .tags([("Name", self.name.as_str())])
                .revoke_rules_on_delete(true),
        )?;
        let connections = Connections::of(GroupRef {
            id: group.id(),
            label: group.as_ref().name().replace('_', "-"),
        });
        Ok(SecurityGroupHandle { group, connections })
    }
}

impl SecurityGroupHandle {
    /// The group id.
    pub fn id(&self) -> Expr<String> {
        self.group.id()
    }

    /// The generated resource.
    pub fn resource(&self) -> &aws::SecurityGroupHandle {
        &self.group
    }

    /// Allow all outbound traffic as rule `id` (instances that reach AWS APIs, package
    /// mirrors and the internet through NAT).
    pub fn allow_all_egress(&self, scope: &mut Scope<'_>, id: &str) -> Result<()> {
        scope.add(
            id,
            aws::VpcSecurityGroupEgressRule::new("-1", self.id())
                .cidr_ipv4("0.0.0.0/0")
                .description("All outbound traffic"),
        )?;
        Ok(())
    }
}

impl Connectable for SecurityGroupHandle {
    fn connections(&self) -> &Connections {
        &self.connections
    }
}

impl girder_core::construct::Dependable for SecurityGroupHandle {
    fn dependencies(&self) -> Vec<Reference> {
        vec![self.group.dependency()]
    }
}
