#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! AlertTopic added to a stack: the key CloudWatch and EventBridge may use, the topic
//! policy letting them publish, the subscriptions it requires, the Access Analyzer route,
//! and the errors it refuses with, matched by variant.

use std::path::{Path, PathBuf};

use girder_aws::aws;
use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_iam::{Access, Condition};
use girder_observability::{
    AccessAnalyzer, AlertTopic, AlertTopicHandle, AuditTrail, CLOUDWATCH_SERVICE,
    EVENTBRIDGE_SERVICE, EventRoute, ObservabilityError, Subscription,
};
use serde_json::json;

const PAGERDUTY: &str = "https://events.pagerduty.com/integration/0123456789abcdef/enqueue";
const REPORTS: &str = "platform-security@piksel.example";

fn stack_with<T>(
    f: impl FnOnce(&mut Scope<'_>) -> girder_core::Result<T>,
) -> girder_core::Result<(Stack, T)> {
    let mut stack = Stack::new("account", "dev", Backend::local())?;
    stack.require_provider(aws::requirement())?;
    stack.add_provider(aws::Provider::new().region("eu-central-1").into())?;
    let out = {
        let mut scope = stack.scope("security")?;
        f(&mut scope)?
    };
    Ok((stack, out))
}

fn security_topic() -> AlertTopic {
    AlertTopic::new(
        "piksel-dev-security-alerts",
        [Subscription::https(PAGERDUTY), Subscription::email(REPORTS)],
    )
    .route(EventRoute::access_analyzer_findings())
}

fn topic(builder: AlertTopic) -> (Template, AlertTopicHandle) {
    let (stack, handle) = stack_with(|scope| builder.add(scope, "alerts")).unwrap();
    (Template::from_stack(stack).unwrap(), handle)
}

fn error_of<T: std::fmt::Debug>(result: girder_core::Result<T>) -> ObservabilityError {
    let err = result.expect_err("refused");
    err.construct_error::<ObservabilityError>()
        .unwrap_or_else(|| panic!("not an ObservabilityError: {err}"))
        .clone()
}

fn text(value: &Value<String>) -> String {
    match value {
        Value::Literal(text) => text.clone(),
        Value::Expr(expr) => expr.to_terraform_string(),
    }
}

fn services(statement: &girder_iam::Statement) -> Vec<String> {
    statement
        .principals()
        .iter()
        .filter(|(kind, _)| kind == "Service")
        .flat_map(|(_, ids)| ids.iter().map(text))
        .collect()
}

fn condition<'a>(statement: &'a girder_iam::Statement, key: &str) -> Option<&'a Condition> {
    statement.conditions().iter().find(|c| c.key() == key)
}

#[test]
fn the_topic_is_encrypted_with_its_own_key_not_the_aws_managed_one() {
    let (t, handle) = topic(security_topic());
    let topic = t.resource("aws_sns_topic", "security_alerts");
    assert_eq!(topic["name"], "piksel-dev-security-alerts");
    assert_eq!(
        topic["kms_master_key_id"],
        "${aws_kms_key.security_alerts_key.arn}"
    );
    let key = t.resource("aws_kms_key", "security_alerts_key");
    assert_eq!(key["enable_key_rotation"], true);
    assert!(!key["policy"].is_null());
    t.has_resource_properties(
        "aws_kms_alias",
        &json!({"name": "alias/sns/piksel-dev-security-alerts"}),
    );
    assert_eq!(
        handle.arn().to_terraform_string(),
        "${aws_sns_topic.security_alerts.arn}"
    );
}

#[test]
fn cloudwatch_and_eventbridge_may_use_the_key_for_this_account_only() {
    let (_, handle) = topic(security_topic());
    let policy = handle.key_policy();
    let key_itself = Value::Literal("*".to_owned());
    // Publishing to an encrypted topic needs a data key and decrypting it.
    for action in ["kms:GenerateDataKey", "kms:Decrypt"] {
        let Access::AllowedWhen(statements) = policy.access(action, &key_itself) else {
            panic!("{action}: expected conditional statements");
        };
        assert!(
            statements.iter().any(|c| c
                .iter()
                .any(|c| c.operator() == "StringEquals" && c.key() == "aws:SourceAccount")),
            "{action}: {statements:?}"
        );
    }
    let services_statement = policy
        .statements()
        .iter()
        .find(|s| !services(s).is_empty())
        .unwrap();
    assert_eq!(
        services(services_statement),
        [CLOUDWATCH_SERVICE, EVENTBRIDGE_SERVICE]
    );
    assert_eq!(
        services_statement.actions(),
        ["kms:GenerateDataKey*", "kms:Decrypt"]
    );
    let account = condition(services_statement, "aws:SourceAccount").unwrap();
    assert_eq!(
        text(&account.values()[0]),
        "${data.aws_caller_identity.security_alerts_account.account_id}"
    );
    // Nobody encrypts or decrypts with it unconditionally; the account administers it.
    for action in ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"] {
        assert_ne!(
            policy.access(action, &key_itself),
            Access::Allowed,
            "{action}"
        );
    }
    assert_eq!(
        policy.access("kms:PutKeyPolicy", &key_itself),
        Access::Allowed
    );
}

#[test]
fn the_topic_policy_lets_this_accounts_alarms_and_the_routes_rules_publish() {
    let (t, handle) = topic(security_topic());
    let written = t.resource("aws_sns_topic_policy", "security_alerts_policy");
    assert_eq!(written["arn"], "${aws_sns_topic.security_alerts.arn}");
    let policy = handle.topic_policy();
    let publishers: Vec<_> = policy
        .statements()
        .iter()
        .filter(|s| !services(s).is_empty())
        .collect();
    assert_eq!(publishers.len(), 2);
    let alarms = publishers
        .iter()
        .find(|s| services(s) == [CLOUDWATCH_SERVICE])
        .unwrap();
    assert_eq!(alarms.actions(), ["sns:Publish"]);
    assert!(condition(alarms, "aws:SourceAccount").is_some());
    let alarm_arns = condition(alarms, "aws:SourceArn").unwrap();
    assert_eq!(alarm_arns.operator(), "ArnLike");
    assert!(
        text(&alarm_arns.values()[0]).contains(":cloudwatch:"),
        "{alarm_arns:?}"
    );
    let events = publishers
        .iter()
        .find(|s| services(s) == [EVENTBRIDGE_SERVICE])
        .unwrap();
    assert_eq!(events.actions(), ["sns:Publish"]);
    assert!(condition(events, "aws:SourceAccount").is_some());
    let rule_arns = condition(events, "aws:SourceArn").unwrap();
    assert_eq!(rule_arns.operator(), "ArnEquals");
    assert_eq!(
        text(&rule_arns.values()[0]),
        "${aws_cloudwatch_event_rule.security_alerts_access_analyzer_findings.arn}"
    );
    // Without a route, EventBridge is not let in.
    let (_, plain) = topic(AlertTopic::new(
        "piksel-dev-security-alerts",
        [Subscription::email(REPORTS)],
    ));
    assert!(
        plain
            .topic_policy()
            .statements()
            .iter()
            .all(|s| !services(s).contains(&EVENTBRIDGE_SERVICE.to_owned()))
    );
}

#[test]
fn every_subscription_given_is_made_on_the_topic() {
    let (t, handle) = topic(security_topic());
    assert_eq!(handle.subscriptions().len(), 2);
    t.resource_count_is("aws_sns_topic_subscription", 2);
    let pagerduty = t.resource(
        "aws_sns_topic_subscription",
        "security_alerts_subscription_0",
    );
    assert_eq!(pagerduty["protocol"], "https");
    assert_eq!(pagerduty["endpoint"], PAGERDUTY);
    assert_eq!(
        pagerduty["topic_arn"],
        "${aws_sns_topic.security_alerts.arn}"
    );
    let email = t.resource(
        "aws_sns_topic_subscription",
        "security_alerts_subscription_1",
    );
    assert_eq!(email["protocol"], "email");
    assert_eq!(email["endpoint"], REPORTS);
}

#[test]
fn a_topic_without_subscriptions_or_with_bad_endpoints_is_refused() {
    let none =
        stack_with(|scope| AlertTopic::new("piksel-dev-security-alerts", []).add(scope, "alerts"));
    assert!(matches!(error_of(none), ObservabilityError::Empty { .. }));
    for bad in [
        Subscription::email("security"),
        Subscription::https("http://events.pagerduty.com/integration/x/enqueue"),
    ] {
        let result = stack_with(|scope| {
            AlertTopic::new("piksel-dev-security-alerts", [bad.clone()]).add(scope, "alerts")
        });
        assert!(
            matches!(
                error_of(result),
                ObservabilityError::Subscription { ref endpoint, .. } if endpoint == bad.endpoint()
            ),
            "{bad:?}"
        );
    }
    let bad_name = stack_with(|scope| {
        AlertTopic::new("piksel security", [Subscription::email(REPORTS)]).add(scope, "alerts")
    });
    assert!(matches!(
        error_of(bad_name),
        ObservabilityError::Name { .. }
    ));
    let twice = stack_with(|scope| {
        security_topic()
            .route(EventRoute::access_analyzer_findings())
            .add(scope, "alerts")
    });
    assert!(matches!(
        error_of(twice),
        ObservabilityError::Duplicate { .. }
    ));
}

#[test]
fn active_access_analyzer_findings_go_to_the_topic() {
    let (t, _) = topic(security_topic());
    let rule = t.resource(
        "aws_cloudwatch_event_rule",
        "security_alerts_access_analyzer_findings",
    );
    assert_eq!(
        rule["name"],
        "piksel-dev-security-alerts-access-analyzer-findings"
    );
    let pattern: serde_json::Value =
        serde_json::from_str(rule["event_pattern"].as_str().unwrap()).unwrap();
    assert_eq!(
        pattern,
        json!({
            "source": ["aws.access-analyzer"],
            "detail-type": ["Access Analyzer Finding"],
            "detail": {"status": ["ACTIVE"]},
        })
    );
    let target = t.resource(
        "aws_cloudwatch_event_target",
        "security_alerts_access_analyzer_findings_target",
    );
    assert_eq!(target["arn"], "${aws_sns_topic.security_alerts.arn}");
    assert_eq!(
        target["rule"],
        "${aws_cloudwatch_event_rule.security_alerts_access_analyzer_findings.name}"
    );
    // It waits for the topic policy that lets EventBridge publish.
    assert_eq!(
        target["depends_on"],
        json!(["aws_sns_topic_policy.security_alerts_policy"])
    );
}

#[test]
fn tfcheck_accepts_an_alert_topic_with_the_trail_notifying_it() {
    let tfcheck =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/tfcheck/tfcheck");
    if !tfcheck.exists() {
        eprintln!("skipped: ../shared/tools/tfcheck is not beside this clone");
        return;
    }
    let (stack, _) = stack_with(|scope| {
        let alerts = security_topic().add(scope, "alerts")?;
        let _ = AuditTrail::new("piksel-dev")
            .alert_to(alerts.arn())
            .object_lock(girder_storage::ObjectLock::governance(30))
            .add(scope, "audit")?;
        AccessAnalyzer::account("piksel-dev").add(scope, "analyzer")
    })
    .unwrap();
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("girder-observability-topic");
    app.synth().unwrap().write(&out).unwrap();
    let output = std::process::Command::new(tfcheck)
        .arg(out.join("terraform"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && report.contains(" 0 problems"),
        "{report}"
    );
}
