//! Observability: logs 14 days, the minimum alert set, the budget.

use girder_aws::aws;
use girder_core::Result;
use girder_core::Scope;

use super::database::Database;
use super::edge::Edge;
use super::{BUDGET_USD, LOG_RETENTION_DAYS};
use crate::config::Environment;

/// The app's log group, the alerts topic, the alarms of `name` and its monthly budget.
pub(super) fn add(
    root: &mut Scope<'_>,
    env: &Environment,
    name: &str,
    edge: &Edge,
    database: &Database,
) -> Result<()> {
    let mut ops = root.child("ops")?;
    ops.add(
        "app-logs",
        aws::CloudwatchLogGroup::new()
            .name(format!("/pixtools/{}/app", env.name))
            .retention_in_days(LOG_RETENTION_DAYS),
    )?;
    let topic = ops.add(
        "alerts",
        aws::SnsTopic::new().name(format!("{name}-alerts")),
    )?;
    ops.add(
        "alerts-email",
        aws::SnsTopicSubscription::new(env.alert_email, "email", topic.arn()),
    )?;
    let alarm = |id: &str, description: &str, comparison: &str, periods: u16, period: u16| {
        aws::CloudwatchMetricAlarm::new(format!("{name}-{id}"), comparison, periods)
            .alarm_description(description)
            .period(period)
            .alarm_actions([topic.arn()])
            .ok_actions([topic.arn()])
    };
    ops.add(
        "api-health",
        alarm(
            "api-health",
            "API health check failing for 5 minutes",
            "LessThanThreshold",
            5,
            60,
        )
        .namespace("AWS/ApplicationELB")
        .metric_name("HealthyHostCount")
        .statistic("Minimum")
        .threshold(1)
        .treat_missing_data("breaching")
        .dimensions([
            ("LoadBalancer", edge.alb.arn_suffix()),
            ("TargetGroup", edge.alb.target_group_arn_suffix()),
        ]),
    )?;
    ops.add(
        "queue-depth",
        alarm(
            "queue-depth",
            "Queue depth above threshold for 10 minutes",
            "GreaterThanThreshold",
            10,
            60,
        )
        .namespace("PixTools")
        .metric_name("QueueDepth")
        .statistic("Maximum")
        .threshold(env.queue_depth_threshold)
        .treat_missing_data("notBreaching")
        .dimensions([("Environment", env.name)]),
    )?;
    ops.add(
        "worker-count",
        alarm(
            "worker-count",
            "No Celery worker running",
            "LessThanThreshold",
            5,
            60,
        )
        .namespace("PixTools")
        .metric_name("WorkerCount")
        .statistic("Minimum")
        .threshold(1)
        .treat_missing_data("breaching")
        .dimensions([("Environment", env.name)]),
    )?;
    ops.add(
        "rds-cpu",
        alarm(
            "rds-cpu",
            "RDS CPU above 80% for 10 minutes",
            "GreaterThanThreshold",
            2,
            300,
        )
        .namespace("AWS/RDS")
        .metric_name("CPUUtilization")
        .statistic("Average")
        .threshold(80)
        .dimensions([("DBInstanceIdentifier", database.postgres.identifier())]),
    )?;
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
    Ok(())
}
