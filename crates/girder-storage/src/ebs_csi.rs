//! The AWS EBS CSI driver's IAM: the actions of its documented policy, each scoped to the
//! volumes and snapshots the driver tags, shared by every cluster that runs the driver
//! (girder-k3s's node, girder-eks's managed add-on). Only how the driver's instances are
//! recognised differs: the caller passes that condition.

use girder_core::vocabulary::AwsLocation;
use girder_iam::{Condition, Statement};

/// The tag the EBS CSI driver puts on every volume and snapshot it creates.
pub const EBS_CSI_CLUSTER_TAG: &str = "ebs.csi.aws.com/cluster";

/// Every action of the driver's documented policy (kubernetes-sigs/aws-ebs-csi-driver
/// `docs/example-iam-policy.json`, AWS's `AmazonEBSCSIDriverPolicy`), in its order: the
/// controller's role gets these and no other EC2 action.
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

/// The driver's statements in `here` (account and region): describes on `*` (EC2 has no
/// resource-level permissions for them), everything else on the volumes and snapshots
/// carrying [`EBS_CSI_CLUSTER_TAG`] (or created with it), and attach / detach on the
/// instances that match `instances` only: the cluster's own nodes, by a tag AWS puts on
/// them (a K3s node's `aws:ResourceTag/aws:autoscaling:groupName`, an EKS node's
/// `aws:ResourceTag/eks:cluster-name`).
pub fn ebs_csi_statements(here: &AwsLocation, instances: Condition) -> Vec<Statement> {
    let volumes = here.arn("ec2", "volume/*");
    let snapshots = here.arn("ec2", "snapshot/*");
    let instance_arns = here.arn("ec2", "instance/*");
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
        // to the cluster's instances only.
        Statement::allow(["ec2:AttachVolume", "ec2:DetachVolume"])
            .sid("EbsAttachOwnVolumes")
            .on([volumes.clone()])
            .when(created()),
        Statement::allow(["ec2:AttachVolume", "ec2:DetachVolume"])
            .sid("EbsAttachToTheGroup")
            .on([instance_arns])
            .when(instances),
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

    fn document(instances: Condition) -> PolicyDocument {
        let here = AwsLocation::stated(Partition::Aws, "us-east-1", "111111111111").unwrap();
        ebs_csi_statements(&here, instances)
            .into_iter()
            .fold(PolicyDocument::new(), PolicyDocument::statement)
    }

    #[test]
    fn the_instance_condition_is_the_callers_and_the_actions_the_documented_ones() {
        let eks = Condition::string_equals("aws:ResourceTag/eks:cluster-name", "piksel-dev");
        let document = document(eks.clone());
        let granted: BTreeSet<&str> = document.allowed_actions().into_iter().collect();
        let documented: BTreeSet<&str> = EBS_CSI_DRIVER_ACTIONS.into_iter().collect();
        assert_eq!(granted, documented);
        let instance = Value::Literal(
            "arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0".to_owned(),
        );
        assert_eq!(
            document.access("ec2:AttachVolume", &instance),
            Access::AllowedWhen(vec![vec![eks]])
        );
        assert_eq!(
            document.access("ec2:TerminateInstances", &instance),
            Access::Denied
        );
    }
}
