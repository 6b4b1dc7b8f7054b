//! Subnet planning, and the blocks AWS accepts for VPCs and subnets. The block type
//! itself is girder-core's [`Ipv4Cidr`].

use girder_core::vocabulary::Ipv4Cidr;

/// A block AWS refuses, or a subnet plan that does not fit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CidrError {
    /// A subnet that does not fit in its VPC.
    #[error("{subnet} is not inside {vpc}")]
    Outside {
        /// The subnet.
        subnet: String,
        /// The VPC block.
        vpc: String,
    },
    /// Two blocks that share addresses.
    #[error("{new} overlaps {existing}")]
    Overlap {
        /// The block being added.
        new: String,
        /// The block already planned.
        existing: String,
    },
    /// No room left.
    #[error("no free /{prefix} is left in {vpc} (planned: {planned})")]
    Full {
        /// The size asked for.
        prefix: u8,
        /// The VPC block.
        vpc: String,
        /// What is already planned.
        planned: String,
    },
    /// A block AWS refuses as a VPC.
    #[error("{vpc} cannot be a VPC block: {why}")]
    Vpc {
        /// The block.
        vpc: String,
        /// What AWS allows.
        why: String,
    },
    /// A block AWS refuses as a subnet (outside /16 to /28).
    #[error("{subnet} cannot be a subnet: AWS allows subnet prefixes /16 to /28")]
    SubnetSize {
        /// The block.
        subnet: String,
    },
    /// A prefix that cannot be a subnet of the block.
    #[error("a /{prefix} cannot be a subnet of {vpc}; use /{min} to /28")]
    Prefix {
        /// The size asked for.
        prefix: u8,
        /// The VPC block.
        vpc: String,
        /// The VPC's own prefix.
        min: u8,
    },
}

/// The prefix lengths AWS allows for a VPC's IPv4 block and for its subnets.
pub(crate) const AWS_PREFIXES: std::ops::RangeInclusive<u8> = 16..=28;

/// Ranges no VPC can use: they are not unicast addresses a host can have.
const NOT_UNICAST: &[([u8; 4], u8, &str)] = &[
    ([0, 0, 0, 0], 8, "\"this network\" (0.0.0.0/8)"),
    ([127, 0, 0, 0], 8, "loopback (127.0.0.0/8)"),
    ([169, 254, 0, 0], 16, "link-local (169.254.0.0/16)"),
    ([224, 0, 0, 0], 4, "multicast (224.0.0.0/4)"),
    ([240, 0, 0, 0], 4, "reserved (240.0.0.0/4)"),
];

/// Check that AWS accepts `cidr` as a VPC's IPv4 block: a prefix from /16 to /28,
/// outside the loopback, link-local, multicast and reserved ranges.
pub fn check_vpc(cidr: &Ipv4Cidr) -> Result<(), CidrError> {
    let refuse = |why: String| {
        Err(CidrError::Vpc {
            vpc: cidr.to_string(),
            why,
        })
    };
    if !AWS_PREFIXES.contains(&cidr.prefix()) {
        return refuse(format!(
            "AWS allows VPC prefixes /16 to /28, not /{}",
            cidr.prefix()
        ));
    }
    for (network, prefix, what) in NOT_UNICAST {
        if Ipv4Cidr::new(*network, *prefix).is_ok_and(|range| range.overlaps(cidr)) {
            return refuse(format!("it lies in the {what} range"));
        }
    }
    Ok(())
}

/// Check that AWS accepts `cidr` as a subnet (a prefix from /16 to /28).
pub fn check_subnet(cidr: &Ipv4Cidr) -> Result<(), CidrError> {
    if AWS_PREFIXES.contains(&cidr.prefix()) {
        Ok(())
    } else {
        Err(CidrError::SubnetSize {
            subnet: cidr.to_string(),
        })
    }
}

/// Hands out aligned, non-overlapping blocks inside a VPC block. Every block it hands out
/// is one AWS accepts: the VPC block is checked with [`check_vpc`] and each
/// subnet with [`check_subnet`] (a planner over a block AWS refuses plans
/// nothing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubnetPlanner {
    vpc: Ipv4Cidr,
    planned: Vec<Ipv4Cidr>,
}

impl SubnetPlanner {
    /// Plan inside `vpc`.
    pub fn new(vpc: Ipv4Cidr) -> Self {
        Self {
            vpc,
            planned: Vec::new(),
        }
    }

    /// What is planned, in order.
    pub fn planned(&self) -> &[Ipv4Cidr] {
        &self.planned
    }

    /// Claim an exact block; it must be inside the VPC and overlap nothing planned.
    pub fn reserve(&mut self, block: Ipv4Cidr) -> Result<Ipv4Cidr, CidrError> {
        check_vpc(&self.vpc)?;
        check_subnet(&block)?;
        if !self.vpc.contains(&block) {
            return Err(CidrError::Outside {
                subnet: block.to_string(),
                vpc: self.vpc.to_string(),
            });
        }
        if let Some(existing) = self.planned.iter().find(|p| p.overlaps(&block)) {
            return Err(CidrError::Overlap {
                new: block.to_string(),
                existing: existing.to_string(),
            });
        }
        self.planned.push(block);
        Ok(block)
    }

    /// The lowest free aligned `/prefix` block.
    pub fn allocate(&mut self, prefix: u8) -> Result<Ipv4Cidr, CidrError> {
        check_vpc(&self.vpc)?;
        if prefix < self.vpc.prefix() || !AWS_PREFIXES.contains(&prefix) {
            return Err(CidrError::Prefix {
                prefix,
                vpc: self.vpc.to_string(),
                min: self.vpc.prefix(),
            });
        }
        let count = 1u64 << (prefix - self.vpc.prefix());
        let mut index = 0u64;
        while index < count {
            let Some(candidate) = u32::try_from(index)
                .ok()
                .and_then(|i| self.vpc.subnet(prefix, i))
            else {
                break;
            };
            match self.planned.iter().find(|p| p.overlaps(&candidate)) {
                None => {
                    self.planned.push(candidate);
                    return Ok(candidate);
                }
                // Skip past the block in the way.
                Some(existing) => {
                    let next = u64::from(u32::from(existing.last())) + 1;
                    let step = 1u64 << (32 - u32::from(prefix));
                    let first = u64::from(u32::from(self.vpc.first()));
                    index = index.max(next.saturating_sub(first).div_ceil(step));
                }
            }
        }
        Err(CidrError::Full {
            prefix,
            vpc: self.vpc.to_string(),
            planned: self
                .planned
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_planner_refuses_overlaps_and_blocks_outside() {
        let mut planner = SubnetPlanner::new("10.40.0.0/16".parse().unwrap());
        planner.reserve("10.40.1.0/24".parse().unwrap()).unwrap();
        let err = planner
            .reserve("10.40.0.0/23".parse().unwrap())
            .unwrap_err();
        assert_eq!(err.to_string(), "10.40.0.0/23 overlaps 10.40.1.0/24");
        let err = planner
            .reserve("10.41.0.0/24".parse().unwrap())
            .unwrap_err();
        assert_eq!(err.to_string(), "10.41.0.0/24 is not inside 10.40.0.0/16");
        assert_eq!(planner.allocate(24).unwrap().to_string(), "10.40.0.0/24");
        assert_eq!(planner.allocate(24).unwrap().to_string(), "10.40.2.0/24");
        assert_eq!(planner.allocate(20).unwrap().to_string(), "10.40.16.0/20");
    }

    #[test]
    fn a_full_vpc_says_what_is_planned() {
        let mut planner = SubnetPlanner::new("10.0.0.0/27".parse().unwrap());
        planner.allocate(28).unwrap();
        planner.allocate(28).unwrap();
        let err = planner.allocate(28).unwrap_err().to_string();
        assert_eq!(
            err,
            "no free /28 is left in 10.0.0.0/27 (planned: 10.0.0.0/28, 10.0.0.16/28)"
        );
        assert!(planner.allocate(26).is_err());
    }

    #[test]
    fn vpc_and_subnet_blocks_are_the_sizes_aws_allows() {
        for good in [
            "10.0.0.0/16",
            "10.40.0.0/16",
            "192.168.0.0/28",
            "100.64.0.0/20",
        ] {
            check_vpc(&good.parse::<Ipv4Cidr>().unwrap()).unwrap();
        }
        for (bad, why) in [
            ("10.0.0.0/8", "AWS allows VPC prefixes /16 to /28, not /8"),
            ("0.0.0.0/0", "AWS allows VPC prefixes /16 to /28, not /0"),
            ("10.0.0.0/15", "not /15"),
            ("10.0.0.0/29", "not /29"),
            ("127.0.0.0/16", "loopback"),
            ("169.254.0.0/16", "link-local"),
            ("224.0.0.0/16", "multicast"),
            ("0.0.0.0/16", "this network"),
        ] {
            let err = check_vpc(&bad.parse::<Ipv4Cidr>().unwrap()).unwrap_err();
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("{bad} cannot be a VPC block: ")),
                "{text}"
            );
            assert!(text.contains(why), "{text}");
        }
        // A planner over a block AWS refuses hands out nothing.
        let mut planner = SubnetPlanner::new("10.0.0.0/8".parse().unwrap());
        assert!(matches!(planner.allocate(16), Err(CidrError::Vpc { .. })));
        assert!(matches!(
            planner.reserve("10.1.0.0/16".parse().unwrap()),
            Err(CidrError::Vpc { .. })
        ));
        // Subnets are /16 to /28 too.
        let mut planner = SubnetPlanner::new("10.40.0.0/16".parse().unwrap());
        let err = planner
            .reserve("10.40.0.0/29".parse().unwrap())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "10.40.0.0/29 cannot be a subnet: AWS allows subnet prefixes /16 to /28"
        );
        assert!(planner.allocate(29).is_err());
        assert!(planner.allocate(15).is_err());
        assert!(planner.planned().is_empty());
    }

    proptest! {
        #[test]
        fn allocations_never_overlap_and_stay_inside(
            vpc_prefix in 16u8..=24,
            sizes in proptest::collection::vec(0u8..=8, 1..24),
        ) {
            let vpc = Ipv4Cidr::new([10, 0, 0, 0], vpc_prefix).unwrap();
            let mut planner = SubnetPlanner::new(vpc);
            for extra in sizes {
                let prefix = (vpc_prefix + 1 + extra).min(28);
                if let Ok(block) = planner.allocate(prefix) {
                    prop_assert!(vpc.contains(&block));
                    prop_assert_eq!(u32::from(block.first()) % (1u32 << (32 - u32::from(prefix))), 0);
                }
            }
            let planned = planner.planned();
            for (i, a) in planned.iter().enumerate() {
                for b in &planned[i + 1..] {
                    prop_assert!(!a.overlaps(b), "{} overlaps {}", a, b);
                }
            }
        }
    }
}
