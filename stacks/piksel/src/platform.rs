//! Kubernetes app `platform` of `piksel-eks-<env>`: the namespaces the Piksel services
//! run in (the next issue deploys them), each with its Pod Security level, a
//! ResourceQuota and a LimitRange sized per environment, and NetworkPolicies that deny
//! everything first and then allow what the namespace's workloads need (issue 13:
//! "resource quotas and limit ranges per namespace", "advanced network policies",
//! "Pod Security restricted where the workloads allow, default-deny network policies, no
//! node role reachable from pods").
//!
//! The namespaces (the seed names the services, not their namespaces):
//! - `odc`: the Open Data Cube services, datacube-ows (WMS/WMTS), datacube-explorer and
//!   its STAC API (seed 8.1), which share the index database and the load balancer.
//!   Pod Security `restricted`.
//! - `jupyterhub`: the hub, its proxy and the users' notebook servers (seed 5.4).
//!   Pod Security `baseline`, in every environment: the notebook servers run the
//!   piksel-jupyter image the users pick from the hub's profiles, Jupyter's
//!   docker-stacks start script starts as root to switch to the user's uid (and grants
//!   sudo where a profile asks), and zero-to-jupyterhub's singleuser pods set no seccomp
//!   profile or dropped capabilities: `restricted` would refuse them. The next issue
//!   turns off the chart's privileged metadata-blocking init container
//!   (`singleuser.cloudMetadata.blockWithIptables: false`), which `baseline` refuses
//!   too: the metadata address is unreachable here by NetworkPolicy instead.
//! - `dask`: Dask Gateway and the clusters it starts for notebooks (seed 5.2), on the
//!   tainted Dask pool. Pod Security `restricted`: the gateway's pods and workers run
//!   as non-root with the security context the gateway's `extraPodConfig` sets.
//!
//! dev and staging enforce the same levels as prod: a pod prod would refuse is refused
//! first where it is cheap to fix. Only the quotas differ by environment.
//!
//! Every namespace denies all ingress and egress (`default-deny`), then allows: DNS to
//! CoreDNS in kube-system; traffic among its own pods; scrapes from `monitoring`; the
//! EKS Pod Identity agent (169.254.170.23:80, where pods get their roles); HTTPS to
//! anywhere but the instance metadata service (169.254.169.254: the node role stays out
//! of reach); the ODC index database's port 5432 in the VPC (odc, jupyterhub, dask).
//! odc and jupyterhub admit the load balancer controller's targets (the ALB in IP mode
//! connects from its addresses in the VPC) on the services' port named `http`;
//! jupyterhub's hub and dask's gateway, controller and Traefik reach the Kubernetes API
//! (they start and route the users' pods; the notebooks, schedulers and workers, the
//! users' code, do not),
//! notebooks reach their Dask clusters (the gateway on 8000, schedulers on 8786), and
//! the gateway asks the hub's API (8081) who a notebook's user is.
//!
//! HorizontalPodAutoscalers belong to the services (girder-k8s's `Autoscaling` on each
//! Deployment) and come with them in the next issue; the quotas below leave room for
//! their maximum replicas.

use std::collections::BTreeMap;

use girder_core::construct::Construct;
use girder_core::{Result, Scope};
use girder_k8s::{AppLabels, LimitRange, Namespace, PodSecurity, ResourceQuota};
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::config::Environment;

/// The Kubernetes app (output directory) of the namespaces and their policies.
pub(crate) const APP: &str = "platform";

/// The ODC services' namespace.
pub const ODC_NAMESPACE: &str = "odc";
/// JupyterHub's namespace.
pub const JUPYTERHUB_NAMESPACE: &str = "jupyterhub";
/// Dask Gateway's namespace.
pub const DASK_NAMESPACE: &str = "dask";

/// The port of the ODC index database (PostgreSQL).
const DATABASE_PORT: i32 = 5432;
/// Where the EKS Pod Identity agent serves credentials on every node.
const POD_IDENTITY_AGENT: &str = "169.254.170.23/32";
/// The instance metadata service: the node role's credentials.
const INSTANCE_METADATA: &str = "169.254.169.254/32";
/// The container port name the services serve on (girder-k8s's `Port::http`).
const SERVICE_PORT: &str = "http";
/// Dask Gateway's API and proxy port, and the Dask scheduler's.
const DASK_PORTS: [i32; 2] = [8000, 8786];
/// The hub's API, which Dask Gateway asks who a notebook's user is.
const HUB_API_PORT: i32 = 8081;

/// One namespace's shape.
struct Tenant {
    name: &'static str,
    security: PodSecurity,
    /// What the namespace may request and be limited to, in all: cpu, memory, pods,
    /// claims, storage.
    quota: Quota,
    /// A container's defaults when it sets none: (cpu request, cpu limit), (memory
    /// request, memory limit).
    defaults: ((&'static str, &'static str), (&'static str, &'static str)),
    database: bool,
    load_balanced: bool,
    /// Container ports the load balancer may reach besides the one named `http`
    /// (a chart's unnamed container port).
    load_balanced_ports: &'static [i32],
    /// The pods that call the Kubernetes API (a label, `In` or `NotIn`, its values), if
    /// any: the hub (it starts the servers), the gateway's API, controller and Traefik;
    /// never the users' code (notebooks, Dask schedulers and workers: review 6's m1).
    kubernetes_api: Option<(&'static str, &'static str, &'static [&'static str])>,
}

struct Quota {
    requests_cpu: &'static str,
    requests_memory: &'static str,
    limits_cpu: &'static str,
    limits_memory: &'static str,
    pods: &'static str,
    claims: &'static str,
    storage: &'static str,
}

/// The namespaces of `env`. Sizes follow the node pools (eks.rs): prod's workloads pool
/// has up to 10 m7i.xlarge (40 vCPU, 160 GiB), its Dask pool up to 20 r7i.2xlarge (160
/// vCPU, 1280 GiB); dev's and staging's up to 4 and 6.
fn tenants(env: &Environment) -> [Tenant; 3] {
    let prod = env.production;
    [
        Tenant {
            name: ODC_NAMESPACE,
            security: PodSecurity::Restricted,
            quota: if prod {
                Quota {
                    requests_cpu: "12",
                    requests_memory: "48Gi",
                    limits_cpu: "24",
                    limits_memory: "64Gi",
                    pods: "60",
                    claims: "10",
                    storage: "200Gi",
                }
            } else {
                Quota {
                    requests_cpu: "4",
                    requests_memory: "12Gi",
                    limits_cpu: "8",
                    limits_memory: "16Gi",
                    pods: "30",
                    claims: "5",
                    storage: "50Gi",
                }
            },
            defaults: (("250m", "1"), ("512Mi", "1Gi")),
            database: true,
            load_balanced: true,
            // datacube-ows's chart leaves its container port 8000 unnamed (Explorer's
            // 8080 is `http`).
            load_balanced_ports: &[girder_odc::charts::OWS_PORT as i32],
            kubernetes_api: None,
        },
        Tenant {
            name: JUPYTERHUB_NAMESPACE,
            security: PodSecurity::Baseline,
            quota: if prod {
                Quota {
                    requests_cpu: "20",
                    requests_memory: "80Gi",
                    limits_cpu: "40",
                    limits_memory: "120Gi",
                    pods: "120",
                    claims: "150",
                    storage: "1500Gi",
                }
            } else {
                Quota {
                    requests_cpu: "6",
                    requests_memory: "24Gi",
                    limits_cpu: "12",
                    limits_memory: "40Gi",
                    pods: "40",
                    claims: "30",
                    storage: "300Gi",
                }
            },
            defaults: (("500m", "2"), ("1Gi", "4Gi")),
            database: true,
            load_balanced: true,
            load_balanced_ports: &[],
            // zero-to-jupyterhub's hub pod.
            kubernetes_api: Some(("component", "In", &["hub"])),
        },
        Tenant {
            name: DASK_NAMESPACE,
            security: PodSecurity::Restricted,
            quota: if prod {
                Quota {
                    requests_cpu: "140",
                    requests_memory: "1100Gi",
                    limits_cpu: "160",
                    limits_memory: "1200Gi",
                    pods: "200",
                    claims: "0",
                    storage: "0",
                }
            } else {
                Quota {
                    requests_cpu: "40",
                    requests_memory: "320Gi",
                    limits_cpu: "48",
                    limits_memory: "360Gi",
                    pods: "80",
                    claims: "0",
                    storage: "0",
                }
            },
            defaults: (("1", "2"), ("4Gi", "8Gi")),
            database: true,
            load_balanced: false,
            load_balanced_ports: &[],
            // dask-gateway labels its clusters' pods with these components.
            kubernetes_api: Some((
                "app.kubernetes.io/component",
                "NotIn",
                &["dask-scheduler", "dask-worker"],
            )),
        },
    ]
}

/// Add the platform's Kubernetes apps to the EKS stack (after Flux, whose CRDs they
/// use): `platform` (namespaces, quotas, policies), `observability` and `monitoring`,
/// `notifications`, `images`; and the monitoring's and the image reflector's Pod
/// Identity roles.
pub(crate) fn add_all(
    stack: &mut girder_core::Stack,
    env: &Environment,
    cluster: &girder_eks::EksClusterHandle,
    infra: &crate::infra::Infra,
) -> Result<girder_eks::PodIdentityRoleHandle> {
    stack.external_kube_object(
        "Namespace",
        None,
        crate::flux::FLUX_NAMESPACE,
        "made by Terraform (gitops.rs), before Flux's install and any app",
    )?;
    let mut root = stack.root();
    add(&mut root, env, cluster.kubernetes_service_ip())?;
    crate::monitoring::add(&mut root, env, cluster, &infra.database)?;
    crate::notifications::add(&mut root, env)?;
    let reflector = crate::images::add(&mut root, env, cluster)?;
    drop(root);
    crate::monitoring::acknowledge(stack)?;
    Ok(reflector)
}

/// Add app `platform` under `scope`.
pub(crate) fn add(
    scope: &mut Scope<'_>,
    env: &Environment,
    api_service: std::net::Ipv4Addr,
) -> Result<()> {
    let app = &mut scope.child(APP)?.with_kube_app(APP)?;
    let vpc = env.vpc_cidr.to_string();
    let api = format!("{api_service}/32");
    for tenant in tenants(env) {
        let mut scope = app.child(tenant.name)?;
        let ns = Namespace::new(tenant.name)
            .pod_security(tenant.security)
            .label("piksel.io/tenant", "true")
            .add(&mut scope, "namespace")?;
        let q = &tenant.quota;
        let _ = ResourceQuota::new(&ns, "compute")
            .hard("requests.cpu", q.requests_cpu)
            .hard("requests.memory", q.requests_memory)
            .hard("limits.cpu", q.limits_cpu)
            .hard("limits.memory", q.limits_memory)
            .hard("pods", q.pods)
            .hard("persistentvolumeclaims", q.claims)
            .hard("requests.storage", q.storage)
            // No NodePort or LoadBalancer Service: the load balancer controller's
            // Ingresses reach pods directly (IP targets).
            .hard("services.nodeports", "0")
            .hard("services.loadbalancers", "0")
            .add(&mut scope, "quota")?;
        let ((cpu_request, cpu_limit), (memory_request, memory_limit)) = tenant.defaults;
        let _ = LimitRange::new(&ns, "container-defaults")
            .container_default("cpu", cpu_request, cpu_limit)
            .container_default("memory", memory_request, memory_limit)
            .add(&mut scope, "limits")?;
        for policy in policies(&tenant, &vpc, &api) {
            scope.add_app_object(&policy)?;
        }
    }
    Ok(())
}

/// The namespace's policies: deny all, then the allowances.
fn policies(tenant: &Tenant, vpc: &str, api: &str) -> Vec<net::NetworkPolicy> {
    let ns = tenant.name;
    let all_pods = LabelSelector::default;
    let mut out = vec![
        policy(
            ns,
            "default-deny",
            &["Ingress", "Egress"],
            Vec::new(),
            Vec::new(),
        ),
        policy(
            ns,
            "allow-dns",
            &["Egress"],
            Vec::new(),
            vec![egress(
                vec![net::NetworkPolicyPeer {
                    namespace_selector: Some(namespace("kube-system")),
                    pod_selector: Some(labels([("k8s-app", "kube-dns")])),
                    ip_block: None,
                }],
                vec![port("UDP", 53), port("TCP", 53)],
            )],
        ),
        policy(
            ns,
            "allow-same-namespace",
            &["Ingress", "Egress"],
            vec![ingress(
                vec![net::NetworkPolicyPeer {
                    pod_selector: Some(all_pods()),
                    ..Default::default()
                }],
                Vec::new(),
            )],
            vec![egress(
                vec![net::NetworkPolicyPeer {
                    pod_selector: Some(all_pods()),
                    ..Default::default()
                }],
                Vec::new(),
            )],
        ),
        policy(
            ns,
            "allow-from-monitoring",
            &["Ingress"],
            vec![ingress(
                vec![net::NetworkPolicyPeer {
                    namespace_selector: Some(namespace(girder_observability::DEFAULT_NAMESPACE)),
                    ..Default::default()
                }],
                Vec::new(),
            )],
            Vec::new(),
        ),
        policy(
            ns,
            "allow-pod-identity-agent",
            &["Egress"],
            Vec::new(),
            vec![egress(
                vec![block(POD_IDENTITY_AGENT, &[])],
                vec![port("TCP", 80)],
            )],
        ),
        policy(
            ns,
            "allow-https-out",
            &["Egress"],
            Vec::new(),
            vec![egress(
                vec![block("0.0.0.0/0", &[INSTANCE_METADATA])],
                vec![port("TCP", 443)],
            )],
        ),
    ];
    if tenant.database {
        out.push(policy(
            ns,
            "allow-index-database",
            &["Egress"],
            Vec::new(),
            vec![egress(
                vec![block(vpc, &[])],
                vec![port("TCP", DATABASE_PORT)],
            )],
        ));
    }
    if tenant.load_balanced {
        out.push(policy(
            ns,
            "allow-from-load-balancer",
            &["Ingress"],
            vec![ingress(
                vec![block(vpc, &[])],
                std::iter::once(net::NetworkPolicyPort {
                    port: Some(IntOrString::String(SERVICE_PORT.into())),
                    protocol: Some("TCP".into()),
                    end_port: None,
                })
                .chain(
                    tenant
                        .load_balanced_ports
                        .iter()
                        .map(|number| port("TCP", *number)),
                )
                .collect(),
            )],
            Vec::new(),
        ));
    }
    if tenant.name == JUPYTERHUB_NAMESPACE {
        out.push(policy(
            ns,
            "allow-hub-api-from-dask",
            &["Ingress"],
            vec![ingress(
                vec![net::NetworkPolicyPeer {
                    namespace_selector: Some(namespace(DASK_NAMESPACE)),
                    ..Default::default()
                }],
                vec![port("TCP", HUB_API_PORT)],
            )],
            Vec::new(),
        ));
        out.push(policy(
            ns,
            "allow-to-dask",
            &["Egress"],
            Vec::new(),
            vec![egress(
                vec![net::NetworkPolicyPeer {
                    namespace_selector: Some(namespace(DASK_NAMESPACE)),
                    ..Default::default()
                }],
                DASK_PORTS.iter().map(|p| port("TCP", *p)).collect(),
            )],
        ));
    }
    if tenant.name == DASK_NAMESPACE {
        out.push(policy(
            ns,
            "allow-to-hub-api",
            &["Egress"],
            Vec::new(),
            vec![egress(
                vec![net::NetworkPolicyPeer {
                    namespace_selector: Some(namespace(JUPYTERHUB_NAMESPACE)),
                    ..Default::default()
                }],
                vec![port("TCP", HUB_API_PORT)],
            )],
        ));
        out.push(policy(
            ns,
            "allow-from-jupyterhub",
            &["Ingress"],
            vec![ingress(
                vec![net::NetworkPolicyPeer {
                    namespace_selector: Some(namespace(JUPYTERHUB_NAMESPACE)),
                    ..Default::default()
                }],
                DASK_PORTS.iter().map(|p| port("TCP", *p)).collect(),
            )],
            Vec::new(),
        ));
    }
    if let Some((label, operator, values)) = tenant.kubernetes_api {
        // Pods reach the API at the `kubernetes` Service's address, which the CNI's
        // policy agent may see before the translation to the control plane's network
        // interfaces (in the VPC, on 443): both are allowed (review 3's M5).
        let mut api_policy = policy(
            ns,
            "allow-kubernetes-api",
            &["Egress"],
            Vec::new(),
            vec![egress(
                vec![block(api, &[]), block(vpc, &[])],
                vec![port("TCP", 443)],
            )],
        );
        if let Some(spec) = api_policy.spec.as_mut() {
            spec.pod_selector = Some(LabelSelector {
                match_expressions: Some(vec![
                    k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement {
                        key: label.to_owned(),
                        operator: operator.to_owned(),
                        values: Some(values.iter().map(|v| (*v).to_owned()).collect()),
                    },
                ]),
                match_labels: None,
            });
        }
        out.push(api_policy);
    }
    out
}

fn policy(
    namespace: &str,
    name: &str,
    types: &[&str],
    ingress: Vec<net::NetworkPolicyIngressRule>,
    egress: Vec<net::NetworkPolicyEgressRule>,
) -> net::NetworkPolicy {
    net::NetworkPolicy {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some(AppLabels::new(name).all()),
            ..ObjectMeta::default()
        },
        spec: Some(net::NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(types.iter().map(|t| (*t).to_owned()).collect()),
            ingress: (!ingress.is_empty()).then_some(ingress),
            egress: (!egress.is_empty()).then_some(egress),
        }),
    }
}

fn ingress(
    from: Vec<net::NetworkPolicyPeer>,
    ports: Vec<net::NetworkPolicyPort>,
) -> net::NetworkPolicyIngressRule {
    net::NetworkPolicyIngressRule {
        from: Some(from),
        ports: (!ports.is_empty()).then_some(ports),
    }
}

fn egress(
    to: Vec<net::NetworkPolicyPeer>,
    ports: Vec<net::NetworkPolicyPort>,
) -> net::NetworkPolicyEgressRule {
    net::NetworkPolicyEgressRule {
        to: Some(to),
        ports: (!ports.is_empty()).then_some(ports),
    }
}

fn port(protocol: &str, number: i32) -> net::NetworkPolicyPort {
    net::NetworkPolicyPort {
        port: Some(IntOrString::Int(number)),
        protocol: Some(protocol.to_owned()),
        end_port: None,
    }
}

fn block(cidr: &str, except: &[&str]) -> net::NetworkPolicyPeer {
    net::NetworkPolicyPeer {
        ip_block: Some(net::IPBlock {
            cidr: cidr.to_owned(),
            except: (!except.is_empty()).then(|| except.iter().map(|e| (*e).to_owned()).collect()),
        }),
        ..Default::default()
    }
}

fn labels<const N: usize>(pairs: [(&str, &str); N]) -> LabelSelector {
    LabelSelector {
        match_labels: Some(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect::<BTreeMap<_, _>>(),
        ),
        ..LabelSelector::default()
    }
}

fn namespace(name: &str) -> LabelSelector {
    labels([("kubernetes.io/metadata.name", name)])
}
