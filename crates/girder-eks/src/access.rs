//! Access entries: who may use the cluster's Kubernetes API, with which EKS access
//! policy (the cluster authenticates through access entries only: no aws-auth ConfigMap).

use girder_aws::aws;
use girder_aws::aws::eks_access_policy_association as apa;
use girder_core::construct::{Construct, Dependable};
use girder_core::expr::Reference;
use girder_core::terraform::{Dependency, IntoResourceSpec};
use girder_core::vocabulary::Arn;
use girder_core::vocabulary::dns::is_dns_label;
use girder_core::{Error, Expr, Result, Scope, Value};
use girder_iam::RoleHandle;

use crate::cluster::EksClusterHandle;
use crate::error::EksError;

/// Who an access entry is for: an IAM role or user.
#[derive(Clone, Debug, PartialEq)]
pub enum Principal {
    /// An IAM role's or user's ARN (checked when the entry is added).
    Arn(String),
    /// A role made in this stack: its ARN (from the [`RoleHandle`]).
    Role(Expr<String>),
}

impl From<&RoleHandle> for Principal {
    fn from(role: &RoleHandle) -> Self {
        Principal::Role(role.arn())
    }
}

impl From<&str> for Principal {
    fn from(arn: &str) -> Self {
        Principal::Arn(arn.to_owned())
    }
}

impl From<String> for Principal {
    fn from(arn: String) -> Self {
        Principal::Arn(arn)
    }
}

/// EKS's access policies (`arn:<partition>:eks::aws:cluster-access-policy/<name>`),
/// mirroring Kubernetes' user-facing roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessPolicy {
    /// `AmazonEKSClusterAdminPolicy`: `cluster-admin`, everything.
    ClusterAdmin,
    /// `AmazonEKSAdminPolicy`: `admin`, most things (namespaced RBAC included).
    Admin,
    /// `AmazonEKSEditPolicy`: `edit`, create and change workloads.
    Edit,
    /// `AmazonEKSViewPolicy`: `view`, read most objects (not Secrets).
    View,
    /// `AmazonEKSAdminViewPolicy`: read every object, Secrets included (a Terraform plan
    /// that refreshes Helm releases, whose state Helm keeps in Secrets).
    AdminView,
}

impl AccessPolicy {
    /// The policy's name.
    pub fn name(self) -> &'static str {
        match self {
            AccessPolicy::ClusterAdmin => "AmazonEKSClusterAdminPolicy",
            AccessPolicy::Admin => "AmazonEKSAdminPolicy",
            AccessPolicy::Edit => "AmazonEKSEditPolicy",
            AccessPolicy::View => "AmazonEKSViewPolicy",
            AccessPolicy::AdminView => "AmazonEKSAdminViewPolicy",
        }
    }
}

/// Where an access policy applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessScope {
    /// The whole cluster.
    Cluster,
    /// These namespaces only.
    Namespaces(Vec<String>),
}

/// What an access entry grants.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Grant {
    /// One of EKS's access policies, in a scope.
    Policy(AccessPolicy, AccessScope),
    /// Membership of Kubernetes groups, which the cluster's own RBAC binds: for rights
    /// narrower than any access policy (read ConfigMaps of one namespace, no Secret).
    Groups(Vec<String>),
}

/// An access entry to create: a principal and what it is granted (an access policy in
/// a scope, or Kubernetes groups).
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct AccessEntry {
    cluster: EksClusterHandle,
    principal: Principal,
    grant: Grant,
}

/// An access entry in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct AccessEntryHandle {
    entry: aws::EksAccessEntryHandle,
    association: Option<aws::EksAccessPolicyAssociationHandle>,
}

impl AccessEntry {
    /// `principal` may use `cluster`'s API as `policy` allows, in `scope`.
    pub fn new(
        cluster: &EksClusterHandle,
        principal: impl Into<Principal>,
        policy: AccessPolicy,
        scope: AccessScope,
    ) -> Self {
        Self {
            cluster: cluster.clone(),
            principal: principal.into(),
            grant: Grant::Policy(policy, scope),
        }
    }

    /// `principal` may use `cluster`'s API as the members of Kubernetes `groups`: what
    /// Roles and ClusterRoles bound to those groups allow, nothing else (no access
    /// policy). Group names are the cluster's RBAC subjects; EKS refuses `system:` ones.
    pub fn groups<S: Into<String>>(
        cluster: &EksClusterHandle,
        principal: impl Into<Principal>,
        groups: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            cluster: cluster.clone(),
            principal: principal.into(),
            grant: Grant::Groups(groups.into_iter().map(Into::into).collect()),
        }
    }

    fn check(&self) -> std::result::Result<Expr<String>, EksError> {
        match &self.grant {
            Grant::Policy(_, AccessScope::Namespaces(namespaces))
                if namespaces.is_empty() || !namespaces.iter().all(|n| is_dns_label(n)) =>
            {
                return Err(EksError::AccessNamespaces(namespaces.clone()));
            }
            Grant::Groups(groups)
                if groups.is_empty()
                    || !groups.iter().all(|g| {
                        !g.is_empty()
                            && g.len() <= 63
                            && !g.starts_with("system:")
                            && g.chars()
                                .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
                    }) =>
            {
                return Err(EksError::AccessGroups(groups.clone()));
            }
            _ => {}
        }
        match &self.principal {
            Principal::Role(arn) => Ok(arn.clone()),
            Principal::Arn(arn) if girder_iam::is_iam_principal_arn(arn) => {
                Ok(Expr::lit(arn.clone()))
            }
            Principal::Arn(arn) => Err(EksError::AccessPrincipal(arn.clone())),
        }
    }
}

impl Construct for AccessEntry {
    type Handle = AccessEntryHandle;

    /// Add the entry (with its Kubernetes groups) and its policy association, if it
    /// grants an access policy, as construct `id`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<AccessEntryHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        let principal = self.check().map_err(|e| Error::construct(&at, e))?;
        let cluster = &self.cluster;
        let mut entry =
            aws::EksAccessEntry::new(cluster.name_expr(), principal.clone()).type_("STANDARD");
        if let Grant::Groups(groups) = &self.grant {
            entry = entry.kubernetes_groups(groups.clone());
        }
        let entry = scope.add("entry", entry)?;
        let association = match &self.grant {
            Grant::Groups(_) => None,
            Grant::Policy(policy, access) => {
                let policy_arn = Arn::new(
                    Value::Expr(cluster.partition().clone()),
                    "eks",
                    "",
                    "aws",
                    format!("cluster-access-policy/{}", policy.name()),
                );
                let access_scope = match access {
                    AccessScope::Cluster => apa::AccessScope::new("cluster"),
                    AccessScope::Namespaces(namespaces) => {
                        apa::AccessScope::new("namespace").namespaces(namespaces.clone())
                    }
                };
                Some(
                    scope.add(
                        "policy",
                        aws::EksAccessPolicyAssociation::new(
                            cluster.name_expr(),
                            policy_arn.value(),
                            principal,
                            access_scope,
                        )
                        .into_spec()
                        .depends_on(&entry),
                    )?,
                )
            }
        };
        Ok(AccessEntryHandle { entry, association })
    }
}

impl AccessEntryHandle {
    /// The entry's ARN.
    pub fn arn(&self) -> Expr<String> {
        self.entry.access_entry_arn()
    }
}

impl Dependable for AccessEntryHandle {
    /// The entry and its policy association: what waits for it may use the API.
    fn dependencies(&self) -> Vec<Reference> {
        let mut dependencies = vec![self.entry.dependency()];
        dependencies.extend(self.association.iter().map(Dependency::dependency));
        dependencies
    }
}
