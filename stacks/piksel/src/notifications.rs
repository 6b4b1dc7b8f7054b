//! Kubernetes app `notifications` of `piksel-eks-<env>`: Flux's notification controller
//! telling people what the cluster's GitOps does (seed 4.2.4 "Configure Flux
//! notifications"; seed 001's channels: critical alerts to PagerDuty, warnings to Slack,
//! status updates by e-mail), in `flux-system`:
//!
//! - Provider `slack` (type `slack`): the webhook URL is key `address` of Secret
//!   `flux-slack`, which an ExternalSecret reads from Secrets Manager
//!   (`piksel/<env>/alerting`, property `slack-webhook-url`). Alert `warnings` sends it
//!   every error event of every Flux object.
//! - Provider `alertmanager` (type `alertmanager`, the monitoring stack's Alertmanager in
//!   the cluster: no credential). Flux has no e-mail provider, and its `pagerduty`
//!   provider takes the routing key in `spec.channel`, a literal in the manifest; both go
//!   through Alertmanager instead, whose PagerDuty and SMTP credentials are files of the
//!   mounted `alert-receivers` Secret (monitoring.rs). Alert `critical` sends the error
//!   events of the platform's own objects (the sync, the add-ons, the monitoring
//!   release) labelled `notify="page"`: Alertmanager pages. Alert `status` sends every
//!   event (new revisions applied, reconciliations finished) labelled `notify="status"`:
//!   Alertmanager mails it.

use std::collections::BTreeMap;

use girder_core::construct::Construct;
use girder_core::{Result, Scope};
use girder_k8s::crds::NameRef;
use girder_k8s::crds::external_secrets::{ExternalSecret, ExternalSecretSpec, StoreRef};
use girder_k8s::crds::flux::{
    AlertSpec, EventSource, NotificationAlert, NotificationProvider, ProviderSpec,
};

use crate::config::Environment;
use crate::flux::FLUX_NAMESPACE;
use crate::monitoring::{ALERTMANAGER_URL, NOTIFY_LABEL};

/// The Kubernetes app.
pub(crate) const APP: &str = "notifications";

/// The Secret with Slack's webhook URL (key `address`, as Flux's provider reads it).
pub const SLACK_SECRET: &str = "flux-slack";

/// The namespaces of the platform's own Flux objects: the sync and the Kustomizations
/// (flux-system), kube-system, the monitoring release and the add-ons' releases (each
/// in its namespace: review 3's m3).
const PLATFORM_NAMESPACES: [&str; 8] = [
    FLUX_NAMESPACE,
    "kube-system",
    "monitoring",
    crate::addons::NAMESPACES[0],
    crate::addons::NAMESPACES[1],
    crate::addons::NAMESPACES[2],
    crate::addons::NAMESPACES[3],
    crate::addons::NAMESPACES[4],
];

/// The Flux kinds whose events are sent.
const KINDS: [&str; 6] = [
    "GitRepository",
    "HelmRepository",
    "Kustomization",
    "HelmRelease",
    "ImageRepository",
    "ImageUpdateAutomation",
];

/// Add app `notifications` under `scope`.
pub(crate) fn add(scope: &mut Scope<'_>, env: &Environment) -> Result<()> {
    let app = &mut scope.child(APP)?.with_kube_app(APP)?;
    let spec = ExternalSecretSpec::from_properties(
        StoreRef::cluster(crate::addons::SECRET_STORE),
        SLACK_SECRET,
        &format!("piksel/{}/alerting", env.name),
        [("address", "slack-webhook-url")],
    );
    let _ = ExternalSecret::new(FLUX_NAMESPACE, SLACK_SECRET, spec).add(app, "slack-secret")?;

    let _ = NotificationProvider::new(
        FLUX_NAMESPACE,
        "slack",
        ProviderSpec {
            type_: "slack".into(),
            channel: Some(format!("piksel-{}-alerts", env.name)),
            username: Some(format!("flux-{}", env.name)),
            secret_ref: Some(NameRef::new(SLACK_SECRET)),
            ..ProviderSpec::default()
        },
    )
    .add(app, "slack")?;
    let _ = NotificationProvider::new(
        FLUX_NAMESPACE,
        "alertmanager",
        ProviderSpec {
            type_: "alertmanager".into(),
            address: Some(ALERTMANAGER_URL.into()),
            ..ProviderSpec::default()
        },
    )
    .add(app, "alertmanager")?;

    let every_object = |namespaces: &[&str]| {
        namespaces
            .iter()
            .flat_map(|ns| KINDS.iter().map(|kind| EventSource::all(kind, Some(ns))))
            .collect::<Vec<_>>()
    };
    let tenants = [
        crate::platform::ODC_NAMESPACE,
        crate::platform::JUPYTERHUB_NAMESPACE,
        crate::platform::DASK_NAMESPACE,
    ];
    let everywhere: Vec<&str> = PLATFORM_NAMESPACES
        .iter()
        .chain(&tenants)
        .copied()
        .collect();
    let metadata = |notify: &str| {
        BTreeMap::from([
            (NOTIFY_LABEL.to_owned(), notify.to_owned()),
            ("environment".to_owned(), env.name.to_owned()),
        ])
    };
    let _ = NotificationAlert::new(
        FLUX_NAMESPACE,
        "critical",
        AlertSpec {
            provider_ref: NameRef::new("alertmanager"),
            event_severity: Some("error".into()),
            event_sources: every_object(&PLATFORM_NAMESPACES),
            event_metadata: metadata("page"),
            ..AlertSpec::default()
        },
    )
    .add(app, "critical")?;
    let _ = NotificationAlert::new(
        FLUX_NAMESPACE,
        "warnings",
        AlertSpec {
            provider_ref: NameRef::new("slack"),
            event_severity: Some("error".into()),
            event_sources: every_object(&everywhere),
            event_metadata: BTreeMap::from([("environment".to_owned(), env.name.to_owned())]),
            ..AlertSpec::default()
        },
    )
    .add(app, "warnings")?;
    let _ = NotificationAlert::new(
        FLUX_NAMESPACE,
        "status",
        AlertSpec {
            provider_ref: NameRef::new("alertmanager"),
            event_severity: Some("info".into()),
            event_sources: every_object(&everywhere),
            event_metadata: metadata("status"),
            // A Kustomization waiting for another is not news.
            exclusion_list: vec!["^Dependencies do not meet ready condition".into()],
            ..AlertSpec::default()
        },
    )
    .add(app, "status")?;
    Ok(())
}
