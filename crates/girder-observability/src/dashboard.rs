//! Grafana dashboards as code: a [`Dashboard`] of [`Panel`]s, each with PromQL
//! [`Target`]s and a [`Unit`], rendered as Grafana's dashboard JSON in a ConfigMap that
//! the Grafana dashboard sidecar (on in [`Monitoring`](crate::Monitoring)) loads: label
//! `grafana_dashboard: "1"`, any namespace.

use std::collections::{BTreeMap, BTreeSet};

use girder_core::construct::Construct;
use girder_core::{Result, Scope};
use girder_k8s::NamespaceHandle;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Value as Json, json};

use crate::alert::one_line;
use crate::error::ObservabilityError;
use crate::promql::PromQl;

/// The label the sidecar looks for, and its value.
pub const SIDECAR_LABEL: (&str, &str) = ("grafana_dashboard", "1");
/// The uid of the Prometheus data source kube-prometheus-stack provisions.
const DATASOURCE_UID: &str = "prometheus";

/// What a panel's numbers are, as Grafana formats them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A ratio 0-1 shown as a percentage.
    PercentUnit,
    /// Seconds.
    Seconds,
    /// Requests per second.
    RequestsPerSecond,
    /// Operations per second.
    OpsPerSecond,
    /// A plain count.
    Short,
    /// A percentage 0-100 (CloudWatch's CPUUtilization).
    Percent,
    /// Bytes (IEC multiples).
    Bytes,
}

impl Unit {
    /// Grafana's unit id.
    pub fn grafana_id(self) -> &'static str {
        match self {
            Unit::PercentUnit => "percentunit",
            Unit::Seconds => "s",
            Unit::RequestsPerSecond => "reqps",
            Unit::OpsPerSecond => "ops",
            Unit::Short => "short",
            Unit::Percent => "percent",
            Unit::Bytes => "bytes",
        }
    }
}

/// How a panel draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PanelKind {
    /// A graph over time.
    TimeSeries,
    /// One big number (the last value).
    Stat,
}

impl PanelKind {
    fn grafana_type(self) -> &'static str {
        match self {
            PanelKind::TimeSeries => "timeseries",
            PanelKind::Stat => "stat",
        }
    }
}

/// One query of a panel.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    expr: PromQl,
    legend: Option<String>,
}

impl Target {
    /// Query `expr`.
    pub fn new(expr: PromQl) -> Self {
        Self { expr, legend: None }
    }

    /// The series legend (`{{queue}}`).
    #[must_use]
    pub fn legend(mut self, legend: impl Into<String>) -> Self {
        self.legend = Some(legend.into());
        self
    }

    /// The expression.
    pub fn expr(&self) -> &PromQl {
        &self.expr
    }
}

/// One panel.
#[must_use = "a panel does nothing until it is in a dashboard"]
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    title: String,
    kind: PanelKind,
    unit: Unit,
    description: Option<String>,
    targets: Vec<Target>,
    /// An objective drawn as a threshold (the SLO).
    objective: Option<f64>,
}

impl Panel {
    /// A `kind` panel titled `title` whose numbers are `unit`.
    pub fn new(title: impl Into<String>, kind: PanelKind, unit: Unit) -> Self {
        Self {
            title: title.into(),
            kind,
            unit,
            description: None,
            targets: Vec::new(),
            objective: None,
        }
    }

    /// Add a query.
    pub fn target(mut self, target: Target) -> Self {
        self.targets.push(target);
        self
    }

    /// What it shows, for the reader.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Draw `value` (in the panel's unit) as the objective: a red threshold line or colour.
    pub fn objective(mut self, value: f64) -> Self {
        self.objective = Some(value);
        self
    }

    /// Its queries.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }
}

/// A dashboard.
#[must_use = "a dashboard creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq)]
pub struct Dashboard {
    uid: String,
    title: String,
    namespace: String,
    tags: BTreeSet<String>,
    panels: Vec<Panel>,
}

impl Dashboard {
    /// Dashboard `uid` (a DNS label of at most 40 characters: Grafana's uid limit; it also
    /// names the ConfigMap `dashboard-<uid>`) titled `title`, in `namespace` (any: the
    /// sidecar searches them all).
    pub fn new(
        namespace: &NamespaceHandle,
        uid: impl Into<String>,
        title: impl Into<String>,
    ) -> Self {
        Self {
            uid: uid.into(),
            title: title.into(),
            namespace: namespace.name().to_owned(),
            tags: BTreeSet::new(),
            panels: Vec::new(),
        }
    }

    /// A tag (Grafana's dashboard search).
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.insert(tag.into());
        self
    }

    /// Add a panel; panels flow two per row.
    pub fn panel(mut self, panel: Panel) -> Self {
        self.panels.push(panel);
        self
    }

    /// Its panels.
    pub fn panels(&self) -> &[Panel] {
        &self.panels
    }

    /// The uid.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// Grafana's dashboard JSON model.
    pub fn to_json(&self) -> std::result::Result<Json, ObservabilityError> {
        let label_ok = !self.uid.is_empty()
            && self.uid.len() <= 40
            && self
                .uid
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !self.uid.starts_with('-')
            && !self.uid.ends_with('-');
        if !label_ok {
            return Err(ObservabilityError::Text {
                what: "dashboard uid (a DNS label of at most 40 characters)".into(),
                value: self.uid.clone(),
            });
        }
        one_line("dashboard title", &self.title)?;
        if self.panels.is_empty() {
            return Err(ObservabilityError::Empty {
                what: format!("dashboard {:?}", self.uid),
                item: "panel".into(),
            });
        }
        let mut titles = BTreeSet::new();
        let mut panels = Vec::new();
        for (index, panel) in self.panels.iter().enumerate() {
            one_line("panel title", &panel.title)?;
            if !titles.insert(panel.title.as_str()) {
                return Err(ObservabilityError::Duplicate {
                    what: "panel".into(),
                    name: panel.title.clone(),
                });
            }
            if panel.targets.is_empty() {
                return Err(ObservabilityError::Empty {
                    what: format!("panel {:?}", panel.title),
                    item: "target".into(),
                });
            }
            let targets: Vec<Json> = panel
                .targets
                .iter()
                .zip(ref_ids())
                .map(|(target, ref_id)| {
                    let mut t = json!({
                        "datasource": {"type": "prometheus", "uid": DATASOURCE_UID},
                        "expr": target.expr.as_str(),
                        "refId": ref_id,
                    });
                    if let Some(legend) = &target.legend {
                        t["legendFormat"] = json!(legend);
                    }
                    t
                })
                .collect();
            let mut steps = vec![json!({"color": "green", "value": null})];
            if let Some(objective) = panel.objective {
                // For ratios the objective is a floor: below it is red.
                if panel.unit == Unit::PercentUnit {
                    steps = vec![
                        json!({"color": "red", "value": null}),
                        json!({"color": "green", "value": objective}),
                    ];
                } else {
                    steps.push(json!({"color": "red", "value": objective}));
                }
            }
            let mut defaults = json!({
                "unit": panel.unit.grafana_id(),
                "thresholds": {"mode": "absolute", "steps": steps},
            });
            if panel.kind == PanelKind::TimeSeries && panel.objective.is_some() {
                defaults["custom"] = json!({"thresholdsStyle": {"mode": "line"}});
            }
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            let mut p = json!({
                "id": index + 1,
                "type": panel.kind.grafana_type(),
                "title": panel.title,
                "datasource": {"type": "prometheus", "uid": DATASOURCE_UID},
                "gridPos": {"h": 8, "w": 12, "x": (index % 2) * 12, "y": (index / 2) * 8},
                "fieldConfig": {"defaults": defaults, "overrides": []},
                "targets": targets,
            });
            if let Some(text) = &panel.description {
                p["description"] = json!(text);
            }
            panels.push(p);
        }
        Ok(json!({
            "uid": self.uid,
            "title": self.title,
            "tags": self.tags,
            "editable": false,
            "schemaVersion": 39,
            "time": {"from": "now-24h", "to": "now"},
            "refresh": "1m",
            "timezone": "utc",
            "panels": panels,
        }))
    }
}

/// Grafana's query ids: A, B, ... Z, then A1 ...
fn ref_ids() -> impl Iterator<Item = String> {
    (0u32..).map(|i| {
        let letter = char::from(b'A' + u8::try_from(i % 26).unwrap_or(0));
        if i < 26 {
            letter.to_string()
        } else {
            format!("{letter}{}", i / 26)
        }
    })
}

/// What [`Dashboard::add`] returns.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DashboardHandle {
    config_map: String,
    uid: String,
}

impl DashboardHandle {
    /// The ConfigMap holding it.
    pub fn config_map(&self) -> &str {
        &self.config_map
    }

    /// Its uid in Grafana.
    pub fn uid(&self) -> &str {
        &self.uid
    }
}

impl Construct for Dashboard {
    type Handle = DashboardHandle;

    /// Write ConfigMap `dashboard-<uid>` with `<uid>.json`, labelled for the sidecar, into
    /// the scope's Kubernetes app. A ConfigMap needs no CRD: it may apply before Grafana.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<DashboardHandle> {
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        let model = self.to_json().map_err(|e| e.at(&at))?;
        let text = serde_json::to_string_pretty(&model)
            .map_err(|e| ObservabilityError::Values(e.to_string()).at(&at))?;
        let name = format!("dashboard-{}", self.uid);
        let labels = BTreeMap::from([
            ("app.kubernetes.io/name".to_owned(), name.clone()),
            (
                "app.kubernetes.io/managed-by".to_owned(),
                "girder".to_owned(),
            ),
            (SIDECAR_LABEL.0.to_owned(), SIDECAR_LABEL.1.to_owned()),
        ]);
        let config_map = ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(self.namespace.clone()),
                labels: Some(labels),
                ..ObjectMeta::default()
            },
            data: Some(BTreeMap::from([(format!("{}.json", self.uid), text)])),
            ..ConfigMap::default()
        };
        scope.add_app_object(&config_map)?;
        Ok(DashboardHandle {
            config_map: name,
            uid: self.uid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns() -> NamespaceHandle {
        NamespaceHandle::existing("monitoring")
    }

    fn availability() -> Panel {
        Panel::new("Availability", PanelKind::Stat, Unit::PercentUnit)
            .target(Target::new(PromQl::new("avg_over_time(up[30d])").unwrap()))
            .objective(0.99)
    }

    #[test]
    fn panels_render_targets_units_and_layout() {
        let json = Dashboard::new(&ns(), "api", "API")
            .panel(availability())
            .panel(
                Panel::new("Errors", PanelKind::TimeSeries, Unit::RequestsPerSecond).target(
                    Target::new(PromQl::new("sum(rate(http_requests_total[5m]))").unwrap())
                        .legend("all"),
                ),
            )
            .to_json()
            .unwrap();
        let panels = json["panels"].as_array().unwrap();
        assert_eq!(panels.len(), 2);
        assert_eq!(panels[0]["type"], "stat");
        assert_eq!(panels[0]["fieldConfig"]["defaults"]["unit"], "percentunit");
        assert_eq!(panels[0]["targets"][0]["expr"], "avg_over_time(up[30d])");
        assert_eq!(panels[0]["targets"][0]["datasource"]["uid"], "prometheus");
        assert_eq!(
            panels[0]["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"],
            0.99
        );
        assert_eq!(panels[1]["gridPos"]["x"], 12);
        assert_eq!(panels[1]["targets"][0]["legendFormat"], "all");
    }

    #[test]
    fn empty_dashboards_panels_and_bad_uids_are_refused() {
        assert!(matches!(
            Dashboard::new(&ns(), "api", "API").to_json(),
            Err(ObservabilityError::Empty { .. })
        ));
        let empty_panel = Panel::new("x", PanelKind::Stat, Unit::Short);
        assert!(matches!(
            Dashboard::new(&ns(), "api", "API")
                .panel(empty_panel)
                .to_json(),
            Err(ObservabilityError::Empty { .. })
        ));
        assert!(matches!(
            Dashboard::new(&ns(), "API", "API")
                .panel(availability())
                .to_json(),
            Err(ObservabilityError::Text { .. })
        ));
        assert!(matches!(
            Dashboard::new(&ns(), "api", "API")
                .panel(availability())
                .panel(availability())
                .to_json(),
            Err(ObservabilityError::Duplicate { .. })
        ));
    }
}
