//! `piksel-eks-<env>` (the seed's piksel-kubernetes `/terraform`, its own Terraform Cloud
//! workspace per environment, run after the infra's): the EKS cluster in the shared VPC,
//! its node groups, managed add-ons and administrators.

use girder_core::construct::Construct;
use girder_core::{Error, Result, Stack};
use girder_eks::{
    AccessEntry, AccessPolicy, AccessScope, Addon, CapacityType, EksCluster, EksClusterHandle,
    KubernetesVersion, NodeGroup, NodeGroupHandle, ScalingConfig, Taint, TaintEffect,
};
use girder_iam::{Role, Trust};
use girder_network::{Connectable, Port};

use crate::config::{Environment, aws_stack};
use crate::infra::Infra;

/// The stack's name (`piksel-eks-<env>`).
pub(crate) const NAME: &str = "piksel-eks";

/// The Kubernetes minor: the newest in EKS's standard support that every pinned add-on
/// below supports.
const KUBERNETES_MINOR: u16 = 36;

/// The managed add-ons, pinned (check each with `aws eks describe-addon-versions
/// --kubernetes-version 1.36` before the first apply: girder's tables were written
/// offline).
const POD_IDENTITY_AGENT: &str = "v1.3.10-eksbuild.1";
const VPC_CNI: &str = "v1.21.1-eksbuild.1";
const KUBE_PROXY: &str = "v1.36.2-eksbuild.3";
const COREDNS: &str = "v1.13.1-eksbuild.1";
const EBS_CSI_DRIVER: &str = "v1.53.0-eksbuild.1";

/// The suffixes of a per-zone pool's groups, in the VPC's zone order.
const ZONE_SUFFIXES: [&str; 3] = ["a", "b", "c"];

/// The label every node group sets on its nodes: which pool a pod asks for.
pub const POOL_LABEL: &str = "piksel.io/pool";

/// The taint of the Dask pool: only Dask's workers (which tolerate it) run there.
pub const DASK_TAINT: &str = "piksel.io/dask";

/// What the Flux and add-on layers need from the cluster.
pub struct Cluster {
    /// The cluster.
    pub cluster: EksClusterHandle,
    /// The node groups: system, workloads, dask.
    pub node_groups: Vec<NodeGroupHandle>,
}

/// One node group's shape (seed 6.1.1: "production node groups sized and labelled for
/// system / workloads / Dask").
struct Pool {
    name: &'static str,
    types: &'static [&'static str],
    capacity: CapacityType,
    scaling: ScalingConfig,
    dask: bool,
    /// One group per zone (`<name>-a`, `-b`, `-c`), each scaled as `scaling`: the pool
    /// holds EBS volumes (the hub's database, the users' homes), which attach in their
    /// own zone only, and the cluster autoscaler adds a node in a zone only through a
    /// group of that zone (review 6's M2).
    per_zone: bool,
}

/// The stack's id, for errors before a scope exists.
fn stack_id(env: &Environment) -> String {
    format!("{NAME}-{}", env.name)
}

fn pools(env: &Environment) -> [Pool; 3] {
    // The workloads pool per zone: prod keeps a node in each (1..4 each, 12 in all);
    // dev and staging one node that may be in any zone (0..2 each: the autoscaler adds
    // one where a volume needs it).
    let (system, workloads, dask) = if env.production {
        ((3, 4, 3), (1, 4, 1), (0, 20, 0))
    } else {
        ((2, 3, 2), (0, 2, 0), (0, 6, 0))
    };
    let scaling = |(min, max, desired): (u16, u16, u16)| ScalingConfig { min, max, desired };
    [
        // CoreDNS, the controllers, Flux, monitoring: on-demand, never interrupted. In
        // prod, xlarge: two nodes must still hold Prometheus and every add-on's
        // replicas when the third is lost (review 3's m12).
        Pool {
            name: "system",
            types: if env.production {
                &["m7i.xlarge"]
            } else {
                &["m7i.large"]
            },
            capacity: CapacityType::OnDemand,
            scaling: scaling(system),
            dask: false,
            per_zone: false,
        },
        // The ODC services and JupyterHub.
        Pool {
            name: "workloads",
            types: &["m7i.xlarge"],
            capacity: CapacityType::OnDemand,
            scaling: scaling(workloads),
            dask: false,
            per_zone: true,
        },
        // Dask workers: memory-heavy, interruptible (a lost worker's tasks are
        // recomputed), scaled from zero by the cluster autoscaler.
        Pool {
            name: "dask",
            types: &["r7i.2xlarge", "r6i.2xlarge", "r7a.2xlarge"],
            capacity: CapacityType::Spot,
            scaling: scaling(dask),
            dask: true,
            per_zone: false,
        },
    ]
}

/// Stack `piksel-eks-<env>`, in the VPC of `infra` (another stack's: girder reads its ids
/// through Terraform Cloud's outputs).
pub(crate) fn stack(
    env: &Environment,
    infra: &Infra,
    agents: &crate::agents::Agents,
) -> Result<(Stack, Cluster)> {
    let mut stack = aws_stack(NAME, env)?;
    // Every role it makes is bounded by the environment's ceiling (its apply role may
    // make roles only so).
    stack.add_aspect(girder_iam::PermissionsBoundary::new(
        crate::bootstrap::boundary_arn(env),
    ));
    // ... and sits under the stack's IAM path, which only this stack's apply manages.
    stack.add_aspect(
        girder_iam::RolePath::new(crate::bootstrap::role_path(NAME))
            .map_err(|e| Error::construct(format!("{}-{}", NAME, env.name), e))?,
    );
    let name = format!("piksel-{}", env.name);
    let mut root = stack.root();
    let version = KubernetesVersion::new(KUBERNETES_MINOR)
        .map_err(|e| Error::construct(format!("{}:cluster", stack_id(env)), e))?;
    let mut cluster = EksCluster::new(&infra.vpc, &name, version)
        // The private endpoint for the nodes, the VPC and this workspace's Terraform
        // Cloud agents (in the private subnets); a public one for the operators'
        // addresses only.
        .public_endpoint(env.operator_cidrs.iter().copied());
    if env.production {
        cluster = cluster.deletion_protection();
    }
    let cluster = cluster.add(&mut root.child("cluster")?, "eks")?;

    // This workspace's runs execute on the environment's agents (piksel-agents'): they
    // install Flux through the private endpoint.
    let api_access = cluster.security_group().connections().allow_from(
        &mut root.child("api-access")?,
        &agents.service,
        Port::tcp(443),
        "Terraform Cloud agents: this workspace's runs install Flux through the helm provider",
    )?;

    // The ODC services and Jupyter on the nodes reach the index database (the infra's
    // security group gets the rule; it is written here, where the cluster is).
    infra.database.connections().allow_default_port_from(
        &mut root.child("database-access")?,
        &cluster,
        "EKS nodes and pods: the ODC services and JupyterHub",
    )?;

    // Networking first: the nodes join once the CNI, kube-proxy and the pod identity
    // agent (the CNI's credentials) are there; CoreDNS and the EBS driver need nodes.
    let mut addons = root.child("addons")?;
    let agent = Addon::pod_identity_agent(&cluster, POD_IDENTITY_AGENT)
        .add(&mut addons, "pod-identity-agent")?;
    // The CNI enforces the platform's NetworkPolicies (default deny per namespace).
    let cni = Addon::vpc_cni(&cluster, VPC_CNI)
        .enforce_network_policies()
        .add(&mut addons, "vpc-cni")?;
    let proxy = Addon::kube_proxy(&cluster, KUBE_PROXY).add(&mut addons, "kube-proxy")?;
    drop(addons);

    let mut nodes = root.child("nodes")?;
    let mut node_groups = Vec::new();
    // The on-demand groups (system, workloads): Flux's controllers and the apps' first
    // pods start there.
    let mut on_demand: Vec<girder_core::expr::Reference> = Vec::new();
    for pool in pools(env) {
        // (group name, its subnets: all the private ones, or one zone's)
        let groups: Vec<(String, Option<Vec<girder_core::Expr<String>>>)> = if pool.per_zone {
            infra
                .vpc
                .private_subnet_ids()
                .into_iter()
                .zip(ZONE_SUFFIXES)
                .map(|(subnet, zone)| (format!("{}-{zone}", pool.name), Some(vec![subnet])))
                .collect()
        } else {
            vec![(pool.name.to_owned(), None)]
        };
        for (name, subnets) in groups {
            let mut group =
                NodeGroup::new(&cluster, &name, pool.types.iter().copied(), pool.scaling)
                    .capacity(pool.capacity)
                    .label(POOL_LABEL, pool.name)
                    .after(&agent)
                    .after(&cni)
                    .after(&proxy);
            if let Some(subnets) = subnets {
                group = group.subnets(subnets);
            }
            if pool.dask {
                group = group.taint(Taint::new(DASK_TAINT, "true", TaintEffect::NoSchedule));
            }
            let group = group.add(&mut nodes, &name)?;
            if !pool.dask {
                on_demand.extend(girder_core::construct::Dependable::dependencies(&group));
            }
            node_groups.push(group);
        }
    }
    drop(nodes);

    let mut addons = root.child("addons")?;
    let system = &node_groups[0];
    let coredns = Addon::coredns(&cluster, COREDNS)
        .after(system)
        .add(&mut addons, "coredns")?;
    let _ebs = Addon::ebs_csi_driver(&cluster, EBS_CSI_DRIVER)
        .after(system)
        .add(&mut addons, "ebs-csi-driver")?;
    drop(addons);

    // Administrators through an access entry (no aws-auth ConfigMap), and this
    // workspace's apply role, which installs Flux through the helm provider.
    let mut access = root.child("access")?;
    // The administrators' role is made here, so the access entry names a principal that
    // exists (EKS refuses one that does not); who may assume it is the account's IAM
    // (an SSO permission set), not this stack.
    let admins_role = Role::new(
        format!("{name}-platform-admins"),
        Trust::account(format!("arn:aws:iam::{}:root", env.account_id)),
    )
    .description(format!("Piksel {} cluster administrators", env.name))
    .max_session(3600)
    // `aws eks update-kubeconfig` reads the cluster's endpoint and CA first; without
    // this the access entry is unreachable (review 2's N6). Nothing else in AWS.
    .policy("find-the-cluster", cluster.find_cluster_policy())
    .add(&mut access, "admins-role")?;
    let _admins = AccessEntry::new(
        &cluster,
        &admins_role,
        AccessPolicy::ClusterAdmin,
        AccessScope::Cluster,
    )
    .add(&mut access, "platform-admins")?;
    let terraform = AccessEntry::new(
        &cluster,
        crate::bootstrap::apply_role_arn(env, &stack_id(env)),
        AccessPolicy::ClusterAdmin,
        AccessScope::Cluster,
    )
    .add(&mut access, "terraform-cloud")?;
    // The plan refreshes the Helm releases (kept as ConfigMaps: flux.rs) and the
    // outputs ConfigMap in flux-system: read access to those, as group
    // PLAN_GROUP, which gitops.rs binds to a Role of flux-system; never a Secret (the
    // GitHub App key is one). The workspace has no speculative plans either.
    let terraform_plan = AccessEntry::groups(
        &cluster,
        crate::bootstrap::plan_role_arn(env, &stack_id(env)),
        [crate::gitops::PLAN_GROUP],
    )
    .add(&mut access, "terraform-cloud-plan")?;
    drop(access);
    drop(root);
    // The platform's apps, and the image reflector's pod identity, which must exist
    // before Flux's controllers start: EKS gives a pod its role's credentials only if
    // the association exists when the pod is made.
    let reflector = crate::platform::add_all(&mut stack, env, &cluster, infra)?;
    // flux-system and the plan role's reads there, before anything Helm keeps there.
    let cluster_access = crate::gitops::cluster_access(
        &mut stack,
        &cluster,
        &[&terraform, &terraform_plan, &api_access],
    )?;
    let flux = crate::flux::add(
        &mut stack,
        &cluster,
        &[
            &cluster_access,
            &on_demand,
            &coredns,
            &terraform,
            &terraform_plan,
            &reflector,
            // The agents reach the API only once their rule exists (review 3's m4).
            &api_access,
        ],
    )?;
    let addons = crate::addons::add(
        &mut stack,
        env,
        &cluster,
        &node_groups.iter().collect::<Vec<_>>(),
        infra.zone.id(),
        &infra.index_users,
    )?;
    let odc = crate::odc::add(&mut stack, env, &cluster, infra)?;
    let ows = crate::ows::add(&mut stack, env, &cluster, infra)?;
    let jupyter = crate::jupyter::add(&mut stack, env, &cluster, &infra.notebooks, &infra.data)?;
    let outputs = crate::gitops::add(
        &mut stack,
        env,
        &[
            (crate::addons::VPC_ID, infra.vpc.id()),
            (crate::addons::ZONE_ID, infra.zone.id()),
            (crate::odc::DB_HOST_VAR, infra.database.endpoint()),
            (
                crate::odc::MASTER_SECRET_VAR,
                infra.database.master_secret_arn(),
            ),
        ],
        &[&flux, &addons, &odc, &ows, &jupyter[0], &jupyter[1]],
    )?;
    crate::flux::sync(&mut stack, env, &[&flux, &outputs])?;
    crate::findings::eks(&mut stack)?;
    Ok((
        stack,
        Cluster {
            cluster,
            node_groups,
        },
    ))
}
