//! Typed values for the charts girder's systems install, each pinned to the version its
//! fields were written against (the upstream values schemas in ../shared/schemas/helm
//! check them). Every struct has an `extra` map, flattened in, for the rest of the chart.

pub mod rabbitmq;
pub mod redis;

use serde::Serialize;

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
