//! Who may reach something internet-facing (a load balancer, an Ingress): the one rule,
//! written once. An allowlist names the clients; an empty one, or one holding
//! `0.0.0.0/0`, is the open internet and needs a stated [`Reason`].

use super::cidr::Ipv4Cidr;
use super::reason::Reason;

/// Why an internet-facing endpoint's exposure was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExposureError {
    /// No client named and no reason to be public.
    #[error("the allowlist is empty; name the client CIDRs, or say why it is public with a reason")]
    EmptyAllowlist,
    /// A block admitting every address, without a reason.
    #[error(
        "the allowlist holds {0}, which admits every address; name the client CIDRs, or say why it is public with a reason"
    )]
    AdmitsEveryone(Ipv4Cidr),
}

/// Who may connect to an internet-facing endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exposure {
    /// Only these blocks.
    Allowlist(Vec<Ipv4Cidr>),
    /// Every address, for this reason.
    Open(Reason),
}

impl Exposure {
    /// The exposure of an internet-facing endpoint with `allowlist`, public if `open`
    /// says why: refused when nobody is named, or everyone is, without a reason.
    pub fn internet_facing(
        allowlist: &[Ipv4Cidr],
        open: Option<&Reason>,
    ) -> Result<Self, ExposureError> {
        if let Some(reason) = open {
            return Ok(Exposure::Open(reason.clone()));
        }
        if let Some(everyone) = allowlist.iter().find(|c| c.prefix() == 0) {
            return Err(ExposureError::AdmitsEveryone(*everyone));
        }
        if allowlist.is_empty() {
            return Err(ExposureError::EmptyAllowlist);
        }
        Ok(Exposure::Allowlist(allowlist.to_vec()))
    }

    /// The blocks that may connect (`0.0.0.0/0` when open).
    pub fn blocks(&self) -> Vec<Ipv4Cidr> {
        match self {
            Exposure::Allowlist(blocks) => blocks.clone(),
            Exposure::Open(_) => vec![Ipv4Cidr::everything()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allowlist_or_a_reason() {
        let office: Ipv4Cidr = "203.0.113.10/32".parse().unwrap();
        let everyone = Ipv4Cidr::everything();
        let reason = Reason::new("public marketing site").unwrap();
        assert_eq!(
            Exposure::internet_facing(&[office], None),
            Ok(Exposure::Allowlist(vec![office]))
        );
        assert_eq!(
            Exposure::internet_facing(&[], None),
            Err(ExposureError::EmptyAllowlist)
        );
        assert_eq!(
            Exposure::internet_facing(&[office, everyone], None),
            Err(ExposureError::AdmitsEveryone(everyone))
        );
        let open = Exposure::internet_facing(&[office], Some(&reason)).unwrap();
        assert_eq!(open, Exposure::Open(reason));
        assert_eq!(open.blocks(), [everyone]);
        assert_eq!(Exposure::Allowlist(vec![office]).blocks(), [office]);
    }
}
