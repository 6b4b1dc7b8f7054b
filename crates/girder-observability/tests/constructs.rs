#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! girder-observability's constructs added to a stack: what they render, and the errors
//! they refuse with, matched by variant.

use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_k8s::AwsWebIdentity;
use girder_k8s::charts::ChartResources;
use girder_k8s::prelude::*;
use girder_observability::{
    Alert, AlertGroup, Comparison, Component, Dashboard, Duration, GrafanaAdmin, MetricAlarm,
    MetricName, Monitoring, ObservabilityError, Panel, PanelKind, Period, PromQl, Scrape, Severity,
    SnsAuth, SnsRoute, SnsTopicArn, Statistic, Storage, Target, TreatMissingData, Unit, Via,
};
use serde_json::json;

const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:shop-alerts";

/// A stack with namespace `shop` and a Deployment `api` (port `http`, a Service) and a
/// worker without ports, written into app `shop`; `f` adds more.
fn stack_with(
    f: impl FnOnce(&mut Scope<'_>, &WorkloadHandle, &WorkloadHandle) -> girder_core::Result<()>,
) -> girder_core::Result<Stack> {
    let mut stack = Stack::new("shop", "dev", Backend::local())?;
    {
        let mut scope = stack.scope("shop")?.with_kube_app("shop")?;
        let ns = Namespace::new("shop").add(&mut scope, "namespace")?;
        let api = Deployment::new(&ns, "api")
            .container(
                Container::new("api", "ghcr.io/acme/api:1.0.0")
                    .run_as_user(10001)
                    .port(Port::http(8080))
                    .resources(Resources::new().cpu("100m", "1").memory("128Mi", "256Mi")),
            )
            .expose(Service::cluster_ip().port(80, "http"))
            .add(&mut scope, "api")?;
        let worker = Deployment::new(&ns, "worker")
            .container(
                Container::new("worker", "ghcr.io/acme/worker:1.0.0")
                    .run_as_user(10001)
                    .resources(Resources::new().cpu("100m", "1").memory("128Mi", "256Mi")),
            )
            .add(&mut scope, "worker")?;
        f(&mut scope, &api, &worker)?;
    }
    Ok(stack)
}

fn monitoring() -> Monitoring {
    Monitoring::new(GrafanaAdmin::existing_secret("grafana-admin")).alert_to_sns(SnsRoute::new(
        SnsTopicArn::new(TOPIC).unwrap(),
        SnsAuth::NodeRole,
    ))
}

fn error_of(result: girder_core::Result<Stack>) -> (String, ObservabilityError) {
    let err = result.expect_err("refused");
    let path = err.to_string();
    let e = err
        .construct_error::<ObservabilityError>()
        .unwrap_or_else(|| panic!("not an ObservabilityError: {err}"))
        .clone();
    (path, e)
}

#[test]
fn monitoring_routes_alerts_to_the_topic_and_takes_grafana_admin_from_a_secret() {
    let stack = stack_with(|scope, api, _| {
        let _ = monitoring()
            .scrape(Scrape::new(api, "http"))
            .add(scope, "monitoring")?;
        Ok(())
    })
    .unwrap();
    let t = Template::from_stack(stack).unwrap();
    let values = t.helm_values("kube-prometheus-stack").unwrap();
    let am = &values["alertmanager"]["config"];
    assert_eq!(am["route"]["receiver"], "sns");
    let silenced: Vec<&str> = am["route"]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["receiver"] == "null")
        .map(|r| r["matchers"][0].as_str().unwrap())
        .collect();
    assert!(
        silenced.contains(&"alertname = \"Watchdog\""),
        "{silenced:?}"
    );
    assert!(silenced.contains(&"severity = \"info\""), "{silenced:?}");
    let receiver = am["receivers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "sns")
        .unwrap();
    assert_eq!(receiver["sns_configs"][0]["topic_arn"], TOPIC);
    assert_eq!(receiver["sns_configs"][0]["sigv4"]["region"], "eu-west-1");
    // The node role signs: no IRSA annotation, no keys in the config, and Alertmanager
    // runs on the node's network, the one way to IMDS with a hop limit of 1.
    assert!(
        values["alertmanager"]["serviceAccount"]
            .get("annotations")
            .is_none()
    );
    let spec = &values["alertmanager"]["alertmanagerSpec"];
    assert_eq!(spec["hostNetwork"], true);
    assert_eq!(spec["dnsPolicy"], "ClusterFirstWithHostNet");
    assert!(
        values["prometheus"]["prometheusSpec"]
            .get("hostNetwork")
            .is_none()
    );
    assert!(
        receiver["sns_configs"][0]["sigv4"]
            .get("access_key")
            .is_none()
    );
    let grafana = &values["grafana"];
    assert_eq!(grafana["admin"]["existingSecret"], "grafana-admin");
    assert!(grafana.get("adminPassword").is_none());
    assert_eq!(grafana["sidecar"]["dashboards"]["enabled"], true);
    assert_eq!(
        grafana["sidecar"]["dashboards"]["label"],
        "grafana_dashboard"
    );
    // Prometheus picks up the release's own objects, in every namespace.
    let spec = &values["prometheus"]["prometheusSpec"];
    for selector in [
        "serviceMonitorSelector",
        "podMonitorSelector",
        "ruleSelector",
    ] {
        assert_eq!(
            spec[selector],
            json!({"matchLabels": {"release": "kube-prometheus-stack"}})
        );
    }
    assert_eq!(spec["podMonitorNamespaceSelector"], json!({}));
    assert_eq!(spec["retention"], "7d");
    assert_eq!(spec["storageSpec"]["emptyDir"]["sizeLimit"], "4Gi");
    assert_eq!(spec["resources"]["requests"]["memory"], "384Mi");
    // The control plane K3s runs in one process is not scraped.
    assert_eq!(values["kubeEtcd"]["enabled"], false);
    // Delivered by K3s, into a privileged namespace of its own.
    let chart = t.kube_object("HelmChart", "kube-prometheus-stack");
    assert_eq!(chart["spec"]["targetNamespace"], "monitoring");
    let ns = t.kube_object("Namespace", "monitoring");
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "privileged"
    );
}

#[test]
fn a_service_account_role_annotates_alertmanager_and_storage_is_configurable() {
    let role = "arn:aws:iam::123456789012:role/alertmanager";
    let values = monitoring()
        .alert_to_sns(SnsRoute::new(
            SnsTopicArn::new(TOPIC).unwrap(),
            SnsAuth::ServiceAccountRole {
                role_arn: role.into(),
            },
        ))
        .storage(Storage::Claim {
            size: "20Gi".into(),
            class: Some("gp3".into()),
        })
        .retention(Duration::days(15), "15GB")
        .resources(
            Component::Prometheus,
            ChartResources::new(("500m", "2"), ("2Gi", "4Gi")),
        )
        .values()
        .unwrap();
    let values = serde_json::to_value(values).unwrap();
    assert_eq!(
        values["alertmanager"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"],
        role
    );
    // Its own role: no reason to be on the node's network.
    assert!(
        values["alertmanager"]["alertmanagerSpec"]
            .get("hostNetwork")
            .is_none()
    );
    let spec = &values["prometheus"]["prometheusSpec"];
    assert_eq!(spec["retention"], "15d");
    assert_eq!(spec["resources"]["limits"]["memory"], "4Gi");
    assert_eq!(spec["retentionSize"], "15GB");
    assert_eq!(
        spec["storageSpec"]["volumeClaimTemplate"]["spec"]["storageClassName"],
        "gp3"
    );
}

#[test]
fn a_web_identity_gives_alertmanager_the_token_and_keeps_it_off_the_node_network() {
    let role = "arn:aws:iam::123456789012:role/shop-alertmanager";
    let values = monitoring()
        .alert_to_sns(SnsRoute::new(
            SnsTopicArn::new(TOPIC).unwrap(),
            SnsAuth::WebIdentity(AwsWebIdentity::new(role).region("eu-west-1")),
        ))
        .values()
        .unwrap();
    let values = serde_json::to_value(values).unwrap();
    let am = &values["alertmanager"];
    // The role's trust names this account: the chart must create exactly it.
    assert_eq!(
        am["serviceAccount"]["name"],
        girder_observability::ALERTMANAGER_SERVICE_ACCOUNT
    );
    assert!(am["serviceAccount"].get("annotations").is_none());
    let spec = &am["alertmanagerSpec"];
    assert!(spec.get("hostNetwork").is_none());
    assert!(spec.get("dnsPolicy").is_none());
    // The alertmanager container (merged by name) gets the SDK's settings, the pod the
    // projected token, the container its mount at the path the settings name.
    let containers = spec["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1);
    assert_eq!(containers[0]["name"], "alertmanager");
    let env: Vec<(&str, &str)> = containers[0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["value"].as_str().unwrap()))
        .collect();
    assert!(env.contains(&("AWS_ROLE_ARN", role)));
    let token_file = env
        .iter()
        .find(|(name, _)| *name == "AWS_WEB_IDENTITY_TOKEN_FILE")
        .unwrap()
        .1;
    let volume = &spec["volumes"][0];
    let mount = &spec["volumeMounts"][0];
    assert_eq!(volume["name"], mount["name"]);
    assert_eq!(
        format!(
            "{}/{}",
            mount["mountPath"].as_str().unwrap(),
            volume["projected"]["sources"][0]["serviceAccountToken"]["path"]
                .as_str()
                .unwrap()
        ),
        token_file
    );
    assert_eq!(
        volume["projected"]["sources"][0]["serviceAccountToken"]["audience"],
        "sts.amazonaws.com"
    );
    // SigV4 with no keys: the SDK's default chain, which reads the web identity.
    let sns = &am["config"]["receivers"][1]["sns_configs"][0];
    assert!(sns["sigv4"].get("role_arn").is_none());
    assert!(sns["sigv4"].get("access_key").is_none());
}

#[test]
fn a_web_identity_with_a_malformed_role_is_refused() {
    let err = monitoring()
        .alert_to_sns(SnsRoute::new(
            SnsTopicArn::new(TOPIC).unwrap(),
            SnsAuth::WebIdentity(AwsWebIdentity::new("arn:aws:iam::1:role/x")),
        ))
        .values()
        .unwrap_err();
    assert!(matches!(err, ObservabilityError::RoleArn(ref arn) if arn == "arn:aws:iam::1:role/x"));
}

#[test]
fn bundled_scrapes_and_alerts_are_rendered_by_the_release_with_a_policy_for_prometheus() {
    let stack = stack_with(|scope, api, _| {
        let _ = monitoring()
            .scrape(
                Scrape::new(api, "http")
                    .path("/metrics?format=prometheus")
                    .exposes([MetricName::new("http_requests_total").unwrap()]),
            )
            .alerts(AlertGroup::new("shop").alert(Alert::new(
                "ApiDown",
                PromQl::new(r#"absent(up{job="api"} == 1)"#).unwrap(),
                Duration::minutes(5),
                Severity::Critical,
                "The api is down",
            )))
            .add(scope, "monitoring")?;
        Ok(())
    })
    .unwrap();
    let t = Template::from_stack(stack).unwrap();
    let values = t.helm_values("kube-prometheus-stack").unwrap();
    let monitor = &values["prometheus"]["additionalPodMonitors"][0];
    assert_eq!(monitor["name"], "api-http");
    assert_eq!(monitor["namespaceSelector"]["matchNames"], json!(["shop"]));
    assert_eq!(monitor["podMetricsEndpoints"][0]["port"], "http");
    assert_eq!(monitor["podMetricsEndpoints"][0]["path"], "/metrics");
    assert_eq!(
        monitor["podMetricsEndpoints"][0]["params"],
        json!({"format": ["prometheus"]})
    );
    assert_eq!(monitor["jobLabel"], "app.kubernetes.io/name");
    let rule = &values["additionalPrometheusRulesMap"]["shop"]["groups"][0]["rules"][0];
    assert_eq!(rule["alert"], "ApiDown");
    assert_eq!(rule["for"], "5m");
    assert_eq!(rule["labels"]["severity"], "critical");
    // No monitor or rule object outside the release: they cannot apply before the CRDs.
    assert!(
        t.kube_objects()
            .iter()
            .all(|o| o["kind"] != "PodMonitor" && o["kind"] != "PrometheusRule")
    );
    let policy = t.kube_object("NetworkPolicy", "api-from-ns-monitoring");
    assert_eq!(policy["spec"]["ingress"][0]["ports"][0]["port"], "http");
}

#[test]
fn standalone_scrapes_and_groups_carry_the_release_label() {
    let stack = stack_with(|scope, api, _| {
        let handle = monitoring().add(scope, "monitoring")?;
        let scraped = Scrape::new(api, "http")
            .via(Via::Service)
            .for_monitoring(&handle)
            .add(scope, "api-metrics")?;
        assert_eq!(scraped.kind(), "ServiceMonitor");
        AlertGroup::new("shop")
            .for_monitoring(&handle)
            .alert(Alert::new(
                "ApiDown",
                PromQl::new("up == 0").unwrap(),
                Duration::minutes(1),
                Severity::Warning,
                "down",
            ))
            .add(scope, "alerts")?;
        Ok(())
    })
    .unwrap();
    let t = Template::from_stack(stack).unwrap();
    let monitor = t.kube_object("ServiceMonitor", "api-http");
    assert_eq!(
        monitor["metadata"]["labels"]["release"],
        "kube-prometheus-stack"
    );
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "http");
    let rule = t.kube_object("PrometheusRule", "shop");
    assert_eq!(rule["metadata"]["namespace"], "monitoring");
    assert_eq!(
        rule["metadata"]["labels"]["release"],
        "kube-prometheus-stack"
    );
    assert_eq!(rule["spec"]["groups"][0]["rules"][0]["expr"], "up == 0");
}

#[test]
fn groups_for_a_release_by_name_carry_its_label() {
    let stack = stack_with(|scope, _, _| {
        AlertGroup::new("shop")
            .for_release("shop", "prom")
            .alert(Alert::new(
                "ApiDown",
                PromQl::new("up == 0").unwrap(),
                Duration::minutes(1),
                Severity::Warning,
                "down",
            ))
            .add(scope, "alerts")?;
        Ok(())
    })
    .unwrap();
    let t = Template::from_stack(stack).unwrap();
    let rule = t.kube_object("PrometheusRule", "shop");
    assert_eq!(rule["metadata"]["namespace"], "shop");
    assert_eq!(rule["metadata"]["labels"]["release"], "prom");
}

#[test]
fn scrapes_of_missing_ports_or_services_are_refused_with_the_path() {
    let (path, e) = error_of(stack_with(|scope, api, _| {
        let _ = Scrape::new(api, "metrics").add(scope, "api-metrics")?;
        Ok(())
    }));
    assert!(path.contains("shop/api-metrics"), "{path}");
    assert!(matches!(e, ObservabilityError::NoSuchPort { ref port, .. } if port == "metrics"));

    let (_, e) = error_of(stack_with(|scope, _, worker| {
        let _ = monitoring()
            .scrape(Scrape::new(worker, "http"))
            .add(scope, "monitoring")?;
        Ok(())
    }));
    assert!(matches!(e, ObservabilityError::NoSuchPort { .. }));

    let (_, e) = error_of(stack_with(|scope, api, _| {
        let _ = Scrape::new(api, "http")
            .path("metrics")
            .add(scope, "api-metrics")?;
        Ok(())
    }));
    assert!(matches!(e, ObservabilityError::MetricsPath(_)));

    let (_, e) = error_of(stack_with(|scope, api, _| {
        let _ = monitoring()
            .scrape(Scrape::new(api, "http"))
            .scrape(Scrape::new(api, "http"))
            .add(scope, "monitoring")?;
        Ok(())
    }));
    assert!(matches!(e, ObservabilityError::Duplicate { .. }));
}

#[test]
fn a_dashboard_is_a_configmap_the_sidecar_loads() {
    let stack = stack_with(|scope, _, _| {
        let handle = Dashboard::new(&NamespaceHandle::existing("shop"), "shop-api", "Shop API")
            .panel(
                Panel::new("Requests", PanelKind::TimeSeries, Unit::RequestsPerSecond).target(
                    Target::new(PromQl::new("sum(rate(http_requests_total[5m]))").unwrap()),
                ),
            )
            .add(scope, "dashboard")?;
        assert_eq!(handle.config_map(), "dashboard-shop-api");
        Ok(())
    })
    .unwrap();
    let t = Template::from_stack(stack).unwrap();
    let cm = t.kube_object("ConfigMap", "dashboard-shop-api");
    assert_eq!(cm["metadata"]["labels"]["grafana_dashboard"], "1");
    let model: serde_json::Value =
        serde_json::from_str(cm["data"]["shop-api.json"].as_str().unwrap()).unwrap();
    assert_eq!(model["uid"], "shop-api");
    assert_eq!(model["panels"][0]["title"], "Requests");
    assert_eq!(
        model["panels"][0]["targets"][0]["expr"],
        "sum(rate(http_requests_total[5m]))"
    );
    assert_eq!(
        model["panels"][0]["fieldConfig"]["defaults"]["unit"],
        "reqps"
    );

    let (_, e) = error_of(stack_with(|scope, _, _| {
        let _ = Dashboard::new(&NamespaceHandle::existing("shop"), "empty", "Empty")
            .add(scope, "dashboard")?;
        Ok(())
    }));
    assert!(matches!(e, ObservabilityError::Empty { .. }));
}

#[test]
fn a_metric_alarm_renders_the_l1_with_missing_data_explicit() {
    let mut stack = Stack::new("ops", "dev", Backend::local()).unwrap();
    stack
        .require_provider(girder_aws::aws::requirement())
        .unwrap();
    {
        let mut ops = stack.scope("ops").unwrap();
        let _ = MetricAlarm::new(
            "shop-rds-cpu",
            "AWS/RDS",
            "CPUUtilization",
            Statistic::Average,
            Comparison::GreaterThan,
            80.0,
            Period::minutes(5).unwrap(),
            2,
        )
        .dimension("DBInstanceIdentifier", "shop")
        .description("RDS CPU above 80% for 10 minutes")
        .notify(TOPIC)
        .add(&mut ops, "rds-cpu")
        .unwrap();
        let _ = MetricAlarm::new(
            "shop-api-health",
            "AWS/ApplicationELB",
            "HealthyHostCount",
            Statistic::Minimum,
            Comparison::LessThan,
            1.0,
            Period::minutes(1).unwrap(),
            5,
        )
        .treat_missing_data(TreatMissingData::Breaching)
        .add(&mut ops, "api-health")
        .unwrap();
    }
    let t = Template::from_stack(stack).unwrap();
    // The address is the construct path, as `ops.add("rds-cpu", ..)` gave it.
    let cpu = t.resource("aws_cloudwatch_metric_alarm", "ops_rds_cpu");
    assert_eq!(cpu["comparison_operator"], "GreaterThanThreshold");
    assert_eq!(cpu["evaluation_periods"], 2);
    assert_eq!(cpu["period"], 300);
    assert_eq!(cpu["threshold"], 80);
    assert_eq!(cpu["statistic"], "Average");
    assert_eq!(cpu["treat_missing_data"], "missing");
    assert_eq!(cpu["dimensions"]["DBInstanceIdentifier"], "shop");
    assert_eq!(cpu["alarm_actions"], json!([TOPIC]));
    assert_eq!(cpu["ok_actions"], json!([TOPIC]));
    let health = t.resource("aws_cloudwatch_metric_alarm", "ops_api_health");
    assert_eq!(health["treat_missing_data"], "breaching");

    let mut stack = Stack::new("ops", "dev", Backend::local()).unwrap();
    stack
        .require_provider(girder_aws::aws::requirement())
        .unwrap();
    let mut ops = stack.scope("ops").unwrap();
    let err = MetricAlarm::new(
        "x",
        "AWS/RDS",
        "CPUUtilization",
        Statistic::Average,
        Comparison::GreaterThan,
        80.0,
        Period::minutes(5).unwrap(),
        2,
    )
    .datapoints_to_alarm(3)
    .add(&mut ops, "bad")
    .unwrap_err();
    assert!(matches!(
        err.construct_error::<ObservabilityError>(),
        Some(ObservabilityError::Datapoints {
            datapoints: 3,
            periods: 2
        })
    ));
}

#[test]
fn the_handle_names_what_the_alertmanager_role_may_do() {
    let stack = stack_with(|scope, _, _| {
        let handle = monitoring().add(scope, "monitoring")?;
        let statement = handle.sns_publish().expect("an SNS route");
        let rendered = format!("{statement:?}");
        assert!(rendered.contains("sns:Publish"), "{rendered}");
        assert!(rendered.contains(TOPIC), "{rendered}");
        assert!(!rendered.contains('*'), "{rendered}");
        Ok(())
    });
    stack.unwrap();
}
