//! Job and CronJob: pods that run to completion, once or on a schedule. Neither is
//! exposed or scaled; their `parallelism` is how many pods run at once.

use girder_core::construct::Construct;
use girder_core::{Result, Scope};
use k8s_openapi::api::batch::v1 as batch;

use super::pod::Pods;
use super::{WorkloadHandle, controller};
use crate::namespace::NamespaceHandle;
use crate::validate;

/// What a Job and a CronJob's Jobs share.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Completion {
    parallelism: Option<u16>,
    backoff_limit: Option<u16>,
    deadline_seconds: Option<u32>,
}

impl Completion {
    fn job_spec(
        &self,
        template: k8s_openapi::api::core::v1::PodTemplateSpec,
        once: bool,
    ) -> batch::JobSpec {
        batch::JobSpec {
            template,
            backoff_limit: Some(i32::from(self.backoff_limit.unwrap_or(3))),
            parallelism: self.parallelism.map(i32::from),
            active_deadline_seconds: self.deadline_seconds.map(i64::from),
            ttl_seconds_after_finished: once.then_some(86_400),
            ..batch::JobSpec::default()
        }
    }
}

/// A Job before it is added: a [`Workload`](super::Workload) whose pods run to
/// completion (`restartPolicy: OnFailure`), kept a day after it finishes.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pods: Pods,
    completion: Completion,
}

controller!(Job, pods: pods);

impl Job {
    /// A Job `name` in `namespace`.
    pub fn new(namespace: &NamespaceHandle, name: &str) -> Self {
        Self {
            pods: Pods::new(namespace, name),
            completion: Completion::default(),
        }
    }

    /// Pods that run at once.
    pub fn parallelism(mut self, pods: u16) -> Self {
        self.completion.parallelism = Some(pods);
        self
    }

    /// Retries before the Job fails (default 3).
    pub fn backoff_limit(mut self, retries: u16) -> Self {
        self.completion.backoff_limit = Some(retries);
        self
    }

    /// The Job fails (its pods stopped) when still running `seconds` after it started
    /// (`activeDeadlineSeconds`): a hung run does not hold its work for ever. None by
    /// default.
    pub fn deadline(mut self, seconds: u32) -> Self {
        self.completion.deadline_seconds = Some(seconds);
        self
    }
}

impl Construct for Job {
    type Handle = WorkloadHandle;

    /// Write the Job as construct `id`, into the scope's Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<WorkloadHandle> {
        const KIND: &str = "Job";
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        let prepared = self.pods.prepare(&at, KIND, &[], true)?;
        crate::meta::add_object(
            scope,
            &batch::Job {
                metadata: prepared.metadata.clone(),
                spec: Some(self.completion.job_spec(prepared.template.clone(), true)),
                ..batch::Job::default()
            },
        )?;
        Ok(self.pods.handle(KIND, prepared, None))
    }
}

/// A CronJob before it is added: a Job on a schedule (cron syntax, UTC), never two at
/// once, the last three runs of each outcome kept.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq)]
pub struct CronJob {
    pods: Pods,
    schedule: String,
    completion: Completion,
    starting_deadline_seconds: Option<u32>,
}

controller!(CronJob, pods: pods);

impl CronJob {
    /// A CronJob `name` in `namespace` on `schedule` (`"0 3 * * *"`, `@daily`).
    pub fn new(namespace: &NamespaceHandle, name: &str, schedule: impl Into<String>) -> Self {
        Self {
            pods: Pods::new(namespace, name),
            schedule: schedule.into(),
            completion: Completion::default(),
            starting_deadline_seconds: None,
        }
    }

    /// Pods each run starts at once.
    pub fn parallelism(mut self, pods: u16) -> Self {
        self.completion.parallelism = Some(pods);
        self
    }

    /// Retries before a run fails (default 3).
    pub fn backoff_limit(mut self, retries: u16) -> Self {
        self.completion.backoff_limit = Some(retries);
        self
    }

    /// Each run fails when still running `seconds` after it started
    /// (`activeDeadlineSeconds`): with `concurrencyPolicy: Forbid`, a hung run would
    /// otherwise stop every later one. A run that could not start within the same
    /// time is skipped (`startingDeadlineSeconds`), not started late.
    pub fn deadline(mut self, seconds: u32) -> Self {
        self.completion.deadline_seconds = Some(seconds);
        self.starting_deadline_seconds = Some(seconds);
        self
    }
}

impl Construct for CronJob {
    type Handle = WorkloadHandle;

    /// Write the CronJob as construct `id`, into the scope's Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<WorkloadHandle> {
        const KIND: &str = "CronJob";
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        let prepared = self.pods.prepare(&at, KIND, &[], true)?;
        validate::cron_schedule(&at, &prepared.what, &self.schedule)?;
        crate::meta::add_object(
            scope,
            &batch::CronJob {
                metadata: prepared.metadata.clone(),
                spec: Some(batch::CronJobSpec {
                    schedule: self.schedule.clone(),
                    concurrency_policy: Some("Forbid".into()),
                    starting_deadline_seconds: self.starting_deadline_seconds.map(i64::from),
                    successful_jobs_history_limit: Some(3),
                    failed_jobs_history_limit: Some(3),
                    job_template: batch::JobTemplateSpec {
                        metadata: None,
                        spec: Some(self.completion.job_spec(prepared.template.clone(), false)),
                    },
                    ..batch::CronJobSpec::default()
                }),
                ..batch::CronJob::default()
            },
        )?;
        Ok(self.pods.handle(KIND, prepared, None))
    }
}

/// A short, stable hash of `parts` (FNV-1a, 32 bits, eight hex digits, each part ended
/// by a NUL so bytes cannot move across parts): the suffix of a Job's name that changes
/// with what the Job applies. A Job's pods cannot change, so a new content is a new Job
/// (`<name>-<hash>`), and a GitOps controller prunes the old one.
pub fn content_hash(parts: &[&str]) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for part in parts {
        for byte in part.bytes().chain([0]) {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    }
    format!("{hash:08x}")
}
