#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Helm releases (values file, Flux, Argo CD) and the GitOps layouts.

use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_k8s::K8sError;
use girder_k8s::charts::redis::RedisValues;
use girder_k8s::crds::flux::{KustomizePatch, KustomizePostRenderer, PostRenderer};
use girder_k8s::prelude::*;
use serde_json::json;

fn stack_with_apps() -> Stack {
    let mut stack = Stack::new("shop", "dev", Backend::local()).unwrap();
    let mut k8s = stack.scope("k8s").unwrap();
    let mut scope = k8s
        .child("platform")
        .unwrap()
        .with_kube_app("platform")
        .unwrap();
    let platform = Namespace::new("platform")
        .add(&mut scope, "namespace")
        .unwrap();
    ConfigMap::new(&platform, "settings")
        .entry("a", "1")
        .add(&mut scope, "settings")
        .unwrap();
    let mut scope = k8s.child("shop").unwrap().with_kube_app("shop").unwrap();
    let shop = Namespace::new("shop").add(&mut scope, "namespace").unwrap();
    ConfigMap::new(&shop, "settings")
        .entry("b", "2")
        .add(&mut scope, "settings")
        .unwrap();
    stack
}

fn synth(stack: Stack) -> Assembly {
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    app.synth().unwrap()
}

#[test]
fn flux_delivery_writes_the_values_file_a_repository_and_a_release() {
    let mut stack = stack_with_apps();
    let mut scope = stack.scope("cache").unwrap().with_kube_app("shop").unwrap();
    stack_release(&mut scope, Delivery::Flux);
    let assembly = synth(stack);
    let values = assembly
        .artifact("helm/shop-dev/sessions.values.yaml")
        .unwrap();
    let text = String::from_utf8(values.bytes.clone()).unwrap();
    assert!(text.contains("maxmemory-policy allkeys-lru"), "{text}");
    assert!(
        text.contains("# k8scheck: chart=redis version=23.1.1"),
        "{text}"
    );
    let template = Template::from_assembly(&assembly, "shop-dev").unwrap();
    let repository = template.kube_object("HelmRepository", "bitnamicharts");
    assert_eq!(
        repository["spec"]["url"],
        "oci://registry-1.docker.io/bitnamicharts"
    );
    assert_eq!(repository["spec"]["type"], "oci");
    let release = template.kube_object("HelmRelease", "sessions");
    assert_eq!(release["spec"]["chart"]["spec"]["version"], "23.1.1");
    assert_eq!(
        release["spec"]["chart"]["spec"]["sourceRef"],
        json!({"kind": "HelmRepository", "name": "bitnamicharts"})
    );
    assert_eq!(
        release["spec"]["values"]["auth"]["existingSecret"],
        "sessions-redis"
    );
}

fn security_context_patch() -> PostRenderer {
    PostRenderer {
        kustomize: KustomizePostRenderer {
            patches: vec![KustomizePatch::json6902(
                "apps",
                "Deployment",
                "sessions-redis",
                &json!([{"op": "remove", "path": "/spec/replicas"}]),
            )],
        },
    }
}

#[test]
fn flux_post_renderers_reach_the_helm_release() {
    let mut stack = stack_with_apps();
    let mut scope = stack.scope("cache").unwrap().with_kube_app("shop").unwrap();
    Release::typed(
        "sessions",
        "shop",
        &RedisValues::lru_cache("256mb", "sessions-redis", "password"),
    )
    .delivery(Delivery::Flux)
    .post_renderer(security_context_patch())
    .add(&mut scope, "release")
    .unwrap();
    drop(scope);
    let template = Template::from_assembly(&synth(stack), "shop-dev").unwrap();
    let release = template.kube_object("HelmRelease", "sessions");
    let patch = &release["spec"]["postRenderers"][0]["kustomize"]["patches"][0];
    assert_eq!(
        patch["target"],
        json!({"group": "apps", "kind": "Deployment", "name": "sessions-redis"})
    );
    let operations: serde_json::Value =
        serde_json::from_str(patch["patch"].as_str().unwrap()).unwrap();
    assert_eq!(operations[0]["op"], "remove");
}

#[test]
fn post_renderers_without_flux_are_refused() {
    for delivery in [Delivery::ValuesFile, Delivery::K3s] {
        let mut stack = stack_with_apps();
        let mut scope = stack.scope("cache").unwrap().with_kube_app("shop").unwrap();
        let err = Release::typed(
            "sessions",
            "shop",
            &RedisValues::lru_cache("256mb", "sessions-redis", "password"),
        )
        .delivery(delivery)
        .post_renderer(security_context_patch())
        .add(&mut scope, "release")
        .unwrap_err();
        assert_eq!(
            err.construct_error::<K8sError>(),
            Some(&K8sError::PostRendererNeedsFlux {
                release: "sessions".into()
            })
        );
    }
}

fn stack_release(scope: &mut Scope<'_>, delivery: Delivery) {
    Release::typed(
        "sessions",
        "shop",
        &RedisValues::lru_cache("256mb", "sessions-redis", "password"),
    )
    .create_namespace()
    .delivery(delivery)
    .add(scope, "release")
    .unwrap();
}

#[test]
fn argo_cd_delivery_embeds_the_values_in_an_application() {
    let mut stack = stack_with_apps();
    let mut scope = stack.scope("cache").unwrap().with_kube_app("shop").unwrap();
    stack_release(
        &mut scope,
        Delivery::ArgoCd {
            argo_namespace: "argocd".into(),
            project: "default".into(),
        },
    );
    let template = Template::from_assembly(&synth(stack), "shop-dev").unwrap();
    let application = template.kube_object("Application", "sessions");
    let source = &application["spec"]["source"];
    assert_eq!(source["repoURL"], "registry-1.docker.io/bitnamicharts");
    assert_eq!(source["chart"], "redis");
    assert_eq!(source["targetRevision"], "23.1.1");
    assert_eq!(source["helm"]["valuesObject"]["architecture"], "standalone");
    assert_eq!(
        application["spec"]["syncPolicy"]["syncOptions"],
        json!(["CreateNamespace=true"])
    );
}

#[test]
fn k3s_delivery_writes_a_helm_chart_for_the_k3s_helm_controller() {
    let mut stack = stack_with_apps();
    let mut scope = stack.scope("cache").unwrap().with_kube_app("shop").unwrap();
    stack_release(&mut scope, Delivery::K3s);
    let template = Template::from_assembly(&synth(stack), "shop-dev").unwrap();
    let chart = template.kube_object("HelmChart", "sessions");
    assert_eq!(chart["apiVersion"], "helm.cattle.io/v1");
    // K3s's Helm controller only watches kube-system.
    assert_eq!(chart["metadata"]["namespace"], "kube-system");
    let spec = &chart["spec"];
    // An OCI repository is named in `chart` itself, with no `repo`.
    assert_eq!(
        spec["chart"],
        "oci://registry-1.docker.io/bitnamicharts/redis"
    );
    assert!(spec.get("repo").is_none(), "{spec}");
    assert_eq!(spec["version"], "23.1.1");
    assert_eq!(spec["targetNamespace"], "shop");
    assert_eq!(spec["createNamespace"], true);
    // The values travel as YAML text and read back as the values file's content.
    let values: serde_json::Value =
        serde_norway::from_str(spec["valuesContent"].as_str().unwrap()).unwrap();
    assert_eq!(values["architecture"], "standalone");
}

#[test]
fn flux_layout_orders_infrastructure_first_and_applies_its_own_sync() {
    let mut stack = stack_with_apps();
    GitOps::new("https://github.com/acme/platform", "main")
        .output_path("deploy/out")
        .infrastructure(["platform"])
        .substitute_from_config_map("terraform-outputs")
        .flux(&mut stack)
        .unwrap();
    let assembly = synth(stack);
    let file = |path: &str| {
        let artifact = assembly
            .artifact(path)
            .unwrap_or_else(|| panic!("no {path}"));
        String::from_utf8(artifact.bytes.clone()).unwrap()
    };
    let apps = file("gitops/shop-dev/clusters/dev/kustomization-shop-dev-shop.yaml");
    assert!(
        apps.contains("path: ./deploy/out/kubernetes/shop-dev/shop"),
        "{apps}"
    );
    assert!(
        apps.contains("dependsOn:\n  - name: shop-dev-platform"),
        "{apps}"
    );
    assert!(apps.contains("name: terraform-outputs"), "{apps}");
    let infra = file("gitops/shop-dev/clusters/dev/kustomization-shop-dev-platform.yaml");
    assert!(!infra.contains("dependsOn"), "{infra}");
    let sync = file("gitops/shop-dev/clusters/dev/flux-system/kustomization-flux-system.yaml");
    assert!(
        sync.contains("path: ./deploy/out/gitops/shop-dev/clusters/dev"),
        "{sync}"
    );
    let listing = file("gitops/shop-dev/clusters/dev/kustomization.yaml");
    assert!(
        listing.contains("- flux-system"),
        "the sync must keep applying itself: {listing}"
    );
}

#[test]
fn argo_cd_layout_is_an_app_of_apps_with_waves() {
    let mut stack = stack_with_apps();
    GitOps::new("https://github.com/acme/platform", "main")
        .infrastructure(["platform"])
        .argo_cd(&mut stack)
        .unwrap();
    let assembly = synth(stack);
    let root = String::from_utf8(
        assembly
            .artifact("gitops/shop-dev/argocd/root/application-shop-dev.yaml")
            .unwrap()
            .bytes
            .clone(),
    )
    .unwrap();
    assert!(
        root.contains("path: out/gitops/shop-dev/argocd/apps"),
        "{root}"
    );
    let apps = String::from_utf8(
        assembly
            .artifact("gitops/shop-dev/argocd/apps/application-shop-dev-platform.yaml")
            .unwrap()
            .bytes
            .clone(),
    )
    .unwrap();
    assert!(
        apps.contains("argocd.argoproj.io/sync-wave: '-1'"),
        "{apps}"
    );
    assert!(apps.contains("namespace: platform"), "{apps}");
    assert!(
        assembly
            .artifact("gitops/shop-dev/argocd/apps/appproject-shop-dev.yaml")
            .is_some()
    );
}

#[test]
fn layouts_refuse_unknown_apps_and_empty_stacks() {
    let mut stack = stack_with_apps();
    let err = GitOps::new("https://github.com/acme/platform", "main")
        .infrastructure(["infra"])
        .flux(&mut stack)
        .unwrap_err();
    assert_eq!(
        err.construct_error::<K8sError>(),
        Some(&K8sError::UnknownInfrastructureApp {
            app: "infra".into(),
            apps: vec!["platform".into(), "shop".into()],
        }),
        "{err}"
    );
    let mut empty = Stack::new("empty", "dev", Backend::local()).unwrap();
    let err = GitOps::new("https://x", "main")
        .argo_cd(&mut empty)
        .unwrap_err();
    assert_eq!(
        err.construct_error::<K8sError>(),
        Some(&K8sError::NoAppsToDeliver),
        "{err}"
    );
    assert!(err.to_string().starts_with("empty-dev: "), "{err}");
}

#[test]
fn flux_layout_writes_its_own_sync_by_default() {
    let mut stack = stack_with_apps();
    let gitops = GitOps::new("https://github.com/acme/platform", "main");
    assert_eq!(
        gitops.flux_cluster_path(&stack),
        "./out/gitops/shop-dev/clusters/dev"
    );
    gitops.flux(&mut stack).unwrap();
    let assembly = synth(stack);
    // Nothing declared outside the layout: it carries its own sync.
    assert!(
        assembly.manifest()["stacks"][0]
            .get("kubernetes_externals")
            .is_none()
    );
    let repository = assembly
        .artifact("gitops/shop-dev/clusters/dev/flux-system/gitrepository-flux-system.yaml")
        .expect("the default layout writes the GitRepository of its own sync");
    let text = String::from_utf8(repository.bytes.clone()).unwrap();
    assert!(
        text.contains("url: https://github.com/acme/platform"),
        "{text}"
    );
    assert!(
        assembly
            .artifact("gitops/shop-dev/clusters/dev/flux-system/kustomization-flux-system.yaml")
            .is_some()
    );
}

#[test]
fn flux_layout_leaves_out_sync_objects_installed_elsewhere() {
    let mut stack = stack_with_apps();
    GitOps::new("https://github.com/acme/platform", "main")
        .flux_sync(FluxSync::InstalledElsewhere)
        .flux(&mut stack)
        .unwrap();
    let assembly = synth(stack);
    // The apps' source is declared as provided outside the layout.
    assert_eq!(
        assembly.manifest()["stacks"][0]["kubernetes_externals"][0]["object"],
        "GitRepository/flux-system/flux-system"
    );
    let paths: Vec<&str> = assembly
        .stacks()
        .iter()
        .flat_map(|stack| &stack.artifacts)
        .map(|artifact| artifact.path.as_str())
        .filter(|path| path.starts_with("gitops/"))
        .collect();
    assert!(
        paths.iter().all(|path| !path.contains("flux-system")),
        "{paths:?}"
    );
    // The apps' Kustomizations are still written, and the listing names only them.
    assert!(
        paths.contains(&"gitops/shop-dev/clusters/dev/kustomization-shop-dev-shop.yaml"),
        "{paths:?}"
    );
    let listing = String::from_utf8(
        assembly
            .artifact("gitops/shop-dev/clusters/dev/kustomization.yaml")
            .unwrap()
            .bytes
            .clone(),
    )
    .unwrap();
    assert!(!listing.contains("flux-system"), "{listing}");
    assert!(
        listing.contains("kustomization-shop-dev-platform.yaml"),
        "{listing}"
    );
}

/// [`stack_with_apps`] with a third app, `stores` (a ConfigMap in `shop`).
fn stack_with_three_apps() -> Stack {
    let mut stack = stack_with_apps();
    let mut k8s = stack.scope("more").unwrap();
    let mut scope = k8s
        .child("stores")
        .unwrap()
        .with_kube_app("stores")
        .unwrap();
    let ns = Namespace::new("stores")
        .add(&mut scope, "namespace")
        .unwrap();
    ConfigMap::new(&ns, "settings")
        .entry("c", "3")
        .add(&mut scope, "settings")
        .unwrap();
    drop(scope);
    drop(k8s);
    stack
}

#[test]
fn an_app_delivered_after_another_depends_on_its_kustomization() {
    let mut stack = stack_with_three_apps();
    GitOps::new("https://github.com/acme/platform", "main")
        .infrastructure(["platform", "stores"])
        .app_after("stores", ["platform"])
        .flux(&mut stack)
        .unwrap();
    let template = Template::from_assembly(&synth(stack), "shop-dev").unwrap();
    let depends_on = |app: &str| {
        template.kube_object("Kustomization", &format!("shop-dev-{app}"))["spec"]["dependsOn"]
            .clone()
    };
    assert_eq!(depends_on("stores"), json!([{"name": "shop-dev-platform"}]));
    // The other infrastructure app waits for nothing; the rest waits for both.
    assert_eq!(depends_on("platform"), serde_json::Value::Null);
    assert_eq!(
        depends_on("shop"),
        json!([{"name": "shop-dev-platform"}, {"name": "shop-dev-stores"}])
    );
}

#[test]
fn delivery_orders_naming_unknown_apps_or_waiting_in_a_circle_are_refused() {
    let mut stack = stack_with_three_apps();
    let err = GitOps::new("https://github.com/acme/platform", "main")
        .app_after("stores", ["monitoring"])
        .flux(&mut stack)
        .unwrap_err();
    assert_eq!(
        err.construct_error::<K8sError>(),
        Some(&K8sError::UnknownOrderedApp {
            app: "monitoring".into(),
            apps: vec!["platform".into(), "shop".into(), "stores".into()],
        }),
        "{err}"
    );
    // An infrastructure app after a non-infrastructure one: which waits for it.
    let mut stack = stack_with_three_apps();
    let err = GitOps::new("https://github.com/acme/platform", "main")
        .infrastructure(["platform"])
        .app_after("platform", ["shop"])
        .flux(&mut stack)
        .unwrap_err();
    assert_eq!(
        err.construct_error::<K8sError>(),
        Some(&K8sError::DeliveryCycle {
            apps: vec!["platform".into(), "shop".into(), "platform".into()],
        }),
        "{err}"
    );
}
