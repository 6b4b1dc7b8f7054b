//! One connection model for everything with security groups (AWS CDK's
//! `connections.allowFrom`): a construct is [`Connectable`], its [`Connections`] take
//! rules, and a rule's other side is a [`Peer`]: another connectable construct or CIDR
//! blocks.

use girder_aws::aws;
use girder_core::expr::Reference;
use girder_core::terraform::Dependency;
use girder_core::vocabulary::{IntoReason, Ipv4Cidr};
use girder_core::{Error, Expr, Result, Scope};

use crate::error::NetworkError;
use crate::security_group::Port;

/// One security group a rule can name: its id and a label for rule ids.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GroupRef {
    pub(crate) id: Expr<String>,
    /// The group's Terraform name as a construct id (`edge_alb_security_group` ->
    /// `edge-alb-security-group`).
    pub(crate) label: String,
}

/// Where a rule's traffic comes from or goes to.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum PeerSource {
    /// Members of a security group.
    Group {
        /// The group id.
        id: Expr<String>,
        /// The label rule ids use.
        label: String,
    },
    /// Addresses in a block.
    Cidr(Ipv4Cidr),
}

impl PeerSource {
    fn label(&self) -> String {
        match self {
            PeerSource::Group { label, .. } => label.clone(),
            PeerSource::Cidr(cidr) => cidr.to_string().replace(['.', '/'], "-"),
        }
    }
}

/// The other side of a rule: a [`Connectable`] construct, one CIDR block or several.
pub trait Peer {
    /// The groups or blocks the rule names, one rule each.
    fn sources(&self) -> Vec<PeerSource>;
}

impl<T: Connectable + ?Sized> Peer for T {
    fn sources(&self) -> Vec<PeerSource> {
        self.connections()
            .groups
            .iter()
            .map(|g| PeerSource::Group {
                id: g.id.clone(),
                label: g.label.clone(),
            })
            .collect()
    }
}

impl Peer for Ipv4Cidr {
    fn sources(&self) -> Vec<PeerSource> {
        vec![PeerSource::Cidr(*self)]
    }
}

impl Peer for [Ipv4Cidr] {
    fn sources(&self) -> Vec<PeerSource> {
        self.iter().map(|c| PeerSource::Cidr(*c)).collect()
    }
}

impl<const N: usize> Peer for [Ipv4Cidr; N] {
    fn sources(&self) -> Vec<PeerSource> {
        self.as_slice().sources()
    }
}

impl Peer for Vec<Ipv4Cidr> {
    fn sources(&self) -> Vec<PeerSource> {
        self.as_slice().sources()
    }
}

/// A construct with security groups: security groups, PostgreSQL, K3s nodes, load
/// balancers.
pub trait Connectable {
    /// Its security groups, through which rules are added.
    fn connections(&self) -> &Connections;
}

/// The security groups of a construct, and the one way rules are added to them.
///
/// Each call writes the rules of this side only (ingress on `allow_from`, egress on
/// `allow_to`); a peer whose group restricts egress is given the other side with its own
/// `allow_to`. Rules are added in the scope passed, named `ingress-<port>-from-<peer>` /
/// `egress-<port>-to-<peer>`.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct Connections {
    pub(crate) groups: Vec<GroupRef>,
    default_port: Option<Port>,
}

impl Connections {
    pub(crate) fn of(group: GroupRef) -> Self {
        Self {
            groups: vec![group],
            default_port: None,
        }
    }

    /// The same groups, serving `port` by default (PostgreSQL's 5432): what
    /// [`Connections::allow_default_port_from`] opens.
    pub fn with_default_port(mut self, port: Port) -> Self {
        self.default_port = Some(port);
        self
    }

    /// The port the construct serves, if it has one.
    pub fn default_port(&self) -> Option<Port> {
        self.default_port
    }

    /// Admit `peer` on the construct's default port (AWS CDK's `allowDefaultPortFrom`).
    pub fn allow_default_port_from(
        &self,
        scope: &mut Scope<'_>,
        peer: &(impl Peer + ?Sized),
        reason: impl IntoReason,
    ) -> Result<Vec<Reference>> {
        let port = self
            .default_port
            .ok_or_else(|| Error::construct(scope.location(), NetworkError::NoDefaultPort))?;
        self.allow_from(scope, peer, port, reason)
    }

    /// The ids of the security groups.
    pub fn security_group_ids(&self) -> Vec<Expr<String>> {
        self.groups.iter().map(|g| g.id.clone()).collect()
    }

    /// Admit `peer` on `port`; `reason` becomes each rule's description. A peer naming
    /// nothing (an empty CIDR list) is refused: say who may connect. Returns the rules
    /// (something to wait for: what connects through them is ordered after them).
    pub fn allow_from(
        &self,
        scope: &mut Scope<'_>,
        peer: &(impl Peer + ?Sized),
        port: Port,
        reason: impl IntoReason,
    ) -> Result<Vec<Reference>> {
        self.rules(scope, peer, port, reason, Direction::Ingress)
    }

    /// Let members send to `peer` on `port`. Returns the rules, as
    /// [`Connections::allow_from`].
    pub fn allow_to(
        &self,
        scope: &mut Scope<'_>,
        peer: &(impl Peer + ?Sized),
        port: Port,
        reason: impl IntoReason,
    ) -> Result<Vec<Reference>> {
        self.rules(scope, peer, port, reason, Direction::Egress)
    }

    fn rules(
        &self,
        scope: &mut Scope<'_>,
        peer: &(impl Peer + ?Sized),
        port: Port,
        reason: impl IntoReason,
        direction: Direction,
    ) -> Result<Vec<Reference>> {
        let at = scope.location();
        port.check().map_err(|e| Error::construct(&at, e))?;
        let reason = reason.into_reason().map_err(|source| {
            Error::construct(
                &at,
                NetworkError::Reason {
                    what: format!("the description of the rules for {}", port.id()),
                    source,
                },
            )
        })?;
        let sources = peer.sources();
        if sources.is_empty() {
            return Err(Error::construct(
                &at,
                NetworkError::EmptyAllowlist { port: port.id() },
            ));
        }
        let several = self.groups.len() > 1;
        let mut rules = Vec::new();
        for group in &self.groups {
            for source in &sources {
                let mut id = match direction {
                    Direction::Ingress => format!("ingress-{}-from-{}", port.id(), source.label()),
                    Direction::Egress => format!("egress-{}-to-{}", port.id(), source.label()),
                };
                if several {
                    id = format!("{}-{id}", group.label);
                }
                match direction {
                    Direction::Ingress => {
                        let rule = aws::VpcSecurityGroupIngressRule::new(
                            port.protocol(),
                            group.id.clone(),
                        )
                        .from_port(port.from())
                        .to_port(port.to())
                        .description(reason.as_str());
                        let rule = match source {
                            PeerSource::Group { id, .. } => {
                                rule.referenced_security_group_id(id.clone())
                            }
                            PeerSource::Cidr(cidr) => rule.cidr_ipv4(cidr.to_string()),
                        };
                        rules.push(scope.add(&id, rule)?.dependency());
                    }
                    Direction::Egress => {
                        let rule =
                            aws::VpcSecurityGroupEgressRule::new(port.protocol(), group.id.clone());
                        let rule = match source {
                            PeerSource::Group { id, .. } => {
                                rule.referenced_security_group_id(id.clone())
                            }
                            PeerSource::Cidr(cidr) => rule.cidr_ipv4(cidr.to_string()),
                        };
                        rules.push(
                            scope
                                .add(
                                    &id,
                                    rule.from_port(port.from())
                                        .to_port(port.to())
                                        .description(reason.as_str()),
                                )?
                                .dependency(),
                        );
                    }
                }
            }
        }
        Ok(rules)
    }
}

impl Connectable for Connections {
    fn connections(&self) -> &Connections {
        self
    }
}

#[derive(Clone, Copy)]
enum Direction {
    Ingress,
    Egress,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail by panicking

    use girder_core::Stack;
    use girder_core::construct::Construct;
    use girder_core::terraform::Backend;

    use super::*;
    use crate::{SecurityGroup, Vpc};

    #[test]
    fn rules_go_on_every_group_of_the_construct_named_by_group() {
        let mut stack = Stack::new("n", "dev", Backend::local()).unwrap();
        stack.require_provider(aws::requirement()).unwrap();
        let mut scope = stack.root();
        let vpc = Vpc::new("v", "10.0.0.0/16".parse().unwrap())
            .add(&mut scope, "network")
            .unwrap();
        let a = SecurityGroup::new(&vpc, "a", "A")
            .add(&mut scope, "a")
            .unwrap();
        let b = SecurityGroup::new(&vpc, "b", "B")
            .add(&mut scope, "b")
            .unwrap();
        let both = Connections {
            groups: [a.connections(), b.connections()]
                .iter()
                .flat_map(|c| c.groups.clone())
                .collect(),
            default_port: None,
        };
        let office: Ipv4Cidr = "198.51.100.7/32".parse().unwrap();
        both.allow_from(&mut scope, &[office], Port::tcp(443), "Office")
            .unwrap();
        assert_eq!(both.security_group_ids().len(), 2);
        let t = girder_core::assertions::Template::from_stack(stack).unwrap();
        let names: Vec<&str> = t
            .resources("aws_vpc_security_group_ingress_rule")
            .iter()
            .map(|(name, _)| *name)
            .collect();
        assert_eq!(
            names,
            [
                "a_ingress_tcp_443_from_198_51_100_7_32",
                "b_ingress_tcp_443_from_198_51_100_7_32"
            ]
        );
    }
}
