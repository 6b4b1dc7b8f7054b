//! Cross-object checks of a stack's Kubernetes bundle, run at synth: what `kubectl apply`
//! would accept but the cluster would not run.
//!
//! - every namespaced object's namespace is a Namespace of the stack, a well-known one, or
//!   declared external;
//! - pod templates reference only ConfigMaps, Secrets, PersistentVolumeClaims and
//!   ServiceAccounts the stack has (or declares external). Objects an operator makes from
//!   a custom resource count, as the resource's kind says ([`crate::kubernetes::KubeKind`]:
//!   girder-k8s's ExternalSecret, SealedSecret and Certificate types); so do each
//!   namespace's `default` ServiceAccount and `kube-root-ca.crt` ConfigMap, and references
//!   marked `optional: true`. Which kinds are cluster-scoped comes from the same place
//!   (Kubernetes' own kinds from [`crate::kubernetes::BuiltInKind`]);
//! - a key read from a ConfigMap or Secret (`configMapKeyRef`, `secretKeyRef`, volume
//!   `items`) is one it has, when the bundle shows its keys: ConfigMaps and Secrets of the
//!   bundle, and operator-made objects whose kind reports their keys. Optional references
//!   are not checked;
//! - label and annotation keys and values follow the API server's rules
//!   ([`crate::kubernetes_rules`]) on every object, pod template, claim template,
//!   selector and nodeSelector;
//! - a Service's selector matches the pod template labels of a workload in its namespace,
//!   and a named `targetPort` is a named port of those pods;
//! - an Ingress backend names a Service of the stack with that port.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::static_json::StaticJson as Json;

use crate::error::{Error, Result};
use crate::kubernetes::{KubeObject, KubeScope};
use crate::path::ConstructPath;

/// Namespaces every cluster has.
const WELL_KNOWN_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// An object the bundle relies on but does not contain (made by a Helm chart, an
/// operator, or by hand), with the reason it is outside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalKubeObject {
    /// `Secret`, `ConfigMap`, `PersistentVolumeClaim`, `ServiceAccount`, `Service`,
    /// `Namespace`.
    pub kind: String,
    /// `None` for a Namespace (or any namespace, for the others).
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
    /// Why it is not in the bundle (written to manifest.json).
    pub reason: String,
}

impl ExternalKubeObject {
    fn covers(&self, kind: &str, namespace: &str, name: &str) -> bool {
        self.kind == kind
            && self.name == name
            && self.namespace.as_deref().is_none_or(|ns| ns == namespace)
    }
}

/// Where a pod template sits in each workload kind.
fn pod_template(object: &KubeObject) -> Option<&Json> {
    let body = object.body();
    match (object.group(), object.kind()) {
        ("", "Pod") => Some(body),
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") | ("batch", "Job") => {
            body.pointer("/spec/template")
        }
        ("batch", "CronJob") => body.pointer("/spec/jobTemplate/spec/template"),
        _ => None,
    }
}

/// The namespace an object lives in (`default` when unset); `None` when cluster-scoped.
fn namespace_of(object: &KubeObject) -> Option<&str> {
    if object.kube_scope() == KubeScope::Cluster {
        None
    } else {
        Some(object.namespace().unwrap_or("default"))
    }
}

struct Pods<'a> {
    namespace: &'a str,
    labels: BTreeMap<&'a str, &'a str>,
    port_names: BTreeSet<&'a str>,
    owner: &'a KubeObject,
}

/// Check the bundle of one stack; every problem is reported, each with its construct path.
pub(crate) fn check(
    stack_id: &str,
    objects: &[(&ConstructPath, &KubeObject)],
    externals: &[ExternalKubeObject],
) -> Result<()> {
    let mut problems = Vec::new();
    let mut namespaces: BTreeSet<&str> = WELL_KNOWN_NAMESPACES.iter().copied().collect();
    for (_, object) in objects {
        if object.group().is_empty() && object.kind() == "Namespace" {
            namespaces.insert(object.name());
        }
    }
    let external_namespace = |ns: &str| {
        externals
            .iter()
            .any(|e| e.kind == "Namespace" && e.name == ns)
    };

    // What the bundle provides: (kind, namespace, name), with the keys of its data when
    // they are known (`None`: made by an operator from data the bundle does not show).
    let mut provided: Provided<'_> = BTreeMap::new();
    for (_, object) in objects {
        let Some(ns) = namespace_of(object) else {
            continue;
        };
        let body = object.body();
        match (object.group(), object.kind()) {
            ("", "ConfigMap") => provide(
                &mut provided,
                ("ConfigMap", ns, object.name()),
                Some(keys_of(body, &["/data", "/binaryData"])),
            ),
            ("", "Secret") => provide(
                &mut provided,
                ("Secret", ns, object.name()),
                Some(keys_of(body, &["/data", "/stringData"])),
            ),
            ("", kind @ ("PersistentVolumeClaim" | "ServiceAccount")) => {
                provide(&mut provided, (kind, ns, object.name()), None);
            }
            _ => {}
        }
        // What operators make from it (an ExternalSecret's Secret), as its kind says.
        for made in object.provides() {
            let keys = made
                .keys
                .as_ref()
                .map(|keys| keys.iter().map(String::as_str).collect());
            provide(
                &mut provided,
                (made.kind.as_str(), ns, made.name.as_str()),
                keys,
            );
        }
    }
    for ns in &namespaces {
        provide(
            &mut provided,
            ("ConfigMap", *ns, "kube-root-ca.crt"),
            Some(BTreeSet::from(["ca.crt"])),
        );
        provide(&mut provided, ("ServiceAccount", *ns, "default"), None);
    }
    let has = |kind: &str, ns: &str, name: &str| {
        provided.contains_key(&(kind, ns, name))
            || externals.iter().any(|e| e.covers(kind, ns, name))
    };
    for (path, object) in objects {
        let at = At {
            stack_id,
            path,
            object,
        };
        check_metadata(&at, object.body(), &mut problems);
    }

    let mut pods: Vec<Pods<'_>> = Vec::new();
    for (path, object) in objects {
        let at = At {
            stack_id,
            path,
            object,
        };
        if let Some(ns) = object.namespace() {
            if namespace_of(object).is_some() && !namespaces.contains(ns) && !external_namespace(ns)
            {
                problems.push(format!(
                    "{at}: namespace {ns:?} is not a Namespace of this stack nor a well-known \
                     one; add the Namespace or declare it external"
                ));
            }
        }
        let (Some(template), Some(ns)) = (pod_template(object), namespace_of(object)) else {
            continue;
        };
        let mut refs: Vec<Ref<'_>> = Vec::new();
        let spec = template.get("spec").unwrap_or(&Json::Null);
        let mut port_names = BTreeSet::new();
        for key in ["initContainers", "containers"] {
            for container in array(spec.get(key)) {
                let cname = container.get("name").and_then(Json::as_str).unwrap_or("?");
                for port in array(container.get("ports")) {
                    if let Some(name) = port.get("name").and_then(Json::as_str) {
                        port_names.insert(name);
                    }
                }
                for env in array(container.get("env")) {
                    let var = env.get("name").and_then(Json::as_str).unwrap_or("?");
                    for (key, kind) in
                        [("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")]
                    {
                        if let Some(r) = env.get("valueFrom").and_then(|from| from.get(key)) {
                            push_ref(
                                &mut refs,
                                r,
                                "name",
                                kind,
                                format!("container '{cname}' env {var}"),
                            );
                            with_keys(&mut refs, r, r.get("key").and_then(Json::as_str));
                        }
                    }
                }
                for from in array(container.get("envFrom")) {
                    for (key, kind) in [("configMapRef", "ConfigMap"), ("secretRef", "Secret")] {
                        if let Some(r) = from.get(key) {
                            push_ref(
                                &mut refs,
                                r,
                                "name",
                                kind,
                                format!("container '{cname}' envFrom"),
                            );
                        }
                    }
                }
            }
        }
        for volume in array(spec.get("volumes")) {
            let vname = volume.get("name").and_then(Json::as_str).unwrap_or("?");
            let what = || format!("volume '{vname}'");
            if let Some(r) = volume.get("configMap") {
                push_ref(&mut refs, r, "name", "ConfigMap", what());
                with_item_keys(&mut refs, r);
            }
            if let Some(r) = volume.get("secret") {
                push_ref(&mut refs, r, "secretName", "Secret", what());
                with_item_keys(&mut refs, r);
            }
            if let Some(r) = volume.get("persistentVolumeClaim") {
                push_ref(&mut refs, r, "claimName", "PersistentVolumeClaim", what());
            }
            for source in array(volume.pointer("/projected/sources")) {
                for (key, kind) in [("configMap", "ConfigMap"), ("secret", "Secret")] {
                    if let Some(r) = source.get(key) {
                        push_ref(
                            &mut refs,
                            r,
                            "name",
                            kind,
                            format!("projected volume '{vname}'"),
                        );
                        with_item_keys(&mut refs, r);
                    }
                }
            }
        }
        for secret in array(spec.get("imagePullSecrets")) {
            push_ref(
                &mut refs,
                secret,
                "name",
                "Secret",
                "imagePullSecrets".into(),
            );
        }
        if let Some(account) = str_at(spec, "/serviceAccountName") {
            refs.push(Ref {
                kind: "ServiceAccount",
                name: account,
                what: "serviceAccountName".into(),
                keys: Vec::new(),
            });
        }
        for Ref {
            kind,
            name,
            what,
            keys: wanted,
        } in refs
        {
            if !has(kind, ns, name) {
                problems.push(format!(
                    "{at}: {what} references {kind} {ns}/{name}, which is not in this stack's \
                     Kubernetes objects; add it (for a Secret: an ExternalSecret or \
                     SealedSecret) or declare it with Stack::external_kube_object"
                ));
                continue;
            }
            // Declared externals' keys are unknown.
            if externals.iter().any(|e| e.covers(kind, ns, name)) {
                continue;
            }
            let Some(Some(known)) = provided.get(&(kind, ns, name)) else {
                continue;
            };
            for key in wanted {
                if !known.contains(key) {
                    let list: Vec<&str> = known.iter().copied().collect();
                    problems.push(format!(
                        "{at}: {what} references key {key:?} of {kind} {ns}/{name}, which has \
                         no such key (keys: {}); add the key or mark the reference \
                         `optional: true`",
                        if list.is_empty() {
                            "none".to_owned()
                        } else {
                            list.join(", ")
                        }
                    ));
                }
            }
        }
        let labels = template
            .pointer("/metadata/labels")
            .and_then(Json::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)))
                    .collect()
            })
            .unwrap_or_default();
        pods.push(Pods {
            namespace: ns,
            labels,
            port_names,
            owner: object,
        });
    }

    // Pods by (namespace, label key, label value), so a Service's selector is matched
    // against the pods carrying its first label rather than against every pod.
    let mut pods_by_label: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
    for (index, p) in pods.iter().enumerate() {
        for (key, value) in &p.labels {
            pods_by_label
                .entry((p.namespace, key, value))
                .or_default()
                .push(index);
        }
    }

    let mut services: BTreeMap<(&str, &str), &KubeObject> = BTreeMap::new();
    for (path, object) in objects {
        if !(object.group().is_empty() && object.kind() == "Service") {
            continue;
        }
        let ns = namespace_of(object).unwrap_or("default");
        services.insert((ns, object.name()), object);
        let body = object.body();
        let Some(selector) = body.pointer("/spec/selector").and_then(Json::as_object) else {
            continue;
        };
        if selector.is_empty() || str_at(body, "/spec/type") == Some("ExternalName") {
            continue;
        }
        let at = At {
            stack_id,
            path,
            object,
        };
        // The candidates carrying the selector's rarest label, then every label checked.
        let candidates = selector
            .iter()
            .map(|(k, v)| {
                v.as_str()
                    .and_then(|v| pods_by_label.get(&(ns, k.as_str(), v)))
                    .map_or(&[][..], Vec::as_slice)
            })
            .min_by_key(|list| list.len())
            .unwrap_or(&[]);
        let matching: Vec<&Pods<'_>> = candidates
            .iter()
            .map(|&i| &pods[i])
            .filter(|p| {
                selector.iter().all(|(k, v)| {
                    v.as_str()
                        .is_some_and(|v| p.labels.get(k.as_str()) == Some(&v))
                })
            })
            .collect();
        if matching.is_empty() {
            let declared = externals
                .iter()
                .any(|e| e.covers("Service", ns, object.name()));
            if !declared {
                problems.push(format!(
                    "{at}: selector {} matches no pod template in namespace {ns}",
                    Json::Object(selector.clone())
                ));
            }
            continue;
        }
        for port in array(body.pointer("/spec/ports")) {
            if let Some(target) = port.get("targetPort").and_then(Json::as_str) {
                if !matching.iter().any(|p| p.port_names.contains(target)) {
                    let owners: Vec<String> = matching.iter().map(|p| p.owner.describe()).collect();
                    problems.push(format!(
                        "{at}: targetPort {target:?} is not a named container port of the \
                         selected pods ({})",
                        owners.join(", ")
                    ));
                }
            }
        }
    }

    for (path, object) in objects {
        if !(object.group() == "networking.k8s.io" && object.kind() == "Ingress") {
            continue;
        }
        let ns = namespace_of(object).unwrap_or("default");
        let at = At {
            stack_id,
            path,
            object,
        };
        let body = object.body();
        let mut backends: Vec<&Json> = body.pointer("/spec/defaultBackend").into_iter().collect();
        for rule in array(body.pointer("/spec/rules")) {
            for http_path in array(rule.pointer("/http/paths")) {
                backends.extend(http_path.get("backend"));
            }
        }
        for backend in backends {
            let Some(service) = backend.get("service") else {
                continue;
            };
            let Some(name) = str_at(service, "/name") else {
                continue;
            };
            match services.get(&(ns, name)) {
                None if !externals.iter().any(|e| e.covers("Service", ns, name)) => {
                    problems.push(format!(
                        "{at}: backend Service {ns}/{name} is not in this stack"
                    ));
                }
                None => {}
                Some(target) => {
                    let ports = array(target.body().pointer("/spec/ports"));
                    let wanted_number = service.pointer("/port/number").and_then(Json::as_u64);
                    let wanted_name = str_at(service, "/port/name");
                    let found = ports.iter().any(|p| {
                        wanted_number
                            .is_some_and(|n| p.get("port").and_then(Json::as_u64) == Some(n))
                            || wanted_name.is_some_and(|n| str_at(p, "/name") == Some(n))
                    });
                    if !found {
                        problems.push(format!(
                            "{at}: backend Service {ns}/{name} has no port {}",
                            wanted_number
                                .map(|n| n.to_string())
                                .or(wanted_name.map(str::to_owned))
                                .unwrap_or_default()
                        ));
                    }
                }
            }
        }
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::KubernetesReferences(problems))
    }
}

/// What the bundle provides: (kind, namespace, name), with the keys of its data when they
/// are known (`None`: made by an operator from data the bundle does not show).
type Provided<'a> = BTreeMap<(&'a str, &'a str, &'a str), Option<BTreeSet<&'a str>>>;

fn provide<'a>(
    provided: &mut Provided<'a>,
    what: (&'a str, &'a str, &'a str),
    keys: Option<BTreeSet<&'a str>>,
) {
    provided
        .entry(what)
        .and_modify(|known| {
            // Two sources of one object: its keys are known only if both sources' are.
            if let (Some(known), Some(more)) = (known.as_mut(), keys.as_ref()) {
                known.extend(more.iter().copied());
            } else {
                *known = None;
            }
        })
        .or_insert(keys);
}

/// A reference from a pod template to an object, and the keys of its data it reads.
struct Ref<'a> {
    kind: &'static str,
    name: &'a str,
    what: String,
    keys: Vec<&'a str>,
}

fn is_optional(reference: &Json) -> bool {
    reference.get("optional").and_then(Json::as_bool) == Some(true)
}

fn push_ref<'a>(
    refs: &mut Vec<Ref<'a>>,
    reference: &'a Json,
    key: &str,
    kind: &'static str,
    what: String,
) {
    if is_optional(reference) {
        return;
    }
    if let Some(name) = reference.get(key).and_then(Json::as_str) {
        refs.push(Ref {
            kind,
            name,
            what,
            keys: Vec::new(),
        });
    }
}

/// The reference just pushed (if it was: optional ones are not) reads `key`.
fn with_keys<'a>(refs: &mut [Ref<'a>], reference: &'a Json, key: Option<&'a str>) {
    if is_optional(reference) {
        return;
    }
    if let (Some(last), Some(key)) = (refs.last_mut(), key) {
        last.keys.push(key);
    }
}

/// The reference just pushed reads the keys its `items` name.
fn with_item_keys<'a>(refs: &mut [Ref<'a>], reference: &'a Json) {
    for item in array(reference.get("items")) {
        with_keys(refs, reference, str_at(item, "/key"));
    }
}

/// The keys of the maps at `pointers` (a ConfigMap's `data` and `binaryData`).
fn keys_of<'a>(body: &'a Json, pointers: &[&str]) -> BTreeSet<&'a str> {
    pointers
        .iter()
        .filter_map(|p| body.pointer(p).and_then(Json::as_object))
        .flat_map(|m| m.keys().map(|k| k.as_str()))
        .collect()
}

/// Where objects hold metadata and label maps: the object's own, its pod template's (and
/// a CronJob's job template's), claim templates', the pod's nodeSelector and selectors.
const METADATA_AT: &[&str] = &[
    "/metadata",
    "/spec/template/metadata",
    "/spec/jobTemplate/metadata",
    "/spec/jobTemplate/spec/template/metadata",
];
const LABEL_MAPS_AT: &[&str] = &[
    "/spec/selector/matchLabels",
    "/spec/template/spec/nodeSelector",
    "/spec/jobTemplate/spec/template/spec/nodeSelector",
    "/spec/nodeSelector",
];

/// Label and annotation keys and values of one object, by the API server's rules.
fn check_metadata(at: &At<'_>, body: &Json, problems: &mut Vec<String>) {
    use crate::kubernetes_rules;
    let mut check_map = |where_: &dyn std::fmt::Display, map: Option<&Json>, labels: bool| {
        let Some(map) = map.and_then(Json::as_object) else {
            return;
        };
        // Label and annotation values are strings; anything else the API server refuses.
        for (key, value) in map {
            if !value.is_string() {
                problems.push(format!(
                    "{at}: {where_}: {key} is {value}, not a string; quote it"
                ));
            }
        }
        let pairs = map
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)));
        let result = if labels {
            kubernetes_rules::labels(pairs)
        } else {
            kubernetes_rules::annotations(pairs)
        };
        if let Err(why) = result {
            problems.push(format!("{at}: {where_}: {why}"));
        }
    };
    // Below the object's own metadata the paths mean pod templates, selectors and claim
    // templates only in the built-in workload kinds (and a Pod); a custom resource may use
    // the same field names for something else (an ApplicationSet's templated labels).
    let workload = matches!(
        (at.object.group(), at.object.kind()),
        ("", "Pod" | "PodTemplate" | "ReplicationController")
            | (
                "apps",
                "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
            )
            | ("batch", "Job" | "CronJob")
    );
    let own_only = &METADATA_AT[..1];
    let metadata_at = if workload { METADATA_AT } else { own_only };
    for pointer in metadata_at {
        if let Some(meta) = body.pointer(pointer) {
            check_map(&format_args!("{pointer}/labels"), meta.get("labels"), true);
            check_map(
                &format_args!("{pointer}/annotations"),
                meta.get("annotations"),
                false,
            );
        }
    }
    if !workload {
        return;
    }
    for (i, claim) in array(body.pointer("/spec/volumeClaimTemplates"))
        .iter()
        .enumerate()
    {
        if let Some(meta) = claim.get("metadata") {
            let pointer = format!("/spec/volumeClaimTemplates/{i}/metadata");
            check_map(&format_args!("{pointer}/labels"), meta.get("labels"), true);
            check_map(
                &format_args!("{pointer}/annotations"),
                meta.get("annotations"),
                false,
            );
        }
    }
    for pointer in LABEL_MAPS_AT {
        check_map(pointer, body.pointer(pointer), true);
    }
}

/// Where a problem is, for messages (`<stack>:<path>: <Kind ns/name>`), formatted only
/// when a problem is reported.
struct At<'a> {
    stack_id: &'a str,
    path: &'a ConstructPath,
    object: &'a KubeObject,
}

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {}",
            self.stack_id,
            self.path,
            self.object.describe()
        )
    }
}

fn array(value: Option<&Json>) -> &[Json] {
    value
        .and_then(Json::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn str_at<'a>(value: &'a Json, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Json::as_str)
}
