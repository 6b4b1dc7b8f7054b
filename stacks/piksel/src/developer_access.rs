//! Developer access (seed 000, issue 2.4: "Configure EC2 instances for services", "Set up
//! SSH for developers"): an instance in a private subnet that developers reach by SSH
//! through SSM Session Manager (`AWS-StartSSHSession`), with no port open to anyone, no
//! public address and no bastion; their SSH key is its key pair, and the addresses they
//! may start a session from are the operators' allowlist (an `aws:SourceIp` condition on
//! `ssm:StartSession`, in the policy developers get).
//!
//! ```text
//! # ~/.ssh/config
//! Host piksel-dev
//!   HostName <instance id>
//!   User ec2-user
//!   ProxyCommand aws ssm start-session --target %h --document-name AWS-StartSSHSession --parameters portNumber=%p
//! ```

use girder_aws::aws;
use girder_aws::aws::data_ami;
use girder_aws::aws::instance as ec2;
use girder_core::construct::Construct;
use girder_core::terraform::{IgnoreChanges, IntoResourceSpec, Lifecycle};
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
    if !is_ssh_public_key(env.developer_public_key) {
        return Err(Error::invalid(
            at,
            format!(
                "developer public key {:?} is not an OpenSSH public key: expected `<type> <base64 body> [comment]`, the type one of ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa and named again inside the body (what EC2's ImportKeyPair accepts)",
                env.developer_public_key
            ),
        ));
    }
    let key = scope.add(
        "key",
        aws::KeyPair::new(env.developer_public_key).key_name(format!("{name}-developers")),
    )?;
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
            .key_name(key.key_name())
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
    // What a developer may do: an SSH session to this instance, from the allowlisted
    // addresses, and end or resume their own sessions; no shell document, no other
    // instance.
    let mut start = Statement::allow(["ssm:StartSession"])
        .sid("SshToTheDeveloperInstance")
        .on([girder_core::vocabulary::Arn::attribute(instance.arn())])
        // AWS's own document: its ARN names no account.
        .on([format!(
            "arn:aws:ssm:{REGION}::document/AWS-StartSSHSession"
        )]);
    start = start.when(Condition::new(
        "IpAddress",
        "aws:SourceIp",
        env.operator_cidrs.iter().map(ToString::to_string),
    ));
    let developers = PolicyDocument::new().statement(start).statement(
        Statement::allow(["ssm:TerminateSession", "ssm:ResumeSession"])
            .sid("TheirOwnSessions")
            .on([location.arn("ssm", "session/${aws:userid}-*")]),
    );
    scope.add(
        "developer-policy",
        aws::IamPolicy::new(developers.render(&scope.location())?)
            .name(format!("{name}-developer-ssh"))
            .description(
                "SSH to the developer instance through Session Manager, from the allowlist",
            ),
    )?;
    Ok(())
}

/// Whether `key` is an OpenSSH public key line EC2 imports: `<type> <base64> [comment]`,
/// the body decoding to a length-prefixed copy of `<type>` followed by the key.
fn is_ssh_public_key(key: &str) -> bool {
    let mut fields = key.split_ascii_whitespace();
    let (Some(kind), Some(body)) = (fields.next(), fields.next()) else {
        return false;
    };
    let known = [
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "ssh-rsa",
    ];
    if !known.contains(&kind) {
        return false;
    }
    let Some(bytes) = base64_decode(body) else {
        return false;
    };
    let Some(len) = bytes.get(..4) else {
        return false;
    };
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    bytes.len() > 4 + len && bytes.get(4..4 + len) == Some(kind.as_bytes())
}

/// Standard base64 with padding, or `None` when `text` is not.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() || !text.len().is_multiple_of(4) {
        return None;
    }
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes = text.as_bytes();
    let padding = bytes.iter().rev().take_while(|&&c| c == b'=').count();
    if padding > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (index, chunk) in bytes.chunks(4).enumerate() {
        let last = index == bytes.len() / 4 - 1;
        let mut group = 0u32;
        for (at, &c) in chunk.iter().enumerate() {
            let v = if c == b'=' && last && at >= 4 - padding {
                0
            } else {
                value(c)?
            };
            group = group << 6 | v;
        }
        let take = if last { 3 - padding } else { 3 };
        out.extend_from_slice(&group.to_be_bytes()[1..1 + take]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{base64_decode, is_ssh_public_key};

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(base64_decode("TWFu").as_deref(), Some(&b"Man"[..]));
        assert_eq!(base64_decode("TWE=").as_deref(), Some(&b"Ma"[..]));
        assert_eq!(base64_decode("TQ==").as_deref(), Some(&b"M"[..]));
        for bad in ["", "TWF", "T===", "TW=u", "TW!u"] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_real_public_keys_pass() {
        assert!(is_ssh_public_key(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMDzWj80iHSmwsjnIl+9jwqxtHgg0gC0xl7Iyk0RfPwV piksel-developers"
        ));
        for bad in [
            // Review 2's N1: the old placeholder, 65 characters of not-base64.
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIReplaceWithTheDevelopersPublicKey0000000 piksel-developers",
            // The body names another type.
            "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIMDzWj80iHSmwsjnIl+9jwqxtHgg0gC0xl7Iyk0RfPwV",
            "ssh-ed25519",
            "ssh-dss AAAAB3NzaC1kc3M=",
            "",
        ] {
            assert!(!is_ssh_public_key(bad), "{bad}");
        }
    }
}
