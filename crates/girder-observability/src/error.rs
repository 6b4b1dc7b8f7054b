//! girder-observability's typed errors. Each variant names the offending value and what is
//! allowed; [`ObservabilityError::at`] wraps one into `girder_core::Error::Construct` with
//! the construct path, so callers and tests match variants
//! (`err.construct_error::<ObservabilityError>()`).

/// Why a girder-observability construct refused its input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ObservabilityError {
    /// A PromQL expression that is empty, multi-line or has unbalanced brackets or quotes.
    #[error("PromQL {expr:?} {why}")]
    PromQl {
        /// The expression given.
        expr: String,
        /// What is wrong with it.
        why: String,
    },

    /// A metric or label name outside Prometheus's grammar.
    #[error("{what} {value:?} is not a Prometheus name: [a-zA-Z_:][a-zA-Z0-9_:]*")]
    NotPrometheusName {
        /// `metric name`, `alert name`, `label name`.
        what: String,
        /// The name given.
        value: String,
    },

    /// A duration that is zero or out of range.
    #[error("{what} of {seconds} s is not allowed: {allowed}")]
    Duration {
        /// What the duration sets (`for`, `scrape interval`).
        what: String,
        /// The duration given, in seconds.
        seconds: u64,
        /// What is allowed.
        allowed: String,
    },

    /// Text that must be present and one line (an alert summary, a panel title).
    #[error("{what} {value:?} must be non-empty and one line")]
    Text {
        /// What the text is.
        what: String,
        /// The text given.
        value: String,
    },

    /// Two alerts, groups, panels or scrapes with one name.
    #[error("{what} {name:?} is defined twice")]
    Duplicate {
        /// `alert`, `rule group`, `scrape`, `panel`.
        what: String,
        /// The repeated name.
        name: String,
    },

    /// An empty collection where at least one item is needed.
    #[error("{what} needs at least one {item}")]
    Empty {
        /// The collection (`rule group "pixtools"`, `dashboard "api"`).
        what: String,
        /// What it needs (`alert`, `panel`).
        item: String,
    },

    /// A scrape of a port the workload does not declare.
    #[error("{workload} has no container port {port:?} to scrape; its ports are {ports:?}")]
    NoSuchPort {
        /// `Deployment pixtools/api`.
        workload: String,
        /// The port asked for.
        port: String,
        /// The ports it has.
        ports: Vec<String>,
    },

    /// A scrape through the workload's Service when it has none.
    #[error("{workload} has no Service; scrape its pods (a PodMonitor) instead")]
    NoService {
        /// `Deployment pixtools/api`.
        workload: String,
    },

    /// A metrics path that is not an absolute URL path.
    #[error("metrics path {0:?} must start with '/' and hold no spaces or '#'")]
    MetricsPath(String),

    /// An SNS topic ARN that does not parse.
    #[error(
        "SNS topic ARN {0:?} is not arn:<partition>:sns:<region>:<12-digit account>:<topic name>"
    )]
    TopicArn(String),

    /// An IAM role ARN that does not parse.
    #[error("IAM role ARN {0:?} is not arn:<partition>:iam::<12-digit account>:role/<name>")]
    RoleArn(String),

    /// A CloudWatch alarm period CloudWatch refuses.
    #[error("alarm period of {0} s is not allowed: 10, 20, 30 or a multiple of 60")]
    AlarmPeriod(u32),

    /// More datapoints to alarm than periods evaluated, or zero of either.
    #[error(
        "{datapoints} of {periods} datapoints: evaluation periods must be at least 1 and \
         datapoints to alarm between 1 and the evaluation periods"
    )]
    Datapoints {
        /// Datapoints that must breach.
        datapoints: u32,
        /// Periods evaluated.
        periods: u32,
    },

    /// A CloudWatch namespace, metric or dimension CloudWatch refuses.
    #[error("CloudWatch {what} {value:?} must be 1-255 printable characters")]
    CloudWatchName {
        /// `namespace`, `metric name`, `dimension name`.
        what: String,
        /// The value given.
        value: String,
    },

    /// An alarm threshold that is not a finite number.
    #[error("alarm threshold {0} is not a finite number")]
    Threshold(String),

    /// A size Kubernetes or Prometheus would refuse.
    #[error("{what} {value:?} is not a size: {allowed}")]
    Size {
        /// What the size sets.
        what: String,
        /// The value given.
        value: String,
        /// What is allowed.
        allowed: String,
    },

    /// A name AWS or girder refuses (an audit trail, an access analyzer).
    #[error("{what} name {value:?} is not allowed: {allowed}")]
    Name {
        /// `audit trail`, `access analyzer`.
        what: String,
        /// The name given.
        value: String,
        /// What is allowed.
        allowed: String,
    },

    /// A retention or waiting period out of range.
    #[error("{what} of {days} days is not allowed: {allowed}")]
    Retention {
        /// `bucket retention`, `log retention`, `key deletion window`.
        what: String,
        /// The days given.
        days: u16,
        /// What is allowed.
        allowed: String,
    },

    /// An Alertmanager receiver or route girder refuses ([`crate::Routing`]).
    #[error("{what} {value:?} is not allowed: {allowed}")]
    Receiver {
        /// `Slack channel`, `route matcher`, `e-mail recipient`.
        what: String,
        /// The value given.
        value: String,
        /// What is allowed.
        allowed: String,
    },

    /// A subscription endpoint SNS would refuse for its protocol.
    #[error("SNS {protocol} subscription {endpoint:?} is not allowed: {allowed}")]
    Subscription {
        /// `email`, `https`.
        protocol: &'static str,
        /// The endpoint given.
        endpoint: String,
        /// What is allowed.
        allowed: String,
    },

    /// Alerts sent both to an SNS topic and through receivers.
    #[error("alerts go to an SNS topic or through receivers (Routing), not both")]
    TwoAlertDestinations,

    /// Values that do not serialize.
    #[error("chart values do not serialize: {0}")]
    Values(String),
}

impl ObservabilityError {
    /// Wrap into `girder_core::Error::Construct` at construct path `at`.
    pub fn at(self, at: impl std::fmt::Display) -> girder_core::Error {
        girder_core::Error::construct(at, self)
    }
}
