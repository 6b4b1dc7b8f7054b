//! Typed alerting rules: an [`Alert`] (name, [`PromQl`] expression, `for` as a
//! [`Duration`], [`Severity`], summary, description, runbook) in an [`AlertGroup`], written
//! as a PrometheusRule: bundled into the [`Monitoring`](crate::Monitoring) release (so it
//! installs after the operator's CRDs), or on its own with [`AlertGroup::add`] where the
//! operator already runs.

use std::collections::{BTreeMap, BTreeSet};

use girder_core::construct::Construct;
use girder_core::{Result, Scope};
use girder_k8s::crds::prometheus::{PrometheusRule, PrometheusRuleSpec, Rule, RuleGroup};

use crate::error::ObservabilityError;
use crate::monitoring::MonitoringHandle;
use crate::promql::{Duration, PromQl, is_label_name, is_prometheus_name};

/// How urgent an alert is: the `severity` label Alertmanager routes on (the chart's
/// inhibition rules read these three values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Act now: users are affected.
    Critical,
    /// Act today: something will break.
    Warning,
    /// For the record.
    Info,
}

impl Severity {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One alerting rule.
#[must_use = "an alert does nothing until it is in a group that is added"]
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    name: String,
    expr: PromQl,
    for_: Duration,
    severity: Severity,
    summary: String,
    description: Option<String>,
    runbook: Option<String>,
    labels: BTreeMap<String, String>,
}

impl Alert {
    /// Alert `name` (CamelCase by convention) when `expr` has held for `for_`.
    pub fn new(
        name: impl Into<String>,
        expr: PromQl,
        for_: Duration,
        severity: Severity,
        summary: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            expr,
            for_,
            severity,
            summary: summary.into(),
            description: None,
            runbook: None,
            labels: BTreeMap::new(),
        }
    }

    /// A longer description (may use `{{ $labels.x }}` and `{{ $value }}`).
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Where the runbook for it is (`runbook_url`).
    pub fn runbook(mut self, url: impl Into<String>) -> Self {
        self.runbook = Some(url.into());
        self
    }

    /// An extra label (routing: `team`, `system`).
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// The alert name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The expression.
    pub fn expr(&self) -> &PromQl {
        &self.expr
    }

    /// How long the condition holds before the alert fires.
    pub fn for_duration(&self) -> Duration {
        self.for_
    }

    /// Its severity.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    fn check(&self) -> std::result::Result<(), ObservabilityError> {
        if !is_prometheus_name(&self.name) || self.name.contains(':') {
            return Err(ObservabilityError::NotPrometheusName {
                what: "alert name".into(),
                value: self.name.clone(),
            });
        }
        if let Some(bad) = self.labels.keys().find(|k| !is_label_name(k)) {
            return Err(ObservabilityError::NotPrometheusName {
                what: "label name".into(),
                value: bad.clone(),
            });
        }
        one_line("alert summary", &self.summary)?;
        if let Some(text) = &self.description {
            one_line("alert description", text)?;
        }
        if let Some(url) = &self.runbook {
            one_line("runbook URL", url)?;
        }
        Ok(())
    }

    fn rule(&self) -> Rule {
        let mut labels = self.labels.clone();
        labels.insert("severity".into(), self.severity.as_str().into());
        let mut annotations = BTreeMap::from([("summary".to_owned(), self.summary.clone())]);
        if let Some(text) = &self.description {
            annotations.insert("description".into(), text.clone());
        }
        if let Some(url) = &self.runbook {
            annotations.insert("runbook_url".into(), url.clone());
        }
        Rule {
            alert: Some(self.name.clone()),
            expr: self.expr.as_str().to_owned(),
            for_: (self.for_.as_seconds() > 0).then(|| self.for_.to_string()),
            labels,
            annotations,
            ..Rule::default()
        }
    }
}

pub(crate) fn one_line(what: &str, text: &str) -> std::result::Result<(), ObservabilityError> {
    if text.trim().is_empty() || text.contains(['\n', '\r']) {
        Err(ObservabilityError::Text {
            what: what.into(),
            value: text.into(),
        })
    } else {
        Ok(())
    }
}

/// A named group of alerts, evaluated together; one PrometheusRule.
#[must_use = "a group creates nothing until it is added or given to `Monitoring::alerts`"]
#[derive(Clone, Debug, PartialEq)]
pub struct AlertGroup {
    name: String,
    interval: Option<Duration>,
    alerts: Vec<Alert>,
    release_label: Option<(String, String)>,
    namespace: String,
}

impl AlertGroup {
    /// Group `name` (a DNS label: it names the PrometheusRule too).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            interval: None,
            alerts: Vec::new(),
            release_label: None,
            namespace: crate::monitoring::DEFAULT_NAMESPACE.to_owned(),
        }
    }

    /// Evaluate every `interval` instead of Prometheus's global interval.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = Some(interval);
        self
    }

    /// Add an alert.
    pub fn alert(mut self, alert: Alert) -> Self {
        self.alerts.push(alert);
        self
    }

    /// For [`AlertGroup::add`]: label the PrometheusRule so `monitoring`'s Prometheus
    /// selects it.
    pub fn for_monitoring(mut self, monitoring: &MonitoringHandle) -> Self {
        self.release_label = Some(monitoring.selector_label());
        self.namespace = monitoring.namespace().to_owned();
        self
    }

    /// For [`AlertGroup::add`] where the [`MonitoringHandle`] is another module's: label
    /// the PrometheusRule as [`AlertGroup::for_monitoring`] would for the
    /// kube-prometheus-stack release `release` in `namespace` (Prometheus selects rules
    /// labelled `release: <release>`).
    pub fn for_release(mut self, namespace: impl Into<String>, release: impl Into<String>) -> Self {
        self.release_label = Some((crate::monitoring::RELEASE_LABEL.to_owned(), release.into()));
        self.namespace = namespace.into();
        self
    }

    /// The group name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The alerts.
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }

    /// Every alert checked, as the operator's rule group.
    pub(crate) fn rule_group(&self) -> std::result::Result<RuleGroup, ObservabilityError> {
        if self.alerts.is_empty() {
            return Err(ObservabilityError::Empty {
                what: format!("rule group {:?}", self.name),
                item: "alert".into(),
            });
        }
        let mut seen = BTreeSet::new();
        for alert in &self.alerts {
            alert.check()?;
            if !seen.insert(alert.name.as_str()) {
                return Err(ObservabilityError::Duplicate {
                    what: "alert".into(),
                    name: alert.name.clone(),
                });
            }
        }
        let interval = match self.interval {
            Some(d) => Some(d.non_zero("rule group interval")?.to_string()),
            None => None,
        };
        Ok(RuleGroup {
            name: self.name.clone(),
            interval,
            rules: self.alerts.iter().map(Alert::rule).collect(),
        })
    }
}

impl Construct for AlertGroup {
    type Handle = ();

    /// Write the group as PrometheusRule `<name>` in namespace `monitoring` of the handle
    /// given to [`AlertGroup::for_monitoring`] (or `monitoring`), into the scope's
    /// Kubernetes app. The operator's CRDs must already be installed (see the crate docs).
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<()> {
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        let group = self.rule_group().map_err(|e| e.at(&at))?;
        let mut rule = PrometheusRule::new(
            &self.namespace,
            &self.name,
            PrometheusRuleSpec {
                groups: vec![group],
            },
        );
        if let Some((key, value)) = self.release_label {
            rule.metadata
                .labels
                .get_or_insert_with(BTreeMap::new)
                .insert(key, value);
        }
        rule.add(scope, "rule").map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue_depth() -> Alert {
        Alert::new(
            "QueueDepthHigh",
            PromQl::new("max(rabbitmq_queue_messages_ready) > 100").unwrap(),
            Duration::minutes(10),
            Severity::Warning,
            "Queue depth above 100 for 10 minutes",
        )
        .runbook("https://example.com/runbooks/queue-depth")
    }

    #[test]
    fn an_alert_renders_expression_for_severity_and_annotations() {
        let group = AlertGroup::new("pixtools")
            .alert(queue_depth())
            .rule_group()
            .unwrap();
        let rule = &group.rules[0];
        assert_eq!(rule.alert.as_deref(), Some("QueueDepthHigh"));
        assert_eq!(rule.expr, "max(rabbitmq_queue_messages_ready) > 100");
        assert_eq!(rule.for_.as_deref(), Some("10m"));
        assert_eq!(rule.labels["severity"], "warning");
        assert_eq!(
            rule.annotations["runbook_url"],
            "https://example.com/runbooks/queue-depth"
        );
    }

    #[test]
    fn groups_refuse_duplicates_empties_and_bad_names() {
        let twice = AlertGroup::new("g")
            .alert(queue_depth())
            .alert(queue_depth());
        assert!(matches!(
            twice.rule_group(),
            Err(ObservabilityError::Duplicate { .. })
        ));
        assert!(matches!(
            AlertGroup::new("g").rule_group(),
            Err(ObservabilityError::Empty { .. })
        ));
        let bad = Alert::new(
            "queue-depth",
            PromQl::new("up == 0").unwrap(),
            Duration::minutes(1),
            Severity::Info,
            "x",
        );
        assert!(matches!(
            AlertGroup::new("g").alert(bad).rule_group(),
            Err(ObservabilityError::NotPrometheusName { .. })
        ));
        let two_lines = queue_depth().description("a\nb");
        assert!(matches!(
            AlertGroup::new("g").alert(two_lines).rule_group(),
            Err(ObservabilityError::Text { .. })
        ));
    }
}
