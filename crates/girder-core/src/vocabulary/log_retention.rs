//! How long CloudWatch Logs keeps a log group's events: only the periods CloudWatch
//! accepts, so a bad value fails at synth rather than at `terraform apply`.

use std::fmt;

/// The retention periods CloudWatch Logs accepts, in days.
pub const CLOUDWATCH_RETENTION_DAYS: &[u16] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Why a [`LogRetention`] was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0} days is not a retention CloudWatch Logs offers ({CLOUDWATCH_RETENTION_DAYS:?})")]
pub struct LogRetentionError(pub u16);

/// A CloudWatch Logs retention: one of [`CLOUDWATCH_RETENTION_DAYS`], or never expire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogRetention(u16);

impl LogRetention {
    /// Keep events `days` days; refused unless CloudWatch offers that period.
    pub fn days(days: u16) -> Result<Self, LogRetentionError> {
        if CLOUDWATCH_RETENTION_DAYS.contains(&days) {
            Ok(Self(days))
        } else {
            Err(LogRetentionError(days))
        }
    }

    /// Keep events forever.
    pub const fn never_expire() -> Self {
        Self(0)
    }

    /// The value of a log group's `retention_in_days` (0 is never expire).
    pub const fn retention_in_days(self) -> u16 {
        self.0
    }
}

impl TryFrom<u16> for LogRetention {
    type Error = LogRetentionError;
    fn try_from(days: u16) -> Result<Self, LogRetentionError> {
        Self::days(days)
    }
}

impl fmt::Display for LogRetention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("never expire"),
            days => write!(f, "{days} days"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudwatch_periods_are_accepted() {
        for &days in CLOUDWATCH_RETENTION_DAYS {
            assert_eq!(LogRetention::days(days).unwrap().retention_in_days(), days);
        }
        assert_eq!(LogRetention::never_expire().retention_in_days(), 0);
        assert_eq!(LogRetention::never_expire().to_string(), "never expire");
        assert_eq!(LogRetention::days(14).unwrap().to_string(), "14 days");
    }

    #[test]
    fn other_periods_are_refused() {
        for days in [0, 2, 13, 15, 364, 366, 3652, 3654, u16::MAX] {
            assert_eq!(
                LogRetention::days(days),
                Err(LogRetentionError(days)),
                "{days}"
            );
        }
        assert!(
            LogRetentionError(13)
                .to_string()
                .starts_with("13 days is not a retention CloudWatch Logs offers")
        );
    }
}
