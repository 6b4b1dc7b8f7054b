#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! The typed custom resources serialize as their CRDs expect: apiVersion and kind from the
//! spec type, camelCase fields, the `extra` escape hatch merged in. When ../shared is
//! beside the clone, k8scheck validates one object of every kind against the upstream
//! CRD schemas.

use std::path::{Path, PathBuf};

use girder_core::prelude::*;
use girder_k8s::crds::argocd::{self, AppProject, Application};
use girder_k8s::crds::cert_manager::{self, Certificate, ClusterIssuer, Issuer};
use girder_k8s::crds::external_secrets::{
    self, ClusterSecretStore, ExternalSecret, SecretStore, StoreRef,
};
use girder_k8s::crds::flux::{
    self, GitRepository, HelmRelease, HelmRepository, Kustomization, OciRepository,
};
use girder_k8s::crds::prometheus::{self, PodMonitor, PrometheusRule, ServiceMonitor};
use girder_k8s::crds::sealed_secrets::{self, SealedSecret};
use girder_k8s::crds::traefik::{self, Middleware};
use girder_k8s::crds::{Extra, NameRef};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::json;

fn selector() -> LabelSelector {
    LabelSelector {
        match_labels: Some([("app.kubernetes.io/name".to_owned(), "api".to_owned())].into()),
        ..LabelSelector::default()
    }
}

/// One object of every typed kind, in namespace `ops`.
fn every_kind(scope: &mut Scope<'_>) -> girder_core::Result<()> {
    let add = |scope: &mut Scope<'_>, object: &dyn erased::Object| object.add(scope);
    let git = GitRepository::new(
        "ops",
        "platform",
        flux::GitRepositorySpec::branch("https://github.com/acme/platform", "main"),
    );
    add(scope, &git)?;
    add(
        scope,
        &HelmRepository::new(
            "ops",
            "bitnami",
            flux::HelmRepositorySpec::new("oci://registry-1.docker.io/bitnamicharts"),
        ),
    )?;
    add(
        scope,
        &OciRepository::new(
            "ops",
            "manifests",
            flux::OciRepositorySpec {
                interval: "5m".into(),
                url: "oci://ghcr.io/acme/manifests".into(),
                reference: Some(flux::OciRef {
                    tag: Some("v1.0.0".into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ),
    )?;
    add(
        scope,
        &Kustomization::new(
            "ops",
            "apps",
            flux::KustomizationSpec {
                interval: "10m".into(),
                path: "./kubernetes/shop-dev".into(),
                prune: true,
                wait: Some(true),
                source_ref: flux::SourceRef::new("GitRepository", "platform", None),
                depends_on: vec![NameRef::new("infrastructure")],
                post_build: Some(flux::PostBuild {
                    substitute_from: vec![flux::SubstituteFrom {
                        kind: "ConfigMap".into(),
                        name: "terraform-outputs".into(),
                        optional: None,
                    }],
                    ..Default::default()
                }),
                ..Default::default()
            },
        ),
    )?;
    add(
        scope,
        &HelmRelease::new(
            "ops",
            "cache",
            flux::HelmReleaseSpec {
                interval: "30m".into(),
                chart: Some(flux::HelmChartTemplate {
                    spec: flux::HelmChartSpec {
                        chart: "redis".into(),
                        version: "23.1.1".into(),
                        source_ref: flux::SourceRef::new("HelmRepository", "bitnami", None),
                        interval: "12h".into(),
                    },
                }),
                values: Some(json!({"architecture": "standalone"})),
                ..Default::default()
            },
        ),
    )?;
    add(
        scope,
        &ServiceMonitor::new(
            "ops",
            "api",
            prometheus::ServiceMonitorSpec {
                selector: selector(),
                endpoints: vec![prometheus::Endpoint::new("http")],
                ..Default::default()
            },
        ),
    )?;
    add(
        scope,
        &PodMonitor::new(
            "ops",
            "worker",
            prometheus::PodMonitorSpec {
                selector: selector(),
                pod_metrics_endpoints: vec![prometheus::Endpoint::new("metrics")],
                ..Default::default()
            },
        ),
    )?;
    add(
        scope,
        &PrometheusRule::new(
            "ops",
            "api",
            prometheus::PrometheusRuleSpec {
                groups: vec![prometheus::RuleGroup {
                    name: "api".into(),
                    interval: None,
                    rules: vec![prometheus::Rule::alert(
                        "ApiDown",
                        "up{job=\"api\"} == 0",
                        "5m",
                        "critical",
                        "The API is down",
                    )],
                }],
            },
        ),
    )?;
    add(
        scope,
        &Certificate::new(
            "ops",
            "api",
            cert_manager::CertificateSpec {
                secret_name: "api-tls".into(),
                dns_names: vec!["api.example.com".into()],
                issuer_ref: cert_manager::IssuerRef::cluster("letsencrypt"),
                ..Default::default()
            },
        ),
    )?;
    add(
        scope,
        &Issuer::new(
            "ops",
            "internal",
            cert_manager::IssuerSpec {
                ca: Some(cert_manager::CaIssuer {
                    secret_name: "internal-ca".into(),
                }),
                ..Default::default()
            },
        ),
    )?;
    add(
        scope,
        &ClusterIssuer::cluster(
            "letsencrypt",
            cert_manager::ClusterIssuerSpec(cert_manager::IssuerSpec {
                acme: Some(cert_manager::Acme::lets_encrypt_http01(
                    "ops@example.com",
                    "letsencrypt-account",
                    "nginx",
                )),
                ..Default::default()
            }),
        ),
    )?;
    add(
        scope,
        &Application::new(
            "ops",
            "shop",
            argocd::ApplicationSpec {
                project: "default".into(),
                source: argocd::ApplicationSource {
                    repo_url: "https://github.com/acme/platform".into(),
                    path: Some("kubernetes/shop-dev".into()),
                    target_revision: Some("main".into()),
                    ..Default::default()
                },
                destination: argocd::Destination::in_cluster("shop"),
                sync_policy: Some(argocd::SyncPolicy::automated()),
                ..Default::default()
            },
        ),
    )?;
    add(
        scope,
        &AppProject::new(
            "ops",
            "platform",
            argocd::AppProjectSpec {
                description: Some("Platform services".into()),
                source_repos: vec!["https://github.com/acme/platform".into()],
                destinations: vec![argocd::Destination::in_cluster("*")],
                ..Default::default()
            },
        ),
    )?;
    add(
        scope,
        &ExternalSecret::new(
            "ops",
            "db",
            external_secrets::ExternalSecretSpec::new(
                StoreRef::cluster("aws-ssm"),
                "db",
                [("password", "/shop/dev/db/password")],
            ),
        ),
    )?;
    add(
        scope,
        &SecretStore::new(
            "ops",
            "ssm",
            external_secrets::SecretStoreSpec {
                provider: external_secrets::Provider::parameter_store("eu-west-1")
                    .with_service_account("ops", "external-secrets"),
                extra: Extra::new(),
            },
        ),
    )?;
    add(
        scope,
        &ClusterSecretStore::cluster(
            "aws-ssm",
            external_secrets::ClusterSecretStoreSpec::new(
                external_secrets::Provider::parameter_store("eu-west-1"),
            )
            .only_for(["shop", "ops"]),
        ),
    )?;
    add(
        scope,
        &SealedSecret::new(
            "ops",
            "registry",
            sealed_secrets::SealedSecretSpec {
                encrypted_data: [(
                    ".dockerconfigjson".to_owned(),
                    "AgBy3i4OJSWK+PiTySYZZA==".to_owned(),
                )]
                .into(),
                template: Some(sealed_secrets::SecretTemplate {
                    type_: Some("kubernetes.io/dockerconfigjson".into()),
                    extra: Extra::new(),
                }),
                ..Default::default()
            },
        ),
    )?;
    add(
        scope,
        &Middleware::new(
            "ops",
            "rate-limit",
            traefik::MiddlewareSpec {
                rate_limit: Some(traefik::RateLimit::per_second_behind_load_balancer(20, 40)),
                extra: Extra::new(),
            },
        ),
    )?;
    add(
        scope,
        &flux::NotificationProvider::new(
            "ops",
            "alertmanager",
            flux::ProviderSpec {
                type_: "alertmanager".into(),
                address: Some(
                    "http://alertmanager-operated.monitoring.svc:9093/api/v2/alerts/".into(),
                ),
                ..Default::default()
            },
        ),
    )?;
    add(
        scope,
        &flux::NotificationAlert::new(
            "ops",
            "failures",
            flux::AlertSpec {
                provider_ref: NameRef::new("alertmanager"),
                event_severity: Some("error".into()),
                event_sources: vec![
                    flux::EventSource::all("Kustomization", None),
                    flux::EventSource::named("HelmRelease", "cache"),
                ],
                event_metadata: [("channel".to_owned(), "critical".to_owned())].into(),
                ..Default::default()
            },
        ),
    )?;
    add(
        scope,
        &flux::ImageRepository::new(
            "ops",
            "api",
            flux::ImageRepositorySpec {
                image: "123456789012.dkr.ecr.us-west-2.amazonaws.com/api".into(),
                interval: "5m".into(),
                provider: Some("aws".into()),
                ..Default::default()
            },
        ),
    )?;
    add(
        scope,
        &flux::ImagePolicy::new(
            "ops",
            "api",
            flux::ImagePolicySpec {
                image_repository_ref: NameRef::new("api"),
                filter_tags: Some(flux::FilterTags {
                    pattern: "^main-[0-9a-f]+-(?P<ts>[0-9]+)$".into(),
                    extract: Some("$ts".into()),
                }),
                policy: flux::ImageOrder::Numerical {
                    order: "asc".into(),
                },
                ..Default::default()
            },
        ),
    )?;
    add(
        scope,
        &flux::ImageUpdateAutomation::new(
            "ops",
            "images",
            flux::ImageUpdateAutomationSpec {
                interval: "30m".into(),
                source_ref: flux::SourceRef::new("GitRepository", "platform", None),
                git: Some(flux::GitUpdate {
                    checkout: None,
                    commit: flux::GitCommit {
                        author: flux::GitAuthor {
                            name: "fluxcdbot".into(),
                            email: "fluxcdbot@users.noreply.github.com".into(),
                        },
                        message_template: Some("Update images".into()),
                    },
                    push: Some(flux::GitPush {
                        branch: Some("image-updates".into()),
                    }),
                }),
                update: Some(flux::UpdateStrategy::setters("./apps")),
                ..Default::default()
            },
        ),
    )?;
    Ok(())
}

/// Object-safe adding of any typed object.
mod erased {
    pub(crate) trait Object {
        fn add(&self, scope: &mut girder_core::Scope<'_>) -> girder_core::Result<()>;
    }
    impl<S: girder_k8s::crds::Spec> Object for girder_k8s::crds::Object<S> {
        fn add(&self, scope: &mut girder_core::Scope<'_>) -> girder_core::Result<()> {
            scope.add_typed_app_object(self)
        }
    }
}

fn assembly() -> Assembly {
    let mut stack = Stack::new("crds", "dev", Backend::local()).unwrap();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("ops").unwrap();
    girder_k8s::Namespace::new("ops")
        .add(&mut scope, "ops")
        .unwrap();
    every_kind(&mut scope).unwrap();
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    app.synth().unwrap()
}

#[test]
fn api_version_kind_and_camel_case_fields() {
    let template =
        girder_core::assertions::Template::from_assembly(&assembly(), "crds-dev").unwrap();
    let secret = template.kube_object("ExternalSecret", "db");
    assert_eq!(secret["apiVersion"], "external-secrets.io/v1");
    assert_eq!(
        secret["spec"]["secretStoreRef"],
        json!({"name": "aws-ssm", "kind": "ClusterSecretStore"})
    );
    assert_eq!(
        secret["spec"]["data"][0],
        json!({"secretKey": "password", "remoteRef": {"key": "/shop/dev/db/password"}})
    );
    // A ClusterSecretStore restricted to the namespaces that use it.
    assert_eq!(
        template.kube_object("ClusterSecretStore", "aws-ssm")["spec"]["conditions"],
        json!([{"namespaces": ["shop", "ops"]}])
    );
    let kustomization = template.kube_object("Kustomization", "apps");
    assert_eq!(
        kustomization["apiVersion"],
        "kustomize.toolkit.fluxcd.io/v1"
    );
    assert_eq!(
        kustomization["spec"]["postBuild"]["substituteFrom"][0]["name"],
        "terraform-outputs"
    );
    assert_eq!(
        template.kube_object("HelmRepository", "bitnami")["spec"]["type"],
        "oci"
    );
    assert_eq!(
        template.kube_object("Application", "shop")["spec"]["source"]["repoURL"],
        "https://github.com/acme/platform"
    );
    assert_eq!(
        template.kube_object("PrometheusRule", "api")["spec"]["groups"][0]["rules"][0]["for"],
        "5m"
    );
    let middleware = template.kube_object("Middleware", "rate-limit");
    assert_eq!(
        middleware["spec"]["rateLimit"],
        json!({"average": 20, "burst": 40, "period": "1s", "sourceCriterion": {"ipStrategy": {"depth": 1}}})
    );
    assert_eq!(
        traefik::middlewares_annotation([&Middleware::new(
            "ops",
            "rate-limit",
            traefik::MiddlewareSpec::default()
        )]),
        "ops-rate-limit@kubernetescrd"
    );
    assert!(
        template.kube_object("ClusterIssuer", "letsencrypt")["metadata"]
            .get("namespace")
            .is_none()
    );
}

#[test]
fn notification_and_image_automation_kinds_serialize_as_flux_reads_them() {
    let template =
        girder_core::assertions::Template::from_assembly(&assembly(), "crds-dev").unwrap();
    let provider = template.kube_object("Provider", "alertmanager");
    assert_eq!(
        provider["apiVersion"],
        "notification.toolkit.fluxcd.io/v1beta3"
    );
    assert_eq!(provider["spec"]["type"], "alertmanager");
    let alert = template.kube_object("Alert", "failures");
    assert_eq!(
        alert["spec"]["providerRef"],
        json!({"name": "alertmanager"})
    );
    assert_eq!(
        alert["spec"]["eventSources"],
        json!([{"kind": "Kustomization", "name": "*"}, {"kind": "HelmRelease", "name": "cache"}])
    );
    assert_eq!(alert["spec"]["eventMetadata"]["channel"], "critical");
    assert_eq!(
        template.kube_object("ImageRepository", "api")["spec"]["provider"],
        "aws"
    );
    let policy = template.kube_object("ImagePolicy", "api");
    assert_eq!(policy["apiVersion"], "image.toolkit.fluxcd.io/v1");
    assert_eq!(
        policy["spec"]["policy"],
        json!({"numerical": {"order": "asc"}})
    );
    assert_eq!(policy["spec"]["filterTags"]["extract"], "$ts");
    let automation = template.kube_object("ImageUpdateAutomation", "images");
    assert_eq!(
        automation["spec"]["update"],
        json!({"strategy": "Setters", "path": "./apps"})
    );
    assert_eq!(automation["spec"]["git"]["push"]["branch"], "image-updates");
    assert!(automation["spec"]["git"].get("checkout").is_none());
}

#[test]
fn extra_fields_merge_into_the_spec() {
    let mut spec = flux::KustomizationSpec {
        interval: "10m".into(),
        path: "./apps".into(),
        prune: true,
        source_ref: flux::SourceRef::new("GitRepository", "platform", None),
        ..Default::default()
    };
    spec.extra.insert("force".into(), json!(true));
    let json = serde_json::to_value(Kustomization::new("ops", "apps", spec)).unwrap();
    assert_eq!(json["spec"]["force"], true);
    assert_eq!(json["spec"]["prune"], true);
    assert!(json["spec"].get("extra").is_none());
}

#[test]
fn k8scheck_accepts_every_kind_against_the_upstream_schemas() {
    let root =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/k8scheck/k8scheck");
    if !root.exists() {
        eprintln!("skipped: ../shared/tools/k8scheck is not beside this clone");
        return;
    }
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("girder-k8s-crds");
    assembly().write(&out).unwrap();
    let output = std::process::Command::new(root)
        .arg(out.join("kubernetes"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "k8scheck:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains("0 problems, 0 warnings"), "{report}");
}

#[test]
fn extra_fields_shaped_like_girder_internals_stay_data() {
    // An `extra` map holding girder's old expression marker used to become a Terraform
    // expression (and a static-artifact error); it is data like any other field.
    let marker = json!({ "$girder:expr": { "raw": "file(\"/etc/hostname\")" } });
    let mut spec = flux::KustomizationSpec {
        interval: "10m".into(),
        path: "./apps".into(),
        prune: true,
        source_ref: flux::SourceRef::new("GitRepository", "platform", None),
        ..Default::default()
    };
    spec.extra.insert("note".into(), marker.clone());
    let mut stack = Stack::new("ops", "dev", Backend::local()).unwrap();
    stack
        .external_kube_object("Namespace", None, "flux-system", "made by installing Flux")
        .unwrap();
    stack
        .scope("apps")
        .unwrap()
        .add_typed_kube_object("apps", &Kustomization::new("flux-system", "apps", spec))
        .unwrap();
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    let assembly = app.synth().unwrap();
    let t = girder_core::assertions::Template::from_assembly(&assembly, "ops-dev").unwrap();
    assert_eq!(
        t.kube_object("Kustomization", "apps")["spec"]["note"],
        marker
    );
}

#[test]
fn an_external_secret_from_a_json_secrets_properties() {
    let spec = external_secrets::ExternalSecretSpec::from_properties(
        StoreRef::cluster("aws"),
        "db",
        "shop/dev/db",
        [
            ("postgres-username", "username"),
            ("postgres-password", "password"),
        ],
    );
    let json = serde_json::to_value(&spec).unwrap();
    assert_eq!(json["target"]["name"], "db");
    assert_eq!(json["refreshInterval"], "1h");
    assert_eq!(
        json["data"],
        json!([
            {"secretKey": "postgres-username", "remoteRef": {"key": "shop/dev/db", "property": "username"}},
            {"secretKey": "postgres-password", "remoteRef": {"key": "shop/dev/db", "property": "password"}},
        ])
    );
}
