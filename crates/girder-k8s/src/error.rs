//! girder-k8s's typed errors. Each variant names the offending value and what is
//! allowed; [`K8sError::at`] wraps one into `girder_core::Error::Construct` with the
//! construct path, so callers and tests match variants
//! (`err.construct_error::<K8sError>()`) instead of message text.

use girder_core::vocabulary::ReasonError;

/// Why a girder-k8s construct refused its input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum K8sError {
    /// A name that must be a DNS-1123 label.
    #[error(
        "{what} {value:?} is not a DNS-1123 label: 1-63 lowercase letters, digits and '-', \
         starting and ending with a letter or digit"
    )]
    NotDnsLabel {
        /// What the name names (`workload name`, `namespace`).
        what: String,
        /// The name given.
        value: String,
    },

    /// A name that must be a DNS-1123 subdomain.
    #[error(
        "{what} {value:?} is not a DNS-1123 subdomain: at most 253 characters, dot-separated \
         labels of lowercase letters, digits and '-'"
    )]
    NotDnsSubdomain {
        /// What the name names.
        what: String,
        /// The name given.
        value: String,
    },

    /// A container port name that is not an IANA service name.
    #[error(
        "port name {0:?} is not an IANA service name: 1-15 lowercase letters, digits and '-', \
         with a letter, no '--'"
    )]
    NotPortName(String),

    /// Labels or annotations the API server would refuse (`girder_core::kubernetes_rules`).
    #[error("{what}: {why}")]
    Metadata {
        /// The object (`Deployment shop/api`).
        what: String,
        /// The rule broken.
        why: String,
    },

    /// An environment variable name Kubernetes refuses.
    #[error(
        "container {container:?} env {name:?}: a variable name is letters, digits, '_', '-' \
         and '.', not starting with a digit"
    )]
    EnvName {
        /// The container.
        container: String,
        /// The variable name.
        name: String,
    },

    /// A ConfigMap or Secret key Kubernetes refuses.
    #[error("{what} key {key:?}: keys are 1-253 letters, digits, '-', '_' and '.'")]
    DataKey {
        /// Where the key is used.
        what: String,
        /// The key.
        key: String,
    },

    /// Not a CIDR block in network form.
    #[error("{what} {value:?} {why} (a.b.c.d/n or an IPv6 block such as 2001:db8::/32)")]
    NotCidr {
        /// Where the block is used.
        what: String,
        /// The text given.
        value: String,
        /// `is not a CIDR block`, `has host bits set`.
        why: &'static str,
    },

    /// Not a Kubernetes quantity.
    #[error("{what} {value:?} is not a Kubernetes quantity (examples: 250m, 1, 512Mi, 2Gi)")]
    NotQuantity {
        /// What the quantity is (`request cpu`).
        what: String,
        /// The text given.
        value: String,
    },

    /// A request above its limit.
    #[error(
        "{what}: {resource} request {request} is above its limit {limit}; a request must be at \
         most the limit"
    )]
    RequestAboveLimit {
        /// The container or LimitRange.
        what: String,
        /// `cpu`, `memory`.
        resource: String,
        /// The request.
        request: String,
        /// The limit.
        limit: String,
    },

    /// An extended resource or huge pages requested below the limit.
    #[error(
        "{what}: {resource} request {request} differs from its limit {limit}; extended \
         resources and huge pages need request = limit"
    )]
    RequestNotLimit {
        /// The container or LimitRange.
        what: String,
        /// `nvidia.com/gpu`, `hugepages-2Mi`.
        resource: String,
        /// The request.
        request: String,
        /// The limit.
        limit: String,
    },

    /// A CronJob schedule Kubernetes cannot parse.
    #[error(
        "{what}: schedule {schedule:?} is not cron syntax: {why} (5 fields: minute hour \
         day-of-month month day-of-week, as \"0 3 * * *\"; or @daily, @hourly, @every 1h, ...)"
    )]
    NotCron {
        /// The CronJob.
        what: String,
        /// The schedule given.
        schedule: String,
        /// What is wrong with it.
        why: String,
    },

    /// An image reference that is malformed or not pinned.
    #[error(
        "container {container:?} image {image:?}: {why}; pin it as repo:tag or \
         repo@sha256:<digest>"
    )]
    Image {
        /// The container.
        container: String,
        /// The reference given.
        image: String,
        /// What is wrong with it.
        why: String,
    },

    /// A security exception without an acceptable reason.
    #[error("container {container:?}: {setting} {}", refused_reason(problem))]
    ExceptionReason {
        /// The container.
        container: String,
        /// The setting relaxed (`runAsNonRoot=false`).
        setting: &'static str,
        /// Why the reason was refused.
        problem: ReasonError,
    },

    /// An environment variable set twice.
    #[error(
        "container {container:?} sets env {name:?} twice; Kubernetes keeps only the last, so \
         set it once"
    )]
    DuplicateEnv {
        /// The container.
        container: String,
        /// The variable.
        name: String,
    },

    /// Container port number 0.
    #[error("container {container:?} port {port:?}: 0 is not a port (1-65535)")]
    ZeroContainerPort {
        /// The container.
        container: String,
        /// The port's name.
        port: String,
    },

    /// Two container ports with one name.
    #[error("container {container:?} names port {port:?} twice")]
    DuplicatePort {
        /// The container.
        container: String,
        /// The port's name.
        port: String,
    },

    /// A probe on a port the container does not declare.
    #[error(
        "container {container:?}: a probe uses port {port:?}, which is not one of its ports ({})",
        ports.join(", ")
    )]
    ProbePort {
        /// The container.
        container: String,
        /// The port the probe names.
        port: String,
        /// The container's ports.
        ports: Vec<String>,
    },

    /// A container that must not run as root but states no user: with `runAsNonRoot`
    /// and no `runAsUser` the kubelet runs the image's `USER`, and refuses to start the
    /// container (CreateContainerConfigError) when that user is root (no `USER` in the
    /// Dockerfile) or not numeric (`USER nobody`), which girder cannot see from the
    /// image reference.
    #[error(
        "container {container:?} runs as non-root but states no user: give its numeric uid \
         (run_as_user, the image's own numeric USER or one the image's files allow), or \
         run_as_root with a reason"
    )]
    NonRootWithoutUser {
        /// The container.
        container: String,
    },

    /// A group id or user id of 0 where the pod must not run as root.
    #[error("container {container:?}: {setting} 0 is root; runAsNonRoot needs a non-zero id")]
    RootId {
        /// The container.
        container: String,
        /// `runAsUser` or `runAsGroup`.
        setting: &'static str,
    },

    /// A workload given an AWS role but no service account: the projected token is the
    /// pod's service account's, and the role trusts a named one.
    #[error("{workload} assumes AWS role {role:?} but runs as no service account: give it one")]
    AwsRoleWithoutServiceAccount {
        /// `Deployment shop/api`.
        workload: String,
        /// The role's ARN.
        role: String,
    },

    /// A workload without containers.
    #[error("{workload} has no container")]
    NoContainer {
        /// `Deployment shop/api`.
        workload: String,
    },

    /// Two pod volumes with one name.
    #[error("{workload} has two volumes named {volume:?}")]
    DuplicateVolume {
        /// The workload.
        workload: String,
        /// The volume name.
        volume: String,
    },

    /// A StatefulSet claim template named like a pod volume.
    #[error("{workload}: claim template {claim:?} has the name of another volume")]
    ClaimNameTaken {
        /// The StatefulSet.
        workload: String,
        /// The claim template.
        claim: String,
    },

    /// Two containers (or init containers) with one name.
    #[error("{workload} has two containers named {container:?}")]
    DuplicateContainer {
        /// The workload.
        workload: String,
        /// The container name.
        container: String,
    },

    /// A mount of a volume the pod does not have.
    #[error(
        "{workload}: container {container:?} mounts {volume:?} at {path}, which is not a volume \
         of the pod (volumes: {})",
        if volumes.is_empty() { "none".to_owned() } else { volumes.join(", ") }
    )]
    UnknownVolume {
        /// The workload.
        workload: String,
        /// The container.
        container: String,
        /// The volume it mounts.
        volume: String,
        /// Where.
        path: String,
        /// The pod's volumes.
        volumes: Vec<String>,
    },

    /// A Service with no ports.
    #[error("Service {service} has no ports; the workload's containers declare none")]
    ServiceWithoutPorts {
        /// `shop/api`.
        service: String,
    },

    /// Service port 0.
    #[error("Service {service}: 0 is not a port (1-65535)")]
    ZeroServicePort {
        /// `shop/api`.
        service: String,
    },

    /// A Service forwarding to a port no container declares.
    #[error(
        "Service {service} forwards to port {target:?}, which no container of {workload} \
         declares ({})",
        ports.join(", ")
    )]
    UnknownTargetPort {
        /// `shop/api`.
        service: String,
        /// The container port name.
        target: String,
        /// The workload's name.
        workload: String,
        /// Its container ports.
        ports: Vec<String>,
    },

    /// An Ingress with no paths.
    #[error("{ingress} has no paths; add one with `.path(\"/\", port)`")]
    IngressWithoutPaths {
        /// `Ingress shop/api`.
        ingress: String,
    },

    /// An empty inbound CIDR allowlist.
    #[error("{ingress}: the inbound CIDR allowlist is empty; name the client CIDRs")]
    EmptyAllowlist {
        /// `Ingress shop/api`.
        ingress: String,
    },

    /// An unacceptable reason for an Ingress open to the internet.
    #[error("{ingress}: the reason given to `.open_to_internet(reason)`: {problem}")]
    OpenToInternetReason {
        /// `Ingress shop/api`.
        ingress: String,
        /// Why the reason was refused.
        problem: ReasonError,
    },

    /// An internet-facing Ingress without an allowlist or a reason.
    #[error(
        "{ingress} is internet-facing with no inbound CIDR allowlist (or one admitting every \
         address); restrict it with `.inbound_cidrs([...])` or say why it is public with \
         `.open_to_internet(reason)`"
    )]
    OpenToInternet {
        /// `Ingress shop/api`.
        ingress: String,
    },

    /// An Ingress path routed to a port its Service does not serve.
    #[error("{ingress} routes {path} to port {port}, which Service {service} does not serve")]
    UnservedPort {
        /// `Ingress shop/api`.
        ingress: String,
        /// The path.
        path: String,
        /// The port.
        port: u16,
        /// `shop/api`.
        service: String,
    },

    /// An Ingress path not starting with `/`.
    #[error("{ingress}: path {path:?} must start with '/'")]
    RelativePath {
        /// `Ingress shop/api`.
        ingress: String,
        /// The path.
        path: String,
    },

    /// Autoscaling bounds out of order.
    #[error("{workload}: autoscaling between {min} and {max} replicas; need 1 <= min <= max")]
    AutoscalingRange {
        /// The workload.
        workload: String,
        /// The minimum.
        min: u16,
        /// The maximum.
        max: u16,
    },

    /// A CPU utilization target outside 1-100.
    #[error("{workload}: CPU utilization target {percent}% is not 1-100")]
    CpuTarget {
        /// The workload.
        workload: String,
        /// The target.
        percent: u8,
    },

    /// A disruption budget no drain can satisfy.
    #[error(
        "{workload}: a budget of {min_available} available pods with {replicas} replica(s) \
         blocks every node drain; lower it or add replicas"
    )]
    BudgetBlocksDrains {
        /// The workload.
        workload: String,
        /// The budget's minimum.
        min_available: u16,
        /// The replicas (the autoscaler's minimum when it scales).
        replicas: u16,
    },

    /// A network policy to a port the workload does not name.
    #[error(
        "{workload}: no container port named {port:?} to allow traffic to (ports: {})",
        ports.join(", ")
    )]
    NoSuchPort {
        /// `Deployment shop/api`.
        workload: String,
        /// The port asked for.
        port: String,
        /// The workload's named ports.
        ports: Vec<String>,
    },

    /// An IRSA annotation that is not an IAM role ARN.
    #[error(
        "ServiceAccount {account:?}: {arn:?} is not an IAM role ARN \
         (arn:<partition>:iam::<account>:role/<name>)"
    )]
    NotRoleArn {
        /// The ServiceAccount.
        account: String,
        /// The value given.
        arn: String,
    },

    /// A Role without rules.
    #[error("role {role:?} has no rules; add one with `.allow(...)`")]
    NoRules {
        /// The role.
        role: String,
    },

    /// A Role granting `*`.
    #[error("role {role:?} grants `*`; list the resources and verbs it needs (least privilege)")]
    WildcardRule {
        /// The role.
        role: String,
    },

    /// A Role bound to an account of another namespace.
    #[error(
        "Role {role} cannot be bound to ServiceAccount {account}: a Role only grants inside \
         its namespace"
    )]
    RoleOutsideNamespace {
        /// `shop/reader`.
        role: String,
        /// `ops/agent`.
        account: String,
    },

    /// An idle-culling period that is not positive.
    #[error("{what}: {field} is {seconds} s; idle culling needs a period above 0 s")]
    CullPeriod {
        /// The chart (`jupyterhub`).
        what: String,
        /// `cull.timeout`, `cull.every`, `idle_timeout`.
        field: String,
        /// The period given.
        seconds: u32,
    },

    /// Scaling bounds out of order (a minimum above a default or maximum, a zero maximum).
    #[error(
        "{what}: {field} bounds min {min}, default {default}, max {max}; need 0 < min <= default <= max"
    )]
    ScalingBounds {
        /// The chart or option (`dask-gateway worker cores`).
        what: String,
        /// The bounded setting.
        field: String,
        /// The minimum.
        min: String,
        /// The default.
        default: String,
        /// The maximum.
        max: String,
    },

    /// A per-cluster ceiling below what one worker takes: no cluster could start a worker.
    #[error("{what}: {field} {ceiling} is below one worker's {worker}; no worker would start")]
    CeilingBelowWorker {
        /// The chart.
        what: String,
        /// `cluster_max_cores`, `cluster_max_memory`.
        field: String,
        /// The ceiling.
        ceiling: String,
        /// One worker's largest size.
        worker: String,
    },

    /// Helm values that do not serialize.
    #[error("values of release {release} do not serialize: {message}")]
    ValuesDoNotSerialize {
        /// The release.
        release: String,
        /// The serializer's message.
        message: String,
    },

    /// Post-renderers on a release Flux does not deliver: the chart would be installed
    /// without them.
    #[error(
        "release {release} has post-renderers, which only a Flux HelmRelease applies: deliver it with Delivery::Flux"
    )]
    PostRendererNeedsFlux {
        /// The release.
        release: String,
    },

    /// A GitOps repository URL Flux and Argo CD would not fetch with integrity.
    #[error("GitOps repository {repository:?} must be an https:// or ssh:// URL with a host")]
    GitOpsRepository {
        /// The URL given.
        repository: String,
    },

    /// A GitOps layout for a stack with no Kubernetes apps.
    #[error(
        "the stack has no Kubernetes apps to deliver; add its objects before the GitOps layout"
    )]
    NoAppsToDeliver,

    /// An infrastructure app that is not an app of the stack.
    #[error("infrastructure app {app:?} is not a Kubernetes app of the stack ({})", apps.join(", "))]
    UnknownInfrastructureApp {
        /// The app named.
        app: String,
        /// The stack's apps.
        apps: Vec<String>,
    },

    /// A delivery order (`GitOps::app_after`) naming an app the stack does not have.
    #[error("delivery order names app {app:?}, which is not a Kubernetes app of the stack ({})", apps.join(", "))]
    UnknownOrderedApp {
        /// The app named.
        app: String,
        /// The stack's apps.
        apps: Vec<String>,
    },

    /// Delivery orders that wait on each other: Flux would never apply these apps.
    #[error("apps {} wait on each other (GitOps::app_after and the infrastructure apps)", apps.join(" -> "))]
    DeliveryCycle {
        /// The apps of the cycle, in waiting order, the first repeated last.
        apps: Vec<String>,
    },
}

impl K8sError {
    /// This error at construct path (or stack) `at`, as girder-core's error.
    pub fn at(self, at: impl std::fmt::Display) -> girder_core::Error {
        girder_core::Error::construct(at, self)
    }
}

fn refused_reason(problem: &ReasonError) -> String {
    match problem {
        ReasonError::Empty => "needs a reason".to_owned(),
        other => format!("has a reason that is not allowed: {other}"),
    }
}
