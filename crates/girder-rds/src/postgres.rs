//! An RDS PostgreSQL instance.

use girder_aws::aws;
use girder_aws::aws::db_parameter_group as params;
use girder_core::terraform::IntoResourceSpec;
use girder_core::{Error, Expr, Number, Result, Scope, SsmPath};
use girder_network::{Port, SecurityGroup, SecurityGroupHandle, VpcHandle};

/// A PostgreSQL instance to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Postgres {
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
}

/// A PostgreSQL instance in the stack.
#[derive(Clone, Debug, PartialEq)]
pub struct PostgresHandle {
    instance: aws::DbInstanceHandle,
    security_group: SecurityGroupHandle,
    database: String,
    username: String,
}

impl Postgres {
    /// Instance `identifier` of PostgreSQL `major_version` on `instance_class`
    /// (`db.t4g.micro`): 20 GiB gp3 growing to 100, single-AZ, 7 days of backups,
    /// deletion protection on.
    pub fn new(
        identifier: impl Into<String>,
        major_version: u8,
        instance_class: impl Into<String>,
    ) -> Self {
        Self {
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
        }
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

    /// Allow `terraform destroy` to delete it (throwaway environments only).
    pub fn without_deletion_protection(mut self) -> Self {
        self.deletion_protection = false;
        self
    }

    /// Add the instance, its subnet group, parameter group and security group as
    /// construct `id`, in the VPC's private subnets.
    pub fn add(self, scope: &mut Scope<'_>, id: &str, vpc: &VpcHandle) -> Result<PostgresHandle> {
        let mut scope = scope.child(id)?;
        let at = scope.location();
        self.check(&at)?;
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
                .name(format!("{}-{family}", self.identifier))
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
            format!("{}-db", self.identifier),
            format!(
                "PostgreSQL {} (admits only what allow_from names)",
                self.identifier
            ),
        )
        .add(&mut scope, "security-group", vpc.id())?;
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
                .enabled_cloudwatch_logs_exports(["postgresql", "upgrade"])
                .tags([("Name", self.identifier.as_str())]),
        )?;
        Ok(PostgresHandle {
            instance,
            security_group,
            database: self.database,
            username: self.username,
        })
    }

    fn check(&self, at: &str) -> Result<()> {
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
            return Err(Error::invalid(
                at,
                format!(
                    "DB identifier {:?}: 1-63 lowercase letters, digits and single '-', starting with a letter",
                    self.identifier
                ),
            ));
        }
        if !(12..=17).contains(&self.major_version) {
            return Err(Error::invalid(
                at,
                format!(
                    "PostgreSQL {} is not a version RDS offers (12-17)",
                    self.major_version
                ),
            ));
        }
        if !self.instance_class.starts_with("db.") {
            return Err(Error::invalid(
                at,
                format!(
                    "instance class {:?} must be a db.* class (db.t4g.micro)",
                    self.instance_class
                ),
            ));
        }
        if self.storage_gib < 20 || self.max_storage_gib < self.storage_gib {
            return Err(Error::invalid(
                at,
                format!(
                    "gp3 storage {} GiB growing to {} GiB: at least 20, and the ceiling not below it",
                    self.storage_gib, self.max_storage_gib
                ),
            ));
        }
        if !(1..=35).contains(&self.backup_retention_days) {
            return Err(Error::invalid(
                at,
                format!(
                    "{} days of backups: use 1 to 35",
                    self.backup_retention_days
                ),
            ));
        }
        for (what, name) in [("database", &self.database), ("username", &self.username)] {
            let ok = (1..=63).contains(&name.len())
                && name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok {
                return Err(Error::invalid(
                    at,
                    format!("{what} {name:?}: letters, digits and '_', starting with a letter"),
                ));
            }
        }
        Ok(())
    }
}

impl PostgresHandle {
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

    /// The database's security group.
    pub fn security_group(&self) -> &SecurityGroupHandle {
        &self.security_group
    }

    /// The generated resource.
    pub fn resource(&self) -> &aws::DbInstanceHandle {
        &self.instance
    }

    /// Admit members of `clients` on the PostgreSQL port.
    pub fn allow_from(
        &self,
        scope: &mut Scope<'_>,
        clients: &SecurityGroupHandle,
        description: &str,
    ) -> Result<()> {
        self.security_group
            .allow_from(scope, clients, Port::tcp(5432), description)
    }

    /// Write host, port, database, user and the master secret's ARN as SSM parameters
    /// under `prefix` (`/pixtools/dev/db`), for the cluster to read at run time.
    pub fn publish_to_ssm(&self, scope: &mut Scope<'_>, id: &str, prefix: &str) -> Result<()> {
        let at = scope.location();
        if SsmPath::new(prefix).is_err() {
            return Err(Error::invalid(
                at,
                format!(
                    "SSM prefix {prefix:?} must start with '/' and not end with one, its \
                     segments letters, digits, '_', '.' and '-'"
                ),
            ));
        }
        let mut scope = scope.child(id)?;
        let entries: [(&str, Expr<String>); 5] = [
            ("host", self.endpoint()),
            ("port", girder_core::expr::fns::tostring(self.port())),
            ("database", Expr::lit(self.database.clone())),
            ("username", Expr::lit(self.username.clone())),
            ("master-secret-arn", self.master_secret_arn()),
        ];
        for (key, value) in entries {
            scope.add(
                key,
                aws::SsmParameter::new(format!("{prefix}/{key}"), "String")
                    .value(value)
                    .description(format!("PostgreSQL {key}, written by girder")),
            )?;
        }
        Ok(())
    }
}
