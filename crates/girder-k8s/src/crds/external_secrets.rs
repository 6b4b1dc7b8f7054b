//! External Secrets (`external-secrets.io/v1`): Secrets made in the cluster from AWS SSM
//! Parameter Store or Secrets Manager, so secret values never appear in girder's output.

use serde::Serialize;

use girder_core::StaticJson;
use girder_core::kubernetes::{KubeScope, ProvidedObject};

use super::{Extra, NameRef, Object, Spec, text_at};

/// `ExternalSecret`.
pub type ExternalSecret = Object<ExternalSecretSpec>;
/// `SecretStore`.
pub type SecretStore = Object<SecretStoreSpec>;
/// `ClusterSecretStore`: the same spec, cluster-scoped.
pub type ClusterSecretStore = Object<ClusterSecretStoreSpec>;

/// The spec of an ExternalSecret.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretSpec {
    /// How often to re-read the source (`1h`).
    pub refresh_interval: Option<String>,
    /// The store to read from.
    pub secret_store_ref: StoreRef,
    /// The Secret to write.
    pub target: Target,
    /// One Secret key per remote value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<SecretData>,
    /// Whole remote values expanded into keys (a JSON secret).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data_from: Vec<DataFrom>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ExternalSecretSpec {
    /// Secret `target` with `(key, remote key)` pairs from `store`, refreshed hourly.
    pub fn new<K: Into<String>, R: Into<String>>(
        store: StoreRef,
        target: impl Into<String>,
        data: impl IntoIterator<Item = (K, R)>,
    ) -> Self {
        Self {
            refresh_interval: Some("1h".into()),
            secret_store_ref: store,
            target: Target {
                name: target.into(),
                creation_policy: Some("Owner".into()),
                ..Target::default()
            },
            data: data
                .into_iter()
                .map(|(key, remote)| SecretData {
                    secret_key: key.into(),
                    remote_ref: RemoteRef {
                        key: remote.into(),
                        property: None,
                    },
                })
                .collect(),
            data_from: Vec::new(),
            extra: Extra::new(),
        }
    }
}

impl ExternalSecretSpec {
    /// Secret `target` from the JSON secret `remote_key` of `store`: each `(key,
    /// property)` pair a key of the Secret holding that property of the JSON, refreshed
    /// hourly.
    pub fn from_properties<K: Into<String>, P: Into<String>>(
        store: StoreRef,
        target: impl Into<String>,
        remote_key: &str,
        pairs: impl IntoIterator<Item = (K, P)>,
    ) -> Self {
        let mut spec = Self::new(store, target, Vec::<(String, String)>::new());
        spec.data = pairs
            .into_iter()
            .map(|(key, property)| SecretData {
                secret_key: key.into(),
                remote_ref: RemoteRef {
                    key: remote_key.to_owned(),
                    property: Some(property.into()),
                },
            })
            .collect();
        spec
    }
}

impl Spec for ExternalSecretSpec {
    const API_VERSION: &'static str = "external-secrets.io/v1";
    const KIND: &'static str = "ExternalSecret";

    /// The target Secret (named `spec.target.name`, else like the ExternalSecret). Without
    /// a template or `dataFrom` it holds exactly `spec.data`'s keys; otherwise its keys
    /// are unknown at synth.
    fn provides(body: &StaticJson) -> Vec<ProvidedObject> {
        let Some(name) = text_at(body, "/spec/target/name").or(text_at(body, "/metadata/name"))
        else {
            return Vec::new();
        };
        let items = |p: &str| body.pointer(p).and_then(StaticJson::as_array);
        let plain = body.pointer("/spec/target/template").is_none()
            && items("/spec/dataFrom").is_none_or(Vec::is_empty)
            && items("/spec/data").is_some_and(|d| !d.is_empty());
        let keys = plain.then(|| {
            items("/spec/data")
                .into_iter()
                .flatten()
                .filter_map(|d| text_at(d, "/secretKey").map(str::to_owned))
                .collect()
        });
        vec![ProvidedObject {
            kind: "Secret".into(),
            name: name.to_owned(),
            keys,
        }]
    }
}

/// `secretStoreRef`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StoreRef {
    /// Store name.
    pub name: String,
    /// `SecretStore` or `ClusterSecretStore`.
    pub kind: String,
}

impl StoreRef {
    /// A ClusterSecretStore.
    pub fn cluster(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            kind: "ClusterSecretStore".into(),
        }
    }

    /// A SecretStore of the same namespace.
    pub fn namespaced(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            kind: "SecretStore".into(),
        }
    }
}

/// `target`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// The Secret's name.
    pub name: String,
    /// `Owner` (the default here), `Orphan`, `Merge`, `None`.
    pub creation_policy: Option<String>,
    /// Other fields (`template`, `deletionPolicy`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// One entry of `data`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretData {
    /// The key in the Secret.
    pub secret_key: String,
    /// Where the value comes from.
    pub remote_ref: RemoteRef,
}

/// `remoteRef`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RemoteRef {
    /// Parameter name or secret id (`/pixtools/prod/db/password`).
    pub key: String,
    /// A property of a JSON value.
    pub property: Option<String>,
}

/// One entry of `dataFrom`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataFrom {
    /// Expand the JSON value at `key` into keys.
    pub extract: Option<RemoteRef>,
    /// Every secret whose name or tags match, one key per secret.
    pub find: Option<Find>,
    /// Rename the keys found (`regexp` source -> target).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rewrite: Vec<Rewrite>,
    /// Read this entry from another store than the spec's.
    pub source_ref: Option<SourceRef>,
}

impl DataFrom {
    /// Expand the JSON value at `key`.
    pub fn extract(key: impl Into<String>) -> Self {
        Self {
            extract: Some(RemoteRef {
                key: key.into(),
                property: None,
            }),
            ..Self::default()
        }
    }

    /// The secrets matching `find`.
    pub fn find(find: Find) -> Self {
        Self {
            find: Some(find),
            ..Self::default()
        }
    }

    /// Rename the keys: each is replaced by `target` where regular expression `source`
    /// matches.
    pub fn rewrite(mut self, source: impl Into<String>, target: impl Into<String>) -> Self {
        self.rewrite.push(Rewrite {
            regexp: RewriteRegexp {
                source: source.into(),
                target: target.into(),
            },
        });
        self
    }

    /// Read from `store` instead of the ExternalSecret's store.
    pub fn from_store(mut self, store: StoreRef) -> Self {
        self.source_ref = Some(SourceRef { store_ref: store });
        self
    }
}

/// `dataFrom[].find`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Find {
    /// Secret names matching a regular expression.
    pub name: Option<FindName>,
    /// Secrets carrying all these tags.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub tags: std::collections::BTreeMap<String, String>,
}

/// `find.name`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FindName {
    /// The regular expression.
    pub regexp: String,
}

/// `dataFrom[].rewrite[]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Rewrite {
    /// A regular-expression rename.
    pub regexp: RewriteRegexp,
}

/// `rewrite[].regexp`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RewriteRegexp {
    /// What to match in a key.
    pub source: String,
    /// What to put instead.
    pub target: String,
}

/// `dataFrom[].sourceRef`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceRef {
    /// The store.
    pub store_ref: StoreRef,
}

/// The spec of a SecretStore.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SecretStoreSpec {
    /// Where secrets come from.
    pub provider: Provider,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The spec of a ClusterSecretStore.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ClusterSecretStoreSpec {
    /// Where secrets come from.
    pub provider: Provider,
    /// Which namespaces may read through the store (`spec.conditions`); empty means
    /// every namespace. Restrict a store to the namespaces that use it with
    /// [`ClusterSecretStoreSpec::only_for`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<StoreCondition>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ClusterSecretStoreSpec {
    /// A store reading from `provider`, open to every namespace until
    /// [`ClusterSecretStoreSpec::only_for`] restricts it.
    pub fn new(provider: Provider) -> Self {
        Self {
            provider,
            ..Self::default()
        }
    }

    /// Only ExternalSecrets in `namespaces` may read through the store (one condition
    /// listing them): a ClusterSecretStore otherwise serves every namespace, so any
    /// namespace could read every secret the operator's identity can.
    pub fn only_for<S: Into<String>>(mut self, namespaces: impl IntoIterator<Item = S>) -> Self {
        self.conditions.push(StoreCondition {
            namespaces: namespaces.into_iter().map(Into::into).collect(),
        });
        self
    }
}

/// One `spec.conditions[]` entry of a ClusterSecretStore: the namespaces named here may
/// use the store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StoreCondition {
    /// Namespaces, by name.
    pub namespaces: Vec<String>,
}

impl Spec for SecretStoreSpec {
    const API_VERSION: &'static str = "external-secrets.io/v1";
    const KIND: &'static str = "SecretStore";
}

impl Spec for ClusterSecretStoreSpec {
    const API_VERSION: &'static str = "external-secrets.io/v1";
    const KIND: &'static str = "ClusterSecretStore";
    const SCOPE: KubeScope = KubeScope::Cluster;
}

/// `provider`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Provider {
    /// AWS Parameter Store or Secrets Manager.
    pub aws: Option<AwsProvider>,
    /// Other providers.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `provider.aws`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AwsProvider {
    /// `ParameterStore` or `SecretsManager`.
    pub service: String,
    /// AWS region.
    pub region: String,
    /// How the operator authenticates (IRSA through a ServiceAccount).
    pub auth: Option<AwsAuth>,
}

/// `provider.aws.auth`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AwsAuth {
    /// IRSA / Pod Identity token of a ServiceAccount.
    pub jwt: AwsJwt,
}

/// `provider.aws.auth.jwt`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AwsJwt {
    /// The ServiceAccount whose role reads the secrets.
    pub service_account_ref: NameRef,
}

impl Provider {
    /// AWS SSM Parameter Store in `region`, read with the operator's own credentials
    /// (IRSA on its ServiceAccount, or the node role).
    pub fn parameter_store(region: impl Into<String>) -> Self {
        Self::aws("ParameterStore", region)
    }

    /// AWS Secrets Manager in `region`.
    pub fn secrets_manager(region: impl Into<String>) -> Self {
        Self::aws("SecretsManager", region)
    }

    fn aws(service: &str, region: impl Into<String>) -> Self {
        Self {
            aws: Some(AwsProvider {
                service: service.into(),
                region: region.into(),
                auth: None,
            }),
            extra: Extra::new(),
        }
    }

    /// Authenticate as `service_account` (IRSA) in `namespace`.
    pub fn with_service_account(mut self, namespace: &str, service_account: &str) -> Self {
        if let Some(aws) = &mut self.aws {
            aws.auth = Some(AwsAuth {
                jwt: AwsJwt {
                    service_account_ref: NameRef {
                        name: service_account.into(),
                        namespace: Some(namespace.into()),
                    },
                },
            });
        }
        self
    }
}
