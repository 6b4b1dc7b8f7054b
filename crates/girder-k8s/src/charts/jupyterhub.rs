//! Zero to JupyterHub's `jupyterhub` chart 4.4.0 (JupyterHub 5.5,
//! <https://hub.jupyter.org/helm-chart/>): typed fields for what girder's systems set,
//! the rest in each level's `extra`. The chart's values schema
//! (`../shared/schemas/helm/jupyterhub/values.schema.json`) refuses unknown keys at every
//! level, so the field names here are the schema's.
//!
//! Rules checked before synth ([`ChartValues::check`]): idle culling with a positive
//! timeout and period, every guarantee (the chart's word for a request) within its limit,
//! the single-user servers' and each profile's.

use std::collections::BTreeMap;

use girder_core::helm::ChartRef;
use serde::Serialize;
use serde_json::Value as Json;

use super::{ChartImage, ChartResources, Cores, Gibibytes, within};
use crate::crds::Extra;
use crate::error::K8sError;
use crate::helm::ChartValues;

/// The chart's name in errors.
const CHART: &str = "jupyterhub";

/// Values of the `jupyterhub` chart.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JupyterhubValues {
    /// The hub: JupyterHub itself (authentication, spawning, services).
    pub hub: Option<Hub>,
    /// configurable-http-proxy and its Services.
    pub proxy: Option<Proxy>,
    /// The users' notebook servers.
    pub singleuser: Option<Singleuser>,
    /// Where pods go (user scheduler, placeholders, core and user pod tolerations).
    pub scheduling: Option<Scheduling>,
    /// The image pullers (a hook at upgrade and a DaemonSet).
    pub pre_puller: Option<PrePuller>,
    /// The chart's Ingress of `proxy-public`.
    pub ingress: Option<ChartIngress>,
    /// The idle culler (a hub service).
    pub cull: Option<Cull>,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ChartValues for JupyterhubValues {
    fn chart() -> ChartRef {
        ChartRef::new("https://hub.jupyter.org/helm-chart/", "jupyterhub", "4.4.0")
    }

    fn check(&self) -> Result<(), K8sError> {
        if let Some(cull) = &self.cull {
            cull.check()?;
        }
        if let Some(singleuser) = &self.singleuser {
            singleuser.check()?;
        }
        Ok(())
    }
}

/// `hub`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hub {
    /// Traitlets configuration by class (`JupyterHub`, `GitHubOAuthenticator`,
    /// `KubeSpawner`): `hub.config.<Class>.<trait>`.
    pub config: Option<BTreeMap<String, Extra>>,
    /// Services registered with the hub (a dask-gateway), by name.
    pub services: Option<BTreeMap<String, HubService>>,
    /// Roles (`user`, `server`, or new ones), by name.
    pub load_roles: Option<BTreeMap<String, HubRole>>,
    /// Environment variables of the hub container, by name: a string or a `valueFrom`
    /// object (`{"valueFrom": {"secretKeyRef": ...}}`).
    pub extra_env: Option<BTreeMap<String, Json>>,
    /// Python appended to `jupyterhub_config.py`, by key (run in key order).
    pub extra_config: Option<BTreeMap<String, String>>,
    /// The hub's database.
    pub db: Option<HubDb>,
    /// Node selector of the hub pod.
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Requests and limits.
    pub resources: Option<ChartResources>,
    /// The chart's NetworkPolicy of the hub.
    pub network_policy: Option<ChartNetworkPolicy>,
    /// The hub's PodDisruptionBudget.
    pub pdb: Option<ChartPdb>,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `hub.services.<name>`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HubService {
    /// Where the hub's proxy sends `/services/<name>/`.
    pub url: Option<String>,
    /// Listed on the hub's home page.
    pub display: Option<bool>,
    /// Other fields (`oauth_no_confirm`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `hub.loadRoles.<name>`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HubRole {
    /// What the role may do.
    pub scopes: Vec<String>,
    /// Other fields (`users`, `groups`, `services`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `hub.db`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HubDb {
    /// `sqlite-pvc`, `sqlite-memory`, `postgres`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The claim of `sqlite-pvc`.
    pub pvc: Option<HubDbClaim>,
}

/// `hub.db.pvc`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HubDbClaim {
    /// Its size (`1Gi`).
    pub storage: String,
    /// Its StorageClass.
    pub storage_class_name: Option<String>,
    /// Its annotations (`helm.sh/resource-policy: keep`: Helm leaves the claim, and
    /// the users and tokens in it, when the release is removed).
    pub annotations: Option<std::collections::BTreeMap<String, String>>,
}

/// `networkPolicy` of a component: the chart's own NetworkPolicy.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ChartNetworkPolicy {
    /// Write it.
    pub enabled: bool,
}

/// `pdb` of a component.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartPdb {
    /// Write it.
    pub enabled: bool,
    /// Pods that may be down at once.
    pub max_unavailable: Option<u16>,
    /// Pods that must stay up (the chart's default 1; set `None` with `max_unavailable`).
    pub min_available: Option<Json>,
}

/// `proxy`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Proxy {
    /// `proxy-public`.
    pub service: Option<ProxyService>,
    /// configurable-http-proxy.
    pub chp: Option<Chp>,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `proxy.service`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyService {
    /// `ClusterIP`, `NodePort`, `LoadBalancer` (the chart's default).
    #[serde(rename = "type")]
    pub kind: String,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `proxy.chp`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Chp {
    /// Requests and limits.
    pub resources: Option<ChartResources>,
    /// Node selector.
    pub node_selector: Option<BTreeMap<String, String>>,
    /// The chart's NetworkPolicy of the proxy.
    pub network_policy: Option<ChartNetworkPolicy>,
    /// Its PodDisruptionBudget.
    pub pdb: Option<ChartPdb>,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `singleuser`: the notebook servers KubeSpawner starts.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Singleuser {
    /// The image (a profile may override it).
    pub image: Option<ChartImage>,
    /// CPU cores: guarantee (request) and limit.
    pub cpu: Option<SpawnerCpu>,
    /// Memory: guarantee (request) and limit.
    pub memory: Option<SpawnerMemory>,
    /// The user's home volume.
    pub storage: Option<SingleuserStorage>,
    /// Node selector of the user pods.
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Tolerations added to `scheduling.userPods.tolerations`.
    pub extra_tolerations: Option<Vec<Json>>,
    /// The chart's privileged init container that blocks the instance metadata address
    /// with iptables.
    pub cloud_metadata: Option<CloudMetadata>,
    /// The chart's NetworkPolicy of the user pods.
    pub network_policy: Option<ChartNetworkPolicy>,
    /// Environment variables, by name (a string or a `valueFrom` object).
    pub extra_env: Option<BTreeMap<String, Json>>,
    /// Init containers of the user pods.
    pub init_containers: Option<Vec<Json>>,
    /// The user pods' ServiceAccount (an existing one).
    pub service_account_name: Option<String>,
    /// The URL the server opens (`/lab`).
    pub default_url: Option<String>,
    /// The choices offered at spawn.
    pub profile_list: Option<Vec<Profile>>,
    /// Seconds a server has to start.
    pub start_timeout: Option<u32>,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Singleuser {
    fn check(&self) -> Result<(), K8sError> {
        if let Some(cpu) = &self.cpu {
            within("jupyterhub singleuser", "cpu", cpu.guarantee, cpu.limit)?;
        }
        if let Some(memory) = &self.memory {
            within(
                "jupyterhub singleuser",
                "memory",
                memory.guarantee,
                memory.limit,
            )?;
        }
        if let Some(storage) = &self.storage {
            if let Some(capacity) = &storage.capacity {
                if crate::validate::Quantity::parse(capacity).is_none() {
                    return Err(K8sError::NotQuantity {
                        what: "jupyterhub singleuser.storage.capacity".into(),
                        value: capacity.clone(),
                    });
                }
            }
        }
        for profile in self.profile_list.iter().flatten() {
            let what = format!("jupyterhub profile {:?}", profile.display_name);
            let o = &profile.kubespawner_override;
            within(&what, "cpu", o.cpu_guarantee, o.cpu_limit)?;
            within(&what, "memory", o.mem_guarantee, o.mem_limit)?;
        }
        Ok(())
    }
}

/// `singleuser.cpu`, in cores.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SpawnerCpu {
    /// The request.
    pub guarantee: Option<Cores>,
    /// The limit.
    pub limit: Option<Cores>,
}

/// `singleuser.memory`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SpawnerMemory {
    /// The request.
    pub guarantee: Option<Gibibytes>,
    /// The limit.
    pub limit: Option<Gibibytes>,
}

/// `singleuser.storage`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SingleuserStorage {
    /// `dynamic` (a claim per user), `static` or `none`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Each claim's size (a Kubernetes quantity, `10Gi`).
    pub capacity: Option<String>,
    /// Where the home volume is mounted.
    pub home_mount_path: String,
    /// The dynamic claims' settings.
    pub dynamic: Option<DynamicStorage>,
    /// More volumes of the user pods.
    pub extra_volumes: Option<Vec<Json>>,
    /// Their mounts in the notebook container.
    pub extra_volume_mounts: Option<Vec<Json>>,
}

/// `singleuser.storage.dynamic`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DynamicStorage {
    /// The claims' StorageClass.
    pub storage_class: Option<String>,
}

/// `singleuser.cloudMetadata`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudMetadata {
    /// Block the metadata address with a privileged iptables init container.
    pub block_with_iptables: bool,
}

/// One entry of `singleuser.profileList`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Profile {
    /// Its name on the spawn page.
    pub display_name: String,
    /// Its description there.
    pub description: Option<String>,
    /// A stable id (`slug`).
    pub slug: Option<String>,
    /// Preselected.
    pub default: Option<bool>,
    /// KubeSpawner settings of this profile.
    pub kubespawner_override: ProfileOverride,
}

/// A profile's `kubespawner_override`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ProfileOverride {
    /// The image reference.
    pub image: Option<String>,
    /// CPU request, cores.
    pub cpu_guarantee: Option<Cores>,
    /// CPU limit, cores.
    pub cpu_limit: Option<Cores>,
    /// Memory request.
    pub mem_guarantee: Option<Gibibytes>,
    /// Memory limit.
    pub mem_limit: Option<Gibibytes>,
    /// Other KubeSpawner settings.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `scheduling`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scheduling {
    /// The chart's user scheduler (packs user pods on the fullest nodes).
    pub user_scheduler: Option<Enabled>,
    /// Placeholder pods that keep room for users.
    pub user_placeholder: Option<Enabled>,
    /// The core pods' (hub, proxy) tolerations.
    pub core_pods: Option<PodTolerations>,
    /// The user pods' tolerations.
    pub user_pods: Option<PodTolerations>,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A component switched on or off (`enabled`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Enabled {
    /// On.
    pub enabled: bool,
}

/// `scheduling.corePods` / `userPods`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodTolerations {
    /// Replaces the chart's `hub.jupyter.org/dedicated` tolerations.
    pub tolerations: Vec<Json>,
    /// Other values (`nodeAffinity`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `prePuller`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrePuller {
    /// The upgrade hook's puller.
    pub hook: Option<Enabled>,
    /// The DaemonSet puller.
    pub continuous: Option<Enabled>,
}

/// `ingress`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartIngress {
    /// Write it.
    pub enabled: bool,
    /// Annotations (the load balancer controller's, external-dns's).
    pub annotations: Option<BTreeMap<String, String>>,
    /// The IngressClass.
    pub ingress_class_name: Option<String>,
    /// Host names.
    pub hosts: Option<Vec<String>>,
    /// `Prefix` (the chart's default), `Exact`, `ImplementationSpecific`.
    pub path_type: Option<String>,
}

/// `cull`: jupyterhub-idle-culler, stopping servers idle for `timeout` seconds, checked
/// every `every` seconds.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cull {
    /// Run the culler.
    pub enabled: bool,
    /// Idle seconds before a server is stopped.
    pub timeout: Option<u32>,
    /// Seconds between checks.
    pub every: Option<u32>,
    /// Seconds after which a server is stopped even if active (0: never).
    pub max_age: Option<u32>,
    /// Also delete idle users (not only their servers).
    pub users: Option<bool>,
}

impl Cull {
    /// Stop servers idle for `timeout` seconds, checking every `every`.
    pub fn idle(timeout: u32, every: u32) -> Self {
        Self {
            enabled: true,
            timeout: Some(timeout),
            every: Some(every),
            ..Self::default()
        }
    }

    fn check(&self) -> Result<(), K8sError> {
        if !self.enabled {
            return Ok(());
        }
        for (field, seconds) in [("cull.timeout", self.timeout), ("cull.every", self.every)] {
            if seconds == Some(0) {
                return Err(K8sError::CullPeriod {
                    what: CHART.into(),
                    field: field.into(),
                    seconds: 0,
                });
            }
        }
        Ok(())
    }
}
