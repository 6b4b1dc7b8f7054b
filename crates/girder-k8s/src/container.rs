//! A container by intent: image, ports, environment, resources, probes, mounts, and a
//! hardened security context whose every relaxation carries a reason.

use std::collections::BTreeMap;

use girder_core::Result;
use girder_core::vocabulary::{Reason, ReasonError};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::error::K8sError;
use crate::objects::ConfigMapHandle;
use crate::validate;

/// Transport protocol of a port.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Protocol {
    /// TCP (the default).
    #[default]
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
        }
    }
}

/// A named container port. Services, probes and network policies refer to it by name.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    /// IANA service name (`http`, `metrics`).
    pub name: String,
    /// 1-65535.
    pub number: u16,
    /// TCP or UDP.
    pub protocol: Protocol,
}

impl Port {
    /// A TCP port.
    pub fn new(name: impl Into<String>, number: u16) -> Self {
        Self {
            name: name.into(),
            number,
            protocol: Protocol::Tcp,
        }
    }

    /// TCP port `number` named `http`.
    pub fn http(number: u16) -> Self {
        Self::new("http", number)
    }

    /// TCP port `number` named `metrics`.
    pub fn metrics(number: u16) -> Self {
        Self::new("metrics", number)
    }

    /// The same port over UDP.
    pub fn udp(mut self) -> Self {
        self.protocol = Protocol::Udp;
        self
    }
}

/// One environment variable.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Env {
    name: String,
    source: EnvSource,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum EnvSource {
    Value(String),
    ConfigMapKey { config_map: String, key: String },
    SecretKey { secret: String, key: String },
    Field(String),
}

impl Env {
    /// A literal value. Never a secret: use [`Env::secret_key`].
    pub fn value(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            source: EnvSource::Value(value.into()),
        }
    }

    /// A key of a ConfigMap of the same namespace.
    pub fn config_map_key(
        name: impl Into<String>,
        config_map: &ConfigMapHandle,
        key: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            source: EnvSource::ConfigMapKey {
                config_map: config_map.name().to_owned(),
                key: key.into(),
            },
        }
    }

    /// A key of a Secret of the same namespace (made by an ExternalSecret or
    /// SealedSecret: girder never writes secret values).
    pub fn secret_key(
        name: impl Into<String>,
        secret: impl Into<String>,
        key: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            source: EnvSource::SecretKey {
                secret: secret.into(),
                key: key.into(),
            },
        }
    }

    /// A field of the pod (`metadata.name`, `status.podIP`, `spec.nodeName`).
    pub fn field(name: impl Into<String>, field_path: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            source: EnvSource::Field(field_path.into()),
        }
    }

    fn build(&self) -> core::EnvVar {
        let mut var = core::EnvVar {
            name: self.name.clone(),
            ..core::EnvVar::default()
        };
        match &self.source {
            EnvSource::Value(value) => var.value = Some(value.clone()),
            EnvSource::ConfigMapKey { config_map, key } => {
                var.value_from = Some(core::EnvVarSource {
                    config_map_key_ref: Some(core::ConfigMapKeySelector {
                        name: config_map.clone(),
                        key: key.clone(),
                        optional: None,
                    }),
                    ..core::EnvVarSource::default()
                });
            }
            EnvSource::SecretKey { secret, key } => {
                var.value_from = Some(core::EnvVarSource {
                    secret_key_ref: Some(core::SecretKeySelector {
                        name: secret.clone(),
                        key: key.clone(),
                        optional: None,
                    }),
                    ..core::EnvVarSource::default()
                });
            }
            EnvSource::Field(path) => {
                var.value_from = Some(core::EnvVarSource {
                    field_ref: Some(core::ObjectFieldSelector {
                        field_path: path.clone(),
                        api_version: None,
                    }),
                    ..core::EnvVarSource::default()
                });
            }
        }
        var
    }
}

/// All keys of a ConfigMap or Secret as environment variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvFrom {
    /// Every key of this ConfigMap.
    ConfigMap(String),
    /// Every key of this Secret.
    Secret(String),
}

impl EnvFrom {
    /// Every key of ConfigMap `config_map`.
    pub fn config_map(config_map: &ConfigMapHandle) -> Self {
        EnvFrom::ConfigMap(config_map.name().to_owned())
    }

    fn build(&self) -> core::EnvFromSource {
        match self {
            EnvFrom::ConfigMap(name) => core::EnvFromSource {
                config_map_ref: Some(core::ConfigMapEnvSource {
                    name: name.clone(),
                    optional: None,
                }),
                ..core::EnvFromSource::default()
            },
            EnvFrom::Secret(name) => core::EnvFromSource {
                secret_ref: Some(core::SecretEnvSource {
                    name: name.clone(),
                    optional: None,
                }),
                ..core::EnvFromSource::default()
            },
        }
    }
}

/// CPU and memory requests and limits.
#[must_use]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    requests: BTreeMap<String, String>,
    limits: BTreeMap<String, String>,
}

impl Resources {
    /// No requests or limits yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// CPU request and limit (`"250m"`, `"1"`).
    pub fn cpu(mut self, request: &str, limit: &str) -> Self {
        self.requests.insert("cpu".into(), request.into());
        self.limits.insert("cpu".into(), limit.into());
        self
    }

    /// CPU request only: no CPU limit, so the container is never throttled.
    pub fn cpu_request(mut self, request: &str) -> Self {
        self.requests.insert("cpu".into(), request.into());
        self
    }

    /// Memory request and limit (`"256Mi"`, `"1Gi"`).
    pub fn memory(mut self, request: &str, limit: &str) -> Self {
        self.requests.insert("memory".into(), request.into());
        self.limits.insert("memory".into(), limit.into());
        self
    }

    /// Any other resource (`ephemeral-storage`, `nvidia.com/gpu`).
    pub fn other(mut self, resource: &str, request: &str, limit: &str) -> Self {
        self.requests.insert(resource.into(), request.into());
        self.limits.insert(resource.into(), limit.into());
        self
    }

    fn build(&self, at: &str, container: &str) -> Result<core::ResourceRequirements> {
        let convert = |map: &BTreeMap<String, String>, what: &str| -> Result<_> {
            let mut out = BTreeMap::new();
            for (resource, value) in map {
                validate::quantity(at, &format!("{what} {resource}"), value)?;
                out.insert(resource.clone(), Quantity(value.clone()));
            }
            Ok((!out.is_empty()).then_some(out))
        };
        validate::requests_within_limits(
            at,
            &format!("container {container:?}"),
            &self.requests,
            &self.limits,
        )?;
        Ok(core::ResourceRequirements {
            requests: convert(&self.requests, "request")?,
            limits: convert(&self.limits, "limit")?,
            ..core::ResourceRequirements::default()
        })
    }
}

/// A liveness, readiness or startup probe.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    action: ProbeAction,
    initial_delay_seconds: Option<i32>,
    period_seconds: Option<i32>,
    timeout_seconds: Option<i32>,
    failure_threshold: Option<i32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum ProbeAction {
    HttpGet { path: String, port: String },
    Tcp { port: String },
    Exec(Vec<String>),
}

impl Probe {
    fn with(action: ProbeAction) -> Self {
        Self {
            action,
            initial_delay_seconds: None,
            period_seconds: None,
            timeout_seconds: None,
            failure_threshold: None,
        }
    }

    /// `GET path` on the named container port.
    pub fn http_get(path: impl Into<String>, port_name: impl Into<String>) -> Self {
        Self::with(ProbeAction::HttpGet {
            path: path.into(),
            port: port_name.into(),
        })
    }

    /// A TCP connection to the named container port.
    pub fn tcp(port_name: impl Into<String>) -> Self {
        Self::with(ProbeAction::Tcp {
            port: port_name.into(),
        })
    }

    /// A command run in the container; exit 0 is healthy.
    pub fn exec<S: Into<String>>(command: impl IntoIterator<Item = S>) -> Self {
        Self::with(ProbeAction::Exec(
            command.into_iter().map(Into::into).collect(),
        ))
    }

    /// Seconds before the first probe.
    pub fn initial_delay(mut self, seconds: u16) -> Self {
        self.initial_delay_seconds = Some(i32::from(seconds));
        self
    }

    /// Seconds between probes.
    pub fn period(mut self, seconds: u16) -> Self {
        self.period_seconds = Some(i32::from(seconds));
        self
    }

    /// Seconds before one probe times out.
    pub fn timeout(mut self, seconds: u16) -> Self {
        self.timeout_seconds = Some(i32::from(seconds));
        self
    }

    /// Failures in a row before the probe fails.
    pub fn failure_threshold(mut self, count: u16) -> Self {
        self.failure_threshold = Some(i32::from(count));
        self
    }

    /// The named port the probe uses, if any.
    fn port(&self) -> Option<&str> {
        match &self.action {
            ProbeAction::HttpGet { port, .. } | ProbeAction::Tcp { port } => Some(port),
            ProbeAction::Exec(_) => None,
        }
    }

    fn build(&self) -> core::Probe {
        let mut probe = core::Probe {
            initial_delay_seconds: self.initial_delay_seconds,
            period_seconds: self.period_seconds,
            timeout_seconds: self.timeout_seconds,
            failure_threshold: self.failure_threshold,
            ..core::Probe::default()
        };
        match &self.action {
            ProbeAction::HttpGet { path, port } => {
                probe.http_get = Some(core::HTTPGetAction {
                    path: Some(path.clone()),
                    port: IntOrString::String(port.clone()),
                    ..core::HTTPGetAction::default()
                });
            }
            ProbeAction::Tcp { port } => {
                probe.tcp_socket = Some(core::TCPSocketAction {
                    port: IntOrString::String(port.clone()),
                    host: None,
                });
            }
            ProbeAction::Exec(command) => {
                probe.exec = Some(core::ExecAction {
                    command: Some(command.clone()),
                });
            }
        }
        probe
    }
}

/// A relaxation of the restricted security context, with the reason for it: a typed
/// value, so what a reason says never changes a setting.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecurityException {
    /// `readOnlyRootFilesystem: false`: the image writes outside its mounts.
    WritableRootFilesystem(Reason),
    /// `runAsNonRoot: false` (the container's, and so the pod's): the image cannot run
    /// as another user.
    RunAsRoot(Reason),
    /// `allowPrivilegeEscalation: true`: setuid binaries the process needs.
    AllowPrivilegeEscalation(Reason),
    /// A Linux capability added on top of dropping all.
    AddCapability {
        /// `NET_BIND_SERVICE`.
        capability: String,
        /// Why the container needs it.
        reason: Reason,
    },
}

impl SecurityException {
    /// The setting relaxed, as written in the workload's annotation.
    pub fn setting(&self) -> &'static str {
        match self {
            SecurityException::WritableRootFilesystem(_) => "readOnlyRootFilesystem=false",
            SecurityException::RunAsRoot(_) => "runAsNonRoot=false",
            SecurityException::AllowPrivilegeEscalation(_) => "allowPrivilegeEscalation=true",
            SecurityException::AddCapability { .. } => "capabilities.add",
        }
    }

    /// Why.
    pub fn reason(&self) -> &Reason {
        match self {
            SecurityException::WritableRootFilesystem(reason)
            | SecurityException::RunAsRoot(reason)
            | SecurityException::AllowPrivilegeEscalation(reason)
            | SecurityException::AddCapability { reason, .. } => reason,
        }
    }
}

/// An exception whose reason was refused: reported, with the construct path, when the
/// workload is added.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RefusedException {
    setting: &'static str,
    error: ReasonError,
}

/// One container of a pod.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    pub(crate) name: String,
    image: String,
    command: Vec<String>,
    args: Vec<String>,
    working_dir: Option<String>,
    pub(crate) ports: Vec<Port>,
    env: Vec<Env>,
    env_from: Vec<EnvFrom>,
    resources: Option<Resources>,
    liveness: Option<Probe>,
    readiness: Option<Probe>,
    startup: Option<Probe>,
    pub(crate) mounts: Vec<(String, String, bool)>,
    exceptions: Vec<SecurityException>,
    refused_exceptions: Vec<RefusedException>,
    run_as_user: Option<i64>,
    run_as_group: Option<i64>,
}

impl Container {
    /// A container `name` running `image`, pinned by tag or digest (`repo:1.2.3`,
    /// `repo@sha256:...`; `latest` is refused when the workload is added).
    pub fn new(name: impl Into<String>, image: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            image: image.into(),
            command: Vec::new(),
            args: Vec::new(),
            working_dir: None,
            ports: Vec::new(),
            env: Vec::new(),
            env_from: Vec::new(),
            resources: None,
            liveness: None,
            readiness: None,
            startup: None,
            mounts: Vec::new(),
            exceptions: Vec::new(),
            refused_exceptions: Vec::new(),
            run_as_user: None,
            run_as_group: None,
        }
    }

    /// The entrypoint (`command`), replacing the image's.
    pub fn command<S: Into<String>>(mut self, command: impl IntoIterator<Item = S>) -> Self {
        self.command = command.into_iter().map(Into::into).collect();
        self
    }

    /// Arguments (`args`).
    pub fn args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Working directory.
    pub fn working_dir(mut self, dir: impl Into<String>) -> Self {
        self.working_dir = Some(dir.into());
        self
    }

    /// Add a named port.
    pub fn port(mut self, port: Port) -> Self {
        self.ports.push(port);
        self
    }

    /// Add an environment variable.
    pub fn env(mut self, env: Env) -> Self {
        self.env.push(env);
        self
    }

    /// Add all keys of a ConfigMap or Secret as environment variables.
    pub fn env_from(mut self, from: EnvFrom) -> Self {
        self.env_from.push(from);
        self
    }

    /// Requests and limits.
    pub fn resources(mut self, resources: Resources) -> Self {
        self.resources = Some(resources);
        self
    }

    /// Liveness probe: restart the container when it fails.
    pub fn liveness(mut self, probe: Probe) -> Self {
        self.liveness = Some(probe);
        self
    }

    /// Readiness probe: take the pod out of Services while it fails.
    pub fn readiness(mut self, probe: Probe) -> Self {
        self.readiness = Some(probe);
        self
    }

    /// Startup probe: hold the other probes until it succeeds.
    pub fn startup(mut self, probe: Probe) -> Self {
        self.startup = Some(probe);
        self
    }

    /// Mount volume `volume` (of the pod, or a StatefulSet claim template) at `path`.
    pub fn mount(mut self, volume: impl Into<String>, path: impl Into<String>) -> Self {
        self.mounts.push((volume.into(), path.into(), false));
        self
    }

    /// Mount volume `volume` read-only at `path`.
    pub fn mount_read_only(mut self, volume: impl Into<String>, path: impl Into<String>) -> Self {
        self.mounts.push((volume.into(), path.into(), true));
        self
    }

    /// Allow writes to the root filesystem (the image writes outside its mounts).
    pub fn writable_root_filesystem(self, reason: impl Into<String>) -> Self {
        self.relax(
            "readOnlyRootFilesystem=false",
            reason,
            SecurityException::WritableRootFilesystem,
        )
    }

    /// Run as root (the image cannot run as another user).
    pub fn run_as_root(self, reason: impl Into<String>) -> Self {
        self.relax("runAsNonRoot=false", reason, SecurityException::RunAsRoot)
    }

    /// Allow privilege escalation (setuid binaries the process needs).
    pub fn allow_privilege_escalation(self, reason: impl Into<String>) -> Self {
        self.relax(
            "allowPrivilegeEscalation=true",
            reason,
            SecurityException::AllowPrivilegeEscalation,
        )
    }

    /// Add a Linux capability on top of dropping all (`NET_BIND_SERVICE`).
    pub fn add_capability(self, capability: impl Into<String>, reason: impl Into<String>) -> Self {
        let capability = capability.into();
        self.relax("capabilities.add", reason, |reason| {
            SecurityException::AddCapability { capability, reason }
        })
    }

    /// Relax a setting for `reason` (text or a [`Reason`]); a refused reason is reported
    /// when the workload is added.
    fn relax(
        mut self,
        setting: &'static str,
        reason: impl Into<String>,
        exception: impl FnOnce(Reason) -> SecurityException,
    ) -> Self {
        match Reason::new(reason) {
            Ok(reason) => self.exceptions.push(exception(reason)),
            Err(error) => self
                .refused_exceptions
                .push(RefusedException { setting, error }),
        }
        self
    }

    /// Run as this user id. Required unless the container runs as root
    /// ([`Container::run_as_root`]): `runAsNonRoot` without a user leaves the kubelet the
    /// image's `USER`, and it refuses to start the container when that is root (a
    /// Dockerfile without `USER`) or a name (`USER nobody`). State the image's own
    /// numeric user, or for an image built to run as root one its files allow.
    pub fn run_as_user(mut self, uid: u32) -> Self {
        self.run_as_user = Some(i64::from(uid));
        self
    }

    /// Run with this primary group id (`runAsGroup`; without it, the image's group, or
    /// root's group 0 for an image without `USER`).
    pub fn run_as_group(mut self, gid: u32) -> Self {
        self.run_as_group = Some(i64::from(gid));
        self
    }

    /// The user id stated with [`Container::run_as_user`].
    pub fn user(&self) -> Option<u32> {
        self.run_as_user.and_then(|uid| u32::try_from(uid).ok())
    }

    /// The security exceptions of the container, in the order given.
    pub fn security_exceptions(&self) -> &[SecurityException] {
        &self.exceptions
    }

    /// Whether the container runs as root ([`SecurityException::RunAsRoot`]).
    pub(crate) fn runs_as_root(&self) -> bool {
        self.exceptions
            .iter()
            .any(|e| matches!(e, SecurityException::RunAsRoot(_)))
    }

    fn added_capabilities(&self) -> Vec<String> {
        self.exceptions
            .iter()
            .filter_map(|e| match e {
                SecurityException::AddCapability { capability, .. } => Some(capability.clone()),
                _ => None,
            })
            .collect()
    }

    /// `setting: reason` lines for the workload's annotation.
    pub(crate) fn exception_notes(&self) -> Vec<String> {
        self.exceptions
            .iter()
            .map(|e| match e {
                SecurityException::AddCapability { capability, reason } => {
                    format!("{}: {}: {capability}: {reason}", self.name, e.setting())
                }
                _ => format!("{}: {}: {}", self.name, e.setting(), e.reason()),
            })
            .collect()
    }

    /// The k8s-openapi container, after checking names, image, ports and quantities.
    pub(crate) fn build(&self, at: &str) -> Result<core::Container> {
        validate::dns_label(at, "container name", &self.name)?;
        validate::image(at, &self.name, &self.image)?;
        if let Some(refused) = self.refused_exceptions.first() {
            return Err(K8sError::ExceptionReason {
                container: self.name.clone(),
                setting: refused.setting,
                problem: refused.error.clone(),
            }
            .at(at));
        }
        if !self.runs_as_root() {
            match self.run_as_user {
                None => {
                    return Err(K8sError::NonRootWithoutUser {
                        container: self.name.clone(),
                    }
                    .at(at));
                }
                Some(0) => {
                    return Err(K8sError::RootId {
                        container: self.name.clone(),
                        setting: "runAsUser",
                    }
                    .at(at));
                }
                Some(_) => {}
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for env in &self.env {
            validate::env_name(at, &self.name, &env.name)?;
            if !names.insert(env.name.as_str()) {
                return Err(K8sError::DuplicateEnv {
                    container: self.name.clone(),
                    name: env.name.clone(),
                }
                .at(at));
            }
            let what = |kind: &str, object: &str| {
                format!(
                    "container {:?} env {} {kind} {object:?}",
                    self.name, env.name
                )
            };
            match &env.source {
                EnvSource::ConfigMapKey { config_map, key } => {
                    validate::dns_subdomain(at, &what("ConfigMap", "name"), config_map)?;
                    validate::data_key(at, &what("ConfigMap", config_map), key)?;
                }
                EnvSource::SecretKey { secret, key } => {
                    validate::dns_subdomain(at, &what("Secret", "name"), secret)?;
                    validate::data_key(at, &what("Secret", secret), key)?;
                }
                EnvSource::Value(_) | EnvSource::Field(_) => {}
            }
        }
        for from in &self.env_from {
            let (kind, name) = match from {
                EnvFrom::ConfigMap(name) => ("ConfigMap", name),
                EnvFrom::Secret(name) => ("Secret", name),
            };
            validate::dns_subdomain(
                at,
                &format!("container {:?} envFrom {kind}", self.name),
                name,
            )?;
        }
        let mut seen = std::collections::BTreeSet::new();
        for port in &self.ports {
            validate::port_name(at, &port.name)?;
            if port.number == 0 {
                return Err(K8sError::ZeroContainerPort {
                    container: self.name.clone(),
                    port: port.name.clone(),
                }
                .at(at));
            }
            if !seen.insert(port.name.as_str()) {
                return Err(K8sError::DuplicatePort {
                    container: self.name.clone(),
                    port: port.name.clone(),
                }
                .at(at));
            }
        }
        for probe in [&self.liveness, &self.readiness, &self.startup]
            .into_iter()
            .flatten()
        {
            if let Some(port) = probe.port() {
                if !self.ports.iter().any(|p| p.name == port) {
                    return Err(K8sError::ProbePort {
                        container: self.name.clone(),
                        port: port.to_owned(),
                        ports: self.ports.iter().map(|p| p.name.clone()).collect(),
                    }
                    .at(at));
                }
            }
        }
        let strings = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        Ok(core::Container {
            name: self.name.clone(),
            image: Some(self.image.clone()),
            command: strings(&self.command),
            args: strings(&self.args),
            working_dir: self.working_dir.clone(),
            ports: (!self.ports.is_empty()).then(|| {
                self.ports
                    .iter()
                    .map(|p| core::ContainerPort {
                        name: Some(p.name.clone()),
                        container_port: i32::from(p.number),
                        protocol: (p.protocol != Protocol::Tcp).then(|| p.protocol.as_str().into()),
                        ..core::ContainerPort::default()
                    })
                    .collect()
            }),
            env: (!self.env.is_empty()).then(|| self.env.iter().map(Env::build).collect()),
            env_from: (!self.env_from.is_empty())
                .then(|| self.env_from.iter().map(EnvFrom::build).collect()),
            resources: self
                .resources
                .as_ref()
                .map(|r| r.build(at, &self.name))
                .transpose()?,
            liveness_probe: self.liveness.as_ref().map(Probe::build),
            readiness_probe: self.readiness.as_ref().map(Probe::build),
            startup_probe: self.startup.as_ref().map(Probe::build),
            volume_mounts: (!self.mounts.is_empty()).then(|| {
                self.mounts
                    .iter()
                    .map(|(volume, path, read_only)| core::VolumeMount {
                        name: volume.clone(),
                        mount_path: path.clone(),
                        read_only: read_only.then_some(true),
                        ..core::VolumeMount::default()
                    })
                    .collect()
            }),
            security_context: Some(self.security_context()),
            ..core::Container::default()
        })
    }

    /// Restricted Pod Security, minus the relaxations given with reasons.
    fn security_context(&self) -> core::SecurityContext {
        let relaxed = |matches: fn(&SecurityException) -> bool| self.exceptions.iter().any(matches);
        let added = self.added_capabilities();
        core::SecurityContext {
            allow_privilege_escalation: Some(relaxed(|e| {
                matches!(e, SecurityException::AllowPrivilegeEscalation(_))
            })),
            read_only_root_filesystem: Some(!relaxed(|e| {
                matches!(e, SecurityException::WritableRootFilesystem(_))
            })),
            run_as_non_root: Some(!self.runs_as_root()),
            run_as_user: self.run_as_user,
            run_as_group: self.run_as_group,
            capabilities: Some(core::Capabilities {
                drop: Some(vec!["ALL".into()]),
                add: (!added.is_empty()).then_some(added),
            }),
            seccomp_profile: Some(core::SeccompProfile {
                type_: "RuntimeDefault".into(),
                localhost_profile: None,
            }),
            ..core::SecurityContext::default()
        }
    }
}
