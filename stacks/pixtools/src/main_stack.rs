//! `pixtools-<env>`: everything the seed's infra/*.tf list holds.

use girder_aws::{aws, random};
use girder_core::expr::fns;
use girder_core::prelude::*;
use girder_core::terraform::S3Backend;
use girder_core::{Error, Result, Stack};
use girder_iam::{PolicyDocument, Role, Statement, Trust, github_oidc_provider};
use girder_k3s::K3sNode;
use girder_network::{AccessLogs, Alb, Cors, Ipv4Cidr, Nat, Targets, Vpc};
use girder_rds::Postgres;
use girder_storage::{Bucket, BucketName, Repository};

use crate::cluster::{self, ClusterInputs};
use crate::config::{Environment, REGION, aws_stack};
use crate::findings;
use crate::state_stack::{LOCK_TABLE, state_bucket};

/// The seed's VPC.
const VPC_CIDR: &str = "10.40.0.0/16";
/// The K3s release the node installs.
const K3S_VERSION: &str = "v1.33.5+k3s1";
/// The NodePort the API is served on; the ALB's targets.
pub(crate) const API_NODE_PORT: u16 = 30080;
/// Spot types: the primary, then the seed's fallbacks.
const INSTANCE_TYPES: [&str; 3] = ["m7i-flex.large", "c7i-flex.large", "m6i.large"];
/// CloudWatch Logs retention, days.
const LOG_RETENTION_DAYS: u16 = 14;
/// The existing budget alert, USD per month.
const BUDGET_USD: &str = "20";

pub(crate) fn stack(env: &Environment) -> Result<Stack> {
    let backend = Backend::S3(S3Backend {
        bucket: state_bucket(env),
        key: Some(format!("pixtools/{}/terraform.tfstate", env.name)),
        region: REGION.into(),
        dynamodb_table: Some(LOCK_TABLE.into()),
        kms_key_id: None,
    });
    let mut stack = aws_stack("pixtools", env, backend)?;
    stack.require_provider(random::requirement())?;
    let name = format!("pixtools-{}", env.name);
    let prefix = format!("/pixtools/{}", env.name);
    let at = format!("{}:/", stack.id());
    let cidr = |text: &str| -> Result<Ipv4Cidr> {
        text.parse()
            .map_err(|e: girder_network::CidrError| Error::invalid(&at, e.to_string()))
    };
    let allowed = cidr(env.allowed_ingress_cidr)?;

    // infra/main.tf: VPC, subnets, routes, NAT, IGW.
    let mut root = stack.root();
    let vpc_cidr = cidr(VPC_CIDR)?;
    let vpc = Vpc::new(&name, vpc_cidr)
        .nat(Nat::Single)
        .add(&mut root, "network")?;

    // infra/ecr.tf.
    let mut registry = root.child("registry")?;
    let api_repository = Repository::new("pixtools-api").add(&mut registry, "api")?;
    let worker_repository = Repository::new("pixtools-worker").add(&mut registry, "worker")?;

    // infra/s3.tf: app assets and results expire after a day; manifests for bootstrap.
    let mut storage = root.child("storage")?;
    let images = Bucket::new(BucketName::with_account_and_region(
        "pixtools-images",
        env.account_id,
        REGION,
    ))
    .expire_prefix("raw/", 1)
    .expire_prefix("processed/", 1)
    .expire_prefix("archives/", 1)
    .add(&mut storage, "images")?;
    let manifests_name = format!("pixtools-manifests-{}-{REGION}", env.account_id);
    let manifests =
        Bucket::new(BucketName::literal(&manifests_name)).add(&mut storage, "manifests")?;

    // infra/rds.tf: PostgreSQL 16, db.t4g.micro, 20 GiB gp3, single-AZ.
    let mut data = root.child("data")?;
    let mut postgres = Postgres::new(&name, 16, "db.t4g.micro")
        .storage(20, 100)
        .database("pixtools", "pixtools_admin")
        .backup_retention(if env.production { 14 } else { 7 });
    if !env.production {
        postgres = postgres.without_deletion_protection();
    }
    let database = postgres.add(&mut data, "database", &vpc)?;
    database.publish_to_ssm(&mut data, "settings", &format!("{prefix}/db"))?;

    // infra/alb.tf: one ALB, allowlisted, access logs kept as long as the other logs.
    // Frontend and API share its host, so CORS allows that one origin (seed:
    // Access-Control Implementation Notes).
    let mut edge = root.child("edge")?;
    let logs_name = format!("pixtools-alb-logs-{}-{REGION}", env.account_id);
    let access_logs = AccessLogs::new(&logs_name, "alb");
    let delivery = access_logs.delivery_statement(&mut edge, "log-delivery")?;
    let logs_bucket = Bucket::new(BucketName::literal(&logs_name))
        .expire_prefix("alb/", LOG_RETENTION_DAYS)
        .policy_statement(delivery)
        .add(&mut edge, "logs")?;
    let mut alb = Alb::internet_facing(
        &name,
        Targets::instances(format!("{name}-api"), API_NODE_PORT).health_check("/health"),
    );
    if env.production {
        alb = alb.deletion_protection();
    }
    let alb = alb
        .allow([allowed])
        .cors(
            Cors::same_origin()
                .methods(["GET", "POST", "DELETE", "OPTIONS"])
                .headers(["Content-Type", "Authorization"]),
        )
        .hardened_headers()
        .access_logs(access_logs.after_policy(logs_bucket.policy()))
        .add(&mut edge, "alb", &vpc)?;

    // infra/asg.tf: the K3s node, spot only.
    let mut compute = root.child("compute")?;
    let token = compute.add("k3s-token", random::Password::new(48).special(false))?;
    compute.add(
        "k3s-token-parameter",
        aws::SsmParameter::new(format!("{prefix}/k3s/token"), "SecureString")
            .value(token.result())
            .description("K3s cluster token, read by the node at boot"),
    )?;
    let node = K3sNode::new(&name, INSTANCE_TYPES, &prefix, K3S_VERSION)
        .manifests_from(&manifests_name, manifests.arn())
        .target_group(alb.target_group_arn())
        .bundled_traefik()
        .log_retention(LOG_RETENTION_DAYS)
        .add(&mut compute, "k3s", &vpc)?;
    // External Secrets (on the node role) finds the RDS-managed secret by its tags.
    compute.add(
        "node-find-database-secret",
        aws::IamRolePolicy::new(
            PolicyDocument::new()
                .statement(
                    Statement::allow(["secretsmanager:ListSecrets"])
                        .sid("FindDatabaseSecret")
                        .on(["*"])
                        .wildcard_because(
                            "secretsmanager:ListSecrets has no resource-level permissions",
                        ),
                )
                .render(&compute.location())?,
            node.role().name(),
        )
        .name("find-database-secret"),
    )?;
    alb.allow_to_targets(&mut compute, node.security_group())?;
    database.allow_from(
        &mut compute,
        node.security_group(),
        "K3s node (API, workers, K3s datastore)",
    )?;
    images.grant_read_write(&mut compute, "node-images", node.role(), "")?;

    // SSM parameter contract (seed: Sprint 1, item 3).
    let mut config = root.child("config")?;
    let contract: [(&str, Expr<String>, &str); 6] = [
        (
            "database_url",
            fns::format(
                "postgresql://pixtools_admin@%s:%s/pixtools?sslmode=require",
                [database.endpoint().any(), database.port().any()],
            ),
            "PostgreSQL URL without the password, which RDS keeps in Secrets Manager",
        ),
        (
            "redis_url",
            Expr::lit("redis://redis.pixtools.svc.cluster.local:6379/0"),
            "In-cluster Redis",
        ),
        (
            "rabbitmq_url",
            Expr::lit("amqp://pixtools@rabbitmq.pixtools.svc.cluster.local:5672/"),
            "In-cluster RabbitMQ (password in its Secret)",
        ),
        (
            "aws_s3_bucket",
            Expr::lit(format!("pixtools-images-{}-{REGION}", env.account_id)),
            "Images bucket",
        ),
        (
            "webhook_cb_fail_threshold",
            Expr::lit("5"),
            "Webhook circuit breaker: failures before opening",
        ),
        (
            "webhook_cb_reset_timeout",
            Expr::lit("60"),
            "Webhook circuit breaker: seconds before retrying",
        ),
    ];
    // RabbitMQ's application user: generated here, read by External Secrets into the
    // broker's definitions and the workers' broker URL.
    let broker_password = config.add(
        "rabbitmq-password",
        random::Password::new(40).special(false),
    )?;
    config.add(
        "rabbitmq-password-parameter",
        aws::SsmParameter::new(format!("{prefix}/rabbitmq_password"), "SecureString")
            .value(broker_password.result())
            .description("RabbitMQ password of user pixtools"),
    )?;
    for (key, value, description) in contract {
        config.add(
            &key.replace('_', "-"),
            aws::SsmParameter::new(format!("{prefix}/{key}"), "SecureString")
                .value(value)
                .description(description),
        )?;
    }

    // infra/iam.tf: GitHub Actions deploys through OIDC: dev from main, prod only from
    // the approved `prod` environment.
    let mut deploy = root.child("deploy")?;
    let provider = github_oidc_provider(&mut deploy, "github")?;
    let trust = if env.production {
        Trust::github_actions_environment(provider.arn(), env.github_repository, "prod")
    } else {
        Trust::github_actions_branch(provider.arn(), env.github_repository, "main")
    };
    let deploy_policy = PolicyDocument::new()
        .statement(
            Statement::allow(["ecr:GetAuthorizationToken"])
                .sid("EcrLogin")
                .on(["*"])
                .wildcard_because("ecr:GetAuthorizationToken has no resource-level permissions"),
        )
        .statement(
            Statement::allow([
                "ecr:BatchCheckLayerAvailability",
                "ecr:InitiateLayerUpload",
                "ecr:UploadLayerPart",
                "ecr:CompleteLayerUpload",
                "ecr:PutImage",
                "ecr:BatchGetImage",
            ])
            .sid("PushImages")
            .on([api_repository.arn(), worker_repository.arn()]),
        )
        .statement(
            Statement::allow(["s3:PutObject", "s3:DeleteObject"])
                .sid("PublishManifests")
                .on([fns::format("%s/manifests/*", [manifests.arn().any()])]),
        )
        .statement(
            Statement::allow(["s3:ListBucket"])
                .sid("SyncManifests")
                .on([manifests.arn()])
                .when(girder_iam::Condition::string_like(
                    "s3:prefix",
                    ["manifests/*"],
                )),
        )
        .statement(
            Statement::allow(["ssm:SendCommand"])
                .sid("DeployThroughSsm")
                .on([
                    fns::format(
                        "arn:aws:ssm:%s::document/AWS-RunShellScript",
                        [Expr::lit(REGION).any()],
                    ),
                    Expr::lit(format!(
                        "arn:aws:ec2:{REGION}:{}:instance/*",
                        env.account_id
                    )),
                ])
                .when(girder_iam::Condition::string_equals(
                    "ssm:resourceTag/aws:autoscaling:groupName",
                    name.clone(),
                )),
        );
    Role::new(format!("{name}-deploy"), trust)
        .description(format!("GitHub Actions deploys of PixTools {}", env.name))
        .max_session(3600)
        .policy("deploy", deploy_policy)
        .add(&mut deploy, "role")?;

    // Observability: logs 14 days, the minimum alert set, the budget.
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
            ("LoadBalancer", alb.arn_suffix()),
            ("TargetGroup", alb.target_group_arn_suffix()),
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
        .dimensions([("DBInstanceIdentifier", name.clone())]),
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

    cluster::add(
        &mut stack,
        env,
        &ClusterInputs {
            vpc_cidr,
            node_port: API_NODE_PORT,
            database_identifier: &name,
        },
    )?;

    stack.add_output(
        "alb_dns_name",
        Output::new(&alb.dns_name()).description("The API's address (no custom domain in v1)"),
    )?;
    stack.add_output(
        "rds_endpoint",
        Output::new(&database.endpoint()).description("PostgreSQL host"),
    )?;
    stack.add_output(
        "ecr_api_url",
        Output::new(&api_repository.url()).description("pixtools-api repository"),
    )?;
    stack.add_output(
        "ecr_worker_url",
        Output::new(&worker_repository.url()).description("pixtools-worker repository"),
    )?;
    stack.add_output(
        "ssm_prefix",
        Output::new(&Expr::lit(prefix)).description("Where runtime settings live"),
    )?;
    findings::main(&mut stack, env)?;
    Ok(stack)
}
