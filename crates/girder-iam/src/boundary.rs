//! Permissions boundaries: a ceiling on every role a stack makes, so that whoever may
//! make roles (an automated apply) cannot make one stronger than the ceiling, or one
//! without it.
//!
//! - [`PermissionsBoundary`], an aspect: every `aws_iam_role` of the stack gets
//!   `permissions_boundary` (a role that states its own keeps it).
//! - [`boundary_policy`]: the ceiling, a policy document allowing only the services the
//!   bounded roles use, and denying what would escape it (IAM users, groups and access
//!   keys; the account and organization settings; changing or removing a boundary; a
//!   role made without this boundary) and what the caller protects (every bounded role
//!   inherits those denies).
//! - [`role_management_with_boundary`]: the statements that let an apply make, change
//!   and pass roles only under the boundary, only by the stacks' role names, only to
//!   the services the roles are for; [`own_roles_stay`]: the Deny that keeps the
//!   applying roles themselves out of reach.

use girder_core::aspect::{Aspect, Element};
use girder_core::diagnostics::Diagnostics;
use girder_core::expr::Ast;

use girder_core::{Error, Result};

use crate::{Condition, Effect, IamError, PolicyDocument, Statement};

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
        set_on_every_role(element, "permissions_boundary", &self.arn);
    }
}

/// Put every role of a stack under IAM path `path` (`/piksel-eks/`): an aspect, like
/// [`PermissionsBoundary`]. Roles of two stacks under two paths can be told apart by
/// ARN (`role/piksel-eks/*`), so each stack's apply may manage its own roles only, even
/// where their names share a prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RolePath {
    path: String,
}

impl RolePath {
    /// Path `path`: `/`, then segments of letters, digits and `+=,.@_-`, each ended by `/`
    /// (IAM's rule), at most 512 characters.
    pub fn new(path: impl Into<String>) -> std::result::Result<Self, IamError> {
        let path = path.into();
        let ok = path.len() <= 512
            && path.len() >= 2
            && path.starts_with('/')
            && path.ends_with('/')
            && !path.contains("//")
            && path
                .chars()
                .all(|c| c == '/' || c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
        if ok {
            Ok(Self { path })
        } else {
            Err(IamError::RolePath(path))
        }
    }

    /// The path.
    pub fn as_str(&self) -> &str {
        &self.path
    }
}

impl Aspect for RolePath {
    fn visit(&self, element: Element<'_>, _diagnostics: &mut Diagnostics) {
        set_on_every_role(element, "path", &self.path);
    }
}

/// Set argument `key` of an `aws_iam_role` to `value`, unless the role sets it itself:
/// the stack-wide role aspects' one mechanism.
fn set_on_every_role(element: Element<'_>, key: &str, value: &str) {
    let Element::Resource { spec, .. } = element else {
        return;
    };
    if spec.resource_type() != "aws_iam_role" {
        return;
    }
    if let Ast::Object(entries) = spec.body_mut() {
        if !entries.iter().any(|(k, _)| k == key) {
            entries.push((key.to_owned(), Ast::String(value.to_owned())));
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

/// The boundary `boundary_arn` names, for the construct at `at` (named in errors):
/// - a ceiling, the only Allow: `ceiling`, the actions the bounded roles' own policies
///   (and the managed policies attached to them) may grant at most, by service
///   (`ec2:*`) or by action (`iam:CreateServiceLinkedRole`);
/// - what escapes a boundary ([`OUTSIDE_THE_BOUNDARY`]), a change to a boundary or to
///   this policy, a role made or re-bounded without it: denied;
/// - `protections`, Denies every bounded role inherits, whatever its own policies say
///   (the audit record, the backups, the keys, the roles that make the bounded ones).
///
/// Refuses ([`IamError`]) an empty ceiling, a ceiling of `*` (which caps nothing), and a
/// protection that is an Allow (which would widen the ceiling).
pub fn boundary_policy(
    at: &str,
    boundary_arn: &str,
    ceiling: &[String],
    protections: &[Statement],
) -> Result<PolicyDocument> {
    if ceiling.is_empty() {
        return Err(Error::construct(at, IamError::NoCeiling));
    }
    if ceiling.iter().any(|action| action == "*") {
        return Err(Error::construct(at, IamError::CeilingIsEverything));
    }
    if let Some((index, allow)) = protections
        .iter()
        .enumerate()
        .find(|(_, s)| s.effect() == Effect::Allow)
    {
        let statement = allow
            .statement_id()
            .map_or_else(|| format!("protection {}", index + 1), str::to_owned);
        return Err(Error::construct(
            at,
            IamError::ProtectionAllows { statement },
        ));
    }
    let document = PolicyDocument::new()
        .statement(
            Statement::allow(ceiling.iter().cloned())
                .sid("CeilingAllowsTheseServices")
                .on(["*"])
                .wildcard_because("a permissions boundary is a ceiling, not a grant: a role bounded by it still needs its own policies for anything, and these are the services the bounded roles use"),
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
        );
    Ok(protections
        .iter()
        .cloned()
        .fold(document, PolicyDocument::statement))
}

/// The role writes that change what a role may do.
const ROLE_POLICY_WRITES: [&str; 4] = [
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
];

/// The role writes that change who may assume a role, its settings, tags or existence.
const ROLE_WRITES: [&str; 5] = [
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:DeleteRole",
    "iam:TagRole",
    "iam:UntagRole",
];

/// Let a principal make and re-bound roles only under `boundary_arn`, only the roles
/// `managed_roles` names, and keep it from escaping through what it may not make:
/// - `iam:CreateRole` and `iam:PutRolePermissionsBoundary` only on `managed_roles` (role
///   ARNs or ARN patterns, `arn:aws:iam::<account>:role/<prefix>-*`: the names of the
///   roles the stacks make) and only with the `iam:PermissionsBoundary` condition, and
///   never removing a boundary;
/// - a role's trust, settings, tags and deletion (`iam:UpdateAssumeRolePolicy`,
///   `iam:UpdateRole`, `iam:DeleteRole`, `iam:TagRole`, `iam:UntagRole`) only on
///   `managed_roles`, so no other role of the account (an administrator's, say) is
///   re-trusted to someone else;
/// - `iam:PassRole` only of `managed_roles`, and only to `passed_to` (the
///   `iam:PassedToService` condition: `eks.amazonaws.com`, the services the roles trust),
///   so no role is handed to a service that would run someone's code with it; with
///   `passed_to` empty, no role is passed at all;
/// - policies written or attached only to roles that carry the boundary, so a role
///   without it (the principal's own, say) never gains a grant;
/// - no change at all to `own_roles` (the principal's role and its siblings, by ARN or
///   ARN pattern): their trust, policies, tags or deletion;
/// - no new version of the boundary and no deleting it;
/// - managed policies attached or detached only from `attachable` (policy ARNs, or ARN
///   patterns such as `arn:aws:iam::<account>:policy/<prefix>-*`: the AWS managed
///   policies the stacks attach, and their own customer managed ones), an
///   `iam:PolicyARN` condition, so a bounded role never gets `AdministratorAccess`
///   attached. With `attachable` empty, no managed policy is attached at all.
///
/// The principal is not itself bounded (it makes the boundary), so these denies are the
/// ceiling on what its own policy's wildcards allow; its own policy should grant the
/// role writes above through these statements only (not on `*`). With `managed_roles`
/// empty the statements that grant name no resource, and rendering refuses them.
pub fn role_management_with_boundary(
    boundary_arn: &str,
    own_roles: &[String],
    attachable: &[String],
    managed_roles: &[String],
    passed_to: &[String],
) -> Vec<Statement> {
    let mut statements = vec![
        Statement::allow(["iam:CreateRole", "iam:PutRolePermissionsBoundary"])
            .sid("MakeRolesUnderTheBoundary")
            .on(managed_roles.to_vec())
            .when(Condition::string_equals(
                "iam:PermissionsBoundary",
                boundary_arn.to_owned(),
            )),
        Statement::allow(ROLE_WRITES)
            .sid("ChangeOnlyTheseRoles")
            .on(managed_roles.to_vec()),
    ];
    if !passed_to.is_empty() {
        statements.push(
            Statement::allow(["iam:PassRole"])
                .sid("PassTheseRolesToTheirServices")
                .on(managed_roles.to_vec())
                .when(Condition::new(
                    "StringEquals",
                    "iam:PassedToService",
                    passed_to.iter().cloned(),
                )),
        );
    }
    statements.extend([
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
    ]);
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
        statements.push(own_roles_stay(own_roles));
    }
    statements
}

/// A Deny of every change to `roles` (ARNs or ARN patterns): their trust, policies,
/// boundary, settings, tags, deletion, and passing them to a service. For the roles that
/// make the bounded ones, in their own policy ([`role_management_with_boundary`]) and in
/// the boundary's protections ([`boundary_policy`]), so no role they make reaches them
/// either.
pub fn own_roles_stay(roles: &[String]) -> Statement {
    Statement::deny(
        ROLE_POLICY_WRITES
            .into_iter()
            .chain(ROLE_WRITES)
            .chain(["iam:PutRolePermissionsBoundary", "iam:PassRole"]),
    )
    .sid("OwnRolesStay")
    .on(roles.to_vec())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

    use girder_core::Value;

    use super::*;
    use crate::Access;

    const BOUNDARY: &str = "arn:aws:iam::111111111111:policy/platform-boundary";

    const ROLES: &str = "arn:aws:iam::111111111111:role/platform-*";

    #[test]
    fn role_paths_iam_refuses_are_refused() {
        assert_eq!(
            RolePath::new("/piksel-eks/").unwrap().as_str(),
            "/piksel-eks/"
        );
        assert!(RolePath::new("/a/b/").is_ok());
        for bad in [
            "", "/", "piksel/", "/piksel", "//", "/a//b/", "/a b/", "/${x}/",
        ] {
            assert_eq!(
                RolePath::new(bad),
                Err(IamError::RolePath(bad.to_owned())),
                "{bad}"
            );
        }
    }

    fn ceiling() -> Vec<String> {
        vec!["s3:*".to_owned(), "iam:CreateServiceLinkedRole".to_owned()]
    }

    fn management(passed_to: &[String]) -> PolicyDocument {
        role_management_with_boundary(
            BOUNDARY,
            &["arn:aws:iam::111111111111:role/tfc-*".to_owned()],
            &[],
            &[ROLES.to_owned()],
            passed_to,
        )
        .into_iter()
        .fold(PolicyDocument::new(), PolicyDocument::statement)
    }

    fn iam_error(error: &Error) -> &IamError {
        error.construct_error::<IamError>().unwrap()
    }

    #[test]
    fn the_boundary_denies_escapes_and_stays_put() {
        let policy = boundary_policy("boundary", BOUNDARY, &ceiling(), &[]).unwrap();
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
    fn the_boundary_allows_only_its_ceiling() {
        let policy = boundary_policy("boundary", BOUNDARY, &ceiling(), &[]).unwrap();
        let any = Value::Literal("*".to_owned());
        assert_eq!(
            policy.access("iam:CreateServiceLinkedRole", &any),
            Access::Allowed
        );
        // A bounded role whose own policy allows `*` still may do nothing outside it.
        for action in [
            "cloudtrail:StopLogging",
            "iam:PutRolePolicy",
            "iam:UpdateAssumeRolePolicy",
            "iam:PassRole",
            "sts:AssumeRole",
        ] {
            assert_eq!(policy.access(action, &any), Access::Denied, "{action}");
        }
    }

    #[test]
    fn a_bounded_role_inherits_the_boundarys_protections() {
        let trail = "arn:aws:cloudtrail:us-west-2:111111111111:trail/audit";
        let protection = Statement::deny(["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"])
            .sid("TheTrailKeepsLogging")
            .on([trail]);
        // Even with the service whole in the ceiling, the protection wins.
        let ceiling = vec!["cloudtrail:*".to_owned()];
        let policy = boundary_policy("boundary", BOUNDARY, &ceiling, &[protection]).unwrap();
        let trail = Value::Literal(trail.to_owned());
        assert_eq!(
            policy.access("cloudtrail:StopLogging", &trail),
            Access::Denied
        );
        assert_eq!(
            policy.access("cloudtrail:DescribeTrails", &trail),
            Access::Allowed
        );
        assert!(policy.render("boundary").is_ok());
    }

    #[test]
    fn a_boundary_refuses_no_ceiling_everything_and_allowing_protections() {
        let empty = boundary_policy("platform/boundary", BOUNDARY, &[], &[]).unwrap_err();
        assert_eq!(iam_error(&empty), &IamError::NoCeiling);
        let everything =
            boundary_policy("platform/boundary", BOUNDARY, &["*".to_owned()], &[]).unwrap_err();
        assert_eq!(iam_error(&everything), &IamError::CeilingIsEverything);
        let widening = Statement::allow(["iam:*"]).sid("Widen").on(["*"]);
        let allows =
            boundary_policy("platform/boundary", BOUNDARY, &ceiling(), &[widening]).unwrap_err();
        assert_eq!(
            iam_error(&allows),
            &IamError::ProtectionAllows {
                statement: "Widen".to_owned()
            }
        );
    }

    #[test]
    fn roles_are_made_only_under_the_boundary() {
        let own = "arn:aws:iam::111111111111:role/tfc-*".to_owned();
        let policy = management(&[]);
        let ours = Value::Literal("arn:aws:iam::111111111111:role/platform-nodes".to_owned());
        assert_eq!(
            policy.access("iam:CreateRole", &ours),
            Access::AllowedWhen(vec![vec![Condition::string_equals(
                "iam:PermissionsBoundary",
                BOUNDARY
            )]])
        );
        // Not by another name.
        let other = Value::Literal("arn:aws:iam::111111111111:role/admin".to_owned());
        assert_eq!(policy.access("iam:CreateRole", &other), Access::Denied);
        let any = Value::Literal("*".to_owned());
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
            "iam:PassRole",
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
    fn only_the_managed_roles_are_re_trusted_changed_or_deleted() {
        let policy = management(&[]);
        let ours = Value::Literal("arn:aws:iam::111111111111:role/platform-nodes".to_owned());
        let admin = Value::Literal(
            "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole".to_owned(),
        );
        for action in ROLE_WRITES {
            assert_eq!(policy.access(action, &ours), Access::Allowed, "{action}");
            assert_eq!(policy.access(action, &admin), Access::Denied, "{action}");
        }
        // With no service to pass to, no role is passed at all.
        assert_eq!(policy.access("iam:PassRole", &ours), Access::Denied);
    }

    #[test]
    fn roles_are_passed_only_to_the_services_given() {
        let services = [
            "eks.amazonaws.com".to_owned(),
            "ec2.amazonaws.com".to_owned(),
        ];
        let policy = management(&services);
        let ours = Value::Literal("arn:aws:iam::111111111111:role/platform-nodes".to_owned());
        assert_eq!(
            policy.access("iam:PassRole", &ours),
            Access::AllowedWhen(vec![vec![Condition::new(
                "StringEquals",
                "iam:PassedToService",
                services.clone()
            )]])
        );
        let admin = Value::Literal("arn:aws:iam::111111111111:role/admin".to_owned());
        assert_eq!(policy.access("iam:PassRole", &admin), Access::Denied);
        assert!(policy.render("apply").is_ok());
    }

    #[test]
    fn managing_no_roles_is_refused_at_render() {
        let policy = role_management_with_boundary(BOUNDARY, &[], &[], &[], &[])
            .into_iter()
            .fold(PolicyDocument::new(), PolicyDocument::statement);
        let error = policy.render("apply").unwrap_err();
        assert!(matches!(
            iam_error(&error),
            IamError::NoResources { statement, .. } if statement == "MakeRolesUnderTheBoundary"
        ));
    }

    #[test]
    fn only_the_managed_policies_given_may_be_attached() {
        let attachable = [
            "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy".to_owned(),
            "arn:aws:iam::111111111111:policy/platform-*".to_owned(),
        ];
        let statements =
            role_management_with_boundary(BOUNDARY, &[], &attachable, &[ROLES.to_owned()], &[]);
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
        let none = role_management_with_boundary(BOUNDARY, &[], &[], &[ROLES.to_owned()], &[])
            .into_iter()
            .fold(PolicyDocument::new(), PolicyDocument::statement);
        let any = Value::Literal("*".to_owned());
        assert_eq!(none.access("iam:AttachRolePolicy", &any), Access::Denied);
    }
}
