//! Observability: logs 14 days, the minimum alert set, the budget.

use girder_aws::aws;
use girder_core::Result;
use girder_core::Scope;
use girder_core::construct::Construct;
use girder_observability::{Comparison, MetricAlarm, Period, Statistic, TreatMissingData};

use super::database::Database;
use super::edge::Edge;
use super::{BUDGET_USD, LOG_RETENTION_DAYS};
use crate::config::Environment;

/// The app's log group: its containers' logs, shipped by the node's agent.
pub(super) struct AppLogs {
    pub group: aws::CloudwatchLogGroupHandle,
    /// Its name (the agent's configuration names it).
    pub name: String,
}

/// The app's log group, `/pixtools/<env>/app`, kept [`LOG_RETENTION_DAYS`].
pub(super) fn app_logs(root: &mut Scope<'_>, env: &Environment) -> Result<AppLogs> {
    let mut ops = root.child("ops")?;
    let name = format!("/pixtools/{}/app", env.name);
    let group = ops.add(
        "app-logs",
        aws::CloudwatchLogGroup::new()
            .name(&name)
            .retention_in_days(LOG_RETENTION_DAYS),
    )?;
    Ok(AppLogs { group, name })
}

/// The alerts topic, the alarms of `name` and its monthly budget;
/// the topic's handle (Alertmanager in the cluster publishes to it with the node role).
pub(super) fn add(
    root: &mut Scope<'_>,
    env: &Environment,
    name: &str,
    edge: &Edge,
    database: &Database,
) -> Result<aws::SnsTopicHandle> {
    let mut ops = root.child("ops")?;
    let topic = ops.add(
        "alerts",
        aws::SnsTopic::new().name(format!("{name}-alerts")),
    )?;
    ops.add(
        "alerts-email",
        aws::SnsTopicSubscription::new(env.alert_email, "email", topic.arn()),
    )?;
    // Alarms only where AWS holds the metric; queue depth and workers are Prometheus
    // alerts in the cluster (`observability`).
    let minutes = |n: u32| Period::minutes(n).map_err(|e| e.at(ops.location()));
    let (one_minute, five_minutes) = (minutes(1)?, minutes(5)?);
    let _ = MetricAlarm::new(
        format!("{name}-api-health"),
        "AWS/ApplicationELB",
        "HealthyHostCount",
        Statistic::Minimum,
        Comparison::LessThan,
        1.0,
        one_minute,
        5,
    )
    .dimension("LoadBalancer", edge.alb.arn_suffix())
    .dimension("TargetGroup", edge.alb.target_group_arn_suffix())
    // The ALB reports the target group's healthy hosts every minute while it exists: no
    // data means no healthy target is reporting.
    .treat_missing_data(TreatMissingData::Breaching)
    .description("API health check failing for 5 minutes")
    .notify(topic.arn())
    .add(&mut ops, "api-health")?;
    let _ = MetricAlarm::new(
        format!("{name}-rds-cpu"),
        "AWS/RDS",
        "CPUUtilization",
        Statistic::Average,
        Comparison::GreaterThan,
        80.0,
        five_minutes,
        2,
    )
    .dimension("DBInstanceIdentifier", database.postgres.identifier())
    .description("RDS CPU above 80% for 10 minutes")
    .notify(topic.arn())
    .add(&mut ops, "rds-cpu")?;
    let notify = |threshold: u16, kind: &str| {
        aws::budgets_budget::Notification::new("GREATER_THAN", kind, threshold, "PERCENTAGE")
            .subscriber_email_addresses([env.alert_email])
    };
    ops.add(
        "budget",
        aws::BudgetsBudget::new("COST", "MONTHLY")
            .name(format!("{name}-monthly"))
            .limit_amount(BUDGET_USD)
            .limit_unit("USD")
            .notification(notify(80, "ACTUAL"))
            .notification(notify(100, "FORECASTED")),
    )?;
    Ok(topic)
}
