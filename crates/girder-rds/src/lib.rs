//! girder-rds: managed PostgreSQL.
//!
//! [`Postgres`] creates an RDS PostgreSQL instance with the defaults operators expect
//! from terraform-aws-modules/rds and a security review: private subnets only, encrypted
//! gp3 storage with autoscaling headroom, TLS required (`rds.force_ssl`), the master
//! password generated and rotated by RDS in Secrets Manager (no password in code, state
//! or output), automated backups, deletion protection, Performance Insights, logs to
//! CloudWatch. Its own security group admits nothing until its [`Connections`] say so
//! (`postgres.connections().allow_default_port_from(&node, reason)`).
//! [`PostgresHandle::publish_to_ssm`] writes the connection settings the cluster reads at
//! run time, under the names [`PostgresParameters`] defines once. Clients get users of
//! their own ([`PostgresHandle::user`]): a password in a secret of their own that the
//! master's rotation never changes. The exported logs' groups are created with
//! retention before the instance.
//!
//! In the cluster, [`PostgresCluster`] (`cnpg.rs`) is a CloudNativePG `Cluster` with an
//! optional PgBouncer `Pooler` and an init Job applying idempotent SQL; on a TimescaleDB
//! image it carries typed hypertables and continuous aggregates (`timescale.rs`).
//!
//! [`Postgres`] and [`PostgresCluster`] implement [`girder_core::construct::Construct`]; refusals are
//! [`RdsError`]s inside [`girder_core::Error::Construct`].
//!
//! [`Connections`]: girder_network::Connections

pub mod cnpg;
mod error;
mod postgres;
pub mod timescale;
mod user;

pub use cnpg::{PgBouncer, PoolMode, PostgresCluster, PostgresClusterHandle};
pub use error::RdsError;
pub use postgres::{EXPORTED_LOGS, POSTGRES_PORT, Postgres, PostgresHandle, PostgresParameters};
pub use user::PostgresUserHandle;
