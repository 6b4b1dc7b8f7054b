//! ServiceAccounts (with the IRSA role annotation), Roles, ClusterRoles and their bindings.

use std::collections::BTreeMap;

use girder_core::construct::Construct;
use girder_core::{Result, Scope};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::rbac::v1 as rbac;

use crate::error::K8sError;
use crate::meta::{object_meta, plain_labels};
use crate::namespace::NamespaceHandle;
use crate::validate;

/// The annotation EKS reads to give a ServiceAccount's pods an IAM role (IRSA).
pub const IRSA_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

/// A ServiceAccount.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAccount {
    namespace: String,
    name: String,
    annotations: BTreeMap<String, String>,
}

/// A ServiceAccount in the stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAccountHandle {
    pub(crate) namespace: String,
    pub(crate) name: String,
}

impl ServiceAccountHandle {
    /// `metadata.name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `metadata.namespace`.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn subject(&self) -> rbac::Subject {
        rbac::Subject {
            kind: "ServiceAccount".into(),
            name: self.name.clone(),
            namespace: Some(self.namespace.clone()),
            api_group: None,
        }
    }
}

impl ServiceAccount {
    /// ServiceAccount `name` in `namespace`.
    pub fn new(namespace: &NamespaceHandle, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.name().to_owned(),
            name: name.into(),
            annotations: BTreeMap::new(),
        }
    }

    /// Give its pods IAM role `role_arn` through IRSA. The ARN must be known at synth
    /// (`arn:aws:iam::<account>:role/<name>`), not an apply-time expression.
    pub fn irsa_role(mut self, role_arn: impl Into<String>) -> Self {
        self.annotations
            .insert(IRSA_ANNOTATION.into(), role_arn.into());
        self
    }
}

impl Construct for ServiceAccount {
    type Handle = ServiceAccountHandle;

    /// Add it as construct `id`, into the scope's Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<ServiceAccountHandle> {
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        validate::dns_label(&at, "ServiceAccount name", &self.name)?;
        if let Some(arn) = self.annotations.get(IRSA_ANNOTATION) {
            if !(arn.starts_with("arn:") && arn.contains(":iam::") && arn.contains(":role/")) {
                return Err(K8sError::NotRoleArn {
                    account: self.name.clone(),
                    arn: arn.clone(),
                }
                .at(&at));
            }
        }
        let object = core::ServiceAccount {
            metadata: object_meta(
                Some(&self.namespace),
                &self.name,
                plain_labels(&self.name),
                self.annotations,
            ),
            automount_service_account_token: Some(false),
            ..core::ServiceAccount::default()
        };
        crate::meta::add_object(scope, &object)?;
        Ok(ServiceAccountHandle {
            namespace: self.namespace,
            name: self.name,
        })
    }
}

/// A Role: rules inside one namespace.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    namespace: String,
    name: String,
    rules: Vec<rbac::PolicyRule>,
}

/// A Role in the stack, to bind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleHandle {
    namespace: String,
    name: String,
}

/// A ClusterRole: rules in every namespace, or for cluster-scoped resources.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterRole {
    name: String,
    rules: Vec<rbac::PolicyRule>,
}

/// A ClusterRole in the stack, to bind in one namespace or cluster-wide. Only a
/// ClusterRole has [`ClusterRoleHandle::bind_cluster_wide`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterRoleHandle {
    name: String,
}

fn rule(api_groups: &[&str], resources: &[&str], verbs: &[&str]) -> rbac::PolicyRule {
    let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    rbac::PolicyRule {
        api_groups: Some(strings(api_groups)),
        resources: Some(strings(resources)),
        verbs: strings(verbs),
        ..rbac::PolicyRule::default()
    }
}

fn check_rules(at: &str, name: &str, rules: &[rbac::PolicyRule]) -> Result<()> {
    if rules.is_empty() {
        return Err(K8sError::NoRules {
            role: name.to_owned(),
        }
        .at(at));
    }
    for rule in rules {
        let wildcard = rule.verbs.iter().any(|v| v == "*")
            || rule.resources.iter().flatten().any(|r| r == "*");
        if wildcard {
            return Err(K8sError::WildcardRule {
                role: name.to_owned(),
            }
            .at(at));
        }
    }
    Ok(())
}

impl Role {
    /// A Role `name` in `namespace`, with no rules yet.
    pub fn new(namespace: &NamespaceHandle, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.name().to_owned(),
            name: name.into(),
            rules: Vec::new(),
        }
    }

    /// Allow `verbs` on `resources` of `api_groups` (`""` is the core group). `*` is
    /// refused when the role is added.
    pub fn allow(mut self, api_groups: &[&str], resources: &[&str], verbs: &[&str]) -> Self {
        self.rules.push(rule(api_groups, resources, verbs));
        self
    }
}

impl Construct for Role {
    type Handle = RoleHandle;

    /// Add it as construct `id`, into the scope's Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<RoleHandle> {
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        validate::dns_label(&at, "Role name", &self.name)?;
        check_rules(&at, &self.name, &self.rules)?;
        let metadata = object_meta(
            Some(&self.namespace),
            &self.name,
            plain_labels(&self.name),
            BTreeMap::new(),
        );
        crate::meta::add_object(
            scope,
            &rbac::Role {
                metadata,
                rules: Some(self.rules),
            },
        )?;
        Ok(RoleHandle {
            namespace: self.namespace,
            name: self.name,
        })
    }
}

impl ClusterRole {
    /// A ClusterRole `name`, with no rules yet.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            rules: Vec::new(),
        }
    }

    /// Allow `verbs` on `resources` of `api_groups` (`""` is the core group). `*` is
    /// refused when the role is added.
    pub fn allow(mut self, api_groups: &[&str], resources: &[&str], verbs: &[&str]) -> Self {
        self.rules.push(rule(api_groups, resources, verbs));
        self
    }
}

impl Construct for ClusterRole {
    type Handle = ClusterRoleHandle;

    /// Add it as construct `id`, into the scope's Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<ClusterRoleHandle> {
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        validate::dns_label(&at, "ClusterRole name", &self.name)?;
        check_rules(&at, &self.name, &self.rules)?;
        let metadata = object_meta(None, &self.name, plain_labels(&self.name), BTreeMap::new());
        crate::meta::add_object(
            scope,
            &rbac::ClusterRole {
                metadata,
                rules: Some(self.rules),
                ..rbac::ClusterRole::default()
            },
        )?;
        Ok(ClusterRoleHandle { name: self.name })
    }
}

impl RoleHandle {
    /// `metadata.name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bind the role to `account` of its namespace: a RoleBinding named
    /// `<role>-<account>`, written into `scope`'s Kubernetes app.
    pub fn bind(&self, scope: &mut Scope<'_>, account: &ServiceAccountHandle) -> Result<()> {
        if self.namespace != account.namespace {
            return Err(K8sError::RoleOutsideNamespace {
                role: format!("{}/{}", self.namespace, self.name),
                account: format!("{}/{}", account.namespace, account.name),
            }
            .at(scope.location()));
        }
        role_binding(scope, role_ref("Role", &self.name), account)
    }
}

impl ClusterRoleHandle {
    /// `metadata.name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bind the ClusterRole to `account` in the account's namespace only: a RoleBinding
    /// named `<role>-<account>`, written into `scope`'s Kubernetes app.
    pub fn bind(&self, scope: &mut Scope<'_>, account: &ServiceAccountHandle) -> Result<()> {
        role_binding(scope, role_ref("ClusterRole", &self.name), account)
    }

    /// Bind the ClusterRole to `account` in every namespace (a ClusterRoleBinding named
    /// `<role>-<namespace>-<account>`), written into `scope`'s Kubernetes app.
    pub fn bind_cluster_wide(
        &self,
        scope: &mut Scope<'_>,
        account: &ServiceAccountHandle,
    ) -> Result<()> {
        let name = format!("{}-{}-{}", self.name, account.namespace, account.name);
        let object = rbac::ClusterRoleBinding {
            metadata: object_meta(None, &name, plain_labels(&name), BTreeMap::new()),
            role_ref: role_ref("ClusterRole", &self.name),
            subjects: Some(vec![account.subject()]),
        };
        crate::meta::add_object(scope, &object)
    }
}

/// A RoleBinding `<role>-<account>` in the account's namespace.
fn role_binding(
    scope: &mut Scope<'_>,
    role_ref: rbac::RoleRef,
    account: &ServiceAccountHandle,
) -> Result<()> {
    let name = format!("{}-{}", role_ref.name, account.name);
    let object = rbac::RoleBinding {
        metadata: object_meta(
            Some(&account.namespace),
            &name,
            plain_labels(&name),
            BTreeMap::new(),
        ),
        role_ref,
        subjects: Some(vec![account.subject()]),
    };
    crate::meta::add_object(scope, &object)
}

fn role_ref(kind: &str, name: &str) -> rbac::RoleRef {
    rbac::RoleRef {
        api_group: "rbac.authorization.k8s.io".into(),
        kind: kind.into(),
        name: name.to_owned(),
    }
}
