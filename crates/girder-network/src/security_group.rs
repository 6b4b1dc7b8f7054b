//! Security groups without inline rules, and typed rules added by intent.

use girder_aws::aws;
use girder_core::{Error, Expr, Result, Scope};

use crate::cidr::Ipv4Cidr;

/// A port or port range and its protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Port {
    protocol: &'static str,
    from: u16,
    to: u16,
}

impl Port {
    /// One TCP port (1-65535; 0 is refused when the rule is added).
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

    fn check(&self, at: &str) -> Result<()> {
        if self.from == 0 || self.to == 0 || self.from > self.to {
            return Err(Error::invalid(
                at,
                format!(
                    "port {}-{} is not a port range (1-65535, from <= to)",
                    self.from, self.to
                ),
            ));
        }
        Ok(())
    }

    fn id(&self) -> String {
        if self.from == self.to {
            format!("{}-{}", self.protocol, self.from)
        } else {
            format!("{}-{}-{}", self.protocol, self.from, self.to)
        }
    }
}

/// A security group to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityGroup {
    name: String,
    description: String,
}

/// A security group in the stack; rules are added through it.
#[derive(Clone, Debug, PartialEq)]
pub struct SecurityGroupHandle {
    group: aws::SecurityGroupHandle,
}

impl SecurityGroup {
    /// Group `name` with `description` (what it protects; AWS shows it everywhere).
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
        }
    }

    /// Add it in `vpc_id` as construct `id`. It starts with no rules: no ingress, no
    /// egress.
    pub fn add(
        self,
        scope: &mut Scope<'_>,
        id: &str,
        vpc_id: Expr<String>,
    ) -> Result<SecurityGroupHandle> {
        let mut scope = scope.child(id)?;
        let at = scope.location();
        if self.description.trim().is_empty() {
            return Err(Error::invalid(
                at,
                "a security group needs a description of what it protects",
            ));
        }
        let group = scope.add_default(
            aws::SecurityGroup::new()
                .name(&self.name)
                .description(&self.description)
                .vpc_id(vpc_id)
                .tags([("Name", self.name.as_str())])
                .revoke_rules_on_delete(true),
        )?;
        Ok(SecurityGroupHandle { group })
    }
}

impl SecurityGroupHandle {
    /// The group's Terraform name as a construct id (`security_alb` -> `security-alb`),
    /// for naming the rules that refer to it.
    fn label(&self) -> String {
        self.group.as_ref().name().replace('_', "-")
    }

    /// The group id.
    pub fn id(&self) -> Expr<String> {
        self.group.id()
    }

    /// The generated resource.
    pub fn resource(&self) -> &aws::SecurityGroupHandle {
        &self.group
    }

    /// Allow members of `other` to reach `port` on members of this group.
    pub fn allow_from(
        &self,
        scope: &mut Scope<'_>,
        other: &SecurityGroupHandle,
        port: Port,
        description: &str,
    ) -> Result<()> {
        let at = scope.location();
        port.check(&at)?;
        let id = format!("ingress-{}-from-{}", port.id(), other.label());
        self.ingress(scope, &id, port, description, |rule| {
            rule.referenced_security_group_id(other.id())
        })
    }

    /// Allow `cidrs` to reach `port`. An empty list is refused: say who may connect.
    pub fn allow_from_cidrs(
        &self,
        scope: &mut Scope<'_>,
        cidrs: &[Ipv4Cidr],
        port: Port,
        description: &str,
    ) -> Result<()> {
        let at = scope.location();
        port.check(&at)?;
        if cidrs.is_empty() {
            return Err(Error::invalid(
                at,
                format!(
                    "an allowlist for {} is empty; name the client CIDRs",
                    port.id()
                ),
            ));
        }
        for cidr in cidrs {
            let id = format!(
                "ingress-{}-from-{}",
                port.id(),
                cidr.to_string().replace(['.', '/'], "-")
            );
            let block = cidr.to_string();
            self.ingress(scope, &id, port, description, |rule| rule.cidr_ipv4(block))?;
        }
        Ok(())
    }

    fn ingress(
        &self,
        scope: &mut Scope<'_>,
        id: &str,
        port: Port,
        description: &str,
        peer: impl FnOnce(aws::VpcSecurityGroupIngressRule) -> aws::VpcSecurityGroupIngressRule,
    ) -> Result<()> {
        let rule = aws::VpcSecurityGroupIngressRule::new(port.protocol, self.id())
            .from_port(port.from)
            .to_port(port.to)
            .description(description);
        scope.add(id, peer(rule))?;
        Ok(())
    }

    /// Allow all outbound traffic (instances that reach AWS APIs, package mirrors and
    /// the internet through NAT).
    pub fn allow_all_egress(&self, scope: &mut Scope<'_>, id: &str) -> Result<()> {
        scope.add(
            id,
            aws::VpcSecurityGroupEgressRule::new("-1", self.id())
                .cidr_ipv4("0.0.0.0/0")
                .description("All outbound traffic"),
        )?;
        Ok(())
    }

    /// Allow outbound `port` to members of `other`.
    pub fn allow_to(
        &self,
        scope: &mut Scope<'_>,
        other: &SecurityGroupHandle,
        port: Port,
        description: &str,
    ) -> Result<()> {
        let at = scope.location();
        port.check(&at)?;
        let id = format!("egress-{}-to-{}", port.id(), other.label());
        scope.add(
            &id,
            aws::VpcSecurityGroupEgressRule::new(port.protocol, self.id())
                .referenced_security_group_id(other.id())
                .from_port(port.from)
                .to_port(port.to)
                .description(description),
        )?;
        Ok(())
    }
}
