//! Route53 private hosted zones: names that resolve only inside a VPC.

use girder_aws::aws;
use girder_aws::aws::route53_zone as zone;
use girder_core::vocabulary::dns;
use girder_core::{Error, Expr, Result, Scope};

use crate::vpc::VpcHandle;

/// A private hosted zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivateZone {
    domain: String,
}

/// A private zone in the stack.
#[derive(Clone, Debug, PartialEq)]
pub struct PrivateZoneHandle {
    zone: aws::Route53ZoneHandle,
    domain: String,
}

impl PrivateZone {
    /// Zone `domain` (`pixtools.internal`).
    pub fn new(domain: impl Into<String>) -> Self {
        Self {
            domain: domain.into(),
        }
    }

    /// Add it, associated with `vpc`, as construct `id`.
    pub fn add(
        self,
        scope: &mut Scope<'_>,
        id: &str,
        vpc: &VpcHandle,
    ) -> Result<PrivateZoneHandle> {
        let at = format!("{}/{id}", scope.location());
        let labels_ok = dns::is_domain_name(&self.domain);
        if !labels_ok {
            return Err(Error::invalid(
                at,
                format!(
                    "{:?} is not a domain name (lowercase labels of 1-63 letters, digits and '-', at least two)",
                    self.domain
                ),
            ));
        }
        let zone = scope.add(
            id,
            aws::Route53Zone::new(&self.domain)
                .comment(format!("Private names of {}", self.domain))
                .vpc(zone::Vpc::new(vpc.id())),
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
