//! The `app.kubernetes.io/*` labels every object carries, and the selector derived from
//! them, so a selector is never typed twice.

use std::collections::BTreeMap;

/// `app.kubernetes.io/managed-by` of everything girder writes.
pub const MANAGED_BY: &str = "girder";

/// Kubernetes' recommended labels for one workload or object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppLabels {
    /// `app.kubernetes.io/name`: what it is (`api`).
    pub name: String,
    /// `app.kubernetes.io/instance`: this installation of it (defaults to the name).
    pub instance: String,
    /// `app.kubernetes.io/component` (`worker`, `database`).
    pub component: Option<String>,
    /// `app.kubernetes.io/part-of`: the system (`pixtools`).
    pub part_of: Option<String>,
}

impl AppLabels {
    /// Labels for `name`, instance the same.
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        Self {
            instance: name.clone(),
            name,
            component: None,
            part_of: None,
        }
    }

    /// Every label, `managed-by` included.
    pub fn all(&self) -> BTreeMap<String, String> {
        let mut labels = self.selector();
        if let Some(part_of) = &self.part_of {
            labels.insert("app.kubernetes.io/part-of".into(), part_of.clone());
        }
        labels.insert("app.kubernetes.io/managed-by".into(), MANAGED_BY.into());
        labels
    }

    /// The labels that select this workload's pods: name, instance and component. Labels
    /// that change between releases stay out, because a selector cannot change.
    pub fn selector(&self) -> BTreeMap<String, String> {
        let mut labels = BTreeMap::from([
            ("app.kubernetes.io/name".to_owned(), self.name.clone()),
            (
                "app.kubernetes.io/instance".to_owned(),
                self.instance.clone(),
            ),
        ]);
        if let Some(component) = &self.component {
            labels.insert("app.kubernetes.io/component".into(), component.clone());
        }
        labels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_is_a_subset_of_the_labels() {
        let mut labels = AppLabels::new("api");
        labels.part_of = Some("shop".into());
        labels.component = Some("backend".into());
        let all = labels.all();
        for (k, v) in labels.selector() {
            assert_eq!(all.get(&k), Some(&v));
        }
        assert_eq!(all["app.kubernetes.io/managed-by"], "girder");
        assert!(!labels.selector().contains_key("app.kubernetes.io/part-of"));
    }
}
