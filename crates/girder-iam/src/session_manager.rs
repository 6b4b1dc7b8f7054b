//! What an EC2 instance's SSM Agent needs to register, take Run Command documents and
//! open Session Manager sessions: AWS's `AmazonSSMManagedInstanceCore` without its
//! `ssm:GetParameter` / `ssm:GetParameters` on `*`, which would let everything with the
//! instance's credentials read every parameter of the account (the instance's own reads
//! are granted separately, on exact parameters).

use crate::Statement;

/// The agent's actions of `AmazonSSMManagedInstanceCore` (its version 3), parameters
/// excluded: registration, associations, inventory and compliance reporting.
pub const SSM_AGENT_ACTIONS: [&str; 13] = [
    "ssm:DescribeAssociation",
    "ssm:GetDeployablePatchSnapshotForInstance",
    "ssm:GetDocument",
    "ssm:DescribeDocument",
    "ssm:GetManifest",
    "ssm:ListAssociations",
    "ssm:ListInstanceAssociations",
    "ssm:PutInventory",
    "ssm:PutComplianceItems",
    "ssm:PutConfigurePackageResult",
    "ssm:UpdateAssociationStatus",
    "ssm:UpdateInstanceAssociationStatus",
    "ssm:UpdateInstanceInformation",
];

/// The channels Session Manager and Run Command reach the agent through.
pub const SSM_CHANNEL_ACTIONS: [&str; 10] = [
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "ec2messages:AcknowledgeMessage",
    "ec2messages:DeleteMessage",
    "ec2messages:FailMessage",
    "ec2messages:GetEndpoint",
    "ec2messages:GetMessages",
    "ec2messages:SendReply",
];

/// The statements (sids `SsmAgent`, `SsmChannels`), on `*` as AWS's policy has them:
/// the agent's calls name no resource of the account.
pub fn session_manager_statements() -> Vec<Statement> {
    vec![
        Statement::allow(SSM_AGENT_ACTIONS)
            .sid("SsmAgent")
            .on(["*"])
            .wildcard_because("the SSM Agent's registration and reporting calls act on the calling instance, named by its credentials, not by a resource (AmazonSSMManagedInstanceCore grants them on *)"),
        Statement::allow(SSM_CHANNEL_ACTIONS)
            .sid("SsmChannels")
            .on(["*"])
            .wildcard_because("Session Manager's and Run Command's message channels support no resource-level permissions"),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

    use girder_core::Value;

    use super::*;
    use crate::{Access, PolicyDocument};

    #[test]
    fn the_agent_can_register_and_take_commands_but_read_no_parameter() {
        let document = session_manager_statements()
            .into_iter()
            .fold(PolicyDocument::new(), PolicyDocument::statement);
        let any = Value::Literal("*".to_owned());
        for action in [
            "ssm:UpdateInstanceInformation",
            "ec2messages:GetMessages",
            "ssmmessages:OpenDataChannel",
        ] {
            assert_eq!(document.access(action, &any), Access::Allowed, "{action}");
        }
        let parameter = Value::Literal(
            "arn:aws:ssm:us-east-1:111111111111:parameter/pixtools/dev/rabbitmq_password"
                .to_owned(),
        );
        for action in [
            "ssm:GetParameter",
            "ssm:GetParameters",
            "ssm:GetParametersByPath",
            "ssm:SendCommand",
            "secretsmanager:GetSecretValue",
        ] {
            assert_eq!(
                document.access(action, &parameter),
                Access::Denied,
                "{action}"
            );
        }
        assert!(document.render("node").is_ok());
    }
}
