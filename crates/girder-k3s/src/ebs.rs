//! The AWS EBS CSI driver on a K3s node: persistent volumes that outlive the instance.
//!
//! Two halves, joined by the controller's role ARN:
//! - AWS: [`crate::K3sNodeHandle::ebs_csi_controller_role`], the controller's own IAM role
//!   (pod identity: its ServiceAccount's projected token), holding the actions of the
//!   driver's documented policy (kubernetes-sigs/aws-ebs-csi-driver
//!   `docs/example-iam-policy.json`, AWS's `AmazonEBSCSIDriverPolicy`; girder-storage's
//!   `ebs_csi_statements`, shared with girder-eks), each on this
//!   account and region, and scoped by the tag the driver puts on every volume and
//!   snapshot it creates (`ebs.csi.aws.com/cluster=true`) wherever EC2 supports a tag
//!   condition for it. The node role gets none of them.
//! - Kubernetes: [`EbsCsiDriver`], the driver's chart installed by K3s's Helm controller,
//!   the controller on the pod network with that role, and a StorageClass of encrypted
//!   gp3 volumes that are kept when their claim goes.
//!
//! An EBS volume lives in one availability zone: a node that must get its volumes back
//! after a replacement stays in one zone ([`crate::K3sNode::single_zone`]).

use girder_core::construct::Construct;
use girder_core::helm::ChartRef;
use girder_core::{Error, Result, Scope};
use girder_k8s::{AwsWebIdentity, Delivery, Release, StorageClass, StorageClassHandle};
use serde_json::json;

use crate::K3sError;
use girder_core::vocabulary::AwsLocation;
use girder_iam::{Condition, Statement};

/// The namespace the driver runs in.
pub const EBS_CSI_NAMESPACE: &str = "kube-system";

/// The controller's ServiceAccount (the chart's name for it): the controller role trusts
/// `system:serviceaccount:kube-system:ebs-csi-controller-sa` and nothing else.
pub const EBS_CSI_CONTROLLER_SERVICE_ACCOUNT: &str = "ebs-csi-controller-sa";

/// The chart release girder pins (driver 1.64.0), whose values ../shared/schemas checks.
pub const EBS_CSI_CHART_VERSION: &str = "2.64.0";

pub use girder_storage::{EBS_CSI_CLUSTER_TAG, EBS_CSI_DRIVER_ACTIONS};

/// The statements, for the instances of Auto Scaling group `group` in `here`: the shared
/// driver statements (girder-storage), attach and detach conditioned on the tag AWS puts
/// on the group's instances.
pub(crate) fn ebs_csi_statements(here: &AwsLocation, group: &str) -> Vec<Statement> {
    girder_storage::ebs_csi_statements(
        here,
        Condition::string_equals(
            "aws:ResourceTag/aws:autoscaling:groupName",
            group.to_owned(),
        ),
    )
}

/// The driver in the cluster: its chart (K3s's Helm controller installs it), the
/// controller acting as its own role (no pod on the node's network, no node role), the
/// node plugin on the node's network, and a StorageClass.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EbsCsiDriver {
    controller_role_arn: String,
    region: String,
    storage_class: String,
}

/// The driver in the stack.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct EbsCsiDriverHandle {
    storage_class: StorageClassHandle,
}

impl EbsCsiDriverHandle {
    /// The StorageClass its volumes come from: what claims name.
    pub fn storage_class(&self) -> &StorageClassHandle {
        &self.storage_class
    }
}

impl EbsCsiDriver {
    /// The driver in `region`, its controller acting as `controller_role_arn` (what
    /// [`crate::K3sNodeHandle::ebs_csi_controller_role`] made), volumes of StorageClass
    /// `ebs-gp3`.
    pub fn new(controller_role_arn: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            controller_role_arn: controller_role_arn.into(),
            region: region.into(),
            storage_class: "ebs-gp3".into(),
        }
    }

    /// Name the StorageClass `name` instead.
    pub fn storage_class(mut self, name: impl Into<String>) -> Self {
        self.storage_class = name.into();
        self
    }

    fn check(&self) -> std::result::Result<(), K3sError> {
        if !girder_iam::is_role_arn(&self.controller_role_arn) {
            return Err(K3sError::RoleArn {
                what: "EBS CSI controller",
                arn: self.controller_role_arn.clone(),
            });
        }
        let region_ok = !self.region.is_empty()
            && self
                .region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !region_ok {
            return Err(K3sError::Region(self.region.clone()));
        }
        Ok(())
    }
}

impl Construct for EbsCsiDriver {
    type Handle = EbsCsiDriverHandle;

    /// Add the driver's release and StorageClass as construct `id`, into the scope's
    /// Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<EbsCsiDriverHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        self.check().map_err(|e| Error::construct(&at, e))?;
        let identity = AwsWebIdentity::new(&self.controller_role_arn).region(&self.region);
        // Idle most of the time: each container asks little, and says so, so a capacity
        // check summing the values counts every one (the chart's sidecars otherwise take
        // the controller's or node's resources without saying).
        let small =
            json!({"requests": {"cpu": "5m", "memory": "40Mi"}, "limits": {"memory": "256Mi"}});
        let values = json!({
            "controller": {
                // One node: one controller (leader election makes a second idle).
                "replicaCount": 1,
                // Off EC2's metadata service (the hop limit keeps pods from it), the
                // controller learns its region from here and signs as its own role.
                "region": self.region,
                "serviceAccount": {"create": true, "name": EBS_CSI_CONTROLLER_SERVICE_ACCOUNT},
                "env": identity.env_values(),
                "volumes": [identity.volume_values()],
                "volumeMounts": [identity.mount_values()],
                // The sidecars take these too unless told otherwise.
                "resources": small,
            },
            "sidecars": {
                "provisioner": {"resources": small},
                "attacher": {"resources": small},
                "resizer": {"resources": small},
                "livenessProbe": {"resources": small},
                "nodeDriverRegistrar": {"resources": small},
            },
            "node": {
                // The node plugin asks the instance metadata service for its instance id,
                // zone and attachment limits; with the hop limit at 1 only the node's
                // network reaches it. The plugin is privileged (it mounts devices on the
                // host), so the node's network gives it nothing it does not have; it
                // calls no AWS API.
                "hostNetwork": true,
                "enableWindows": false,
                "resources": small,
            },
        });
        Release::new(
            "aws-ebs-csi-driver",
            EBS_CSI_NAMESPACE,
            ChartRef::new(
                "https://kubernetes-sigs.github.io/aws-ebs-csi-driver",
                "aws-ebs-csi-driver",
                EBS_CSI_CHART_VERSION,
            ),
            &values,
        )
        .delivery(Delivery::K3s)
        .add(&mut scope, "chart")?;
        // Kept when the claim goes (a deleted StatefulSet claim must not take the
        // broker's messages with it); bound where the pod lands, so in its zone.
        let storage_class = StorageClass::ebs_gp3(&self.storage_class)
            .retain()
            .add(&mut scope, "storage-class")?;
        Ok(EbsCsiDriverHandle { storage_class })
    }
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
