//! CloudWatch alarms on metrics AWS publishes (an ALB's healthy hosts, an RDS instance's
//! CPU): [`MetricAlarm`] over the generated `aws_cloudwatch_metric_alarm`, with the
//! statistic, comparison, period and missing-data treatment typed.
//!
//! Metrics the cluster produces (queue depth, workers) belong in Prometheus alerts
//! ([`Alert`](crate::Alert)): a CloudWatch alarm on a metric nothing publishes never
//! fires (missing data as not breaching) or is always in ALARM (as breaching).

use girder_aws::aws;
use girder_core::construct::Construct;
use girder_core::{Number, Result, Scope, Value};

use crate::error::ObservabilityError;

/// How the datapoints of a period are reduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Statistic {
    /// `Average`.
    Average,
    /// `Minimum`.
    Minimum,
    /// `Maximum`.
    Maximum,
    /// `Sum`.
    Sum,
    /// `SampleCount`.
    SampleCount,
}

impl Statistic {
    fn as_str(self) -> &'static str {
        match self {
            Statistic::Average => "Average",
            Statistic::Minimum => "Minimum",
            Statistic::Maximum => "Maximum",
            Statistic::Sum => "Sum",
            Statistic::SampleCount => "SampleCount",
        }
    }
}

/// How the statistic is compared with the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `>`.
    GreaterThan,
    /// `>=`.
    GreaterThanOrEqual,
    /// `<`.
    LessThan,
    /// `<=`.
    LessThanOrEqual,
}

impl Comparison {
    fn as_str(self) -> &'static str {
        match self {
            Comparison::GreaterThan => "GreaterThanThreshold",
            Comparison::GreaterThanOrEqual => "GreaterThanOrEqualToThreshold",
            Comparison::LessThan => "LessThanThreshold",
            Comparison::LessThanOrEqual => "LessThanOrEqualToThreshold",
        }
    }
}

/// What a period without data counts as.
///
/// The default is [`TreatMissingData::Missing`], CloudWatch's own: the alarm goes to
/// INSUFFICIENT_DATA, so a metric that stops being published (or never was) is visible
/// as such instead of silently OK (`NotBreaching`) or permanently in ALARM (`Breaching`).
/// Choose `Breaching` only where AWS publishes the metric continuously while the resource
/// exists and its absence itself means the thing is down.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TreatMissingData {
    /// INSUFFICIENT_DATA (CloudWatch's default).
    #[default]
    Missing,
    /// Counts as breaching.
    Breaching,
    /// Counts as within the threshold.
    NotBreaching,
    /// Keeps the current state.
    Ignore,
}

impl TreatMissingData {
    /// CloudWatch's value.
    pub fn as_str(self) -> &'static str {
        match self {
            TreatMissingData::Missing => "missing",
            TreatMissingData::Breaching => "breaching",
            TreatMissingData::NotBreaching => "notBreaching",
            TreatMissingData::Ignore => "ignore",
        }
    }
}

/// An alarm period: 10, 20 or 30 seconds (high-resolution metrics) or whole minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period(u32);

impl Period {
    /// `seconds`, checked.
    pub fn seconds(seconds: u32) -> std::result::Result<Self, ObservabilityError> {
        if matches!(seconds, 10 | 20 | 30) || (seconds > 0 && seconds.is_multiple_of(60)) {
            Ok(Self(seconds))
        } else {
            Err(ObservabilityError::AlarmPeriod(seconds))
        }
    }

    /// `n` minutes (n >= 1).
    pub fn minutes(n: u32) -> std::result::Result<Self, ObservabilityError> {
        Self::seconds(n.saturating_mul(60))
    }

    /// The length in seconds.
    pub fn as_seconds(self) -> u32 {
        self.0
    }
}

/// A CloudWatch metric alarm.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug)]
pub struct MetricAlarm {
    name: String,
    namespace: String,
    metric: String,
    dimensions: Vec<(String, Value<String>)>,
    statistic: Statistic,
    comparison: Comparison,
    threshold: f64,
    period: Period,
    evaluation_periods: u32,
    datapoints_to_alarm: Option<u32>,
    treat_missing_data: TreatMissingData,
    description: Option<String>,
    actions: Vec<Value<String>>,
}

impl MetricAlarm {
    /// Alarm `name` when `statistic` of `namespace`/`metric` over `period` compares
    /// `comparison` to `threshold` in `evaluation_periods` consecutive periods.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: impl Into<String>,
        namespace: impl Into<String>,
        metric: impl Into<String>,
        statistic: Statistic,
        comparison: Comparison,
        threshold: f64,
        period: Period,
        evaluation_periods: u32,
    ) -> Self {
        Self {
            name: name.into(),
            namespace: namespace.into(),
            metric: metric.into(),
            dimensions: Vec::new(),
            statistic,
            comparison,
            threshold,
            period,
            evaluation_periods,
            datapoints_to_alarm: None,
            treat_missing_data: TreatMissingData::default(),
            description: None,
            actions: Vec::new(),
        }
    }

    /// A dimension (`DBInstanceIdentifier`, `TargetGroup`).
    pub fn dimension(mut self, name: impl Into<String>, value: impl Into<Value<String>>) -> Self {
        self.dimensions.push((name.into(), value.into()));
        self
    }

    /// M of N: alarm when `datapoints` of the evaluation periods breach.
    pub fn datapoints_to_alarm(mut self, datapoints: u32) -> Self {
        self.datapoints_to_alarm = Some(datapoints);
        self
    }

    /// What missing data counts as (default [`TreatMissingData::Missing`]).
    pub fn treat_missing_data(mut self, treat: TreatMissingData) -> Self {
        self.treat_missing_data = treat;
        self
    }

    /// The description (the alert text).
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Notify `arn` (an SNS topic) on ALARM and on OK.
    pub fn notify(mut self, arn: impl Into<Value<String>>) -> Self {
        self.actions.push(arn.into());
        self
    }

    fn check(&self) -> std::result::Result<Number, ObservabilityError> {
        for (what, value) in [
            ("namespace", self.namespace.as_str()),
            ("metric name", self.metric.as_str()),
            ("alarm name", self.name.as_str()),
        ] {
            cloudwatch_name(what, value)?;
        }
        for (name, _) in &self.dimensions {
            cloudwatch_name("dimension name", name)?;
        }
        let datapoints = self.datapoints_to_alarm.unwrap_or(self.evaluation_periods);
        if self.evaluation_periods == 0 || datapoints == 0 || datapoints > self.evaluation_periods {
            return Err(ObservabilityError::Datapoints {
                datapoints,
                periods: self.evaluation_periods,
            });
        }
        // A whole threshold is written as an integer (`80`, not `80.0`).
        let whole = self.threshold.fract() == 0.0 && self.threshold.abs() < 1e15;
        #[allow(clippy::cast_possible_truncation)]
        let number = if whole {
            Some(Number::from(self.threshold as i64))
        } else {
            Number::from_f64(self.threshold)
        };
        number.ok_or_else(|| ObservabilityError::Threshold(self.threshold.to_string()))
    }
}

fn cloudwatch_name(what: &str, value: &str) -> std::result::Result<(), ObservabilityError> {
    if value.is_empty() || value.len() > 255 || value.chars().any(char::is_control) {
        Err(ObservabilityError::CloudWatchName {
            what: what.into(),
            value: value.into(),
        })
    } else {
        Ok(())
    }
}

/// The alarm in the stack.
pub type MetricAlarmHandle = aws::CloudwatchMetricAlarmHandle;

impl Construct for MetricAlarm {
    type Handle = MetricAlarmHandle;

    /// Add the alarm as the scope's primary resource of child `id`
    /// (`aws_cloudwatch_metric_alarm.<path>`).
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<MetricAlarmHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        let threshold = self.check().map_err(|e| e.at(&at))?;
        let mut alarm = aws::CloudwatchMetricAlarm::new(
            self.name,
            self.comparison.as_str(),
            self.evaluation_periods,
        )
        .namespace(self.namespace)
        .metric_name(self.metric)
        .statistic(self.statistic.as_str())
        .threshold(Value::Literal(threshold))
        .period(self.period.as_seconds())
        .treat_missing_data(self.treat_missing_data.as_str());
        if let Some(datapoints) = self.datapoints_to_alarm {
            alarm = alarm.datapoints_to_alarm(datapoints);
        }
        if let Some(text) = self.description {
            alarm = alarm.alarm_description(text);
        }
        if !self.dimensions.is_empty() {
            alarm = alarm.dimensions(self.dimensions);
        }
        if !self.actions.is_empty() {
            alarm = alarm
                .alarm_actions(self.actions.clone())
                .ok_actions(self.actions);
        }
        scope.add_default(alarm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_what_cloudwatch_accepts() {
        assert!(Period::seconds(30).is_ok());
        assert!(Period::minutes(5).is_ok());
        assert!(matches!(
            Period::seconds(45),
            Err(ObservabilityError::AlarmPeriod(45))
        ));
        assert!(matches!(
            Period::seconds(0),
            Err(ObservabilityError::AlarmPeriod(0))
        ));
    }

    #[test]
    fn thresholds_must_be_finite() {
        let alarm = |threshold: f64| {
            MetricAlarm::new(
                "a",
                "AWS/RDS",
                "CPUUtilization",
                Statistic::Average,
                Comparison::GreaterThan,
                threshold,
                Period::minutes(1).unwrap(),
                1,
            )
        };
        assert!(matches!(
            alarm(f64::NAN).check(),
            Err(ObservabilityError::Threshold(_))
        ));
        assert_eq!(alarm(80.0).check().unwrap(), Number::from(80));
        assert!(alarm(0.5).check().is_ok());
    }

    #[test]
    fn missing_data_defaults_to_cloudwatchs_missing() {
        assert_eq!(TreatMissingData::default(), TreatMissingData::Missing);
        assert_eq!(TreatMissingData::default().as_str(), "missing");
    }
}
