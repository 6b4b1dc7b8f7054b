//! Pod volumes and StatefulSet claim templates.

use std::collections::BTreeMap;

use girder_core::Result;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::objects::{ConfigMapHandle, PersistentVolumeClaimHandle};
use crate::validate;

/// A volume of a pod, mounted into containers by name.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Volume {
    pub(crate) name: String,
    source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Source {
    ConfigMap(String),
    Secret(String),
    EmptyDir {
        memory: bool,
        size_limit: Option<String>,
    },
    Claim(String),
}

impl Volume {
    /// The keys of ConfigMap `config_map` as files.
    pub fn config_map(name: impl Into<String>, config_map: &ConfigMapHandle) -> Self {
        Self {
            name: name.into(),
            source: Source::ConfigMap(config_map.name().to_owned()),
        }
    }

    /// The keys of Secret `secret` as files.
    pub fn secret(name: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            source: Source::Secret(secret.into()),
        }
    }

    /// Scratch space that lives as long as the pod (`/tmp` under a read-only root).
    pub fn empty_dir(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            source: Source::EmptyDir {
                memory: false,
                size_limit: None,
            },
        }
    }

    /// Scratch space in memory (tmpfs), capped at `size_limit` (`"64Mi"`).
    pub fn memory(name: impl Into<String>, size_limit: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            source: Source::EmptyDir {
                memory: true,
                size_limit: Some(size_limit.into()),
            },
        }
    }

    /// A PersistentVolumeClaim of the same namespace.
    pub fn claim(name: impl Into<String>, claim: &PersistentVolumeClaimHandle) -> Self {
        Self {
            name: name.into(),
            source: Source::Claim(claim.name().to_owned()),
        }
    }

    pub(crate) fn build(&self, at: &str) -> Result<core::Volume> {
        validate::dns_label(at, "volume name", &self.name)?;
        let mut volume = core::Volume {
            name: self.name.clone(),
            ..core::Volume::default()
        };
        match &self.source {
            Source::ConfigMap(name) => {
                volume.config_map = Some(core::ConfigMapVolumeSource {
                    name: name.clone(),
                    ..core::ConfigMapVolumeSource::default()
                });
            }
            Source::Secret(name) => {
                volume.secret = Some(core::SecretVolumeSource {
                    secret_name: Some(name.clone()),
                    ..core::SecretVolumeSource::default()
                });
            }
            Source::EmptyDir { memory, size_limit } => {
                if let Some(limit) = size_limit {
                    validate::quantity(at, "emptyDir size limit", limit)?;
                }
                volume.empty_dir = Some(core::EmptyDirVolumeSource {
                    medium: memory.then(|| "Memory".to_owned()),
                    size_limit: size_limit.clone().map(Quantity),
                });
            }
            Source::Claim(claim) => {
                volume.persistent_volume_claim = Some(core::PersistentVolumeClaimVolumeSource {
                    claim_name: claim.clone(),
                    read_only: None,
                });
            }
        }
        Ok(volume)
    }
}

/// A PersistentVolumeClaim template of a StatefulSet: one claim per replica, mounted by
/// the template's name.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimTemplate {
    pub(crate) name: String,
    size: String,
    storage_class: Option<String>,
    access_mode: &'static str,
}

impl ClaimTemplate {
    /// `size` (`"10Gi"`) of ReadWriteOnce storage of the cluster's default class.
    pub fn new(name: impl Into<String>, size: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            size: size.into(),
            storage_class: None,
            access_mode: "ReadWriteOnce",
        }
    }

    /// Use this StorageClass.
    pub fn storage_class(mut self, class: impl Into<String>) -> Self {
        self.storage_class = Some(class.into());
        self
    }

    pub(crate) fn build(
        &self,
        at: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<core::PersistentVolumeClaim> {
        validate::dns_label(at, "claim template name", &self.name)?;
        validate::quantity(at, "claim size", &self.size)?;
        Ok(core::PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                labels: Some(labels.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(claim_spec(
                &self.size,
                self.storage_class.as_deref(),
                self.access_mode,
            )),
            ..core::PersistentVolumeClaim::default()
        })
    }
}

pub(crate) fn claim_spec(
    size: &str,
    storage_class: Option<&str>,
    access_mode: &str,
) -> core::PersistentVolumeClaimSpec {
    core::PersistentVolumeClaimSpec {
        access_modes: Some(vec![access_mode.to_owned()]),
        storage_class_name: storage_class.map(str::to_owned),
        resources: Some(core::VolumeResourceRequirements {
            requests: Some(BTreeMap::from([(
                "storage".to_owned(),
                Quantity(size.to_owned()),
            )])),
            limits: None,
        }),
        ..core::PersistentVolumeClaimSpec::default()
    }
}
