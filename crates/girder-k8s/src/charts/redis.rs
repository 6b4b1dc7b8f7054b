//! Bitnami `redis` 23.1.1.

use girder_core::helm::ChartRef;
use serde::Serialize;

use super::{ChartPersistence, ChartResources};
use crate::crds::Extra;
use crate::helm::ChartValues;

/// Values of the Bitnami Redis chart.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RedisValues {
    /// `standalone` or `replication`.
    pub architecture: Option<String>,
    /// Authentication.
    pub auth: Option<RedisAuth>,
    /// redis.conf lines for every node (`maxmemory-policy allkeys-lru`).
    pub common_configuration: Option<String>,
    /// The master.
    pub master: Option<RedisNode>,
    /// Replicas (architecture `replication`).
    pub replica: Option<RedisNode>,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ChartValues for RedisValues {
    fn chart() -> ChartRef {
        ChartRef::new(
            "oci://registry-1.docker.io/bitnamicharts",
            "redis",
            "23.1.1",
        )
    }
}

/// `auth`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RedisAuth {
    /// Require a password.
    pub enabled: bool,
    /// Secret holding the password (made by an ExternalSecret; never a literal here).
    pub existing_secret: Option<String>,
    /// Its key.
    pub existing_secret_password_key: Option<String>,
}

/// `master` / `replica`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RedisNode {
    /// Replicas (replica set only).
    pub replica_count: Option<u16>,
    /// Requests and limits.
    pub resources: Option<ChartResources>,
    /// Data volume.
    pub persistence: Option<ChartPersistence>,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

impl RedisValues {
    /// One node used as a cache: no persistence, `maxmemory` with `allkeys-lru` eviction,
    /// password from Secret `secret` key `key`.
    pub fn lru_cache(maxmemory: &str, secret: &str, key: &str) -> Self {
        Self {
            architecture: Some("standalone".into()),
            auth: Some(RedisAuth {
                enabled: true,
                existing_secret: Some(secret.into()),
                existing_secret_password_key: Some(key.into()),
            }),
            common_configuration: Some(format!(
                "maxmemory {maxmemory}\nmaxmemory-policy allkeys-lru\nappendonly no\nsave \"\""
            )),
            master: Some(RedisNode {
                persistence: Some(ChartPersistence::default()),
                ..RedisNode::default()
            }),
            ..Self::default()
        }
    }
}
