//! AWS credentials for pods without a webhook: a projected service-account token that
//! STS accepts, and the settings the AWS SDKs' default credential chain reads to
//! exchange it (`AssumeRoleWithWebIdentity`), exactly as EKS's pod identity webhook
//! injects them. It works on any cluster whose service-account issuer the account trusts
//! (girder-k3s's `K3sNode::pod_identity`, EKS itself).
//!
//! [`crate::Workload::aws_role`] applies it to girder's own workloads; for a chart's
//! pods, [`AwsWebIdentity`] gives the three parts (environment, volume, mount) as the
//! Kubernetes types the charts' `env` / `volumes` / `volumeMounts` values take.

use k8s_openapi::api::core::v1 as core;
use serde_json::Value as Json;

/// The projected token volume of a workload with an AWS role.
pub const AWS_TOKEN_VOLUME: &str = "aws-iam-token";

/// Where its token is mounted (EKS's path, which the SDKs' docs use).
pub const AWS_TOKEN_DIRECTORY: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount";

/// The token's audience: what STS accepts (and the role's trust names).
pub const AWS_TOKEN_AUDIENCE: &str = "sts.amazonaws.com";

/// Seconds the kubelet asks the token to last (it refreshes it at 80%).
pub const AWS_TOKEN_EXPIRATION_SECONDS: i64 = 86_400;

/// The web identity of IAM role `role_arn` for the pods of one service account (the
/// role's trust must name it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsWebIdentity {
    role_arn: String,
    region: Option<String>,
}

impl AwsWebIdentity {
    /// Act as `role_arn`.
    pub fn new(role_arn: impl Into<String>) -> Self {
        Self {
            role_arn: role_arn.into(),
            region: None,
        }
    }

    /// Also set `AWS_REGION` (for SDKs and programs that cannot find the region
    /// themselves: off EC2's metadata service they have no other way).
    #[must_use]
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The role's ARN.
    pub fn role_arn(&self) -> &str {
        &self.role_arn
    }

    /// The environment every container that calls AWS gets: `AWS_ROLE_ARN`,
    /// `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_STS_REGIONAL_ENDPOINTS=regional` (and
    /// `AWS_REGION` if given).
    pub fn env(&self) -> Vec<core::EnvVar> {
        let mut env = vec![
            ("AWS_ROLE_ARN", self.role_arn.clone()),
            (
                "AWS_WEB_IDENTITY_TOKEN_FILE",
                format!("{AWS_TOKEN_DIRECTORY}/token"),
            ),
            ("AWS_STS_REGIONAL_ENDPOINTS", "regional".to_owned()),
        ];
        if let Some(region) = &self.region {
            env.push(("AWS_REGION", region.clone()));
        }
        env.into_iter()
            .map(|(name, value)| core::EnvVar {
                name: name.into(),
                value: Some(value),
                value_from: None,
            })
            .collect()
    }

    /// The pod's volume: the projected token (audience [`AWS_TOKEN_AUDIENCE`], valid
    /// [`AWS_TOKEN_EXPIRATION_SECONDS`]).
    pub fn volume(&self) -> core::Volume {
        core::Volume {
            name: AWS_TOKEN_VOLUME.into(),
            projected: Some(core::ProjectedVolumeSource {
                sources: Some(vec![core::VolumeProjection {
                    service_account_token: Some(core::ServiceAccountTokenProjection {
                        audience: Some(AWS_TOKEN_AUDIENCE.into()),
                        expiration_seconds: Some(AWS_TOKEN_EXPIRATION_SECONDS),
                        path: "token".into(),
                    }),
                    ..core::VolumeProjection::default()
                }]),
                ..core::ProjectedVolumeSource::default()
            }),
            ..core::Volume::default()
        }
    }

    /// Each calling container's mount of it: read-only at [`AWS_TOKEN_DIRECTORY`].
    pub fn mount(&self) -> core::VolumeMount {
        core::VolumeMount {
            name: AWS_TOKEN_VOLUME.into(),
            mount_path: AWS_TOKEN_DIRECTORY.into(),
            read_only: Some(true),
            ..core::VolumeMount::default()
        }
    }

    /// Apply it to `container`: its mount and environment.
    pub(crate) fn apply_to(&self, container: &mut core::Container) {
        container
            .volume_mounts
            .get_or_insert_with(Vec::new)
            .push(self.mount());
        container
            .env
            .get_or_insert_with(Vec::new)
            .extend(self.env());
    }

    /// [`AwsWebIdentity::env`] as chart values (a list of `{name, value}`).
    pub fn env_values(&self) -> Json {
        to_values(&self.env())
    }

    /// [`AwsWebIdentity::volume`] as one chart `volumes` entry.
    pub fn volume_values(&self) -> Json {
        to_values(&self.volume())
    }

    /// [`AwsWebIdentity::mount`] as one chart `volumeMounts` entry.
    pub fn mount_values(&self) -> Json {
        to_values(&self.mount())
    }
}

/// The Kubernetes JSON of a typed API value (these types always serialize).
fn to_values<T: serde::Serialize>(value: &T) -> Json {
    serde_json::to_value(value).unwrap_or(Json::Null)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

    use super::*;

    #[test]
    fn chart_values_are_the_kubernetes_shapes_the_sdks_read() {
        let identity =
            AwsWebIdentity::new("arn:aws:iam::111111111111:role/eso").region("us-east-1");
        assert_eq!(
            identity.env_values(),
            serde_json::json!([
                {"name": "AWS_ROLE_ARN", "value": "arn:aws:iam::111111111111:role/eso"},
                {"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"},
                {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"},
                {"name": "AWS_REGION", "value": "us-east-1"},
            ])
        );
        assert_eq!(
            identity.volume_values(),
            serde_json::json!({"name": "aws-iam-token", "projected": {"sources": [
                {"serviceAccountToken": {"audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token"}}
            ]}})
        );
        assert_eq!(
            identity.mount_values(),
            serde_json::json!({"name": "aws-iam-token", "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount", "readOnly": true})
        );
        // The token file is the mount's path plus the projection's.
        let file = format!("{}/token", identity.mount().mount_path);
        assert!(
            identity
                .env()
                .iter()
                .any(|e| e.value.as_deref() == Some(file.as_str()))
        );
    }
}
