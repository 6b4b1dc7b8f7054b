//! Who may assume a role.

use girder_core::Value;

use crate::policy::{Condition, PolicyDocument, Statement};

/// A trust policy.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct Trust {
    document: PolicyDocument,
    /// The AWS service principal, when a service assumes it.
    service: Option<String>,
}

impl Trust {
    /// An AWS service (`ec2.amazonaws.com`).
    pub fn service(service: &str) -> Self {
        Self {
            document: PolicyDocument::new()
                .statement(Statement::allow(["sts:AssumeRole"]).principal("Service", [service])),
            service: Some(service.to_owned()),
        }
    }

    /// EC2 instances (through an instance profile).
    pub fn ec2() -> Self {
        Self::service("ec2.amazonaws.com")
    }

    /// EKS Pod Identity (`pods.eks.amazonaws.com`, which assumes with `sts:AssumeRole` and
    /// tags the session, `sts:TagSession`), only on behalf of the cluster `cluster_arn`
    /// in account `account` (`aws:SourceArn` / `aws:SourceAccount`, as AWS documents for
    /// the confused-deputy problem). Which service account gets the role is the pod
    /// identity association's part.
    pub fn eks_pod_identity(
        cluster_arn: impl Into<Value<String>>,
        account: impl Into<Value<String>>,
    ) -> Self {
        Self {
            document: PolicyDocument::new().statement(
                Statement::allow(["sts:AssumeRole", "sts:TagSession"])
                    .principal("Service", ["pods.eks.amazonaws.com"])
                    .when(Condition::string_equals("aws:SourceAccount", account))
                    .when(Condition::new("ArnEquals", "aws:SourceArn", [cluster_arn])),
            ),
            service: Some("pods.eks.amazonaws.com".to_owned()),
        }
    }

    /// GitHub Actions of `repository` (`owner/name`) through the account's GitHub OIDC
    /// provider, only for workflow runs on branch `branch`.
    pub fn github_actions_branch(
        provider_arn: impl Into<Value<String>>,
        repository: &str,
        branch: &str,
    ) -> Self {
        Self::github(
            provider_arn,
            format!("repo:{repository}:ref:refs/heads/{branch}"),
        )
    }

    /// Principals of the account `account_root` names (`arn:<partition>:iam::<id>:root`)
    /// that their own IAM policies let assume this role: the account delegates (an SSO
    /// permission set, an administrators' group), as AWS's "another principal of this
    /// account" trust does.
    pub fn account(account_root: impl Into<Value<String>>) -> Self {
        Self {
            document: PolicyDocument::new().statement(
                Statement::allow(["sts:AssumeRole", "sts:TagSession"])
                    .principal("AWS", [account_root]),
            ),
            service: None,
        }
    }

    /// GitHub Actions of each of `repositories` (`owner/name`) through the account's
    /// GitHub OIDC provider, only for workflow runs of the git refs `refs` (exact, like
    /// `refs/heads/main`, or a tag pattern, like `refs/tags/v*`: `StringLike`). An image
    /// registry trusts its repositories' main branch and release tags this way.
    pub fn github_actions_refs(
        provider_arn: impl Into<Value<String>>,
        repositories: &[&str],
        refs: &[&str],
    ) -> Self {
        let subjects: Vec<String> = repositories
            .iter()
            .flat_map(|repository| {
                refs.iter()
                    .map(move |git_ref| format!("repo:{repository}:ref:{git_ref}"))
            })
            .collect();
        Self {
            document: PolicyDocument::new().statement(
                Statement::allow(["sts:AssumeRoleWithWebIdentity"])
                    .principal("Federated", [provider_arn])
                    .when(Condition::string_equals(
                        "token.actions.githubusercontent.com:aud",
                        "sts.amazonaws.com",
                    ))
                    .when(Condition::string_like(
                        "token.actions.githubusercontent.com:sub",
                        subjects,
                    )),
            ),
            service: None,
        }
    }

    /// GitHub Actions of `repository` through OIDC, only for jobs of deployment
    /// environment `environment` (which can require a reviewer's approval).
    pub fn github_actions_environment(
        provider_arn: impl Into<Value<String>>,
        repository: &str,
        environment: &str,
    ) -> Self {
        Self::github(
            provider_arn,
            format!("repo:{repository}:environment:{environment}"),
        )
    }

    fn github(provider_arn: impl Into<Value<String>>, subject: String) -> Self {
        Self {
            document: PolicyDocument::new().statement(
                Statement::allow(["sts:AssumeRoleWithWebIdentity"])
                    .principal("Federated", [provider_arn])
                    .when(Condition::string_equals(
                        "token.actions.githubusercontent.com:aud",
                        "sts.amazonaws.com",
                    ))
                    .when(Condition::string_equals(
                        "token.actions.githubusercontent.com:sub",
                        subject,
                    )),
            ),
            service: None,
        }
    }

    /// Web identities of OIDC issuer `issuer` (its URL without `https://`, the prefix of
    /// the provider's condition keys) through the account's provider `provider_arn`, for
    /// audience `audience` and only tokens whose subject is one of `subjects` (exact:
    /// `StringEquals`). Kubernetes service accounts (EKS IRSA, or K3s with a published
    /// issuer) use subjects `system:serviceaccount:<namespace>:<name>` and audience
    /// `sts.amazonaws.com`.
    pub fn web_identity<S: Into<String>>(
        provider_arn: impl Into<Value<String>>,
        issuer: &str,
        audience: &str,
        subjects: impl IntoIterator<Item = S>,
    ) -> Self {
        let issuer = issuer.trim_start_matches("https://");
        let subjects: Vec<String> = subjects.into_iter().map(Into::into).collect();
        Self {
            document: PolicyDocument::new().statement(
                Statement::allow(["sts:AssumeRoleWithWebIdentity"])
                    .principal("Federated", [provider_arn])
                    .when(Condition::string_equals(&format!("{issuer}:aud"), audience))
                    .when(Condition::new(
                        "StringEquals",
                        format!("{issuer}:sub"),
                        subjects,
                    )),
            ),
            service: None,
        }
    }

    /// Terraform Cloud runs of `workspace` in `project` of `organization` through the
    /// account's Terraform Cloud OIDC provider; `run_phase` is `plan`, `apply` or `*`.
    pub fn terraform_cloud(
        provider_arn: impl Into<Value<String>>,
        organization: &str,
        project: &str,
        workspace: &str,
        run_phase: &str,
    ) -> Self {
        Self {
            document: PolicyDocument::new().statement(
                Statement::allow(["sts:AssumeRoleWithWebIdentity"])
                    .principal("Federated", [provider_arn])
                    .when(Condition::string_equals("app.terraform.io:aud", "aws.workload.identity"))
                    .when(Condition::string_like(
                        "app.terraform.io:sub",
                        [format!(
                            "organization:{organization}:project:{project}:workspace:{workspace}:run_phase:{run_phase}"
                        )],
                    )),
            ),
            service: None,
        }
    }

    /// The trust policy document.
    pub fn document(&self) -> &PolicyDocument {
        &self.document
    }

    /// Whether EC2 instances assume it (then an instance profile is made).
    pub(crate) fn is_ec2(&self) -> bool {
        self.service.as_deref() == Some("ec2.amazonaws.com")
    }
}
