//! Typed values for the charts girder's systems install, each pinned to the version its
//! fields were written against (the upstream values schemas in ../shared/schemas/helm
//! check them). Every struct has an `extra` map, flattened in, for the rest of the chart.

pub mod dask_gateway;
pub mod jupyterhub;
pub mod rabbitmq;
pub mod redis;

use serde::Serialize;

use crate::error::K8sError;

/// A memory size in gibibytes as Jupyter's tools write it: `4G`, which JupyterHub's
/// `ByteSpecification` (KubeSpawner's `mem_limit`) and dask-gateway's `MemoryLimit` both
/// read as 4 * 2^30 bytes (their `G` is binary, unlike a Kubernetes quantity's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Gibibytes(pub u32);

impl Serialize for Gibibytes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{}G", self.0))
    }
}

impl std::fmt::Display for Gibibytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}G", self.0)
    }
}

/// CPU in cores as Jupyter's tools read it (`0.5`, `2`): a whole number is written
/// without a fraction, as every YAML tool writes it back (kustomize prints `2` for
/// `2.0`), so the manifests round-trip unchanged.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Cores(pub f64);

impl Serialize for Cores {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let whole = self.0.fract() == 0.0 && self.0.abs() < 1e15;
        if whole {
            // Exact: a whole number below 2^53.
            #[allow(clippy::cast_possible_truncation)]
            serializer.serialize_i64(self.0 as i64)
        } else {
            serializer.serialize_f64(self.0)
        }
    }
}

impl std::fmt::Display for Cores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A request and its limit: the limit must be at least the request.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RequestLimit<T> {
    /// What is reserved.
    pub request: Option<T>,
    /// The most it may use.
    pub limit: Option<T>,
}

impl<T: PartialOrd + std::fmt::Display + Copy> RequestLimit<T> {
    /// `request`, at most `limit`.
    pub fn new(request: T, limit: T) -> Self {
        Self {
            request: Some(request),
            limit: Some(limit),
        }
    }

    /// Refuse a request above its limit: `what` names the process, `resource` `cpu` or
    /// `memory`.
    pub(crate) fn check(&self, what: &str, resource: &str) -> Result<(), K8sError> {
        within(what, resource, self.request, self.limit)
    }
}

/// A request (guarantee) above its limit, refused.
pub(crate) fn within<T: PartialOrd + std::fmt::Display + Copy>(
    what: &str,
    resource: &str,
    request: Option<T>,
    limit: Option<T>,
) -> Result<(), K8sError> {
    match (request, limit) {
        (Some(request), Some(limit)) if request > limit => Err(K8sError::RequestAboveLimit {
            what: what.to_owned(),
            resource: resource.to_owned(),
            request: request.to_string(),
            limit: limit.to_string(),
        }),
        _ => Ok(()),
    }
}

/// A chart's container image: repository and tag apart.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ChartImage {
    /// The repository (`quay.io/jupyterhub/k8s-hub`).
    pub name: String,
    /// The tag; `<tag>@sha256:<digest>` pins it by digest.
    pub tag: String,
}

impl ChartImage {
    /// Split an image reference `<repository>:<tag>[@sha256:<digest>]` at the last `:`
    /// before any `@`: the digest stays with the tag, so the chart's `name:tag` is the
    /// reference given. A reference without a tag is refused (`latest` by accident).
    pub fn from_reference(reference: &str) -> Result<Self, K8sError> {
        let (named, digest) = match reference.split_once('@') {
            Some((named, digest)) => (named, Some(digest)),
            None => (reference, None),
        };
        let refused = || {
            K8sError::Image {
            container: "chart values".to_owned(),
            image: reference.to_owned(),
            why: "an image for chart values is <repository>:<tag>[@sha256:<digest>], the tag not latest"
                .to_owned(),
        }
        };
        let colon = named.rfind(':').ok_or_else(refused)?;
        let (name, tag) = (&named[..colon], &named[colon + 1..]);
        if name.is_empty() || tag.is_empty() || tag.contains('/') || tag == "latest" {
            return Err(refused());
        }
        if let Some(digest) = digest {
            let hex = digest.strip_prefix("sha256:").ok_or_else(refused)?;
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(refused());
            }
        }
        Ok(Self {
            name: name.to_owned(),
            tag: match digest {
                Some(digest) => format!("{tag}@{digest}"),
                None => tag.to_owned(),
            },
        })
    }

    /// The reference again (`name:tag`).
    pub fn reference(&self) -> String {
        format!("{}:{}", self.name, self.tag)
    }
}

/// Requests and limits as the Bitnami charts take them.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ChartResources {
    /// `requests` (`cpu`, `memory`).
    pub requests: Option<std::collections::BTreeMap<String, String>>,
    /// `limits`.
    pub limits: Option<std::collections::BTreeMap<String, String>>,
}

impl ChartResources {
    /// CPU and memory requests and limits.
    pub fn new(cpu: (&str, &str), memory: (&str, &str)) -> Self {
        let pair = |cpu: &str, memory: &str| {
            Some(
                [
                    ("cpu".to_owned(), cpu.to_owned()),
                    ("memory".to_owned(), memory.to_owned()),
                ]
                .into_iter()
                .collect(),
            )
        };
        Self {
            requests: pair(cpu.0, memory.0),
            limits: pair(cpu.1, memory.1),
        }
    }
}

/// Persistence as the Bitnami charts take it.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartPersistence {
    /// Use a PersistentVolumeClaim.
    pub enabled: bool,
    /// Its size (`8Gi`).
    pub size: Option<String>,
    /// Its StorageClass.
    pub storage_class: Option<String>,
}

impl ChartPersistence {
    /// A `size` volume of class `class`.
    pub fn volume(size: &str, class: Option<&str>) -> Self {
        Self {
            enabled: true,
            size: Some(size.into()),
            storage_class: class.map(str::to_owned),
        }
    }
}
