//! Plain namespaced and cluster objects: ConfigMap, PersistentVolumeClaim, StorageClass,
//! ResourceQuota, LimitRange. Secrets are deliberately absent: their values never appear
//! in girder's output (use an ExternalSecret or a SealedSecret).

use std::collections::BTreeMap;

use girder_core::construct::Construct;
use girder_core::{Result, Scope};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::storage::v1 as storage;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::meta::{object_meta, plain_labels};
use crate::namespace::NamespaceHandle;
use crate::validate;
use crate::volume::claim_spec;

/// A ConfigMap: non-secret configuration as keys.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigMap {
    namespace: String,
    name: String,
    data: BTreeMap<String, String>,
}

impl ConfigMap {
    /// An empty ConfigMap `name` in `namespace`.
    pub fn new(namespace: &NamespaceHandle, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.name().to_owned(),
            name: name.into(),
            data: BTreeMap::new(),
        }
    }

    /// Set key `key`.
    pub fn entry(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.data.insert(key.into(), value.into());
        self
    }
}

impl Construct for ConfigMap {
    type Handle = ConfigMapHandle;

    /// Add it as construct `id`, into the scope's Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<ConfigMapHandle> {
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        validate::dns_label(&at, "ConfigMap name", &self.name)?;
        for key in self.data.keys() {
            validate::data_key(&at, &format!("ConfigMap {:?}", self.name), key)?;
        }
        let object = core::ConfigMap {
            metadata: object_meta(
                Some(&self.namespace),
                &self.name,
                plain_labels(&self.name),
                BTreeMap::new(),
            ),
            data: Some(self.data),
            ..core::ConfigMap::default()
        };
        crate::meta::add_object(scope, &object)?;
        Ok(ConfigMapHandle {
            namespace: self.namespace,
            name: self.name,
        })
    }
}

/// A standalone PersistentVolumeClaim (StatefulSets use [`crate::ClaimTemplate`]).
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersistentVolumeClaim {
    namespace: String,
    name: String,
    size: String,
    storage_class: Option<String>,
    access_mode: &'static str,
}

impl PersistentVolumeClaim {
    /// `size` of ReadWriteOnce storage of the default class.
    pub fn new(
        namespace: &NamespaceHandle,
        name: impl Into<String>,
        size: impl Into<String>,
    ) -> Self {
        Self {
            namespace: namespace.name().to_owned(),
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

    /// ReadWriteMany (shared file storage such as EFS).
    pub fn read_write_many(mut self) -> Self {
        self.access_mode = "ReadWriteMany";
        self
    }
}

impl Construct for PersistentVolumeClaim {
    type Handle = PersistentVolumeClaimHandle;

    /// Add it as construct `id`, into the scope's Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<PersistentVolumeClaimHandle> {
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        validate::dns_label(&at, "PersistentVolumeClaim name", &self.name)?;
        validate::quantity(&at, "claim size", &self.size)?;
        let object = core::PersistentVolumeClaim {
            metadata: object_meta(
                Some(&self.namespace),
                &self.name,
                plain_labels(&self.name),
                BTreeMap::new(),
            ),
            spec: Some(claim_spec(
                &self.size,
                self.storage_class.as_deref(),
                self.access_mode,
            )),
            ..core::PersistentVolumeClaim::default()
        };
        crate::meta::add_object(scope, &object)?;
        Ok(PersistentVolumeClaimHandle {
            namespace: self.namespace,
            name: self.name,
        })
    }
}

/// A StorageClass.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageClass {
    name: String,
    provisioner: String,
    parameters: BTreeMap<String, String>,
    default_class: bool,
    retain: bool,
}

impl StorageClass {
    /// A class served by `provisioner`.
    pub fn new(name: impl Into<String>, provisioner: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            provisioner: provisioner.into(),
            parameters: BTreeMap::new(),
            default_class: false,
            retain: false,
        }
    }

    /// Encrypted gp3 EBS volumes through the EBS CSI driver.
    pub fn ebs_gp3(name: impl Into<String>) -> Self {
        Self::new(name, "ebs.csi.aws.com")
            .parameter("type", "gp3")
            .parameter("encrypted", "true")
    }

    /// A provisioner parameter.
    pub fn parameter(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.parameters.insert(key.into(), value.into());
        self
    }

    /// Mark it the cluster's default class.
    pub fn default_class(mut self) -> Self {
        self.default_class = true;
        self
    }

    /// Keep volumes when their claims are deleted (data stores).
    pub fn retain(mut self) -> Self {
        self.retain = true;
        self
    }
}

impl Construct for StorageClass {
    type Handle = StorageClassHandle;

    /// Add it as construct `id`, into the scope's Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<StorageClassHandle> {
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        validate::dns_label(&at, "StorageClass name", &self.name)?;
        let annotations = if self.default_class {
            BTreeMap::from([(
                "storageclass.kubernetes.io/is-default-class".to_owned(),
                "true".to_owned(),
            )])
        } else {
            BTreeMap::new()
        };
        let object = storage::StorageClass {
            metadata: object_meta(None, &self.name, plain_labels(&self.name), annotations),
            provisioner: self.provisioner,
            parameters: (!self.parameters.is_empty()).then_some(self.parameters),
            reclaim_policy: Some(if self.retain { "Retain" } else { "Delete" }.into()),
            volume_binding_mode: Some("WaitForFirstConsumer".into()),
            allow_volume_expansion: Some(true),
            ..storage::StorageClass::default()
        };
        crate::meta::add_object(scope, &object)?;
        Ok(StorageClassHandle { name: self.name })
    }
}

/// A ResourceQuota: caps on what a namespace may request.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceQuota {
    namespace: String,
    name: String,
    hard: BTreeMap<String, String>,
}

impl ResourceQuota {
    /// An empty quota.
    pub fn new(namespace: &NamespaceHandle, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.name().to_owned(),
            name: name.into(),
            hard: BTreeMap::new(),
        }
    }

    /// A hard cap (`requests.cpu` = `"4"`, `limits.memory` = `"16Gi"`, `pods` = `"50"`).
    pub fn hard(mut self, resource: impl Into<String>, value: impl Into<String>) -> Self {
        self.hard.insert(resource.into(), value.into());
        self
    }
}

impl Construct for ResourceQuota {
    type Handle = ResourceQuotaHandle;

    /// Add it as construct `id`, into the scope's Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<ResourceQuotaHandle> {
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        validate::dns_label(&at, "ResourceQuota name", &self.name)?;
        let mut hard = BTreeMap::new();
        for (resource, value) in self.hard {
            validate::quantity(&at, &format!("quota {resource}"), &value)?;
            hard.insert(resource, Quantity(value));
        }
        let object = core::ResourceQuota {
            metadata: object_meta(
                Some(&self.namespace),
                &self.name,
                plain_labels(&self.name),
                BTreeMap::new(),
            ),
            spec: Some(core::ResourceQuotaSpec {
                hard: Some(hard),
                ..core::ResourceQuotaSpec::default()
            }),
            ..core::ResourceQuota::default()
        };
        crate::meta::add_object(scope, &object)?;
        Ok(ResourceQuotaHandle {
            namespace: self.namespace,
            name: self.name,
        })
    }
}

/// A LimitRange: default requests and limits for containers that set none.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitRange {
    namespace: String,
    name: String,
    default_request: BTreeMap<String, String>,
    default_limit: BTreeMap<String, String>,
}

impl LimitRange {
    /// An empty LimitRange.
    pub fn new(namespace: &NamespaceHandle, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.name().to_owned(),
            name: name.into(),
            default_request: BTreeMap::new(),
            default_limit: BTreeMap::new(),
        }
    }

    /// Default request and limit of a resource (`cpu`, `memory`) per container.
    pub fn container_default(
        mut self,
        resource: impl Into<String>,
        request: impl Into<String>,
        limit: impl Into<String>,
    ) -> Self {
        let resource = resource.into();
        self.default_request
            .insert(resource.clone(), request.into());
        self.default_limit.insert(resource, limit.into());
        self
    }
}

impl Construct for LimitRange {
    type Handle = LimitRangeHandle;

    /// Add it as construct `id`, into the scope's Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<LimitRangeHandle> {
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        validate::dns_label(&at, "LimitRange name", &self.name)?;
        validate::requests_within_limits(
            &at,
            &format!(
                "LimitRange {}/{} container default",
                self.namespace, self.name
            ),
            &self.default_request,
            &self.default_limit,
        )?;
        let convert = |map: BTreeMap<String, String>| -> Result<_> {
            let mut out = BTreeMap::new();
            for (resource, value) in map {
                validate::quantity(&at, &format!("limit range {resource}"), &value)?;
                out.insert(resource, Quantity(value));
            }
            Ok((!out.is_empty()).then_some(out))
        };
        let object = core::LimitRange {
            metadata: object_meta(
                Some(&self.namespace),
                &self.name,
                plain_labels(&self.name),
                BTreeMap::new(),
            ),
            spec: Some(core::LimitRangeSpec {
                limits: vec![core::LimitRangeItem {
                    type_: "Container".into(),
                    default_request: convert(self.default_request)?,
                    default: convert(self.default_limit)?,
                    ..core::LimitRangeItem::default()
                }],
            }),
        };
        crate::meta::add_object(scope, &object)?;
        Ok(LimitRangeHandle {
            namespace: self.namespace,
            name: self.name,
        })
    }
}

/// A handle of a namespaced object: its name and namespace, for what refers to it.
macro_rules! namespaced_handle {
    ($handle:ident, $kind:literal) => {
        #[doc = concat!("A ", $kind, " in the stack.")]
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $handle {
            namespace: String,
            name: String,
        }

        impl $handle {
            #[doc = concat!("A ", $kind, " created elsewhere (declare it on the stack with `Stack::external_kube_object`).")]
            pub fn existing(namespace: &NamespaceHandle, name: impl Into<String>) -> Self {
                Self {
                    namespace: namespace.name().to_owned(),
                    name: name.into(),
                }
            }

            /// `metadata.name`.
            pub fn name(&self) -> &str {
                &self.name
            }

            /// `metadata.namespace`.
            pub fn namespace(&self) -> &str {
                &self.namespace
            }
        }
    };
}

namespaced_handle!(ConfigMapHandle, "ConfigMap");
namespaced_handle!(PersistentVolumeClaimHandle, "PersistentVolumeClaim");
namespaced_handle!(ResourceQuotaHandle, "ResourceQuota");
namespaced_handle!(LimitRangeHandle, "LimitRange");

/// A StorageClass in the stack (cluster-scoped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageClassHandle {
    name: String,
}

impl StorageClassHandle {
    /// `metadata.name`: what claims name in `storageClassName`.
    pub fn name(&self) -> &str {
        &self.name
    }
}
