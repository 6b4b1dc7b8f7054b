//! Permissions boundaries: a ceiling on every role a stack makes, so that whoever may
//! make roles (an automated apply) cannot make one stronger than the ceiling, or one
//! without it.
//!
//! - [`PermissionsBoundary`], an aspect: every `aws_iam_role` of the stack gets
//!   `permissions_boundary` (a role that states its own keeps it).
//! - [`boundary_policy`]: the ceiling, a policy document allowing everything except what
//!   would escape it: IAM users, groups and access keys; the account and organization
//!   settings; changing or removing a boundary; a role made without this boundary.
//! - [`role_management_with_boundary`]: the statements that let an apply make roles only
//!   under the boundary.

use girder_core::aspect::{Aspect, Element};
use girder_core::diagnostics::Diagnostics;
use girder_core::expr::Ast;

use crate::{Condition, PolicyDocument, Statement};

/// Sets `permissions_boundary` on every IAM role of the stack it is added to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermissionsBoundary {
    arn: String,
}

impl PermissionsBoundary {
    /// The boundary policy `arn` (`arn:aws:iam::<account>:policy/<name>`: known at
    /// synth, the policy is another stack's).
    pub fn new(arn: impl Into<String>) -> Self {
        Self { arn: arn.into() }
    }
}

impl Aspect for PermissionsBoundary {
    fn visit(&self, element: Element<'_>, _diagnostics: &mut Diagnostics) {
        let Element::Resource { spec, .. } = element else {
            return;
        };
        if spec.resource_type() != "aws_iam_role" {
            return;
        }
        if let Ast::Object(entries) = spec.body_mut() {
            if !entries.iter().any(|(key, _)| key == "permissions_boundary") {
                entries.push((
                    "permissions_boundary".to_owned(),
                    Ast::String(self.arn.clone()),
                ));
            }
        }
    }
}

/// What escapes a boundary: identities that are not roles, their keys, account and
/// organization settings.
const OUTSIDE_THE_BOUNDARY: [&str; 14] = [
    "iam:CreateUser",
    "iam:CreateGroup",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:AttachUserPolicy",
    "iam:PutUserPolicy",
    "iam:AddUserToGroup",
    "iam:AttachGroupPolicy",
    "iam:PutGroupPolicy",
    "iam:UpdateAccountPasswordPolicy",
    "iam:CreateAccountAlias",
    "organizations:*",
    "account:*",
];

/// The boundary `boundary_arn` names: everything but what escapes it ([`OUTSIDE_THE_BOUNDARY`]),
/// no change to a boundary or to this policy, and no role made or bounded without it.
pub fn boundary_policy(boundary_arn: &str) -> PolicyDocument {
    PolicyDocument::new()
        .statement(
            Statement::allow(["*"])
                .sid("CeilingAllowsTheRest")
                .on(["*"])
                .wildcard_because("a permissions boundary is a ceiling, not a grant: a role bounded by it still needs its own policies for anything"),
        )
        .statement(
            Statement::deny(OUTSIDE_THE_BOUNDARY)
                .sid("NoOtherIdentitiesOrAccountSettings")
                .on(["*"]),
        )
        .statement(
            Statement::deny(["iam:DeleteRolePermissionsBoundary"])
                .sid("NoRoleLosesItsBoundary")
                .on(["*"])
                .wildcard_because("every role's boundary, whatever the role"),
        )
        .statement(
            Statement::deny([
                "iam:CreatePolicyVersion",
                "iam:DeletePolicy",
                "iam:DeletePolicyVersion",
                "iam:SetDefaultPolicyVersion",
            ])
            .sid("TheBoundaryStays")
            .on([boundary_arn.to_owned()]),
        )
        .statement(
            Statement::deny(["iam:CreateRole", "iam:PutRolePermissionsBoundary"])
                .sid("RolesOnlyUnderTheBoundary")
                .on(["*"])
                .when(Condition::new(
                    "StringNotEquals",
                    "iam:PermissionsBoundary",
                    [boundary_arn.to_owned()],
                ))
                .wildcard_because("every role made or re-bounded, whatever its name"),
        )
}

/// The role writes that change what a role may do.
const ROLE_POLICY_WRITES: [&str; 4] = [
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
];

/// Let a principal make and re-bound roles only under `boundary_arn`, and keep it from
/// escaping through what it may not make:
/// - `iam:CreateRole` and `iam:PutRolePermissionsBoundary` only with the
///   `iam:PermissionsBoundary` condition, and never removing a boundary;
/// - policies written or attached only to roles that carry the boundary, so a role
///   without it (the principal's own, say) never gains a grant;
/// - no change at all to `own_roles` (the principal's role and its siblings, by ARN or
///   ARN pattern): their trust, policies, tags or deletion;
/// - no new version of the boundary and no deleting it;
/// - managed policies attached or detached only from `attachable` (policy ARNs, or ARN
///   patterns such as `arn:aws:iam::<account>:policy/<prefix>-*`: the AWS managed
///   policies the stacks attach, and their own customer managed ones), an
///   `iam:PolicyARN` condition, so a bounded role never gets `AdministratorAccess`
///   attached (the boundary would cap it, but a bounded role's ceiling is everything
///   but IAM escapes). With `attachable` empty, no managed policy is attached at all.
///
/// The principal is not itself bounded (it makes the boundary), so these denies are the
/// ceiling on what its own policy's wildcards allow.
pub fn role_management_with_boundary(
    boundary_arn: &str,
    own_roles: &[String],
    attachable: &[String],
) -> Vec<Statement> {
    let mut statements = vec![
        Statement::allow(["iam:CreateRole", "iam:PutRolePermissionsBoundary"])
            .sid("MakeRolesUnderTheBoundary")
            .on(["*"])
            .when(Condition::string_equals(
                "iam:PermissionsBoundary",
                boundary_arn.to_owned(),
            ))
            .wildcard_because("roles are named at plan; the condition is the guard"),
        Statement::deny(["iam:DeleteRolePermissionsBoundary"])
            .sid("NeverUnbound")
            .on(["*"])
            .wildcard_because("no role loses its boundary"),
        Statement::deny(ROLE_POLICY_WRITES)
            .sid("PoliciesOnlyForBoundedRoles")
            .on(["*"])
            .when(Condition::new(
                "StringNotEquals",
                "iam:PermissionsBoundary",
                [boundary_arn.to_owned()],
            ))
            .wildcard_because("every role without the boundary, whatever its name"),
        Statement::deny([
            "iam:CreatePolicyVersion",
            "iam:DeletePolicy",
            "iam:DeletePolicyVersion",
            "iam:SetDefaultPolicyVersion",
            "iam:TagPolicy",
            "iam:UntagPolicy",
        ])
        .sid("TheBoundaryStays")
        .on([boundary_arn.to_owned()]),
    ];
    let attach = Statement::deny(["iam:AttachRolePolicy", "iam:DetachRolePolicy"])
        .sid("OnlyTheseManagedPolicies")
        .on(["*"])
        .wildcard_because("every role, whatever its name: the policy is what is limited");
    statements.push(if attachable.is_empty() {
        attach
    } else {
        attach.when(Condition::new(
            "ArnNotLike",
            "iam:PolicyARN",
            attachable.iter().cloned(),
        ))
    });
    if !own_roles.is_empty() {
        statements.push(
            Statement::deny(ROLE_POLICY_WRITES.into_iter().chain([
                "iam:UpdateAssumeRolePolicy",
                "iam:UpdateRole",
                "iam:DeleteRole",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:PutRolePermissionsBoundary",
                "iam:PassRole",
            ]))
            .sid("OwnRolesStay")
            .on(own_roles.to_vec()),
        );
    }
    statements
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

    use girder_core::Value;

    use super::*;
    use crate::Access;

    const BOUNDARY: &str = "arn:aws:iam::111111111111:policy/platform-boundary";

    #[test]
    fn the_boundary_denies_escapes_and_stays_put() {
        let policy = boundary_policy(BOUNDARY);
        let any = Value::Literal("*".to_owned());
        assert_eq!(policy.access("s3:GetObject", &any), Access::Allowed);
        for action in [
            "iam:CreateUser",
            "iam:CreateAccessKey",
            "organizations:LeaveOrganization",
        ] {
            assert_eq!(policy.access(action, &any), Access::Denied, "{action}");
        }
        assert!(policy.render("boundary").is_ok());
    }

    #[test]
    fn roles_are_made_only_under_the_boundary() {
        let own = "arn:aws:iam::111111111111:role/tfc-*".to_owned();
        let statements = role_management_with_boundary(BOUNDARY, std::slice::from_ref(&own), &[]);
        let policy = statements
            .into_iter()
            .fold(PolicyDocument::new(), PolicyDocument::statement);
        let any = Value::Literal("*".to_owned());
        assert_eq!(
            policy.access("iam:CreateRole", &any),
            Access::AllowedWhen(vec![vec![Condition::string_equals(
                "iam:PermissionsBoundary",
                BOUNDARY
            )]])
        );
        assert_eq!(
            policy.access("iam:DeleteRolePermissionsBoundary", &any),
            Access::Denied
        );
        // The principal's own roles and the boundary are out of its reach.
        let own = Value::Literal(own);
        for action in [
            "iam:PutRolePolicy",
            "iam:AttachRolePolicy",
            "iam:UpdateAssumeRolePolicy",
        ] {
            assert_eq!(policy.access(action, &own), Access::Denied, "{action}");
        }
        let boundary = Value::Literal(BOUNDARY.to_owned());
        assert_eq!(
            policy.access("iam:CreatePolicyVersion", &boundary),
            Access::Denied
        );
    }

    #[test]
    fn only_the_managed_policies_given_may_be_attached() {
        let attachable = [
            "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy".to_owned(),
            "arn:aws:iam::111111111111:policy/platform-*".to_owned(),
        ];
        let statements = role_management_with_boundary(BOUNDARY, &[], &attachable);
        let guard = statements
            .iter()
            .find(|s| s.statement_id() == Some("OnlyTheseManagedPolicies"))
            .unwrap();
        assert_eq!(guard.effect(), crate::Effect::Deny);
        assert_eq!(
            guard.actions(),
            ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
        );
        assert_eq!(
            guard.conditions(),
            [Condition::new(
                "ArnNotLike",
                "iam:PolicyARN",
                attachable.clone()
            )]
        );
        // With none given, no managed policy may be attached: the deny is unconditional.
        let none = role_management_with_boundary(BOUNDARY, &[], &[])
            .into_iter()
            .fold(PolicyDocument::new(), PolicyDocument::statement);
        let any = Value::Literal("*".to_owned());
        assert_eq!(none.access("iam:AttachRolePolicy", &any), Access::Denied);
    }
}
