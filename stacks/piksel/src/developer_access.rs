//! Developer access (seed 000, issue 2.4: "Configure EC2 instances for services", "Set up
//! SSH for developers"): an instance in a private subnet that developers reach by SSH
//! through SSM Session Manager (`AWS-StartSSHSession`), with no port open to anyone, no
//! public address and no bastion. No shared key: each developer pushes their own public
//! key for 60 seconds with EC2 Instance Connect (`ec2-instance-connect:SendSSHPublicKey`,
//! as `ec2-user` only; Amazon Linux 2023 runs Instance Connect's agent), so a key never
//! outlives the session it opens and nobody's key is on the instance to leak or rotate.
//! They do so as the environment's developers role (`piksel-<env>-developers`, trusted by
//! the account: the account's SSO permission set decides who may assume it), which holds
//! the developers' policy, from the addresses of the operators' allowlist (an
//! `aws:SourceIp` condition on both calls).
//!
//! ```text
//! # ~/.ssh/config, with a profile assuming piksel-<env>-developers
//! Host piksel-dev
//!   HostName <instance id>
//!   User ec2-user
//!   ProxyCommand sh -c "aws ec2-instance-connect send-ssh-public-key --instance-id %h --instance-os-user %r --ssh-public-key file://$HOME/.ssh/id_ed25519.pub && aws ssm start-session --target %h --document-name AWS-StartSSHSession --parameters portNumber=%p"
//! ```

use girder_aws::aws;
use girder_aws::aws::data_ami;
use girder_aws::aws::instance as ec2;
use girder_core::construct::Construct;
use girder_core::terraform::{IgnoreChanges, IntoResourceSpec, Lifecycle};
use girder_core::vocabulary::Arn;
use girder_core::vocabulary::AwsLocation;
use girder_core::{Error, Result, Scope};
use girder_iam::{Condition, PolicyDocument, Role, Statement, Trust, session_manager_statements};
use girder_network::{SecurityGroup, VpcHandle};

use crate::config::{Environment, REGION};

/// The instance type: a developer's shell, builds of small images, database clients.
const INSTANCE_TYPE: &str = "t3.medium";

/// The developer instance of `env` in the first private subnet of `vpc`.
pub(crate) fn add(
    root: &mut Scope<'_>,
    env: &Environment,
    name: &str,
    location: &AwsLocation,
    vpc: &VpcHandle,
) -> Result<()> {
    let mut scope = root.child("developer-access")?;
    let at = scope.location();
    // Inbound: nothing (Session Manager's channel is outbound from the agent).
    let group = SecurityGroup::new(
        vpc,
        format!("{name}-developer"),
        format!("Piksel {} developer instance: no inbound", env.name),
    )
    .add(&mut scope, "security-group")?;
    group.allow_all_egress(&mut scope, "egress")?;
    let role = Role::new(format!("{name}-developer-instance"), Trust::ec2())
        .description(format!(
            "Piksel {} developer instance (Session Manager)",
            env.name
        ))
        .policy(
            "session-manager",
            session_manager_statements()
                .into_iter()
                .fold(PolicyDocument::new(), PolicyDocument::statement),
        )
        .add(&mut scope, "role")?;
    let Some(profile) = role.instance_profile_name() else {
        return Err(Error::invalid(
            at,
            "an EC2 role must come with an instance profile",
        ));
    };
    // Amazon Linux 2023, the newest when the instance is made; a newer image does not
    // replace a running developer machine (its disk is the developers' work).
    let ami = scope.add(
        "ami",
        aws::DataAmi::new()
            .most_recent(true)
            .owners(["amazon"])
            .filter(data_ami::Filter::new("name", ["al2023-ami-2023.*-x86_64"])),
    )?;
    let subnets = vpc.private_subnet_ids();
    let Some(subnet) = subnets.first() else {
        return Err(Error::invalid(at, "the VPC has no private subnet"));
    };
    let instance = scope.add(
        "instance",
        aws::Instance::new()
            .ami(ami.id())
            .instance_type(INSTANCE_TYPE)
            .subnet_id(subnet.clone())
            .vpc_security_group_ids([group.id()])
            .iam_instance_profile(profile)
            .associate_public_ip_address(false)
            .metadata_options(
                ec2::MetadataOptions::new()
                    .http_endpoint("enabled")
                    .http_tokens("required")
                    .http_put_response_hop_limit(1),
            )
            .root_block_device(
                ec2::RootBlockDevice::new()
                    .volume_type("gp3")
                    .volume_size(30)
                    .encrypted(true),
            )
            .monitoring(true)
            .ebs_optimized(true)
            .tags([("Name", format!("{name}-developer"))])
            .into_spec()
            .lifecycle(Lifecycle {
                ignore_changes: IgnoreChanges::Attributes(vec!["ami".into()]),
                ..Lifecycle::default()
            }),
    )?;
    // What a developer may do: push their own key to this instance as ec2-user, open an
    // SSH session to it (AWS-StartSSHSession, no shell document), both from the
    // allowlisted addresses, and end or resume their own sessions; no other instance.
    let from_the_allowlist = || {
        Condition::new(
            "IpAddress",
            "aws:SourceIp",
            env.operator_cidrs.iter().map(ToString::to_string),
        )
    };
    let instance_arn = Arn::attribute(instance.arn());
    let developers = PolicyDocument::new()
        .statement(
            Statement::allow(["ec2-instance-connect:SendSSHPublicKey"])
                .sid("TheirOwnKeyForOneSession")
                .on([instance_arn.clone()])
                .when(Condition::string_equals("ec2:osuser", OS_USER))
                .when(from_the_allowlist()),
        )
        .statement(
            Statement::allow(["ssm:StartSession"])
                .sid("SshToTheDeveloperInstance")
                .on([instance_arn])
                // AWS's own document: its ARN names no account.
                .on([format!(
                    "arn:aws:ssm:{REGION}::document/AWS-StartSSHSession"
                )])
                .when(from_the_allowlist()),
        )
        .statement(
            Statement::allow(["ssm:TerminateSession", "ssm:ResumeSession"])
                .sid("TheirOwnSessions")
                .on([location.arn("ssm", "session/${aws:userid}-*")]),
        );
    let policy = scope.add(
        "developer-policy",
        aws::IamPolicy::new(developers.render(&scope.location())?)
            .name(developer_policy_name(env))
            .description(
                "SSH to the developer instance through Session Manager with EC2 Instance Connect, from the allowlist",
            ),
    )?;
    // Who holds it: the developers' role, assumed through the account's SSO.
    let role = Role::new(
        format!("{name}-developers"),
        Trust::account(format!("arn:aws:iam::{}:root", env.account_id)),
    )
    .description(format!(
        "Piksel {} developers: SSH to the developer instance",
        env.name
    ))
    .max_session(3600)
    .add(&mut scope, "developers-role")?;
    scope.add(
        "developers-ssh",
        aws::IamRolePolicyAttachment::new(policy.arn(), role.name()),
    )?;
    Ok(())
}

/// The user developers sign in as (Amazon Linux's).
const OS_USER: &str = "ec2-user";

/// The developers' policy's name.
fn developer_policy_name(env: &Environment) -> String {
    format!("piksel-{}-developer-ssh", env.name)
}

/// The developers' policy's ARN (known at synth: the apply roles may attach it).
pub(crate) fn developer_policy_arn(env: &Environment) -> String {
    format!(
        "arn:aws:iam::{}:policy/{}",
        env.account_id,
        developer_policy_name(env)
    )
}
