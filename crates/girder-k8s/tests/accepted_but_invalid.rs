#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Input the API server (or the kubelet, or Helm) would refuse later is refused when the
//! construct is added: labels and annotations, image references, requests above limits,
//! environment variables, cron schedules, CIDRs, chart repositories; and at synth, keys a
//! ConfigMap of the bundle does not have.

use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_k8s::prelude::*;
use girder_k8s::{ConfigMapHandle, K8sError};

fn stack() -> Stack {
    Stack::new("shop", "dev", Backend::local()).unwrap()
}

fn api() -> Container {
    Container::new("api", "ghcr.io/acme/api:1.0.0")
        .run_as_user(10001)
        .port(Port::http(8080))
}

/// Add a namespace, let `f` add to it, and return the error.
fn failure(
    f: impl FnOnce(&mut Scope<'_>, &NamespaceHandle) -> girder_core::Result<()>,
) -> girder_core::Error {
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    f(&mut scope, &ns).unwrap_err()
}

/// The error girder-k8s refused `f` with, after checking it names the construct path.
fn error(f: impl FnOnce(&mut Scope<'_>, &NamespaceHandle) -> girder_core::Result<()>) -> K8sError {
    let err = failure(f);
    assert!(err.to_string().starts_with("shop-dev:k8s"), "{err}");
    err.construct_error::<K8sError>()
        .cloned()
        .unwrap_or_else(|| panic!("not a girder-k8s error: {err}"))
}

/// A metadata error of `what`: the rule is girder-core's (`kubernetes_rules`), as text.
fn metadata(err: K8sError, what: &str, rule: &str) {
    match err {
        K8sError::Metadata { what: w, why } => {
            assert_eq!(w, what);
            assert!(why.contains(rule), "expected {rule:?} in {why}");
        }
        other => panic!("not a metadata error: {other:?}"),
    }
}

fn deployment(ns: &NamespaceHandle) -> Deployment {
    Deployment::new(ns, "api").container(api())
}

#[test]
fn labels_and_annotations_follow_the_api_rules() {
    let long = "a".repeat(64);
    let cases: Vec<(K8sError, &str, String)> = vec![
        (
            error(|s, ns| deployment(ns).part_of(long.clone()).add(s, "shop").map(drop)),
            "Deployment shop/api",
            format!(
                "label app.kubernetes.io/part-of value \"{long}\" (64 characters): a label value is empty or at most 63"
            ),
        ),
        (
            error(|s, ns| deployment(ns).component("web server").add(s, "shop").map(drop)),
            "Deployment shop/api",
            "label app.kubernetes.io/component value \"web server\"".into(),
        ),
        (
            error(|s, _| Namespace::new("other").label("Team Name", "x").add(s, "shop").map(drop)),
            "Namespace other",
            "label key \"Team Name\": a key is an optional DNS subdomain prefix".into(),
        ),
        (
            error(|s, _| Namespace::new("other").label("team", "-x").add(s, "shop").map(drop)),
            "Namespace other",
            "label team value \"-x\"".into(),
        ),
        (
            error(|s, ns| deployment(ns).annotation("example.com/a/b", "x").add(s, "shop").map(drop)),
            "Deployment shop/api",
            "annotation key \"example.com/a/b\"".into(),
        ),
        (
            error(|s, ns| deployment(ns).annotation("Example_Corp.com/x", "x").add(s, "shop").map(drop)),
            "Deployment shop/api",
            "annotation key \"Example_Corp.com/x\": the prefix \"example_corp.com\" is not a DNS subdomain".into(),
        ),
        (
            error(|s, ns| {
                deployment(ns)
                    .annotation("big", "x".repeat(256 * 1024))
                    .add(s, "shop")
                    .map(drop)
            }),
            "Deployment shop/api",
            "the annotations hold 262147 bytes; Kubernetes allows 262144".into(),
        ),
        (
            error(|s, ns| deployment(ns).pod_annotation("prometheus.io/", "true").add(s, "shop").map(drop)),
            "Deployment shop/api pod template",
            "annotation key \"prometheus.io/\"".into(),
        ),
        (
            error(|s, ns| {
                deployment(ns)
                    .node_selector("kubernetes.io/arch", "amd 64")
                    .add(s, "shop")
                    .map(drop)
            }),
            "Deployment shop/api pod template nodeSelector",
            "label kubernetes.io/arch value \"amd 64\"".into(),
        ),
        (
            error(|s, ns| {
                deployment(ns)
                    .node_selector("node role", "x")
                    .add(s, "shop")
                    .map(drop)
            }),
            "Deployment shop/api pod template nodeSelector",
            "label key \"node role\"".into(),
        ),
        (
            error(|s, ns| {
                deployment(ns)
                    .expose(Service::cluster_ip().port(80, "http").annotation("a b", "x"))
                    .add(s, "shop")
                    .map(drop)
            }),
            "Service shop/api",
            "annotation key \"a b\"".into(),
        ),
        (
            error(|s, ns| {
                deployment(ns)
                    .expose(Service::cluster_ip().port(80, "http").ingress(Ingress::new("nginx").path("/", 80).annotation("nginx.ingress.kubernetes.io/", "x")))
                    .add(s, "shop")
                    .map(drop)
            }),
            "Ingress shop/api",
            "annotation key \"nginx.ingress.kubernetes.io/\"".into(),
        ),
    ];
    for (err, what, rule) in cases {
        metadata(err, what, &rule);
    }
    // The limits themselves are accepted.
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop")
        .label("example.com/team", "a".repeat(63))
        .add(&mut scope, "namespace")
        .unwrap();
    deployment(&ns)
        .part_of("a".repeat(63))
        .annotation("example.com/note", "any text, even with spaces: ok")
        .node_selector("kubernetes.io/arch", "amd64")
        .add(&mut scope, "shop")
        .unwrap();
    Template::from_stack(stack).unwrap();
}

#[test]
fn image_references_follow_the_oci_grammar() {
    for (image, why) in [
        ("nginx:latest\u{200B}", "it holds '\\u{200b}' (U+200B)"),
        ("nginx:${TAG}", "tag \"${TAG}\" is not 1-128 letters"),
        (
            "nginx:1.0:2",
            "path component \"nginx:1.0\" is not lowercase letters",
        ),
        (
            "ghcr.io//x:1",
            "path component \"\" is not lowercase letters",
        ),
        ("nginx:latest", "`latest` is not a version"),
        ("nginx", "it has no tag or digest"),
    ] {
        let err = error(|s, ns| {
            Deployment::new(ns, "api")
                .container(Container::new("api", image).run_as_user(10001))
                .add(s, "shop")
                .map(drop)
        });
        // The grammar's finer points are one variant; the rule broken is its text.
        match err {
            K8sError::Image {
                container,
                image: given,
                why: broken,
            } => {
                assert_eq!((container.as_str(), given.as_str()), ("api", image));
                assert!(broken.contains(why), "{image:?}: {broken}");
            }
            other => panic!("{image:?}: {other:?}"),
        }
    }
}

#[test]
fn requests_above_limits_are_refused() {
    let above =
        |what: &str, resource: &str, request: &str, limit: &str| K8sError::RequestAboveLimit {
            what: what.into(),
            resource: resource.into(),
            request: request.into(),
            limit: limit.into(),
        };
    let err = failure(|s, ns| {
        Deployment::new(ns, "api")
            .container(api().resources(Resources::new().cpu("2", "500m")))
            .add(s, "shop")
            .map(drop)
    });
    assert_eq!(
        err.construct_error::<K8sError>(),
        Some(&above("container \"api\"", "cpu", "2", "500m"))
    );
    assert_eq!(
        err.to_string(),
        "shop-dev:k8s/shop: container \"api\": cpu request 2 is above its limit 500m; a request must be at most the limit"
    );
    let err = error(|s, ns| {
        Deployment::new(ns, "api")
            .container(api().resources(Resources::new().memory("1Gi", "512Mi")))
            .add(s, "shop")
            .map(drop)
    });
    assert_eq!(err, above("container \"api\"", "memory", "1Gi", "512Mi"));
    let err = error(|s, ns| {
        Deployment::new(ns, "api")
            .container(api().resources(Resources::new().other("nvidia.com/gpu", "1", "2")))
            .add(s, "shop")
            .map(drop)
    });
    assert!(
        matches!(err, K8sError::RequestNotLimit { ref resource, .. } if resource == "nvidia.com/gpu"),
        "{err:?}"
    );
    let err = error(|s, ns| {
        LimitRange::new(ns, "defaults")
            .container_default("cpu", "1", "100m")
            .add(s, "shop")
            .map(drop)
    });
    assert_eq!(
        err,
        above(
            "LimitRange shop/defaults container default",
            "cpu",
            "1",
            "100m"
        )
    );
    // Equal in other units is fine.
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    Deployment::new(&ns, "api")
        .container(api().resources(Resources::new().cpu("1", "1000m").memory("1Gi", "1024Mi")))
        .add(&mut scope, "shop")
        .unwrap();
}

#[test]
fn environment_variables_are_set_once_with_valid_names_and_keys() {
    let err = error(|s, ns| {
        Deployment::new(ns, "api")
            .container(
                api()
                    .env(Env::value("LOG_LEVEL", "info"))
                    .env(Env::value("LOG_LEVEL", "debug")),
            )
            .add(s, "shop")
            .map(drop)
    });
    assert_eq!(
        err,
        K8sError::DuplicateEnv {
            container: "api".into(),
            name: "LOG_LEVEL".into()
        }
    );
    let env_name = |name: &str| K8sError::EnvName {
        container: "api".into(),
        name: name.into(),
    };
    for (env, expected) in [
        (Env::value("1ST", "x"), env_name("1ST")),
        (Env::value("A=B", "x"), env_name("A=B")),
        (
            Env::config_map_key(
                "LEVEL",
                &ConfigMapHandle::existing(&NamespaceHandle::existing("shop"), "settings"),
                "log level",
            ),
            K8sError::DataKey {
                what: "container \"api\" env LEVEL ConfigMap \"settings\"".into(),
                key: "log level".into(),
            },
        ),
        (
            Env::secret_key("DB", "Database", "url"),
            K8sError::NotDnsSubdomain {
                what: "container \"api\" env DB Secret \"name\"".into(),
                value: "Database".into(),
            },
        ),
    ] {
        let err = error(|s, ns| {
            Deployment::new(ns, "api")
                .container(api().env(env))
                .add(s, "shop")
                .map(drop)
        });
        assert_eq!(err, expected);
    }
}

#[test]
fn config_map_keys_read_by_env_must_be_in_the_config_map() {
    let bundle = |key: &str| {
        let mut stack = stack();
        let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
        let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
        let config = ConfigMap::new(&ns, "settings")
            .entry("LOG_LEVEL", "info")
            .add(&mut scope, "settings")
            .unwrap();
        Deployment::new(&ns, "api")
            .container(api().env(Env::config_map_key("LOG_LEVEL", &config, key)))
            .add(&mut scope, "shop")
            .unwrap();
        Template::from_stack(stack).map(drop)
    };
    bundle("LOG_LEVEL").unwrap();
    let err = bundle("LOGLEVEL").unwrap_err().to_string();
    assert!(
        err.contains(
            "shop-dev:k8s/shop: Deployment shop/api: container 'api' env LOG_LEVEL references key \"LOGLEVEL\" of ConfigMap shop/settings, which has no such key (keys: LOG_LEVEL)"
        ),
        "{err}"
    );
}

#[test]
fn cron_schedules_are_parsed_as_kubernetes_does() {
    for schedule in [
        "0 3 * * *",
        "*/15 9-17 * * MON-FRI",
        "@hourly",
        "0 0 1 jan,jul *",
    ] {
        let mut stack = stack();
        let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
        let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
        CronJob::new(&ns, "nightly", schedule)
            .container(Container::new("task", "ghcr.io/acme/task:1.0.0").run_as_user(10001))
            .add(&mut scope, "shop")
            .unwrap();
    }
    for (schedule, why) in [
        ("61 * * * *", "minute \"61\" is outside 0-59"),
        ("0 3 * * 8", "day of week \"8\" is outside 0-6"),
        ("0 3 * * FUNDAY", "day of week \"FUNDAY\" is not a number"),
        ("0 3 * *", "it has 4 fields, not 5"),
        ("*/0 * * * *", "a step is a positive number"),
        (
            "CRON_TZ=Europe/Paris 0 3 * * *",
            "set the time zone in the CronJob's timeZone",
        ),
        ("@sometimes", "not a known descriptor"),
    ] {
        let err = error(|s, ns| {
            CronJob::new(ns, "nightly", schedule)
                .container(Container::new("task", "ghcr.io/acme/task:1.0.0").run_as_user(10001))
                .add(s, "shop")
                .map(drop)
        });
        // One variant; the cron rule broken is its text.
        match err {
            K8sError::NotCron {
                what,
                schedule: given,
                why: broken,
            } => {
                assert_eq!(
                    (what.as_str(), given.as_str()),
                    ("CronJob shop/nightly", schedule)
                );
                assert!(broken.contains(why), "{schedule}: {broken}");
            }
            other => panic!("{schedule}: {other:?}"),
        }
    }
}

#[test]
fn cidrs_and_hosts_of_network_policies_and_ingresses_are_checked() {
    let not_cidr = |what: &str, value: &str, why: &'static str| K8sError::NotCidr {
        what: what.into(),
        value: value.into(),
        why,
    };
    let err = error(|s, ns| {
        let api = deployment(ns).add(s, "shop")?;
        api.allow_from(s, &IpBlock::new("alb", "10.20.0.0/33"), "http")
    });
    assert_eq!(
        err,
        not_cidr(
            "NetworkPolicy api-from-alb ipBlock",
            "10.20.0.0/33",
            "is not a CIDR block"
        )
    );
    let err = error(|s, ns| {
        let api = deployment(ns).add(s, "shop")?;
        api.allow_from(s, &IpBlock::new("alb", "10.20.0.1/16"), "http")
    });
    assert_eq!(
        err,
        not_cidr(
            "NetworkPolicy api-from-alb ipBlock",
            "10.20.0.1/16",
            "has host bits set"
        )
    );
    let internet = |cidrs: Vec<&'static str>| {
        error(move |s, ns| {
            deployment(ns)
                .expose(
                    Service::cluster_ip().port(80, "http").ingress(
                        Ingress::aws_load_balancer()
                            .internet_facing()
                            .inbound_cidrs(cidrs)
                            .path("/", 80),
                    ),
                )
                .add(s, "shop")
                .map(drop)
        })
    };
    let ingress = || "Ingress shop/api".to_owned();
    assert_eq!(
        internet(vec![]),
        K8sError::EmptyAllowlist { ingress: ingress() }
    );
    assert_eq!(
        internet(vec!["203.0.113.0/24", "0.0.0.0/0"]),
        K8sError::OpenToInternet { ingress: ingress() }
    );
    assert_eq!(
        internet(vec!["203.0.113.0/240"]),
        not_cidr(
            "Ingress shop/api inbound CIDR",
            "203.0.113.0/240",
            "is not a CIDR block"
        )
    );
    let host = |value: &str| K8sError::NotDnsSubdomain {
        what: "Ingress shop/api host".into(),
        value: value.into(),
    };
    let err = error(|s, ns| {
        deployment(ns)
            .expose(
                Service::cluster_ip()
                    .port(80, "http")
                    .ingress(Ingress::new("nginx").host_path("Shop.Example.com", "/", 80)),
            )
            .add(s, "shop")
            .map(drop)
    });
    assert_eq!(err, host("Shop.Example.com"));
    let err = error(|s, ns| {
        deployment(ns)
            .expose(
                Service::cluster_ip().port(80, "http").ingress(
                    Ingress::new("nginx")
                        .host_path("*.example.com", "/", 80)
                        .tls(["*.example.com", "bad host.example.com"], "tls"),
                ),
            )
            .add(s, "shop")
            .map(drop)
    });
    assert_eq!(err, host("bad host.example.com"));
}

#[test]
fn helm_repositories_must_be_https_or_oci_for_every_delivery() {
    for delivery in [Delivery::ValuesFile, Delivery::Flux, Delivery::K3s] {
        // The chart rules are girder-core's (ChartRef), reported as its text.
        let err = failure(|s, _| {
            Release::new(
                "cache",
                "shop",
                ChartRef::new("http://charts.example.com", "redis", "1.2.3"),
                &serde_json::json!({}),
            )
            .delivery(delivery)
            .add(s, "release")
            .map(drop)
        })
        .to_string();
        assert!(
            err.contains(
                "chart repository \"http://charts.example.com\" must be an https:// or oci:// URL"
            ),
            "{err}"
        );
        let err = failure(|s, _| {
            Release::new(
                "cache",
                "shop",
                ChartRef::new("https://charts.example.com", "redis", "1.x"),
                &serde_json::json!({}),
            )
            .delivery(Delivery::Flux)
            .add(s, "release")
            .map(drop)
        })
        .to_string();
        assert!(
            err.contains("chart redis version \"1.x\" is not an exact version"),
            "{err}"
        );
    }
}

#[test]
fn gitops_repositories_must_be_https_or_ssh() {
    for repository in [
        "http://github.com/acme/platform",
        "github.com/acme/platform",
        "https://",
    ] {
        let mut stack = stack();
        let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
        Namespace::new("shop").add(&mut scope, "namespace").unwrap();
        let err = GitOps::new(repository, "main")
            .flux(&mut stack)
            .unwrap_err();
        assert_eq!(
            err.construct_error::<K8sError>(),
            Some(&K8sError::GitOpsRepository {
                repository: repository.into()
            }),
            "{err}"
        );
    }
}
