//! [`KubeBundle`]: a stack's Kubernetes objects grouped by output directory (an app of the
//! bundle, or a GitOps directory), each object identity (API group, kind, namespace, name)
//! at most once across the whole bundle.

use std::collections::HashMap;

use indexmap::IndexMap;

use crate::kubernetes::KubeObject;
use crate::path::ConstructPath;

/// What makes two objects the same object for the API server.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ObjectIdentity {
    group: String,
    kind: String,
    /// `""` when unset.
    namespace: String,
    name: String,
}

impl ObjectIdentity {
    pub(crate) fn new(group: &str, kind: &str, namespace: Option<&str>, name: &str) -> Self {
        Self {
            group: group.to_owned(),
            kind: kind.to_owned(),
            namespace: namespace.unwrap_or_default().to_owned(),
            name: name.to_owned(),
        }
    }

    pub(crate) fn of(object: &KubeObject) -> Self {
        Self::new(
            object.group(),
            object.kind(),
            object.namespace(),
            object.name(),
        )
    }
}

/// An object whose identity the bundle already holds.
#[derive(Debug)]
pub(crate) struct Duplicate {
    /// The path that added the first one.
    pub(crate) first: ConstructPath,
    /// `Kind namespace/name`.
    pub(crate) object: String,
}

/// Objects by directory, in the order directories and objects were added.
#[derive(Clone, Debug, Default)]
pub(crate) struct KubeBundle {
    dirs: IndexMap<String, Vec<(ConstructPath, KubeObject)>>,
    identities: HashMap<ObjectIdentity, ConstructPath>,
}

impl KubeBundle {
    /// Add `object` (created at `path`) to directory `dir`; when an object with its
    /// identity is already there, nothing is added.
    pub(crate) fn insert(
        &mut self,
        dir: &str,
        path: ConstructPath,
        object: KubeObject,
    ) -> Result<(), Duplicate> {
        let identity = ObjectIdentity::of(&object);
        if let Some(first) = self.identities.get(&identity) {
            return Err(Duplicate {
                first: first.clone(),
                object: object.describe(),
            });
        }
        self.identities.insert(identity, path.clone());
        match self.dirs.get_mut(dir) {
            Some(objects) => objects.push((path, object)),
            None => {
                self.dirs.insert(dir.to_owned(), vec![(path, object)]);
            }
        }
        Ok(())
    }

    /// Whether an object with this identity is in the bundle.
    pub(crate) fn contains(&self, identity: &ObjectIdentity) -> bool {
        self.identities.contains_key(identity)
    }

    /// Directories with their objects.
    pub(crate) fn dirs(&self) -> &IndexMap<String, Vec<(ConstructPath, KubeObject)>> {
        &self.dirs
    }

    /// Every object with the path that created it.
    pub(crate) fn objects(&self) -> impl Iterator<Item = (&ConstructPath, &KubeObject)> {
        self.dirs
            .values()
            .flatten()
            .map(|(path, object)| (path, object))
    }

    /// Every object, mutable (aspects, acknowledgements). Identity fields are not re-read.
    pub(crate) fn objects_mut(
        &mut self,
    ) -> impl Iterator<Item = (&ConstructPath, &mut KubeObject)> {
        self.dirs
            .values_mut()
            .flatten()
            .map(|(path, object)| (&*path, object))
    }

    /// Number of directories.
    pub(crate) fn len(&self) -> usize {
        self.dirs.len()
    }
}
