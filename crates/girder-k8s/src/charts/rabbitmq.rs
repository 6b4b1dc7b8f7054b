//! Bitnami `rabbitmq` 16.0.16.

use girder_core::helm::ChartRef;
use serde::Serialize;

use super::{ChartPersistence, ChartResources};
use crate::crds::Extra;
use crate::helm::ChartValues;

/// Values of the Bitnami RabbitMQ chart.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RabbitmqValues {
    /// Credentials.
    pub auth: Option<RabbitmqAuth>,
    /// Nodes.
    pub replica_count: Option<u16>,
    /// Data volume.
    pub persistence: Option<ChartPersistence>,
    /// Requests and limits.
    pub resources: Option<ChartResources>,
    /// rabbitmq.conf lines added to the chart's.
    pub extra_configuration: Option<String>,
    /// Load queues, exchanges and policies from a definitions file in a Secret.
    pub load_definition: Option<LoadDefinition>,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ChartValues for RabbitmqValues {
    fn chart() -> ChartRef {
        ChartRef::new(
            "oci://registry-1.docker.io/bitnamicharts",
            "rabbitmq",
            "16.0.16",
        )
    }
}

/// `auth`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RabbitmqAuth {
    /// User name.
    pub username: Option<String>,
    /// Secret holding the password (key `rabbitmq-password`).
    pub existing_password_secret: Option<String>,
    /// Secret holding the Erlang cookie (key `rabbitmq-erlang-cookie`).
    pub existing_erlang_secret: Option<String>,
}

/// `loadDefinition`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadDefinition {
    /// Load it.
    pub enabled: bool,
    /// Secret with `load_definition.json`.
    pub existing_secret: String,
}
