//! TimescaleDB on a CloudNativePG cluster: typed hypertables and continuous aggregates,
//! rendered to SQL that is safe to run again (`if_not_exists => TRUE`, `IF NOT EXISTS`,
//! compression switched on only when it is off).
//!
//! They are added to a [`PostgresCluster`](crate::PostgresCluster) that runs a
//! TimescaleDB image (`.timescale(image, uid)`), whose init Job applies them after the
//! cluster's own scripts.

use std::fmt;

use crate::RdsError;

/// A positive PostgreSQL interval in whole hours or days (`INTERVAL '30 days'`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    /// Whole hours.
    Hours(u32),
    /// Whole days.
    Days(u32),
}

impl Interval {
    /// `n` hours.
    pub fn hours(n: u32) -> Self {
        Self::Hours(n)
    }

    /// `n` days.
    pub fn days(n: u32) -> Self {
        Self::Days(n)
    }

    /// The interval in hours (for comparisons).
    pub fn in_hours(self) -> u64 {
        match self {
            Self::Hours(n) => u64::from(n),
            Self::Days(n) => u64::from(n) * 24,
        }
    }

    fn is_zero(self) -> bool {
        self.in_hours() == 0
    }

    /// `INTERVAL '<n> <unit>'`.
    pub fn sql(self) -> String {
        format!("INTERVAL '{self}'")
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hours(n) => write!(f, "{n} hours"),
            Self::Days(n) => write!(f, "{n} days"),
        }
    }
}

/// A column of a hypertable: name and SQL type (`TIMESTAMPTZ NOT NULL`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// Name.
    pub name: String,
    /// SQL type and constraints.
    pub sql_type: String,
}

/// A hypertable: a table partitioned by time into chunks, compressed after a while and
/// dropped after its retention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hypertable {
    table: String,
    time_column: String,
    columns: Vec<Column>,
    chunk_interval: Interval,
    retention: Interval,
    compress_after: Option<Interval>,
    segment_by: Vec<String>,
}

impl Hypertable {
    /// Table `table` partitioned on `time_column` (a `TIMESTAMPTZ NOT NULL` column added
    /// first), chunks of one day, kept `retention`, not compressed until
    /// [`Hypertable::compress_after`].
    pub fn new(
        table: impl Into<String>,
        time_column: impl Into<String>,
        retention: Interval,
    ) -> Self {
        let time_column = time_column.into();
        Self {
            table: table.into(),
            columns: vec![Column {
                name: time_column.clone(),
                sql_type: "TIMESTAMPTZ NOT NULL".into(),
            }],
            time_column,
            chunk_interval: Interval::days(1),
            retention,
            compress_after: None,
            segment_by: Vec::new(),
        }
    }

    /// Add a column.
    pub fn column(mut self, name: impl Into<String>, sql_type: impl Into<String>) -> Self {
        self.columns.push(Column {
            name: name.into(),
            sql_type: sql_type.into(),
        });
        self
    }

    /// The width of a chunk.
    pub fn chunk_interval(mut self, interval: Interval) -> Self {
        self.chunk_interval = interval;
        self
    }

    /// Compress chunks older than `interval` (must be shorter than the retention).
    pub fn compress_after(mut self, interval: Interval) -> Self {
        self.compress_after = Some(interval);
        self
    }

    /// Compressed rows are grouped by these columns (`timescaledb.compress_segmentby`).
    pub fn segment_by<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.segment_by.extend(columns.into_iter().map(Into::into));
        self
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Its retention.
    pub fn retention(&self) -> Interval {
        self.retention
    }

    /// When its chunks are compressed.
    pub fn compression(&self) -> Option<Interval> {
        self.compress_after
    }

    /// Refuse zero intervals, retention not longer than the compression window, and
    /// segment-by columns the table does not have.
    pub fn check(&self) -> Result<(), RdsError> {
        crate::cnpg::check_identifier("table", &self.table)?;
        let zero = |what| RdsError::NonPositiveInterval {
            what,
            object: self.table.clone(),
        };
        if self.chunk_interval.is_zero() {
            return Err(zero("chunk interval"));
        }
        if self.retention.is_zero() {
            return Err(zero("retention"));
        }
        if let Some(after) = self.compress_after {
            if after.is_zero() {
                return Err(zero("compression after"));
            }
            if self.retention.in_hours() <= after.in_hours() {
                return Err(RdsError::RetentionWithinCompression {
                    table: self.table.clone(),
                    retention: self.retention.to_string(),
                    compress_after: after.to_string(),
                });
            }
        }
        for column in &self.columns {
            crate::cnpg::check_identifier("column", &column.name)?;
        }
        for column in &self.segment_by {
            if !self.columns.iter().any(|c| &c.name == column) {
                return Err(RdsError::UnknownColumn {
                    table: self.table.clone(),
                    column: column.clone(),
                    columns: self
                        .columns
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        Ok(())
    }

    /// The SQL that makes the table, the hypertable and its policies; every statement a
    /// no-op when run again.
    pub fn sql(&self) -> String {
        let t = &self.table;
        let columns = self
            .columns
            .iter()
            .map(|c| format!("  {} {}", c.name, c.sql_type))
            .collect::<Vec<_>>()
            .join(",\n");
        let mut sql = format!(
            "CREATE TABLE IF NOT EXISTS {t} (\n{columns}\n);\n\
             SELECT create_hypertable('{t}', '{time}', chunk_time_interval => {chunk}, \
             if_not_exists => TRUE);\n",
            time = self.time_column,
            chunk = self.chunk_interval.sql(),
        );
        if let Some(after) = self.compress_after {
            let mut options = vec![
                "timescaledb.compress".to_owned(),
                format!("timescaledb.compress_orderby = '{} DESC'", self.time_column),
            ];
            if !self.segment_by.is_empty() {
                options.push(format!(
                    "timescaledb.compress_segmentby = '{}'",
                    self.segment_by.join(", ")
                ));
            }
            // Compression settings cannot change once chunks are compressed: set them
            // only while compression is off.
            sql.push_str(&format!(
                "DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM timescaledb_information.hypertables \
                 WHERE hypertable_name = '{t}' AND compression_enabled) THEN\n    \
                 ALTER TABLE {t} SET ({});\n  END IF;\nEND\n$$;\n\
                 SELECT add_compression_policy('{t}', {}, if_not_exists => true);\n",
                options.join(", "),
                after.sql(),
            ));
        }
        sql.push_str(&format!(
            "SELECT add_retention_policy('{t}', {}, if_not_exists => true);\n",
            self.retention.sql()
        ));
        sql
    }
}

/// A continuous aggregate: a materialized view of a hypertable in time buckets, refreshed
/// by a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContinuousAggregate {
    view: String,
    hypertable: String,
    time_column: String,
    retention: Interval,
    bucket: Interval,
    group_by: Vec<String>,
    aggregates: Vec<String>,
    start_offset: Interval,
    end_offset: Interval,
    schedule: Interval,
}

impl ContinuousAggregate {
    /// View `view` of `hypertable` in buckets of `bucket` on the time column
    /// `time_column`: refreshed every bucket, from three days back to one bucket ago.
    pub fn new(view: impl Into<String>, hypertable: &Hypertable, bucket: Interval) -> Self {
        Self {
            view: view.into(),
            hypertable: hypertable.table.clone(),
            time_column: hypertable.time_column.clone(),
            retention: hypertable.retention,
            bucket,
            group_by: Vec::new(),
            aggregates: Vec::new(),
            start_offset: Interval::days(3),
            end_offset: bucket,
            schedule: bucket,
        }
    }

    /// Group by these columns too (after the bucket).
    pub fn group_by<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.group_by.extend(columns.into_iter().map(Into::into));
        self
    }

    /// An aggregate expression with its alias (`avg(fps) AS avg_fps`).
    pub fn aggregate(mut self, expression: impl Into<String>) -> Self {
        self.aggregates.push(expression.into());
        self
    }

    /// The refresh policy: from `start` back to `end` back, every `schedule`.
    pub fn refresh(mut self, start: Interval, end: Interval, schedule: Interval) -> Self {
        self.start_offset = start;
        self.end_offset = end;
        self.schedule = schedule;
        self
    }

    /// The view's name.
    pub fn view(&self) -> &str {
        &self.view
    }

    /// The hypertable it reads.
    pub fn hypertable(&self) -> &str {
        &self.hypertable
    }

    /// Refuse zero intervals, a refresh window shorter than two buckets, and one that
    /// reaches back past the hypertable's retention (a refresh over dropped chunks would
    /// empty the view's older buckets).
    pub fn check(&self) -> Result<(), RdsError> {
        crate::cnpg::check_identifier("view", &self.view)?;
        let zero = |what| RdsError::NonPositiveInterval {
            what,
            object: self.view.clone(),
        };
        if self.bucket.is_zero() {
            return Err(zero("bucket"));
        }
        if self.schedule.is_zero() {
            return Err(zero("refresh schedule"));
        }
        let window = self
            .start_offset
            .in_hours()
            .saturating_sub(self.end_offset.in_hours());
        if window < 2 * self.bucket.in_hours() {
            return Err(RdsError::RefreshWindow {
                view: self.view.clone(),
                start: self.start_offset.to_string(),
                end: self.end_offset.to_string(),
                bucket: self.bucket.to_string(),
            });
        }
        if self.start_offset.in_hours() >= self.retention.in_hours() {
            return Err(RdsError::RefreshBeyondRetention {
                view: self.view.clone(),
                start: self.start_offset.to_string(),
                retention: self.retention.to_string(),
            });
        }
        Ok(())
    }

    /// The view (`IF NOT EXISTS`, `WITH NO DATA`: the policy fills it) and its refresh
    /// policy (`if_not_exists => true`).
    pub fn sql(&self) -> String {
        let mut select = vec![format!(
            "time_bucket({}, {}) AS bucket",
            self.bucket.sql(),
            self.time_column
        )];
        select.extend(self.group_by.iter().cloned());
        select.extend(self.aggregates.iter().cloned());
        let mut group = vec!["bucket".to_owned()];
        group.extend(self.group_by.iter().cloned());
        format!(
            "CREATE MATERIALIZED VIEW IF NOT EXISTS {view}\nWITH (timescaledb.continuous) AS\n\
             SELECT {select}\nFROM {table}\nGROUP BY {group}\nWITH NO DATA;\n\
             SELECT add_continuous_aggregate_policy('{view}', start_offset => {start}, \
             end_offset => {end}, schedule_interval => {schedule}, if_not_exists => true);\n",
            view = self.view,
            select = select.join(", "),
            table = self.hypertable,
            group = group.join(", "),
            start = self.start_offset.sql(),
            end = self.end_offset.sql(),
            schedule = self.schedule.sql(),
        )
    }
}
