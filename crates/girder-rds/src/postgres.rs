//! An RDS PostgreSQL instance.

use girder_aws::aws;
use girder_aws::aws::db_parameter_group as params;
use girder_core::construct::{Construct, Dependable};
use girder_core::expr::Reference;
use girder_core::terraform::{Dependency, IntoResourceSpec};
use girder_core::vocabulary::{Arn, AwsLocation, SsmPath, SsmPathError};
use girder_core::{Error, Expr, LogRetention, Number, Result, Scope};
use girder_network::{
    Connectable, Connections, Port, SecurityGroup, SecurityGroupHandle, VpcHandle,
};

use crate::error::RdsError;

/// PostgreSQL's port, the instance's default port for [`Connections`].
pub const POSTGRES_PORT: u16 = 5432;

/// The logs the instance exports to CloudWatch, each into
/// `/aws/rds/instance/<identifier>/<log>`, a group Terraform creates with retention
/// before the instance.
pub const EXPORTED_LOGS: [&str; 2] = ["postgresql", "upgrade"];

/// A PostgreSQL instance to create.
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct Postgres {
    vpc: VpcHandle,
    location: Option<AwsLocation>,
    identifier: String,
    major_version: u8,
    instance_class: String,
    storage_gib: u16,
    max_storage_gib: u16,
    multi_az: bool,
    database: String,
    username: String,
    backup_retention_days: u8,
    backup_window: String,
    maintenance_window: String,
    deletion_protection: bool,
    performance_insights: bool,
    log_retention_days: u16,
    user_secret_recovery_days: Option<u8>,
}

/// A PostgreSQL instance in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct PostgresHandle {
    instance: aws::DbInstanceHandle,
    parameters: aws::DbParameterGroupHandle,
    security_group: SecurityGroupHandle,
    connections: Connections,
    arn: Arn,
    identifier: String,
    database: String,
    username: String,
    user_secret_recovery_days: Option<u8>,
}

/// The SSM parameters [`PostgresHandle::publish_to_ssm`] writes under a prefix: the one
/// definition of their names, for the writer and every reader (the K3s node's
/// cloud-init).
///
/// Returned by `publish_to_ssm` it is [`Dependable`]: a reader that must not start
/// before the database is up and its settings are written (a node reading them at
/// boot) waits for the instance, its parameter group and the five parameters. Made
/// with [`PostgresParameters::under`] (a reader in another stack) it names nothing to
/// wait for.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct PostgresParameters {
    written_by: Vec<Reference>,
    prefix: SsmPath,
    host: SsmPath,
    port: SsmPath,
    database: SsmPath,
    username: SsmPath,
    master_secret_arn: SsmPath,
}

impl PostgresParameters {
    /// The last segment of each parameter, in the order they are written.
    pub const KEYS: [&'static str; 5] =
        ["host", "port", "database", "username", "master-secret-arn"];

    /// The parameters under `prefix` (`/pixtools/dev/db`).
    pub fn under(prefix: &SsmPath) -> std::result::Result<Self, SsmPathError> {
        let [host, port, database, username, master_secret_arn] = Self::KEYS;
        Ok(Self {
            written_by: Vec::new(),
            prefix: prefix.clone(),
            host: prefix.join(host)?,
            port: prefix.join(port)?,
            database: prefix.join(database)?,
            username: prefix.join(username)?,
            master_secret_arn: prefix.join(master_secret_arn)?,
        })
    }

    /// The prefix.
    pub fn prefix(&self) -> &SsmPath {
        &self.prefix
    }

    /// The host name clients connect to.
    pub fn host(&self) -> &SsmPath {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> &SsmPath {
        &self.port
    }

    /// The initial database.
    pub fn database(&self) -> &SsmPath {
        &self.database
    }

    /// The master user.
    pub fn username(&self) -> &SsmPath {
        &self.username
    }

    /// The ARN of the Secrets Manager secret holding the master password.
    pub fn master_secret_arn(&self) -> &SsmPath {
        &self.master_secret_arn
    }

    /// Every parameter with its key, in [`PostgresParameters::KEYS`] order.
    pub fn all(&self) -> [(&'static str, &SsmPath); 5] {
        let [host, port, database, username, master_secret_arn] = Self::KEYS;
        [
            (host, &self.host),
            (port, &self.port),
            (database, &self.database),
            (username, &self.username),
            (master_secret_arn, &self.master_secret_arn),
        ]
    }
}

impl Postgres {
    /// Instance `identifier` of PostgreSQL `major_version` on `instance_class`
    /// (`db.t4g.micro`) in the private subnets of `vpc`: 20 GiB gp3 growing to 100,
    /// single-AZ, 7 days of backups, deletion protection on.
    pub fn new(
        vpc: &VpcHandle,
        identifier: impl Into<String>,
        major_version: u8,
        instance_class: impl Into<String>,
    ) -> Self {
        Self {
            vpc: vpc.clone(),
            location: None,
            identifier: identifier.into(),
            major_version,
            instance_class: instance_class.into(),
            storage_gib: 20,
            max_storage_gib: 100,
            multi_az: false,
            database: "app".into(),
            username: "app_admin".into(),
            backup_retention_days: 7,
            backup_window: "03:00-04:00".into(),
            maintenance_window: "sun:04:30-sun:05:30".into(),
            deletion_protection: true,
            performance_insights: true,
            log_retention_days: 14,
            user_secret_recovery_days: None,
        }
    }

    /// Days the exported logs are kept ([`EXPORTED_LOGS`]): one of the periods
    /// CloudWatch offers ([`LogRetention`]), checked when the instance is added. 14 by
    /// default.
    pub fn log_retention(mut self, days: u16) -> Self {
        self.log_retention_days = days;
        self
    }

    /// Allocated gp3 storage and the autoscaling ceiling, in GiB.
    pub fn storage(mut self, gib: u16, max_gib: u16) -> Self {
        self.storage_gib = gib;
        self.max_storage_gib = max_gib;
        self
    }

    /// A standby in a second zone.
    pub fn multi_az(mut self, multi_az: bool) -> Self {
        self.multi_az = multi_az;
        self
    }

    /// The initial database and master user names.
    pub fn database(mut self, database: impl Into<String>, username: impl Into<String>) -> Self {
        self.database = database.into();
        self.username = username.into();
        self
    }

    /// Days of automated backups (1-35).
    pub fn backup_retention(mut self, days: u8) -> Self {
        self.backup_retention_days = days;
        self
    }

    /// How many days a deleted user's secret ([`PostgresHandle::user`]) can be restored
    /// before its name is free again: 0 (deleted at once: a rebuilt environment can make
    /// it again the same day) or 7 to 30. Secrets Manager's 30 by default.
    pub fn user_secrets_recovery_window(mut self, days: u8) -> Self {
        self.user_secret_recovery_days = Some(days);
        self
    }

    /// Allow `terraform destroy` to delete it (throwaway environments only).
    pub fn without_deletion_protection(mut self) -> Self {
        self.deletion_protection = false;
        self
    }

    /// The partition, region and account the instance lives in, when the stack knows
    /// them: then [`PostgresHandle::arn`] is known at synth (a static manifest can hold
    /// it). Without, it is the instance's `arn` attribute.
    pub fn located_in(mut self, location: &AwsLocation) -> Self {
        self.location = Some(location.clone());
        self
    }
}

impl Construct for Postgres {
    type Handle = PostgresHandle;

    /// Add the instance, its subnet group, parameter group and security group as
    /// construct `id`, in the VPC's private subnets.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<PostgresHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        self.check().map_err(|e| Error::construct(&at, e))?;
        let vpc = &self.vpc;
        let subnets = scope.add(
            "subnets",
            aws::DbSubnetGroup::new(vpc.private_subnet_ids())
                .name(&self.identifier)
                .description(format!("Private subnets of {}", self.identifier)),
        )?;
        let family = format!("postgres{}", self.major_version);
        let parameters = scope.add(
            "parameters",
            aws::DbParameterGroup::new(&family)
                // A prefix, not a name: the group is replaced before it is destroyed
                // (any description or family change replaces it), and two groups cannot
                // share one name (terraform-aws-modules/rds's `use_name_prefix`).
                .name_prefix(format!("{}-{family}-", self.identifier))
                .description(format!(
                    "{} settings: TLS required, slow statements logged",
                    self.identifier
                ))
                .parameter(params::Parameter::new("rds.force_ssl", "1"))
                .parameter(params::Parameter::new("log_min_duration_statement", "1000"))
                .into_spec()
                .create_before_destroy(),
        )?;
        let security_group = SecurityGroup::new(
            vpc,
            format!("{}-db", self.identifier),
            format!(
                "PostgreSQL {} (admits only what allow_from names)",
                self.identifier
            ),
        )
        .add(&mut scope, "security-group")?;
        let retention = LogRetention::days(self.log_retention_days)
            .map_err(|e| Error::construct(&at, RdsError::from(e)))?;
        let mut log_groups = Vec::new();
        for log in EXPORTED_LOGS {
            let group = scope.add(
                &format!("{log}-logs"),
                aws::CloudwatchLogGroup::new()
                    .name(format!("/aws/rds/instance/{}/{log}", self.identifier))
                    .retention_in_days(retention.retention_in_days()),
            )?;
            log_groups.push(group.dependency());
        }
        let instance = scope.add_default(
            aws::DbInstance::new(&self.instance_class)
                .identifier(&self.identifier)
                .engine("postgres")
                .engine_version(self.major_version.to_string())
                .allocated_storage(self.storage_gib)
                .max_allocated_storage(self.max_storage_gib)
                .storage_type("gp3")
                .storage_encrypted(true)
                .db_name(&self.database)
                .username(&self.username)
                .manage_master_user_password(true)
                .db_subnet_group_name(subnets.name())
                .parameter_group_name(parameters.name())
                .vpc_security_group_ids([security_group.id()])
                .publicly_accessible(false)
                .multi_az(self.multi_az)
                .backup_retention_period(self.backup_retention_days)
                .backup_window(&self.backup_window)
                .maintenance_window(&self.maintenance_window)
                .copy_tags_to_snapshot(true)
                .deletion_protection(self.deletion_protection)
                .skip_final_snapshot(!self.deletion_protection)
                .final_snapshot_identifier(format!("{}-final", self.identifier))
                .performance_insights_enabled(self.performance_insights)
                .auto_minor_version_upgrade(true)
                .enabled_cloudwatch_logs_exports(EXPORTED_LOGS)
                .tags([("Name", self.identifier.as_str())])
                .into_spec()
                // RDS creates the groups of exported logs itself, without retention,
                // unless they exist: Terraform creates them first.
                .depends_on_all(&LogGroups(log_groups.clone())),
        )?;
        let arn = match &self.location {
            Some(location) => location.arn("rds", format!("db:{}", self.identifier)),
            None => Arn::attribute(instance.arn()),
        };
        let connections = security_group
            .connections()
            .clone()
            .with_default_port(Port::tcp(POSTGRES_PORT));
        Ok(PostgresHandle {
            instance,
            parameters,
            security_group,
            connections,
            arn,
            identifier: self.identifier,
            database: self.database,
            username: self.username,
            user_secret_recovery_days: self.user_secret_recovery_days,
        })
    }
}

impl Postgres {
    fn check(&self) -> std::result::Result<(), RdsError> {
        let id_ok = (1..=63).contains(&self.identifier.len())
            && self
                .identifier
                .starts_with(|c: char| c.is_ascii_lowercase())
            && self
                .identifier
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !self.identifier.ends_with('-')
            && !self.identifier.contains("--");
        if !id_ok {
            return Err(RdsError::Identifier(self.identifier.clone()));
        }
        if !(12..=17).contains(&self.major_version) {
            return Err(RdsError::MajorVersion(self.major_version));
        }
        if !self.instance_class.starts_with("db.") {
            return Err(RdsError::InstanceClass(self.instance_class.clone()));
        }
        if self.storage_gib < 20 || self.max_storage_gib < self.storage_gib {
            return Err(RdsError::Storage {
                gib: self.storage_gib,
                max_gib: self.max_storage_gib,
            });
        }
        if !(1..=35).contains(&self.backup_retention_days) {
            return Err(RdsError::BackupRetention(self.backup_retention_days));
        }
        if let Some(days) = self.user_secret_recovery_days
            && days != 0
            && !(7..=30).contains(&days)
        {
            return Err(RdsError::RecoveryWindow(days));
        }
        for (what, name) in [("database", &self.database), ("username", &self.username)] {
            let ok = (1..=63).contains(&name.len())
                && name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok {
                return Err(RdsError::Name {
                    what,
                    name: name.clone(),
                });
            }
        }
        Ok(())
    }
}

impl PostgresHandle {
    /// The recovery window of its users' secrets, when stated.
    pub(crate) fn user_secret_recovery_days(&self) -> Option<u8> {
        self.user_secret_recovery_days
    }

    /// The host name clients connect to.
    pub fn endpoint(&self) -> Expr<String> {
        self.instance.address()
    }

    /// The port.
    pub fn port(&self) -> Expr<Number> {
        self.instance.port()
    }

    /// The ARN of the Secrets Manager secret RDS keeps the master password in.
    pub fn master_secret_arn(&self) -> Expr<String> {
        self.instance.master_user_secret().first().secret_arn()
    }

    /// The instance ARN: known at synth when the builder was told where it lives
    /// ([`Postgres::located_in`]; the tag RDS puts on the master secret, which a static
    /// manifest may name), otherwise the instance's `arn` attribute.
    pub fn arn(&self) -> &Arn {
        &self.arn
    }

    /// The master user.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The instance identifier (CloudWatch's `DBInstanceIdentifier` dimension).
    pub fn identifier(&self) -> &str {
        &self.identifier
    }

    /// The database's security group.
    pub fn security_group(&self) -> &SecurityGroupHandle {
        &self.security_group
    }

    /// The generated resource.
    pub fn resource(&self) -> &aws::DbInstanceHandle {
        &self.instance
    }

    /// Write host, port, database, user and the master secret's ARN as SSM parameters
    /// under `prefix` (`/pixtools/dev/db`) as construct `id`, for the cluster to read at
    /// run time; returns where they are ([`PostgresParameters`]).
    pub fn publish_to_ssm(
        &self,
        scope: &mut Scope<'_>,
        id: &str,
        prefix: &SsmPath,
    ) -> Result<PostgresParameters> {
        let mut scope = scope.construct_child(id)?;
        let mut published = PostgresParameters::under(prefix)
            .map_err(|e| Error::construct(scope.location(), RdsError::from(e)))?;
        published.written_by = self.dependencies();
        let [host, port, database, username, secret] = PostgresParameters::KEYS;
        let entries: [(&str, &SsmPath, Expr<String>); 5] = [
            (host, published.host(), self.endpoint()),
            (
                port,
                published.port(),
                girder_core::expr::fns::tostring(self.port()),
            ),
            (
                database,
                published.database(),
                Expr::lit(self.database.clone()),
            ),
            (
                username,
                published.username(),
                Expr::lit(self.username.clone()),
            ),
            (
                secret,
                published.master_secret_arn(),
                self.master_secret_arn(),
            ),
        ];
        let mut written = Vec::new();
        for (key, path, value) in entries {
            let parameter = scope.add(
                key,
                aws::SsmParameter::new(path.as_str(), "String")
                    .value(value)
                    .description(format!("PostgreSQL {key}, written by girder")),
            )?;
            written.push(parameter.dependency());
        }
        published.written_by.extend(written);
        Ok(published)
    }
}

impl Connectable for PostgresHandle {
    /// The instance's security group, serving [`POSTGRES_PORT`] by default.
    fn connections(&self) -> &Connections {
        &self.connections
    }
}

impl Dependable for PostgresParameters {
    /// The database instance and its parameter group, then the parameters
    /// `publish_to_ssm` wrote (nothing for [`PostgresParameters::under`]).
    fn dependencies(&self) -> Vec<Reference> {
        self.written_by.clone()
    }
}

/// The exported logs' groups, as one [`Dependable`].
struct LogGroups(Vec<Reference>);

impl Dependable for LogGroups {
    fn dependencies(&self) -> Vec<Reference> {
        self.0.clone()
    }
}

impl Dependable for PostgresHandle {
    /// The instance and its parameter group.
    fn dependencies(&self) -> Vec<Reference> {
        vec![self.instance.dependency(), self.parameters.dependency()]
    }
}
