//! girder-k3s: a K3s node on EC2, the way a small system runs Kubernetes cheaply.
//!
//! [`K3sNode`] adds an Auto Scaling group of spot instances only (a mixed instances
//! policy over a primary type and fallbacks, capacity rebalance), a launch template (the
//! Amazon Linux 2023 AMI resolved from AWS's public SSM parameter at launch, IMDSv2
//! required, an encrypted gp3 root volume), an instance role with SSM Session Manager
//! instead of SSH and exactly the SSM / Secrets Manager / S3 / CloudWatch Logs reads the
//! node needs, a security group, a log group, and cloud-init rendered with handlebars:
//! K3s installs against an external PostgreSQL datastore whose credentials are read at
//! boot, never written into user data, as a database user of its own when given one
//! ([`K3sNode::datastore_user`]; the node creates the users, [`database_users_sql`]).
//! Deploys publish manifests to a bucket and run the node's sync script through SSM Run
//! Command; it applies them with `kubectl apply --prune` (what left the bucket is
//! deleted), CRDs and the HelmCharts installing them before the objects that need them.
//! The CloudWatch agent ships every container log file as a stream of its own.
//!
//! In the cluster, [`Traefik`] configures the ingress controller K3s ships to serve on
//! the NodePort the ALB's target group sends to.
//!
//! [`K3sNode`] implements [`girder_core::construct::Construct`]; its dependencies (the
//! VPC, the datastore's published settings, the manifests bucket, the ALB) are handles.
//! Refusals are [`K3sError`]s inside [`girder_core::Error::Construct`].

mod cloud_init;
mod ebs;
mod error;
mod node;
mod traefik;

pub use cloud_init::{
    CloudInit, DATABASE_USERS_MINUTES, DatabaseUser, KUBERNETES_END_OF_LIFE, LAUNCH_HOOK,
    NamespaceLogs, PodIdentityBoot, ROLLOUT_TIMEOUT_SECONDS, agent_config, database_users_sql,
    render_cloud_init,
};
pub use ebs::{
    EBS_CSI_CHART_VERSION, EBS_CSI_CLUSTER_TAG, EBS_CSI_CONTROLLER_SERVICE_ACCOUNT,
    EBS_CSI_DRIVER_ACTIONS, EBS_CSI_NAMESPACE, EbsCsiDriver, EbsCsiDriverHandle,
};
pub use error::K3sError;
pub use node::{
    ECR_CREDENTIAL_PROVIDER, ISSUER_DOCUMENTS, K3sNode, K3sNodeHandle, WORKLOAD_AUDIENCE,
};
pub use traefik::Traefik;
