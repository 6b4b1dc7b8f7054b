//! IPv4 CIDR blocks: security group peers, VPC and subnet blocks, NetworkPolicy
//! `ipBlock`s and trusted proxy ranges are all this one type.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// Why text or octets are not an IPv4 CIDR block.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Ipv4CidrError {
    /// Not `a.b.c.d/n`.
    #[error("{0:?} is not an IPv4 CIDR block (a.b.c.d/n with n from 0 to 32)")]
    Syntax(String),
    /// A prefix longer than 32.
    #[error("/{0} is not an IPv4 prefix length (0 to 32)")]
    Prefix(u8),
    /// Bits set below the prefix.
    #[error("{given} has host bits set; the block is {canonical}")]
    HostBits {
        /// What was given.
        given: String,
        /// The block it denotes.
        canonical: String,
    },
}

/// An IPv4 CIDR block with its host bits zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv4Cidr {
    network: u32,
    prefix: u8,
}

const fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix as u32)
    }
}

impl Ipv4Cidr {
    /// The block of `network/prefix`; host bits must be zero.
    pub fn new(network: [u8; 4], prefix: u8) -> Result<Self, Ipv4CidrError> {
        if prefix > 32 {
            return Err(Ipv4CidrError::Prefix(prefix));
        }
        let value = u32::from_be_bytes(network);
        let cidr = Self {
            network: value & mask(prefix),
            prefix,
        };
        if cidr.network != value {
            let [a, b, c, d] = network;
            return Err(Ipv4CidrError::HostBits {
                given: format!("{a}.{b}.{c}.{d}/{prefix}"),
                canonical: cidr.to_string(),
            });
        }
        Ok(cidr)
    }

    /// [`Ipv4Cidr::new`] for constants: `None` when the prefix is over 32 or host bits
    /// are set (a constant then fails to compile, see the example).
    ///
    /// ```
    /// use girder_core::vocabulary::Ipv4Cidr;
    /// const OFFICE: Option<Ipv4Cidr> = Ipv4Cidr::checked([203, 0, 113, 10], 32);
    /// assert_eq!(OFFICE.unwrap().to_string(), "203.0.113.10/32");
    /// assert_eq!(Ipv4Cidr::checked([10, 0, 0, 1], 16), None);
    /// ```
    pub const fn checked(network: [u8; 4], prefix: u8) -> Option<Self> {
        if prefix > 32 {
            return None;
        }
        let value = u32::from_be_bytes(network);
        if value & mask(prefix) != value {
            return None;
        }
        Some(Self {
            network: value,
            prefix,
        })
    }

    /// Every IPv4 address (`0.0.0.0/0`).
    pub const fn everything() -> Self {
        Self {
            network: 0,
            prefix: 0,
        }
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Number of addresses.
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    /// The first address of the block.
    pub fn first(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.network)
    }

    /// The last address of the block.
    pub fn last(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.network | !mask(self.prefix))
    }

    /// Whether `other` lies wholly inside this block.
    pub fn contains(&self, other: &Ipv4Cidr) -> bool {
        other.prefix >= self.prefix && (other.network & mask(self.prefix)) == self.network
    }

    /// Whether the two blocks share any address.
    pub fn overlaps(&self, other: &Ipv4Cidr) -> bool {
        self.network <= u32::from(other.last()) && other.network <= u32::from(self.last())
    }

    /// The `index`-th subnet of size `/prefix` (Terraform's `cidrsubnet`), if it exists.
    pub fn subnet(&self, prefix: u8, index: u32) -> Option<Ipv4Cidr> {
        if prefix < self.prefix || prefix > 32 {
            return None;
        }
        let count = 1u64 << (prefix - self.prefix);
        if u64::from(index) >= count {
            return None;
        }
        let step = 1u64 << (32 - u32::from(prefix));
        let network = u64::from(self.network) + u64::from(index) * step;
        Some(Ipv4Cidr {
            network: u32::try_from(network).ok()?,
            prefix,
        })
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.network.to_be_bytes();
        write!(f, "{a}.{b}.{c}.{d}/{}", self.prefix)
    }
}

impl FromStr for Ipv4Cidr {
    type Err = Ipv4CidrError;

    fn from_str(text: &str) -> Result<Self, Ipv4CidrError> {
        let syntax = || Ipv4CidrError::Syntax(text.to_owned());
        let (address, prefix_text) = text.split_once('/').ok_or_else(syntax)?;
        let prefix: u8 = prefix_text
            .parse()
            .ok()
            .filter(|p: &u8| *p <= 32 && p.to_string() == prefix_text)
            .ok_or_else(syntax)?;
        let octets: Vec<&str> = address.split('.').collect();
        if octets.len() != 4 {
            return Err(syntax());
        }
        let mut value = [0u8; 4];
        for (slot, octet) in value.iter_mut().zip(octets) {
            let canonical = octet.parse::<u8>().ok().filter(|n| n.to_string() == octet);
            *slot = canonical.ok_or_else(syntax)?;
        }
        Self::new(value, prefix).map_err(|e| match e {
            Ipv4CidrError::HostBits { canonical, .. } => Ipv4CidrError::HostBits {
                given: text.to_owned(),
                canonical,
            },
            other => other,
        })
    }
}

impl TryFrom<&str> for Ipv4Cidr {
    type Error = Ipv4CidrError;
    fn try_from(text: &str) -> Result<Self, Ipv4CidrError> {
        text.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parsing_is_strict_and_canonical() {
        let cidr: Ipv4Cidr = "10.40.0.0/16".parse().unwrap();
        assert_eq!(cidr.to_string(), "10.40.0.0/16");
        assert_eq!(cidr.size(), 65_536);
        assert_eq!(cidr.first(), Ipv4Addr::new(10, 40, 0, 0));
        assert_eq!(cidr.last(), Ipv4Addr::new(10, 40, 255, 255));
        assert_eq!(
            "10.40.0.1/16".parse::<Ipv4Cidr>(),
            Err(Ipv4CidrError::HostBits {
                given: "10.40.0.1/16".into(),
                canonical: "10.40.0.0/16".into()
            })
        );
        for bad in [
            "10.40.0.0",
            "10.40.0.0/33",
            "10.040.0.0/16",
            "10.40.0/16",
            "a.b.c.d/8",
            "10.0.0.0/016",
            "256.0.0.0/8",
        ] {
            assert_eq!(
                bad.parse::<Ipv4Cidr>(),
                Err(Ipv4CidrError::Syntax(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(Ipv4Cidr::new([0; 4], 33), Err(Ipv4CidrError::Prefix(33)));
        assert_eq!(Ipv4Cidr::everything().to_string(), "0.0.0.0/0");
        assert_eq!(Ipv4Cidr::checked([10, 0, 0, 0], 33), None);
    }

    #[test]
    fn subnets_follow_cidrsubnet() {
        let vpc: Ipv4Cidr = "10.40.0.0/16".parse().unwrap();
        assert_eq!(vpc.subnet(24, 0).unwrap().to_string(), "10.40.0.0/24");
        assert_eq!(vpc.subnet(24, 11).unwrap().to_string(), "10.40.11.0/24");
        assert!(vpc.subnet(24, 256).is_none());
        assert!(vpc.subnet(15, 0).is_none());
        assert!(vpc.contains(&vpc.subnet(24, 3).unwrap()));
        assert!(!vpc.subnet(24, 3).unwrap().contains(&vpc));
    }

    proptest! {
        #[test]
        fn display_and_parse_round_trip(network in any::<u32>(), prefix in 0u8..=32) {
            let masked = network & mask(prefix);
            let cidr = Ipv4Cidr { network: masked, prefix };
            prop_assert_eq!(cidr.to_string().parse::<Ipv4Cidr>().unwrap(), cidr);
            prop_assert_eq!(Ipv4Cidr::checked(masked.to_be_bytes(), prefix), Some(cidr));
        }
    }
}
