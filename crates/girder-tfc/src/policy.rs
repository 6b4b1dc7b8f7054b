//! Policy checks: an OPA policy set attached to workspaces.
//!
//! OPA rather than Sentinel: Rego is open source, so the policies can be read and tested
//! with the open `opa` (or `regorus`) without HashiCorp's Sentinel CLI, and the same
//! language serves Kubernetes admission (Gatekeeper) later. HCP Terraform evaluates OPA
//! policies after the plan, on `input.plan` (the plan JSON) and `input.run`; a
//! `mandatory` policy that fails stops the run before apply.

use girder_aws::tfe;
use girder_core::construct::{Construct, Dependable};
use girder_core::expr::Reference;
use girder_core::terraform::Dependency;
use girder_core::{Error, Expr, Result, Scope, Value};

use crate::error::TfcError;
use crate::names;
use crate::workspace::TfcWorkspaceHandle;

/// Refuse a security group open to the internet on SSH (`policies/no_public_ssh.rego`).
pub const NO_PUBLIC_SSH_REGO: &str = include_str!("../policies/no_public_ssh.rego");
/// Refuse an S3 bucket without a public access block (`policies/s3_public_access_block.rego`).
pub const S3_PUBLIC_ACCESS_BLOCK_REGO: &str =
    include_str!("../policies/s3_public_access_block.rego");

/// What a failing policy does to the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enforcement {
    /// The run stops before apply.
    Mandatory,
    /// The failure is reported; the run goes on.
    Advisory,
}

impl Enforcement {
    fn as_str(self) -> &'static str {
        match self {
            Enforcement::Mandatory => "mandatory",
            Enforcement::Advisory => "advisory",
        }
    }
}

/// One OPA policy (`tfe_policy`, kind `opa`): Rego source and the query whose result
/// (an array or set) is empty when the plan passes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct OpaPolicy {
    name: String,
    description: String,
    rego: String,
    query: String,
    enforcement: Enforcement,
}

impl OpaPolicy {
    /// Policy `name` from `rego`, failing when `query` (`data.<package>.deny`) is not
    /// empty. Mandatory.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        rego: impl Into<String>,
        query: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            rego: rego.into(),
            query: query.into(),
            enforcement: Enforcement::Mandatory,
        }
    }

    /// The same policy under another name (policy names are unique in an organization:
    /// one set per environment names its copies apart).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// No security group admits SSH (TCP 22 or every protocol) from `0.0.0.0/0` or `::/0`.
    pub fn no_public_ssh() -> Self {
        Self::new(
            "no-public-ssh",
            "No security group admits SSH from the internet (use SSM Session Manager)",
            NO_PUBLIC_SSH_REGO,
            "data.terraform.policies.no_public_ssh.deny",
        )
    }

    /// Every S3 bucket has a public access block that blocks and ignores public ACLs.
    pub fn s3_public_access_block() -> Self {
        Self::new(
            "s3-public-access-block",
            "Every S3 bucket has a public access block blocking public ACLs",
            S3_PUBLIC_ACCESS_BLOCK_REGO,
            "data.terraform.policies.s3_public_access_block.deny",
        )
    }

    /// Report failures without stopping the run.
    pub fn advisory(mut self) -> Self {
        self.enforcement = Enforcement::Advisory;
        self
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its Rego source.
    pub fn rego(&self) -> &str {
        &self.rego
    }

    /// Its query.
    pub fn query(&self) -> &str {
        &self.query
    }
}

/// An OPA policy set of an organization (`tfe_policy_set`, kind `opa`, not overridable)
/// holding its policies (`tfe_policy`), attached to the given workspaces
/// (`tfe_workspace_policy_set` each). HCP Terraform Free allows one policy set of up to
/// five policies.
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct PolicySet {
    organization: String,
    name: String,
    description: Option<String>,
    policies: Vec<OpaPolicy>,
    workspaces: Vec<TfcWorkspaceHandle>,
    opa_version: Option<String>,
}

/// A policy set in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct PolicySetHandle {
    set: tfe::PolicySetHandle,
    policies: Vec<tfe::PolicyHandle>,
    attachments: Vec<tfe::WorkspacePolicySetHandle>,
}

impl PolicySet {
    /// Policy set `name` of `organization`.
    pub fn new(organization: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            organization: organization.into(),
            name: name.into(),
            description: None,
            policies: Vec::new(),
            workspaces: Vec::new(),
            opa_version: None,
        }
    }

    /// What it checks.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Check `policy`.
    pub fn policy(mut self, policy: OpaPolicy) -> Self {
        self.policies.push(policy);
        self
    }

    /// Check the runs of `workspace`.
    pub fn workspace(mut self, workspace: &TfcWorkspaceHandle) -> Self {
        self.workspaces.push(workspace.clone());
        self
    }

    /// Evaluate with OPA `version` (otherwise HCP Terraform's latest). The policies use
    /// `import rego.v1`, which OPA 0.59 and later read.
    pub fn opa_version(mut self, version: impl Into<String>) -> Self {
        self.opa_version = Some(version.into());
        self
    }

    fn check(&self) -> std::result::Result<(), TfcError> {
        names::organization(&self.organization)?;
        names::policy(&self.name)?;
        if self.policies.is_empty() {
            return Err(TfcError::EmptyPolicySet {
                name: self.name.clone(),
                missing: "policies",
            });
        }
        if self.workspaces.is_empty() {
            return Err(TfcError::EmptyPolicySet {
                name: self.name.clone(),
                missing: "workspaces",
            });
        }
        for (i, policy) in self.policies.iter().enumerate() {
            names::policy(&policy.name)?;
            if self.policies[..i].iter().any(|p| p.name == policy.name) {
                return Err(TfcError::DuplicatePolicy {
                    set: self.name.clone(),
                    policy: policy.name.clone(),
                });
            }
        }
        for workspace in &self.workspaces {
            if workspace.organization() != self.organization {
                return Err(TfcError::OtherOrganization {
                    relation: "policy set",
                    from: self.name.clone(),
                    from_organization: self.organization.clone(),
                    to: workspace.name().to_owned(),
                    to_organization: workspace.organization().to_owned(),
                });
            }
        }
        Ok(())
    }
}

impl Construct for PolicySet {
    type Handle = PolicySetHandle;

    /// Add it as construct `id`: `tfe_policy_set.<path>`, `tfe_policy.<path>_<policy>`
    /// per policy and `tfe_workspace_policy_set.<path>_<workspace>` per workspace.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<PolicySetHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        self.check().map_err(|e| Error::construct(&at, e))?;
        let mut policies = Vec::new();
        for policy in &self.policies {
            policies.push(
                scope.add(
                    &policy.name,
                    tfe::Policy::new(&policy.name, &policy.rego)
                        .organization(&self.organization)
                        .kind("opa")
                        .query(&policy.query)
                        .enforce_mode(policy.enforcement.as_str())
                        .description(&policy.description),
                )?,
            );
        }
        let ids: Vec<Value<String>> = policies.iter().map(|p| Value::Expr(p.id())).collect();
        let mut set = tfe::PolicySet::new(&self.name)
            .organization(&self.organization)
            .kind("opa")
            .overridable(false)
            .policy_ids(ids);
        if let Some(description) = &self.description {
            set = set.description(description);
        }
        if let Some(version) = &self.opa_version {
            set = set.policy_tool_version(version);
        }
        let set = scope.add_default(set)?;
        let mut attachments = Vec::new();
        for workspace in &self.workspaces {
            attachments.push(scope.add(
                workspace.name(),
                tfe::WorkspacePolicySet::new(set.id(), workspace.id()),
            )?);
        }
        Ok(PolicySetHandle {
            set,
            policies,
            attachments,
        })
    }
}

impl PolicySetHandle {
    /// The policy set's id.
    pub fn id(&self) -> Expr<String> {
        self.set.id()
    }
}

impl Dependable for PolicySetHandle {
    /// The set, its policies and its attachments: a run queued after this is checked.
    fn dependencies(&self) -> Vec<Reference> {
        let mut references = vec![self.set.dependency()];
        references.extend(self.policies.iter().map(Dependency::dependency));
        references.extend(self.attachments.iter().map(Dependency::dependency));
        references
    }
}
