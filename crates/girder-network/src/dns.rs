//! Route53 private hosted zones: names that resolve only inside a VPC.

use girder_aws::aws;
use girder_aws::aws::route53_zone as zone;
use girder_core::construct::Construct;
use girder_core::vocabulary::dns;
use girder_core::{Error, Expr, Result, Scope};

use crate::error::NetworkError;
use crate::vpc::VpcHandle;

/// A private hosted zone.
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct PrivateZone {
    vpc_id: Expr<String>,
    domain: String,
}

/// A private zone in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct PrivateZoneHandle {
    zone: aws::Route53ZoneHandle,
    domain: String,
}

impl PrivateZone {
    /// Zone `domain` (`pixtools.internal`), associated with `vpc`.
    pub fn new(vpc: &VpcHandle, domain: impl Into<String>) -> Self {
        Self {
            vpc_id: vpc.id(),
            domain: domain.into(),
        }
    }
}

impl Construct for PrivateZone {
    type Handle = PrivateZoneHandle;

    /// Add it as construct `id`: `aws_route53_zone.<path>_<id>`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<PrivateZoneHandle> {
        let mut scope = scope.construct_child(id)?;
        if !dns::is_domain_name(&self.domain) {
            return Err(Error::construct(
                scope.location(),
                NetworkError::DomainName(self.domain),
            ));
        }
        let zone = scope.add_default(
            aws::Route53Zone::new(&self.domain)
                .comment(format!("Private names of {}", self.domain))
                .vpc(zone::Vpc::new(self.vpc_id)),
        )?;
        Ok(PrivateZoneHandle {
            zone,
            domain: self.domain,
        })
    }
}

impl PrivateZoneHandle {
    /// The zone id.
    pub fn id(&self) -> Expr<String> {
        self.zone.zone_id()
    }

    /// The zone's domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Add a CNAME `name.<domain>` -> `target` (a load balancer or database host name) as
    /// construct `id`; returns the full name.
    pub fn cname(
        &self,
        scope: &mut Scope<'_>,
        id: &str,
        name: &str,
        target: Expr<String>,
    ) -> Result<String> {
        let full = format!("{name}.{}", self.domain);
        scope.add(
            id,
            aws::Route53Record::new(&full, "CNAME", self.id())
                .ttl(300)
                .records([target]),
        )?;
        Ok(full)
    }
}
