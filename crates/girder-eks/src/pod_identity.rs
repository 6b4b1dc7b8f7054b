//! EKS Pod Identity: a role the pods of one service account get, through the cluster's
//! pod identity agent (the `eks-pod-identity-agent` add-on, [`crate::Addon::pod_identity_agent`]).

use girder_aws::aws;
use girder_core::construct::{Construct, Dependable};
use girder_core::expr::Reference;
use girder_core::terraform::{Dependency, IntoResourceSpec};
use girder_core::vocabulary::dns::{is_dns_label, is_dns_subdomain};
use girder_core::{Error, Expr, Result, Scope};
use girder_iam::{PolicyDocument, Role, RoleHandle, Statement, Trust};

use crate::cluster::EksClusterHandle;
use crate::error::EksError;

/// A pod identity role in the stack: the role, its policy as written, and the
/// association naming the service account.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct PodIdentityRoleHandle {
    role: RoleHandle,
    policy: PolicyDocument,
    association: Option<aws::EksPodIdentityAssociationHandle>,
}

impl PodIdentityRoleHandle {
    /// The role.
    pub fn role(&self) -> &RoleHandle {
        &self.role
    }

    /// The role's ARN.
    pub fn arn(&self) -> Expr<String> {
        self.role.arn()
    }

    /// The role's inline policy, as written: ask it what the pods may do
    /// ([`PolicyDocument::access`]).
    pub fn policy(&self) -> &PolicyDocument {
        &self.policy
    }
}

impl Dependable for PodIdentityRoleHandle {
    /// The role with its policies, and the association: a pod started after these gets
    /// the role's credentials.
    fn dependencies(&self) -> Vec<Reference> {
        let mut references = self.role.dependencies();
        references.extend(self.association.iter().map(Dependency::dependency));
        references
    }
}

impl EksClusterHandle {
    /// IAM role `name` (construct `id` of `scope`: its `role` and `association`), that the pods of service account
    /// `service_account` in namespace `namespace` of this cluster get through EKS Pod
    /// Identity, and no one else: trusted by `pods.eks.amazonaws.com` (`sts:AssumeRole`
    /// and `sts:TagSession`) on behalf of this cluster only (`aws:SourceArn`,
    /// `aws:SourceAccount`), associated with exactly that service account
    /// (`aws_eks_pod_identity_association`). Its inline policy `workload` holds
    /// `statements`. The cluster needs the pod identity agent add-on. Errors: a
    /// namespace or service account name Kubernetes refuses.
    pub fn pod_identity_role(
        &self,
        scope: &mut Scope<'_>,
        id: &str,
        name: impl Into<String>,
        namespace: &str,
        service_account: &str,
        statements: impl IntoIterator<Item = Statement>,
    ) -> Result<PodIdentityRoleHandle> {
        let at = format!("{}/{id}", scope.location());
        check_service_account(namespace, service_account).map_err(|e| Error::construct(&at, e))?;
        let mut inner = scope.construct_child(id)?;
        let mut handle = self.pod_role(
            &mut inner,
            "role",
            name.into(),
            &format!("pods of {namespace}/{service_account}"),
            statements,
            Vec::new(),
        )?;
        let association = inner.add(
            "association",
            aws::EksPodIdentityAssociation::new(
                self.name_expr(),
                namespace,
                handle.role.arn(),
                service_account,
            )
            .into_spec()
            .depends_on_all(&handle.role),
        )?;
        handle.association = Some(association);
        Ok(handle)
    }

    /// The role of [`EksClusterHandle::pod_identity_role`] without its association (an
    /// add-on associates its own), with `statements` inline and the AWS managed
    /// policies `managed` attached.
    pub(crate) fn pod_role(
        &self,
        scope: &mut Scope<'_>,
        id: &str,
        name: String,
        what: &str,
        statements: impl IntoIterator<Item = Statement>,
        managed: Vec<&str>,
    ) -> Result<PodIdentityRoleHandle> {
        let policy = statements
            .into_iter()
            .fold(PolicyDocument::new(), PolicyDocument::statement);
        let mut role = Role::new(name, self.pod_identity_trust())
            .description(format!("{what} on EKS cluster {}", self.name()));
        for policy_name in managed {
            role = role.aws_managed_policy(self.partition().clone(), policy_name);
        }
        if !policy.is_empty() {
            role = role.policy("workload", policy.clone());
        }
        let role = role.add(scope, id)?;
        Ok(PodIdentityRoleHandle {
            role,
            policy,
            association: None,
        })
    }

    /// The trust of a pod identity role of this cluster: `pods.eks.amazonaws.com`, on
    /// behalf of this cluster in its account only.
    pub fn pod_identity_trust(&self) -> Trust {
        Trust::eks_pod_identity(self.arn(), self.account().clone())
    }
}

/// A namespace (DNS label) and a service account name (DNS subdomain).
pub(crate) fn check_service_account(
    namespace: &str,
    service_account: &str,
) -> std::result::Result<(), EksError> {
    if is_dns_label(namespace) && is_dns_subdomain(service_account) {
        Ok(())
    } else {
        Err(EksError::ServiceAccountName(format!(
            "{namespace}/{service_account}"
        )))
    }
}
