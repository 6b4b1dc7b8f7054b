//! `its-camera-<env>`'s AWS half (seed 003's Team 7, TASK-IAC-001: "VPC and networking
//! module", "EKS cluster module"): the VPC over three zones, the EKS cluster in its
//! private subnets, the workers and the GPU pool, the managed add-ons, the
//! administrators' access entry.
//!
//! - **Nodes.** The seed's "6 worker nodes minimum, 48 vCPUs, 192GB, 2 NVIDIA T4 or
//!   better" in prod: node group `workers` (4 x m7i.2xlarge, 8 vCPU / 32 GiB) and node
//!   group `gpu` (2 x g4dn.2xlarge: 8 vCPU / 32 GiB and one T4 each, EKS's NVIDIA AMI,
//!   tainted `nvidia.com/gpu=present:NoSchedule` so only the inference pods, which
//!   tolerate it and ask for `nvidia.com/gpu`, land there). Dev: two workers, one GPU.
//!   Both pools are on demand: the data services' volumes and the GPU inference are not
//!   interruptible.
//! - **GCP** (the seed's "AWS/GCP"): out of reach here: girder has no Google provider
//!   schema; the constructs are AWS's and Kubernetes'.
//! - **Managed data services** (the seed's "RDS and ElastiCache modules"): not used; the
//!   seed's Team 1 runs PostgreSQL with streaming replication, TimescaleDB and Redis in
//!   the cluster, and TimescaleDB has no RDS engine: the in-cluster operators
//!   (CloudNativePG) keep one way to run all three. Recorded in the README tour.

use girder_core::construct::Construct;
use girder_core::{Error, Result, Scope};
use girder_eks::{
    AccessEntry, AccessPolicy, AccessScope, Addon, EksCluster, EksClusterHandle, KubernetesVersion,
    NodeGroup, ScalingConfig, Taint, TaintEffect,
};
use girder_iam::{Role, Trust};
use girder_network::Vpc;

use crate::config::Environment;

/// The Kubernetes minor (EKS standard support, as Piksel's cluster).
const KUBERNETES_MINOR: u16 = 36;

/// The managed add-ons, pinned (check each with `aws eks describe-addon-versions
/// --kubernetes-version 1.36` before the first apply).
const POD_IDENTITY_AGENT: &str = "v1.3.10-eksbuild.1";
const VPC_CNI: &str = "v1.21.1-eksbuild.1";
const KUBE_PROXY: &str = "v1.36.2-eksbuild.3";
const COREDNS: &str = "v1.13.1-eksbuild.1";
const EBS_CSI_DRIVER: &str = "v1.53.0-eksbuild.1";

/// The label every node group sets: which pool a pod asks for.
pub const POOL_LABEL: &str = "its.camera/pool";
/// The GPU pool's taint key (NVIDIA's device plugin convention).
pub const GPU_TAINT: &str = "nvidia.com/gpu";

/// The VPC, the cluster and its nodes of `env` under `scope`; the cluster's handle.
pub(crate) fn add(scope: &mut Scope<'_>, env: &Environment) -> Result<EksClusterHandle> {
    let name = format!("its-camera-{}", env.name);
    let vpc = Vpc::new(&name, env.vpc_cidr)
        .availability_zones(3)
        .subnet_prefixes(24, 20)
        .nat(env.nat)
        .add(&mut scope.child("network")?, "vpc")?;

    let version = KubernetesVersion::new(KUBERNETES_MINOR)
        .map_err(|e| Error::construct(format!("{}:cluster", scope.location()), e))?;
    let mut cluster =
        EksCluster::new(&vpc, &name, version).public_endpoint(env.operator_cidrs.iter().copied());
    if env.production {
        cluster = cluster.deletion_protection();
    }
    let cluster = cluster.add(&mut scope.child("cluster")?, "eks")?;

    let mut addons = scope.child("addons")?;
    let agent = Addon::pod_identity_agent(&cluster, POD_IDENTITY_AGENT)
        .add(&mut addons, "pod-identity-agent")?;
    // The CNI enforces the namespaces' NetworkPolicies (default deny, platform.rs).
    let cni = Addon::vpc_cni(&cluster, VPC_CNI)
        .enforce_network_policies()
        .add(&mut addons, "vpc-cni")?;
    let proxy = Addon::kube_proxy(&cluster, KUBE_PROXY).add(&mut addons, "kube-proxy")?;
    drop(addons);

    let mut nodes = scope.child("nodes")?;
    let pool = |count: u16| ScalingConfig {
        min: count,
        max: count + count.div_ceil(2),
        desired: count,
    };
    let (worker_type, workers) = env.workers;
    let general = NodeGroup::new(&cluster, "workers", [worker_type], pool(workers))
        .label(POOL_LABEL, "workers")
        .root_volume(100)
        .after(&agent)
        .after(&cni)
        .after(&proxy)
        .add(&mut nodes, "workers")?;
    let (gpu_type, gpus) = env.gpu_workers;
    let _gpu = NodeGroup::new(&cluster, "gpu", [gpu_type], pool(gpus))
        // EKS's AL2023 image with NVIDIA's driver and container toolkit.
        .ami_type("AL2023_x86_64_NVIDIA")
        .label(POOL_LABEL, "gpu")
        .taint(Taint::new(GPU_TAINT, "present", TaintEffect::NoSchedule))
        .root_volume(200)
        .after(&agent)
        .after(&cni)
        .after(&proxy)
        .add(&mut nodes, "gpu")?;
    drop(nodes);

    let mut addons = scope.child("addons")?;
    let _coredns = Addon::coredns(&cluster, COREDNS)
        .after(&general)
        .add(&mut addons, "coredns")?;
    let _ebs = Addon::ebs_csi_driver(&cluster, EBS_CSI_DRIVER)
        .after(&general)
        .add(&mut addons, "ebs-csi-driver")?;
    drop(addons);

    // The administrators: a role the account's SSO grants, with an access entry.
    let mut access = scope.child("access")?;
    let admins = Role::new(
        format!("{name}-cluster-admins"),
        Trust::account(format!("arn:aws:iam::{}:root", env.account_id)),
    )
    .description(format!("ITS Camera AI {} cluster administrators", env.name))
    .max_session(3600)
    .policy("find-the-cluster", cluster.find_cluster_policy())
    .add(&mut access, "admins-role")?;
    let _admins = AccessEntry::new(
        &cluster,
        &admins,
        AccessPolicy::ClusterAdmin,
        AccessScope::Cluster,
    )
    .add(&mut access, "cluster-admins")?;
    Ok(cluster)
}
