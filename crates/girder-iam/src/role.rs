//! IAM roles with their policies, and the OIDC providers roles trust.

use girder_aws::aws;
use girder_core::construct::{Construct, Dependable};
use girder_core::expr::Reference;
use girder_core::terraform::Dependency;
use girder_core::vocabulary::Arn;
use girder_core::{Error, Expr, Result, Scope, Value};

use crate::error::IamError;
use crate::policy::PolicyDocument;
use crate::trust::Trust;

/// GitHub Actions' OIDC issuer.
pub const GITHUB_OIDC_URL: &str = "https://token.actions.githubusercontent.com";
/// Terraform Cloud's OIDC issuer.
pub const TFC_OIDC_URL: &str = "https://app.terraform.io";

/// Whether `arn` is an IAM role ARN written out in full:
/// `arn:<aws|aws-cn|aws-us-gov>:iam::<12 digits>:role/<path and name>`, the name in IAM's
/// character set (letters, digits and `+=,.@_-/`). Constructs that take a role made
/// elsewhere (an IRSA role for a chart, say) check it here before synth, not at apply.
pub fn is_role_arn(arn: &str) -> bool {
    principal_name(arn, &["role/"]).is_some()
}

/// Whether `arn` is an IAM role's or user's ARN written out in full (as [`is_role_arn`],
/// `role/` or `user/`), its name not ending in `/`: what an EKS access entry may name.
pub fn is_iam_principal_arn(arn: &str) -> bool {
    principal_name(arn, &["role/", "user/"]).is_some_and(|name| !name.ends_with('/'))
}

/// The path and name of an IAM principal ARN of one of `kinds` (`role/`), in IAM's
/// character set, or `None`.
fn principal_name<'a>(arn: &'a str, kinds: &[&str]) -> Option<&'a str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let account_ok = parts.len() == 6
        && parts[0] == "arn"
        && ["aws", "aws-cn", "aws-us-gov"].contains(&parts[1])
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit());
    if !account_ok {
        return None;
    }
    let resource = parts[5];
    kinds
        .iter()
        .find_map(|kind| resource.strip_prefix(kind))
        .filter(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
        })
}

/// An IAM role: trust, inline policies, managed policies.
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct Role {
    name: String,
    description: Option<String>,
    trust: Trust,
    inline: Vec<(String, PolicyDocument)>,
    /// Construct id and ARN of each attachment.
    managed: Vec<(String, Value<String>)>,
    max_session_seconds: Option<u32>,
    instance_profile: bool,
}

/// A role in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct RoleHandle {
    role: aws::IamRoleHandle,
    instance_profile: Option<aws::IamInstanceProfileHandle>,
    /// The inline policies and managed-policy attachments: what the role may do.
    grants: Vec<Reference>,
}

impl RoleHandle {
    /// The role's ARN.
    pub fn arn(&self) -> Expr<String> {
        self.role.arn()
    }

    /// The role's name.
    pub fn name(&self) -> Expr<String> {
        self.role.name()
    }

    /// The generated resource.
    pub fn resource(&self) -> &aws::IamRoleHandle {
        &self.role
    }

    /// The instance profile's name (EC2 roles).
    pub fn instance_profile_name(&self) -> Option<Expr<String>> {
        self.instance_profile.as_ref().map(|p| p.name())
    }

    /// The instance profile's ARN (EC2 roles).
    pub fn instance_profile_arn(&self) -> Option<Expr<String>> {
        self.instance_profile.as_ref().map(|p| p.arn())
    }
}

impl Role {
    /// Role `name` assumed per `trust`.
    pub fn new(name: impl Into<String>, trust: Trust) -> Self {
        Self {
            name: name.into(),
            description: None,
            trust,
            inline: Vec::new(),
            managed: Vec::new(),
            max_session_seconds: None,
            instance_profile: true,
        }
    }

    /// No instance profile for an EC2 role: its instances get one from elsewhere (an EKS
    /// managed node group makes its own).
    pub fn without_instance_profile(mut self) -> Self {
        self.instance_profile = false;
        self
    }

    /// What it is for.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// An inline policy `name`.
    pub fn policy(mut self, name: impl Into<String>, document: PolicyDocument) -> Self {
        self.inline.push((name.into(), document));
        self
    }

    /// Attach the managed policy `arn` (a customer managed policy known at synth); the
    /// attachment's construct id is the policy name, the text after the last `/`.
    pub fn managed_policy(mut self, arn: impl Into<String>) -> Self {
        let arn = arn.into();
        let id = arn
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
            .map_or_else(|| format!("managed-{}", self.managed.len()), str::to_owned);
        self.managed.push((id, Value::Literal(arn)));
        self
    }

    /// Attach the AWS managed policy `name` (`AmazonSSMManagedInstanceCore`, or with its
    /// path, `service-role/AWSBackupServiceRolePolicyForBackup`) of `partition` (stated,
    /// or the `aws_partition` data source): its ARN is
    /// `arn:<partition>:iam::aws:policy/<name>`, its construct id the name after the
    /// path.
    pub fn aws_managed_policy(
        mut self,
        partition: impl Into<Value<String>>,
        name: impl Into<String>,
    ) -> Self {
        let name = name.into();
        let arn = Arn::new(partition, "iam", "", "aws", format!("policy/{name}"));
        let id = name.rsplit('/').next().unwrap_or(&name).to_owned();
        self.managed.push((id, arn.value()));
        self
    }

    /// Maximum session length, 1 to 12 hours.
    pub fn max_session(mut self, seconds: u32) -> Self {
        self.max_session_seconds = Some(seconds);
        self
    }
}

impl Construct for Role {
    type Handle = RoleHandle;

    /// Add the role (and its policies, attachments and, for EC2, instance profile) as
    /// construct `id` of `scope`: `aws_iam_role.<path>` and children.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<RoleHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        if let Some(seconds) = self.max_session_seconds {
            if !(3600..=43_200).contains(&seconds) {
                return Err(Error::construct(&at, IamError::MaxSession(seconds)));
            }
        }
        let trust = self.trust.document().render(&at)?;
        let mut role = aws::IamRole::new(trust).name(&self.name);
        if let Some(description) = &self.description {
            role = role.description(description);
        }
        if let Some(seconds) = self.max_session_seconds {
            role = role.max_session_duration(seconds);
        }
        let role = scope.add_default(role)?;
        let mut grants = Vec::new();
        for (name, document) in &self.inline {
            let policy = document.render(&format!("{at}/{name}"))?;
            let policy = scope.add(
                name,
                aws::IamRolePolicy::new(policy, role.name()).name(name),
            )?;
            grants.push(policy.dependency());
        }
        for (id, arn) in self.managed {
            let attachment = scope.add(&id, aws::IamRolePolicyAttachment::new(arn, role.name()))?;
            grants.push(attachment.dependency());
        }
        let instance_profile = if self.trust.is_ec2() && self.instance_profile {
            Some(
                scope.add(
                    "instance-profile",
                    aws::IamInstanceProfile::new()
                        .name(&self.name)
                        .role(role.name()),
                )?,
            )
        } else {
            None
        };
        Ok(RoleHandle {
            role,
            instance_profile,
            grants,
        })
    }
}

impl Dependable for RoleHandle {
    /// The role, its inline policies and managed-policy attachments, and its instance
    /// profile: what waits for the role waits until the role may do what it was given
    /// (an instance booting with the profile reads what the inline policy allows).
    fn dependencies(&self) -> Vec<Reference> {
        let mut references = vec![self.role.dependency()];
        references.extend(self.grants.iter().cloned());
        references.extend(self.instance_profile.iter().map(Dependency::dependency));
        references
    }
}

/// The account's GitHub Actions OIDC provider (one per account).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct GithubOidcProvider;

impl Construct for GithubOidcProvider {
    type Handle = aws::IamOpenidConnectProviderHandle;

    /// Add it as construct `id`: `aws_iam_openid_connect_provider.<path>_<id>`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<aws::IamOpenidConnectProviderHandle> {
        let mut scope = scope.construct_child(id)?;
        scope.add_default(aws::IamOpenidConnectProvider::new(
            ["sts.amazonaws.com"],
            GITHUB_OIDC_URL,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::is_role_arn;

    #[test]
    fn role_arns_are_told_from_other_arns() {
        assert!(is_role_arn("arn:aws:iam::123456789012:role/app"));
        assert!(is_role_arn(
            "arn:aws-us-gov:iam::123456789012:role/path/app+x=1,@_-."
        ));
        for bad in [
            "",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:user/app",
            "arn:aws:iam::12345678901:role/app",
            "arn:aws:iam:us-east-1:123456789012:role/app",
            "arn:aws:s3:::bucket",
            "arn:other:iam::123456789012:role/app",
            "arn:aws:iam::123456789012:role/${var.x}",
        ] {
            assert!(!is_role_arn(bad), "{bad}");
        }
    }
}
