//! girder-k3s: a K3s node on EC2, the way a small system runs Kubernetes cheaply.
//!
//! [`K3sNode`] adds an Auto Scaling group of spot instances only (a mixed instances
//! policy over a primary type and fallbacks, capacity rebalance), a launch template (the
//! Amazon Linux 2023 AMI resolved from AWS's public SSM parameter at launch, IMDSv2
//! required, an encrypted gp3 root volume), an instance role with SSM Session Manager
//! instead of SSH and exactly the SSM / Secrets Manager / S3 / CloudWatch Logs reads the
//! node needs, a security group, a log group, and cloud-init rendered with handlebars:
//! K3s installs against an external PostgreSQL datastore whose credentials are read at
//! boot, never written into user data.

mod cloud_init;
mod node;

pub use cloud_init::{CloudInit, render_cloud_init};
pub use node::{K3sNode, K3sNodeHandle};
