//! The node role's EBS permissions for the AWS EBS CSI driver's controller (which signs
//! with the node role on the node's network): the actions of the driver's documented
//! policy (kubernetes-sigs/aws-ebs-csi-driver `docs/example-iam-policy.json`, the policy
//! AWS publishes as `AmazonEBSCSIDriverPolicy`), each on this account and region, and
//! scoped by the tag the driver puts on every volume and snapshot it creates
//! (`ebs.csi.aws.com/cluster=true`) wherever EC2 supports a tag condition for it.

use girder_core::vocabulary::AwsLocation;
use girder_iam::{Condition, Statement};

/// The tag the EBS CSI driver puts on every volume and snapshot it creates.
pub const EBS_CSI_CLUSTER_TAG: &str = "ebs.csi.aws.com/cluster";

/// Every action of the driver's documented policy, in its order: the node role gets
/// these and no other EC2 action for volumes.
pub const EBS_CSI_DRIVER_ACTIONS: [&str; 18] = [
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeInstances",
    "ec2:DescribeSnapshots",
    "ec2:DescribeTags",
    "ec2:DescribeVolumes",
    "ec2:DescribeVolumesModifications",
    "ec2:DescribeVolumeStatus",
    "ec2:CreateSnapshot",
    "ec2:ModifyVolume",
    "ec2:CopyVolumes",
    "ec2:AttachVolume",
    "ec2:DetachVolume",
    "ec2:CreateVolume",
    "ec2:EnableFastSnapshotRestores",
    "ec2:CreateTags",
    "ec2:DeleteTags",
    "ec2:DeleteVolume",
    "ec2:DeleteSnapshot",
];

/// The statements, for the instances of Auto Scaling group `group` in `here`.
pub(crate) fn ebs_csi_statements(here: &AwsLocation, group: &str) -> Vec<Statement> {
    let volumes = here.arn("ec2", "volume/*");
    let snapshots = here.arn("ec2", "snapshot/*");
    let instances = here.arn("ec2", "instance/*");
    let created =
        || Condition::string_equals(&format!("ec2:ResourceTag/{EBS_CSI_CLUSTER_TAG}"), "true");
    let requested =
        || Condition::string_equals(&format!("aws:RequestTag/{EBS_CSI_CLUSTER_TAG}"), "true");
    vec![
        Statement::allow(EBS_CSI_DRIVER_ACTIONS[..7].iter().copied())
            .sid("EbsDescribe")
            .on(["*"])
            .wildcard_because("EC2's Describe actions support no resource-level permissions; the EBS CSI driver's documented policy grants them on *"),
        // Volumes the driver made: modify, snapshot, copy, delete, untag.
        Statement::allow([
            "ec2:CreateSnapshot",
            "ec2:ModifyVolume",
            "ec2:CopyVolumes",
            "ec2:DeleteVolume",
            "ec2:DeleteTags",
        ])
        .sid("EbsOwnVolumes")
        .on([volumes.clone()])
        .when(created()),
        // Attach and detach need both the volume and the instance: the driver's volumes,
        // to this group's instances only (the tag AWS puts on them).
        Statement::allow(["ec2:AttachVolume", "ec2:DetachVolume"])
            .sid("EbsAttachOwnVolumes")
            .on([volumes.clone()])
            .when(created()),
        Statement::allow(["ec2:AttachVolume", "ec2:DetachVolume"])
            .sid("EbsAttachToTheGroup")
            .on([instances])
            .when(Condition::string_equals(
                "aws:ResourceTag/aws:autoscaling:groupName",
                group.to_owned(),
            )),
        // New volumes and copies only with the driver's tag in the request.
        Statement::allow(["ec2:CreateVolume", "ec2:CopyVolumes"])
            .sid("EbsCreateTaggedVolumes")
            .on([volumes.clone()])
            .when(requested()),
        // A volume from a snapshot names the snapshot as a resource too.
        Statement::allow(["ec2:CreateVolume", "ec2:EnableFastSnapshotRestores"])
            .sid("EbsFromSnapshots")
            .on([snapshots.clone()]),
        Statement::allow(["ec2:CreateTags"])
            .sid("EbsTagOnCreate")
            .on([volumes.clone(), snapshots.clone()])
            .when(Condition::new(
                "StringEquals",
                "ec2:CreateAction",
                ["CreateVolume", "CreateSnapshot", "CopyVolumes"],
            )),
        Statement::allow(["ec2:CreateSnapshot"])
            .sid("EbsCreateTaggedSnapshots")
            .on([snapshots.clone()])
            .when(requested()),
        Statement::allow(["ec2:DeleteSnapshot", "ec2:DeleteTags"])
            .sid("EbsOwnSnapshots")
            .on([snapshots])
            .when(created()),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

    use std::collections::BTreeSet;

    use girder_core::Value;
    use girder_core::vocabulary::Partition;
    use girder_iam::{Access, PolicyDocument};

    use super::*;

    fn document() -> PolicyDocument {
        let here = AwsLocation::stated(Partition::Aws, "us-east-1", "111111111111").unwrap();
        ebs_csi_statements(&here, "pixtools-dev")
            .into_iter()
            .fold(PolicyDocument::new(), PolicyDocument::statement)
    }

    fn arn(resource: &str) -> Value<String> {
        Value::Literal(format!("arn:aws:ec2:us-east-1:111111111111:{resource}"))
    }

    fn tagged(key: &str) -> Access {
        Access::AllowedWhen(vec![vec![Condition::string_equals(
            &format!("{key}/{EBS_CSI_CLUSTER_TAG}"),
            "true",
        )]])
    }

    #[test]
    fn the_node_role_gets_exactly_the_drivers_documented_actions() {
        let document = document();
        let granted: BTreeSet<&str> = document.allowed_actions().into_iter().collect();
        let documented: BTreeSet<&str> = EBS_CSI_DRIVER_ACTIONS.into_iter().collect();
        assert_eq!(granted, documented);
        assert!(document.render("node").is_ok());
    }

    #[test]
    fn volumes_and_snapshots_are_the_drivers_own_by_its_tag() {
        let document = document();
        let volume = arn("volume/vol-0123456789abcdef0");
        for action in [
            "ec2:AttachVolume",
            "ec2:DetachVolume",
            "ec2:ModifyVolume",
            "ec2:DeleteVolume",
            "ec2:DeleteTags",
        ] {
            assert_eq!(
                document.access(action, &volume),
                tagged("ec2:ResourceTag"),
                "{action}"
            );
        }
        assert_eq!(
            document.access("ec2:DeleteSnapshot", &arn("snapshot/snap-0123")),
            tagged("ec2:ResourceTag")
        );
        // A copy: of the driver's volume, into a volume tagged in the request.
        let (Access::AllowedWhen(mut own), Access::AllowedWhen(new)) =
            (tagged("ec2:ResourceTag"), tagged("aws:RequestTag"))
        else {
            unreachable!()
        };
        own.extend(new);
        assert_eq!(
            document.access("ec2:CopyVolumes", &volume),
            Access::AllowedWhen(own)
        );
        // A new volume carries the tag in the request.
        assert_eq!(
            document.access("ec2:CreateVolume", &volume),
            tagged("aws:RequestTag")
        );
        // Attached to the group's own instances only.
        assert_eq!(
            document.access("ec2:AttachVolume", &arn("instance/i-0123456789abcdef0")),
            Access::AllowedWhen(vec![vec![Condition::string_equals(
                "aws:ResourceTag/aws:autoscaling:groupName",
                "pixtools-dev",
            )]])
        );
        // Another account's or region's volume: no.
        assert_eq!(
            document.access(
                "ec2:AttachVolume",
                &Value::Literal("arn:aws:ec2:eu-west-1:222222222222:volume/vol-1".into())
            ),
            Access::Denied
        );
        // Describe actions have no resource-level permissions.
        assert_eq!(
            document.access("ec2:DescribeVolumes", &Value::Literal("*".into())),
            Access::Allowed
        );
        // Nothing beyond volumes: no instance termination, no security groups.
        for action in [
            "ec2:TerminateInstances",
            "ec2:RunInstances",
            "ec2:AuthorizeSecurityGroupIngress",
        ] {
            assert_eq!(
                document.access(action, &arn("instance/i-0123456789abcdef0")),
                Access::Denied,
                "{action}"
            );
        }
    }
}
