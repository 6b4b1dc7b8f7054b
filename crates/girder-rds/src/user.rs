//! Database users of their own: a password Terraform generates, kept in a Secrets
//! Manager secret of the user's own, so it survives the rotation of the master password.

use girder_aws::{aws, random};
use girder_core::construct::Dependable;
use girder_core::expr::{Reference, fns};
use girder_core::terraform::Dependency;
use girder_core::{Error, Expr, Result, Scope};

use crate::error::RdsError;
use crate::postgres::PostgresHandle;

/// A login role of its own on the instance, owning database `database` and nothing else.
/// Terraform generates its password (`random_password`, sensitive, letters and digits so
/// it needs no escaping in a URL) into Secrets Manager secret `<identifier>/users/<name>`
/// (`{"username": .., "password": ..}`, as RDS writes the master's); the role itself is
/// created in the database by a client holding the master password (PixTools' K3s node
/// at boot, Piksel's ODC init Job), which the master password's rotation never touches.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct PostgresUserHandle {
    name: String,
    database: String,
    secret_name: String,
    master_secret_arn: Expr<String>,
    secret: aws::SecretsmanagerSecretHandle,
    version: aws::SecretsmanagerSecretVersionHandle,
}

/// The password's length.
const PASSWORD_LENGTH: u16 = 40;

impl PostgresHandle {
    /// User `name`, owner of database `database` (created if missing by whoever creates
    /// the user), its password in its own secret, as construct `id`.
    pub fn user(
        &self,
        scope: &mut Scope<'_>,
        id: &str,
        name: &str,
        database: &str,
    ) -> Result<PostgresUserHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        for (what, value) in [("username", name), ("database", database)] {
            if !is_postgres_name(value) {
                return Err(Error::construct(
                    &at,
                    RdsError::Name {
                        what,
                        name: value.to_owned(),
                    },
                ));
            }
        }
        if name == self.username() {
            return Err(Error::construct(&at, RdsError::UserName(name.to_owned())));
        }
        let password = scope.add(
            "password",
            random::Password::new(PASSWORD_LENGTH).special(false),
        )?;
        let secret_name = format!("{}/users/{name}", self.identifier());
        let mut secret = aws::SecretsmanagerSecret::new()
            .name(&secret_name)
            .description(format!(
                "Password of PostgreSQL user {name} on {} (written by girder)",
                self.identifier()
            ));
        if let Some(days) = self.user_secret_recovery_days() {
            secret = secret.recovery_window_in_days(days);
        }
        let secret = scope.add("secret", secret)?;
        let version = scope.add(
            "secret-version",
            // RDS's own shape, `{"username": .., "password": ..}`: the name is checked and
            // the password is letters and digits, so neither needs JSON escaping.
            aws::SecretsmanagerSecretVersion::new(secret.id()).secret_string(fns::format(
                format!("{{\"username\":\"{name}\",\"password\":\"%s\"}}"),
                [password.result().any()],
            )),
        )?;
        Ok(PostgresUserHandle {
            name: name.to_owned(),
            database: database.to_owned(),
            secret_name,
            master_secret_arn: self.master_secret_arn(),
            secret,
            version,
        })
    }
}

/// Lowercase letters, digits and `_`, starting with a letter, at most 63: a PostgreSQL
/// name that needs no quoting in SQL, a URL or a shell word.
pub(crate) fn is_postgres_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl PostgresUserHandle {
    /// The role's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database it owns.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The name of the secret holding its password (known at synth: a manifest may name
    /// it).
    pub fn secret_name(&self) -> &str {
        &self.secret_name
    }

    /// The ARN of the instance's master secret: whoever creates the user reads it (and
    /// only for that).
    pub fn master_secret_arn(&self) -> Expr<String> {
        self.master_secret_arn.clone()
    }

    /// The secret's ARN (grant `secretsmanager:GetSecretValue` on exactly this).
    pub fn secret_arn(&self) -> Expr<String> {
        self.secret.arn()
    }
}

impl Dependable for PostgresUserHandle {
    /// The secret and its value: a reader at boot waits for both.
    fn dependencies(&self) -> Vec<Reference> {
        vec![self.secret.dependency(), self.version.dependency()]
    }
}
