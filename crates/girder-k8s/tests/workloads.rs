#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! What girder-k8s promises: secure defaults with reasoned exceptions, labels and
//! selectors derived once, the objects intent methods add, and errors that name the
//! construct and say what is allowed.

use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_core::vocabulary::ReasonError;
use girder_k8s::prelude::*;
use girder_k8s::{AWS_TOKEN_VOLUME, K8sError};
use serde_json::{Value as Json, json};

fn stack() -> Stack {
    Stack::new("shop", "dev", Backend::local()).unwrap()
}

fn api() -> Container {
    Container::new("api", "ghcr.io/acme/api:1.0.0")
        .run_as_user(10001)
        .port(Port::http(8080))
        .resources(
            Resources::new()
                .cpu("100m", "500m")
                .memory("128Mi", "256Mi"),
        )
}

/// One way to misuse the constructs, given a scope and a namespace.
type Case = Box<dyn FnOnce(&mut Scope<'_>, &NamespaceHandle) -> girder_core::Result<()>>;

/// What the error of a [`Case`] must be.
type Expected = Box<dyn Fn(&K8sError) -> bool>;

fn template(stack: Stack) -> Template {
    Template::from_stack(stack).unwrap()
}

/// Build a stack with a namespace, let `f` add to it, and return girder-k8s's error,
/// after checking its message names the construct path.
fn error(f: impl FnOnce(&mut Scope<'_>, &NamespaceHandle) -> girder_core::Result<()>) -> K8sError {
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    let err = f(&mut scope, &ns).unwrap_err();
    assert!(
        err.to_string().starts_with("shop-dev:k8s"),
        "no construct path: {err}"
    );
    err.construct_error::<K8sError>()
        .cloned()
        .unwrap_or_else(|| panic!("not a girder-k8s error: {err}"))
}

#[test]
fn containers_get_restricted_security_defaults() {
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    Deployment::new(&ns, "api")
        .container(api())
        .add(&mut scope, "shop")
        .unwrap();
    let t = template(stack);
    let deployment = t.kube_object("Deployment", "api");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(
        pod["containers"][0]["securityContext"],
        json!({
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": true,
            "runAsNonRoot": true,
            // Stated: the kubelet cannot check the image's USER (root, or a name).
            "runAsUser": 10001,
            "seccompProfile": {"type": "RuntimeDefault"}
        })
    );
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let namespace = t.kube_object("Namespace", "shop");
    for mode in ["enforce", "audit", "warn"] {
        assert_eq!(
            namespace["metadata"]["labels"][format!("pod-security.kubernetes.io/{mode}")],
            "restricted"
        );
    }
}

#[test]
fn relaxations_need_reasons_and_are_written_down() {
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    let container = api()
        .writable_root_filesystem("the image unpacks assets at start")
        .add_capability("NET_BIND_SERVICE", "listens on port 80");
    Deployment::new(&ns, "api")
        .container(container)
        .add(&mut scope, "shop")
        .unwrap();
    let t = template(stack);
    let deployment = t.kube_object("Deployment", "api");
    let context = &deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"];
    assert_eq!(context["readOnlyRootFilesystem"], false);
    assert_eq!(context["capabilities"]["add"], json!(["NET_BIND_SERVICE"]));
    assert_eq!(
        deployment["metadata"]["annotations"]["girder.dev/security-exceptions"],
        "api: readOnlyRootFilesystem=false: the image unpacks assets at start; \
         api: capabilities.add: NET_BIND_SERVICE: listens on port 80"
    );
    let err = error(|scope, ns| {
        Deployment::new(ns, "api")
            .container(api().run_as_root(" "))
            .add(scope, "shop-2")
            .map(drop)
    });
    assert_eq!(
        err,
        K8sError::ExceptionReason {
            container: "api".into(),
            setting: "runAsNonRoot=false",
            problem: ReasonError::Empty,
        }
    );
}

#[test]
fn a_reason_that_names_a_setting_does_not_change_it() {
    // Exceptions were matched as text, so a reason mentioning `runAsNonRoot=false` turned
    // the pod's runAsNonRoot off. They are typed values now: only `run_as_root` does.
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    let container = api()
        .writable_root_filesystem("not runAsNonRoot=false, only readOnlyRootFilesystem=false")
        .add_capability(
            "NET_BIND_SERVICE",
            "allowPrivilegeEscalation=true is not asked for",
        );
    assert_eq!(
        container.security_exceptions()[0].setting(),
        "readOnlyRootFilesystem=false"
    );
    Deployment::new(&ns, "api")
        .container(container)
        .add(&mut scope, "api")
        .unwrap();
    let t = template(stack);
    let pod = &t.kube_object("Deployment", "api")["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let context = &pod["containers"][0]["securityContext"];
    assert_eq!(context["runAsNonRoot"], true);
    assert_eq!(context["allowPrivilegeEscalation"], false);
    assert_eq!(context["readOnlyRootFilesystem"], false);

    let mut stack = self::stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    Deployment::new(&ns, "api")
        .container(api().run_as_root("the vendor image needs uid 0"))
        .add(&mut scope, "api")
        .unwrap();
    let t = template(stack);
    let pod = &t.kube_object("Deployment", "api")["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], false);
    assert_eq!(
        pod["containers"][0]["securityContext"]["runAsNonRoot"],
        false
    );
}

#[test]
fn every_relaxation_reason_is_a_one_line_reason() {
    // A capability's reason was checked after its name was prefixed, so an empty one
    // passed; a newline or tab in any reason broke the annotation it is written into.
    let refused = |setting, problem| K8sError::ExceptionReason {
        container: "api".into(),
        setting,
        problem,
    };
    for (container, expected) in [
        (
            api().add_capability("NET_BIND_SERVICE", " "),
            refused("capabilities.add", ReasonError::Empty),
        ),
        (
            api().run_as_root("two\nlines"),
            refused("runAsNonRoot=false", ReasonError::ControlCharacter('\n')),
        ),
        (
            api().writable_root_filesystem("tab\there"),
            refused(
                "readOnlyRootFilesystem=false",
                ReasonError::ControlCharacter('\t'),
            ),
        ),
    ] {
        let err = error(|scope, ns| {
            Deployment::new(ns, "api")
                .container(container)
                .add(scope, "shop")
                .map(drop)
        });
        assert_eq!(err, expected);
    }
}

#[test]
fn an_open_ingress_reason_is_one_line() {
    let open = |reason: &'static str| {
        error(move |scope, ns| {
            Deployment::new(ns, "api")
                .container(api())
                .expose(
                    Service::cluster_ip().port(80, "http").ingress(
                        Ingress::aws_load_balancer()
                            .internet_facing()
                            .open_to_internet(reason)
                            .path("/", 80),
                    ),
                )
                .add(scope, "shop")
                .map(drop)
        })
    };
    assert_eq!(
        open("public\nsite"),
        K8sError::OpenToInternetReason {
            ingress: "Ingress shop/api".into(),
            problem: ReasonError::ControlCharacter('\n'),
        }
    );
    assert_eq!(
        open("  "),
        K8sError::OpenToInternet {
            ingress: "Ingress shop/api".into()
        }
    );
}

#[test]
fn selectors_come_from_the_labels_and_intents_add_their_objects() {
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop")
        .default_deny_ingress()
        .add(&mut scope, "namespace")
        .unwrap();
    let api = Deployment::new(&ns, "api")
        .part_of("shop")
        .container(api())
        .replicas(3)
        .expose(
            Service::cluster_ip()
                .port(80, "http")
                .ingress(Ingress::new("nginx").host_path("shop.example.com", "/", 80)),
        )
        .autoscale(Autoscaling::new(2, 5))
        .disruption_budget(DisruptionBudget::MinAvailable(1))
        .add(&mut scope, "shop")
        .unwrap();
    let client = Deployment::new(&ns, "client")
        .container(Container::new("client", "ghcr.io/acme/client:1.0.0").run_as_user(10001))
        .add(&mut scope, "shop-2")
        .unwrap();
    api.allow_from(&mut scope, &client, "http").unwrap();
    let t = template(stack);
    let selector = json!({"app.kubernetes.io/instance": "api", "app.kubernetes.io/name": "api"});
    let deployment = t.kube_object("Deployment", "api");
    assert_eq!(deployment["spec"]["selector"]["matchLabels"], selector);
    assert!(
        deployment["spec"].get("replicas").is_none(),
        "the autoscaler owns replicas"
    );
    assert_eq!(
        t.kube_object("Service", "api")["spec"]["selector"],
        selector
    );
    assert_eq!(
        t.kube_object("Service", "api")["spec"]["ports"],
        json!([{"name": "http", "port": 80, "targetPort": "http"}])
    );
    let hpa = t.kube_object("HorizontalPodAutoscaler", "api");
    assert_eq!(hpa["spec"]["minReplicas"], 2);
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "Deployment");
    assert_eq!(
        t.kube_object("PodDisruptionBudget", "api")["spec"]["selector"]["matchLabels"],
        selector
    );
    let ingress = t.kube_object("Ingress", "api");
    assert_eq!(ingress["spec"]["rules"][0]["host"], "shop.example.com");
    let policy = t.kube_object("NetworkPolicy", "api-from-client");
    assert_eq!(policy["spec"]["podSelector"]["matchLabels"], selector);
    assert_eq!(
        policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
        "client"
    );
    assert_eq!(policy["spec"]["ingress"][0]["ports"][0]["port"], "http");
    assert_eq!(
        t.kube_object("NetworkPolicy", "default-deny-ingress")["spec"]["podSelector"],
        json!({})
    );
}

#[test]
fn stateful_sets_get_a_headless_service_and_claim_templates() {
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    StatefulSet::new(&ns, "db")
        .container(
            Container::new("db", "docker.io/library/postgres:17.2")
                .run_as_user(10001)
                .port(Port::new("postgres", 5432))
                .mount("data", "/var/lib/postgresql/data"),
        )
        .claim_template(ClaimTemplate::new("data", "10Gi").storage_class("gp3"))
        .add(&mut scope, "shop")
        .unwrap();
    let t = template(stack);
    let set = t.kube_object("StatefulSet", "db");
    assert_eq!(set["spec"]["serviceName"], "db-headless");
    assert_eq!(
        set["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
        "10Gi"
    );
    let headless = t.kube_object("Service", "db-headless");
    assert_eq!(headless["spec"]["clusterIP"], "None");
}

#[test]
fn an_image_user_and_group_own_the_volumes_they_write() {
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    StatefulSet::new(&ns, "broker")
        .container(
            Container::new("broker", "docker.io/library/rabbitmq:4.1.3-alpine")
                .run_as_user(100)
                .run_as_group(101)
                .port(Port::new("amqp", 5672))
                .mount("data", "/var/lib/rabbitmq"),
        )
        .fs_group(101)
        .claim_template(ClaimTemplate::new("data", "8Gi").storage_class("ebs-gp3"))
        .add(&mut scope, "broker")
        .unwrap();
    let t = template(stack);
    let pod = &t.kube_object("StatefulSet", "broker")["spec"]["template"]["spec"];
    // A new block volume's root is root's: the pod's fsGroup makes it the image group's,
    // once (OnRootMismatch), and the container runs as the image's user and group.
    assert_eq!(pod["securityContext"]["fsGroup"], 101);
    assert_eq!(
        pod["securityContext"]["fsGroupChangePolicy"],
        "OnRootMismatch"
    );
    let container = &pod["containers"][0]["securityContext"];
    assert_eq!(container["runAsUser"], 100);
    assert_eq!(container["runAsGroup"], 101);
    assert_eq!(container["runAsNonRoot"], true);
    // Without it, no fsGroup is written.
    let mut stack = self::stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    Deployment::new(&ns, "api")
        .container(api())
        .add(&mut scope, "api")
        .unwrap();
    let t = template(stack);
    let pod = &t.kube_object("Deployment", "api")["spec"]["template"]["spec"];
    assert!(pod["securityContext"].get("fsGroup").is_none());
}

#[test]
fn jobs_and_cron_jobs_run_to_completion() {
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    let task = || Container::new("task", "ghcr.io/acme/task:1.0.0").run_as_user(10001);
    Job::new(&ns, "migrate")
        .container(task())
        .add(&mut scope, "shop")
        .unwrap();
    CronJob::new(&ns, "nightly", "0 3 * * *")
        .container(task())
        .add(&mut scope, "shop-2")
        .unwrap();
    let t = template(stack);
    assert_eq!(
        t.kube_object("Job", "migrate")["spec"]["template"]["spec"]["restartPolicy"],
        "OnFailure"
    );
    let cron = t.kube_object("CronJob", "nightly");
    assert_eq!(cron["spec"]["concurrencyPolicy"], "Forbid");
    assert_eq!(cron["spec"]["jobTemplate"]["spec"]["backoffLimit"], 3);
    // No deadline unless asked.
    assert!(cron["spec"].get("startingDeadlineSeconds").is_none());
    assert!(
        t.kube_object("Job", "migrate")["spec"]
            .get("activeDeadlineSeconds")
            .is_none()
    );
}

#[test]
fn a_deadline_stops_a_hung_run_and_skips_a_late_one() {
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    let task = || Container::new("task", "ghcr.io/acme/task:1.0.0").run_as_user(10001);
    Job::new(&ns, "migrate")
        .container(task())
        .deadline(1800)
        .add(&mut scope, "shop")
        .unwrap();
    CronJob::new(&ns, "nightly", "0 3 * * *")
        .container(task())
        .deadline(7200)
        .add(&mut scope, "shop-2")
        .unwrap();
    let t = template(stack);
    assert_eq!(
        t.kube_object("Job", "migrate")["spec"]["activeDeadlineSeconds"],
        1800
    );
    let cron = &t.kube_object("CronJob", "nightly")["spec"];
    assert_eq!(cron["startingDeadlineSeconds"], 7200);
    assert_eq!(cron["jobTemplate"]["spec"]["activeDeadlineSeconds"], 7200);
}

#[test]
fn rbac_and_service_accounts() {
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    let account = ServiceAccount::new(&ns, "api")
        .irsa_role("arn:aws:iam::123456789012:role/api")
        .add(&mut scope, "shop")
        .unwrap();
    Role::new(&ns, "reader")
        .allow(&[""], &["configmaps"], &["get"])
        .add(&mut scope, "shop-2")
        .unwrap()
        .bind(&mut scope, &account)
        .unwrap();
    let nodes = ClusterRole::new("node-reader")
        .allow(&[""], &["nodes"], &["get", "list"])
        .add(&mut scope, "shop-3")
        .unwrap();
    nodes.bind_cluster_wide(&mut scope, &account).unwrap();
    let t = template(stack);
    let cluster_binding = t.kube_object("ClusterRoleBinding", "node-reader-shop-api");
    assert_eq!(cluster_binding["roleRef"]["kind"], "ClusterRole");
    assert!(
        t.kube_object("ClusterRole", "node-reader")["metadata"]
            .get("namespace")
            .is_none()
    );
    assert_eq!(
        t.kube_object("ServiceAccount", "api")["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::123456789012:role/api"
    );
    let binding = t.kube_object("RoleBinding", "reader-api");
    assert_eq!(
        binding["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"})
    );
    assert_eq!(binding["subjects"][0]["namespace"], "shop");
}

#[test]
fn bad_input_is_refused_with_the_construct_path_and_what_is_allowed() {
    let is = |expected: K8sError| -> Expected { Box::new(move |e| *e == expected) };
    let cases: Vec<(Expected, Case)> = vec![
        (
            Box::new(
                |e| matches!(e, K8sError::Image { why, .. } if why.contains("`latest` is not a version")),
            ),
            Box::new(|s, ns| {
                Deployment::new(ns, "api")
                    .container(Container::new("api", "nginx:latest").run_as_user(10001))
                    .add(s, "shop")
                    .map(drop)
            }),
        ),
        (
            Box::new(
                |e| matches!(e, K8sError::Image { why, .. } if why.contains("no tag or digest")),
            ),
            Box::new(|s, ns| {
                Deployment::new(ns, "api")
                    .container(Container::new("api", "nginx").run_as_user(10001))
                    .add(s, "shop-2")
                    .map(drop)
            }),
        ),
        (
            is(K8sError::ProbePort {
                container: "api".into(),
                port: "metrics".into(),
                ports: vec!["http".into()],
            }),
            Box::new(|s, ns| {
                Deployment::new(ns, "api")
                    .container(api().liveness(Probe::http_get("/", "metrics")))
                    .add(s, "shop-3")
                    .map(drop)
            }),
        ),
        (
            is(K8sError::UnknownVolume {
                workload: "Deployment shop/api".to_owned(),
                container: "api".into(),
                volume: "data".into(),
                path: "/data".into(),
                volumes: vec![],
            }),
            Box::new(|s, ns| {
                Deployment::new(ns, "api")
                    .container(api().mount("data", "/data"))
                    .add(s, "shop-4")
                    .map(drop)
            }),
        ),
        (
            is(K8sError::UnknownTargetPort {
                service: "shop/api".into(),
                target: "web".into(),
                workload: "api".into(),
                ports: vec!["http".into()],
            }),
            Box::new(|s, ns| {
                Deployment::new(ns, "api")
                    .container(api())
                    .expose(Service::cluster_ip().port(80, "web"))
                    .add(s, "shop-5")
                    .map(drop)
            }),
        ),
        (
            is(K8sError::OpenToInternet {
                ingress: "Ingress shop/api".into(),
            }),
            Box::new(|s, ns| {
                Deployment::new(ns, "api")
                    .container(api())
                    .expose(
                        Service::cluster_ip()
                            .port(80, "http")
                            .ingress(Ingress::aws_load_balancer().internet_facing().path("/", 80)),
                    )
                    .add(s, "shop-6")
                    .map(drop)
            }),
        ),
        (
            is(K8sError::BudgetBlocksDrains {
                workload: "Deployment shop/api".to_owned(),
                min_available: 1,
                replicas: 1,
            }),
            Box::new(|s, ns| {
                Deployment::new(ns, "api")
                    .container(api())
                    .replicas(1)
                    .disruption_budget(DisruptionBudget::MinAvailable(1))
                    .add(s, "shop-7")
                    .map(drop)
            }),
        ),
        (
            is(K8sError::AutoscalingRange {
                workload: "Deployment shop/api".to_owned(),
                min: 5,
                max: 2,
            }),
            Box::new(|s, ns| {
                Deployment::new(ns, "api")
                    .container(api())
                    .autoscale(Autoscaling::new(5, 2))
                    .add(s, "shop-8")
                    .map(drop)
            }),
        ),
        (
            Box::new(
                |e| matches!(e, K8sError::NotCron { what, schedule, .. } if what == "CronJob shop/c" && schedule == "daily"),
            ),
            Box::new(|s, ns| {
                CronJob::new(ns, "c", "daily")
                    .container(api())
                    .add(s, "shop-9")
                    .map(drop)
            }),
        ),
        (
            Box::new(|e| matches!(e, K8sError::NotQuantity { value, .. } if value == "1GB")),
            Box::new(|s, ns| {
                Deployment::new(ns, "api")
                    .container(api().resources(Resources::new().memory("1GB", "2GB")))
                    .add(s, "shop-10")
                    .map(drop)
            }),
        ),
        (
            is(K8sError::ZeroContainerPort {
                container: "api".into(),
                port: "admin".into(),
            }),
            Box::new(|s, ns| {
                Deployment::new(ns, "api")
                    .container(api().port(Port::new("admin", 0)))
                    .add(s, "shop-11")
                    .map(drop)
            }),
        ),
        (
            is(K8sError::WildcardRule { role: "all".into() }),
            Box::new(|s, ns| {
                Role::new(ns, "all")
                    .allow(&[""], &["*"], &["get"])
                    .add(s, "shop-12")
                    .map(drop)
            }),
        ),
        (
            is(K8sError::NotRoleArn {
                account: "api".into(),
                arn: "api-role".into(),
            }),
            Box::new(|s, ns| {
                ServiceAccount::new(ns, "api")
                    .irsa_role("api-role")
                    .add(s, "shop-13")
                    .map(drop)
            }),
        ),
        (
            is(K8sError::NotDnsLabel {
                what: "workload name".into(),
                value: "Api".into(),
            }),
            Box::new(|s, ns| {
                Deployment::new(ns, "Api")
                    .container(api())
                    .add(s, "shop-14")
                    .map(drop)
            }),
        ),
        (
            is(K8sError::NoSuchPort {
                workload: "Deployment shop/api".to_owned(),
                port: "grpc".into(),
                ports: vec!["http".into()],
            }),
            Box::new(|s, ns| {
                let api = Deployment::new(ns, "api")
                    .container(api())
                    .add(s, "shop-15")?;
                api.allow_from(s, &NamespaceHandle::existing("monitoring"), "grpc")
            }),
        ),
    ];
    for (expected, case) in cases {
        let err = error(case);
        assert!(expected(&err), "unexpected {err:?}");
    }
}

#[test]
fn references_outside_the_stack_fail_synth() {
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    Deployment::new(&ns, "api")
        .container(api().env(Env::secret_key("DB", "database", "url")))
        .add(&mut scope, "shop")
        .unwrap();
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    let err = app.synth().unwrap_err().to_string();
    assert!(
        err.contains("env DB references Secret shop/database"),
        "{err}"
    );
}

#[test]
fn declared_externals_satisfy_references_and_are_recorded() {
    let mut stack = stack();
    stack
        .external_kube_object(
            "Secret",
            Some("shop"),
            "database",
            "made by the platform's ExternalSecret",
        )
        .unwrap();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    Deployment::new(&ns, "api")
        .container(api().env(Env::secret_key("DB", "database", "url")))
        .add(&mut scope, "shop")
        .unwrap();
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    let manifest = app.synth().unwrap().manifest();
    assert_eq!(
        manifest["stacks"][0]["kubernetes_externals"][0],
        json!({"object": "Secret/shop/database", "reason": "made by the platform's ExternalSecret"})
    );
}

#[test]
fn allow_from_admits_any_network_policy_peer() {
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let shop = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    let ops = Namespace::new("ops").add(&mut scope, "ops").unwrap();
    let api = Deployment::new(&shop, "api")
        .container(api())
        .add(&mut scope, "api")
        .unwrap();
    let probe = Deployment::new(&ops, "probe")
        .container(Container::new("probe", "ghcr.io/acme/probe:1.0.0").run_as_user(10001))
        .add(&mut scope, "probe")
        .unwrap();
    api.allow_from(&mut scope, &probe, "http").unwrap();
    api.allow_from(&mut scope, &ops, "http").unwrap();
    api.allow_from(&mut scope, &IpBlock::new("alb", "10.20.0.0/16"), "http")
        .unwrap();
    let t = template(stack);
    let from = |policy: &str| {
        t.kube_object("NetworkPolicy", policy)["spec"]["ingress"][0]["from"][0].clone()
    };
    let ops_selector = json!({"matchLabels": {"kubernetes.io/metadata.name": "ops"}});
    // A workload in another namespace is selected there.
    assert_eq!(from("api-from-probe")["namespaceSelector"], ops_selector);
    assert_eq!(
        from("api-from-probe")["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
        "probe"
    );
    assert_eq!(
        from("api-from-ns-ops"),
        json!({"namespaceSelector": ops_selector})
    );
    assert_eq!(
        from("api-from-alb"),
        json!({"ipBlock": {"cidr": "10.20.0.0/16"}})
    );
}

#[test]
fn every_construct_opens_its_id_and_returns_a_handle() {
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    let config = ConfigMap::new(&ns, "settings")
        .entry("a", "1")
        .add(&mut scope, "settings")
        .unwrap();
    let claim = PersistentVolumeClaim::new(&ns, "data", "1Gi")
        .add(&mut scope, "data")
        .unwrap();
    let class = StorageClass::ebs_gp3("gp3").add(&mut scope, "gp3").unwrap();
    let quota = ResourceQuota::new(&ns, "compute")
        .hard("pods", "10")
        .add(&mut scope, "quota")
        .unwrap();
    let limits = LimitRange::new(&ns, "defaults")
        .container_default("cpu", "100m", "500m")
        .add(&mut scope, "limits")
        .unwrap();
    let release = Release::new(
        "cache",
        "shop",
        ChartRef::new("https://charts.example.com", "redis", "1.2.3"),
        &json!({}),
    )
    .add(&mut scope, "cache")
    .unwrap();
    assert_eq!((config.namespace(), config.name()), ("shop", "settings"));
    assert_eq!((claim.namespace(), claim.name()), ("shop", "data"));
    assert_eq!(class.name(), "gp3");
    assert_eq!((quota.namespace(), quota.name()), ("shop", "compute"));
    assert_eq!((limits.namespace(), limits.name()), ("shop", "defaults"));
    assert_eq!((release.namespace(), release.name()), ("shop", "cache"));
    // Handles are how others refer to what was made.
    Deployment::new(&ns, "api")
        .container(api().mount("config", "/etc/api").mount("data", "/data"))
        .volume(Volume::config_map("config", &config))
        .volume(Volume::claim("data", &claim))
        .add(&mut scope, "api")
        .unwrap();
    // The id is a construct id: errors name the construct's own path.
    let err = Deployment::new(&ns, "worker")
        .add(&mut scope, "worker")
        .unwrap_err();
    assert_eq!(
        err.construct_error::<K8sError>(),
        Some(&K8sError::NoContainer {
            workload: "Deployment shop/worker".into()
        })
    );
    assert!(
        err.to_string().starts_with("shop-dev:k8s/worker: "),
        "{err}"
    );
    let t = template(stack);
    let pod = &t.kube_object("Deployment", "api")["spec"]["template"]["spec"];
    assert_eq!(pod["volumes"][0]["configMap"]["name"], "settings");
    assert_eq!(
        pod["volumes"][1]["persistentVolumeClaim"]["claimName"],
        "data"
    );
}

#[test]
fn host_network_needs_a_reason_and_is_written_down() {
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = NamespaceHandle::existing("kube-system");
    DaemonSet::new(&ns, "agent")
        .container(api())
        .host_network("reads the instance metadata service, one hop away")
        .add(&mut scope, "agent")
        .unwrap();
    let t = template(stack);
    let daemon_set = t.kube_object("DaemonSet", "agent");
    let pod = &daemon_set["spec"]["template"]["spec"];
    assert_eq!(pod["hostNetwork"], true);
    assert_eq!(pod["dnsPolicy"], "ClusterFirstWithHostNet");
    assert_eq!(
        daemon_set["metadata"]["annotations"]["girder.dev/security-exceptions"],
        "pod: hostNetwork=true: reads the instance metadata service, one hop away"
    );
    // Without it, neither is set.
    let mut stack = self::stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    Deployment::new(&ns, "api")
        .container(api())
        .add(&mut scope, "api")
        .unwrap();
    let pod = template(stack).kube_object("Deployment", "api")["spec"]["template"]["spec"].clone();
    assert!(pod.get("hostNetwork").is_none() && pod.get("dnsPolicy").is_none());
    let err = error(|scope, ns| {
        Deployment::new(ns, "api")
            .container(api())
            .host_network("")
            .add(scope, "host")
            .map(drop)
    });
    assert_eq!(
        err,
        K8sError::ExceptionReason {
            container: "(pod)".into(),
            setting: "hostNetwork=true",
            problem: ReasonError::Empty,
        }
    );
}

#[test]
fn an_in_place_rollout_needs_no_room_for_a_second_pod() {
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    Deployment::new(&ns, "worker")
        .container(api())
        .rollout(Rollout::InPlace)
        .add(&mut scope, "worker")
        .unwrap();
    Deployment::new(&ns, "api")
        .container(api())
        .add(&mut scope, "api")
        .unwrap();
    let t = template(stack);
    assert_eq!(
        t.kube_object("Deployment", "worker")["spec"]["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}})
    );
    // The default is Kubernetes' own (surge one pod), written as no strategy at all.
    assert!(
        t.kube_object("Deployment", "api")["spec"]
            .get("strategy")
            .is_none()
    );
}

#[test]
fn a_workload_with_an_aws_role_gets_a_projected_token_and_the_sdk_settings() {
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    let account = ServiceAccount::new(&ns, "api")
        .add(&mut scope, "account")
        .unwrap();
    let role = "arn:aws:iam::123456789012:role/shop-app";
    Deployment::new(&ns, "api")
        .container(api())
        .init_container(Container::new("migrate", "ghcr.io/acme/api:1.0.0").run_as_user(10001))
        .service_account(&account)
        .aws_role(role)
        .add(&mut scope, "shop")
        .unwrap();
    let t = template(stack);
    let spec = &t.kube_object("Deployment", "api")["spec"]["template"]["spec"];
    assert_eq!(spec["serviceAccountName"], "api");
    // The STS token only: the pods do not call the Kubernetes API.
    assert_eq!(spec["automountServiceAccountToken"], false);
    assert_eq!(
        spec["volumes"],
        json!([{
            "name": AWS_TOKEN_VOLUME,
            "projected": {"sources": [{"serviceAccountToken": {
                "audience": "sts.amazonaws.com",
                "expirationSeconds": 86400,
                "path": "token",
            }}]},
        }])
    );
    for container in [&spec["containers"][0], &spec["initContainers"][0]] {
        assert_eq!(
            container["volumeMounts"],
            json!([{
                "name": AWS_TOKEN_VOLUME,
                "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount",
                "readOnly": true,
            }]),
            "{container}"
        );
        let env = container["env"].as_array().unwrap();
        let value = |name: &str| {
            env.iter()
                .find(|e| e["name"] == name)
                .unwrap_or_else(|| panic!("no {name} in {container}"))["value"]
                .clone()
        };
        assert_eq!(value("AWS_ROLE_ARN"), role);
        assert_eq!(
            value("AWS_WEB_IDENTITY_TOKEN_FILE"),
            "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
        );
        assert_eq!(value("AWS_STS_REGIONAL_ENDPOINTS"), "regional");
    }
}

#[test]
fn an_aws_role_needs_the_pods_own_service_account() {
    let err = error(|scope, ns| {
        Deployment::new(ns, "api")
            .container(api())
            .aws_role("arn:aws:iam::123456789012:role/shop-app")
            .add(scope, "shop")
            .map(|_| ())
    });
    assert_eq!(
        err,
        K8sError::AwsRoleWithoutServiceAccount {
            workload: "Deployment shop/api".into(),
            role: "arn:aws:iam::123456789012:role/shop-app".into(),
        }
    );
}

#[test]
fn a_non_root_container_states_its_user() {
    // `runAsNonRoot` without `runAsUser` leaves the kubelet the image's USER: root (no
    // USER in the Dockerfile) or a name, and it refuses to start the container.
    let err = error(|scope, ns| {
        Deployment::new(ns, "api")
            .container(Container::new("api", "ghcr.io/acme/api:1.4.2"))
            .add(scope, "api")
            .map(drop)
    });
    assert_eq!(
        err,
        K8sError::NonRootWithoutUser {
            container: "api".into()
        }
    );
    // An init container too.
    let err = error(|scope, ns| {
        Deployment::new(ns, "api")
            .init_container(Container::new("migrate", "ghcr.io/acme/api:1.4.2"))
            .container(api())
            .add(scope, "api")
            .map(drop)
    });
    assert_eq!(
        err,
        K8sError::NonRootWithoutUser {
            container: "migrate".into()
        }
    );
    // Uid 0 is root, whatever runAsNonRoot says.
    let err = error(|scope, ns| {
        Deployment::new(ns, "api")
            .container(Container::new("api", "ghcr.io/acme/api:1.4.2").run_as_user(0))
            .add(scope, "api")
            .map(drop)
    });
    assert_eq!(
        err,
        K8sError::RootId {
            container: "api".into(),
            setting: "runAsUser",
        }
    );
    // A container that runs as root says so with a reason and needs no user.
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    Deployment::new(&ns, "api")
        .container(
            Container::new("api", "ghcr.io/acme/api:1.4.2")
                .run_as_root("the vendor image needs uid 0"),
        )
        .add(&mut scope, "api")
        .unwrap();
    // The stated user and group, and the pod's fsGroup for its volumes.
    let mut scope = stack.scope("k8s2").unwrap().with_kube_app("shop2").unwrap();
    let ns = Namespace::new("shop2")
        .add(&mut scope, "namespace")
        .unwrap();
    Deployment::new(&ns, "api")
        .container(
            Container::new("api", "ghcr.io/acme/api:1.4.2")
                .run_as_user(10001)
                .run_as_group(10002),
        )
        .fs_group(10002)
        .add(&mut scope, "api")
        .unwrap();
    let t = template(stack);
    let pods: Vec<&Json> = t
        .kube_objects()
        .iter()
        .filter(|o| o["kind"] == "Deployment" && o["metadata"]["namespace"] == "shop2")
        .collect();
    let pod = &pods[0]["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["fsGroup"], 10002);
    let context = &pod["containers"][0]["securityContext"];
    assert_eq!(context["runAsUser"], 10001);
    assert_eq!(context["runAsGroup"], 10002);
    assert_eq!(context["runAsNonRoot"], true);
}

#[test]
fn a_singleton_is_recreated_not_rolled() {
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    let ns = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    Deployment::new(&ns, "scheduler")
        .container(api())
        .replicas(1)
        .rollout(Rollout::Recreate)
        .add(&mut scope, "scheduler")
        .unwrap();
    let t = template(stack);
    let deployment = t.kube_object("Deployment", "scheduler");
    // Recreate: the old pod is gone before the new one starts (never two at once).
    assert_eq!(deployment["spec"]["strategy"], json!({"type": "Recreate"}));
}

#[test]
fn a_default_deny_namespace_denies_both_ways_but_dns() {
    let mut stack = stack();
    let mut scope = stack.scope("k8s").unwrap().with_kube_app("shop").unwrap();
    Namespace::new("shop")
        .default_deny()
        .add(&mut scope, "namespace")
        .unwrap();
    let t = template(stack);
    let deny = t.kube_object("NetworkPolicy", "default-deny");
    assert_eq!(deny["metadata"]["namespace"], "shop");
    assert_eq!(deny["spec"]["podSelector"], serde_json::json!({}));
    assert_eq!(
        deny["spec"]["policyTypes"],
        serde_json::json!(["Ingress", "Egress"])
    );
    assert!(deny["spec"].get("ingress").is_none() && deny["spec"].get("egress").is_none());
    let dns = t.kube_object("NetworkPolicy", "allow-dns");
    let rule = &dns["spec"]["egress"][0];
    assert_eq!(
        rule["to"][0]["podSelector"]["matchLabels"]["k8s-app"],
        "kube-dns"
    );
    assert_eq!(
        rule["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "kube-system"
    );
    assert_eq!(
        rule["ports"],
        serde_json::json!([{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}])
    );
}

#[test]
fn a_content_hash_changes_with_any_part_and_not_otherwise() {
    let a = girder_k8s::content_hash(&["script", "users", "image"]);
    assert_eq!(a, girder_k8s::content_hash(&["script", "users", "image"]));
    assert_ne!(a, girder_k8s::content_hash(&["script", "users", "image2"]));
    // Parts are separated: moving a byte across a boundary changes the hash.
    assert_ne!(
        girder_k8s::content_hash(&["ab", "c"]),
        girder_k8s::content_hash(&["a", "bc"])
    );
    assert_eq!(a.len(), 8);
}
