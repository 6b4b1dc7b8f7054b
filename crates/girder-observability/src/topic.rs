//! [`AlertTopic`]: the SNS topic AWS's own alarms and events notify, encrypted with a
//! key of its own whose policy lets those services use it, with a topic policy letting
//! them publish, the people or systems subscribed to it (at least one), and EventBridge
//! rules routing service events to it ([`EventRoute`]: IAM Access Analyzer's findings).
//!
//! Why not the AWS-managed `alias/aws/sns` key: its policy cannot be changed, so
//! CloudWatch alarms and EventBridge, which publish as their service principals, cannot
//! use it, and the alarm history shows "Failed to execute action" (the SNS guide's
//! "compatibility with AWS services").

use girder_aws::aws;
use girder_core::construct::{Construct, Dependable};
use girder_core::terraform::{Dependency, IntoResourceSpec};
use girder_core::vocabulary::{Arn, AwsLocation};
use girder_core::{Expr, Result, Scope, Value};
use girder_iam::{Condition, PolicyDocument, Statement};

use crate::error::ObservabilityError;
use crate::key::{KEY_POLICY_RESOURCE, account_administers_key, add_key};

/// CloudWatch's service principal: alarms publish as it.
pub const CLOUDWATCH_SERVICE: &str = "cloudwatch.amazonaws.com";
/// EventBridge's service principal: rule targets are invoked as it.
pub const EVENTBRIDGE_SERVICE: &str = "events.amazonaws.com";

/// Who a topic delivers to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Subscription {
    /// An e-mail address (SNS protocol `email`): the address confirms the subscription
    /// from the message SNS sends it; until then it is pending (and Terraform cannot
    /// delete a pending subscription: SNS removes it after three days).
    Email(String),
    /// An HTTPS endpoint (SNS protocol `https`): an incident tool's integration URL
    /// (PagerDuty's CloudWatch integration, `https://events.pagerduty.com/integration/<key>/enqueue`),
    /// which confirms the subscription itself.
    Https(String),
}

impl Subscription {
    /// E-mail to `address`.
    pub fn email(address: impl Into<String>) -> Self {
        Self::Email(address.into())
    }

    /// POST to `url` (`https://...`).
    pub fn https(url: impl Into<String>) -> Self {
        Self::Https(url.into())
    }

    /// SNS's protocol name.
    pub fn protocol(&self) -> &'static str {
        match self {
            Self::Email(_) => "email",
            Self::Https(_) => "https",
        }
    }

    /// The address or URL.
    pub fn endpoint(&self) -> &str {
        match self {
            Self::Email(endpoint) | Self::Https(endpoint) => endpoint,
        }
    }

    fn check(&self) -> std::result::Result<(), ObservabilityError> {
        let endpoint = self.endpoint();
        let plain = !endpoint.is_empty() && !endpoint.chars().any(char::is_whitespace);
        let ok = plain
            && match self {
                Self::Email(address) => address.split_once('@').is_some_and(|(user, domain)| {
                    !user.is_empty()
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains('@')
                }),
                Self::Https(url) => url
                    .strip_prefix("https://")
                    .is_some_and(|rest| rest.split('/').next().is_some_and(|h| h.contains('.'))),
            };
        if ok {
            Ok(())
        } else {
            Err(ObservabilityError::Subscription {
                protocol: self.protocol(),
                endpoint: endpoint.to_owned(),
                allowed: match self {
                    Self::Email(_) => "an e-mail address, user@domain.tld".into(),
                    Self::Https(_) => "an https:// URL with a host name".into(),
                },
            })
        }
    }
}

/// An EventBridge rule of the default event bus whose matching events go to the topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRoute {
    id: String,
    description: String,
    pattern: serde_json::Value,
}

impl EventRoute {
    /// IAM Access Analyzer's findings that are active (new, or still open: a resource
    /// shared outside the account), as Access Analyzer sends them to EventBridge (source
    /// `aws.access-analyzer`, detail type `Access Analyzer Finding`). Rule
    /// `<topic name>-access-analyzer-findings`, construct id `access-analyzer-findings`.
    pub fn access_analyzer_findings() -> Self {
        Self {
            id: "access-analyzer-findings".into(),
            description: "IAM Access Analyzer findings that are active: a resource shared outside the account".into(),
            pattern: serde_json::json!({
                "source": ["aws.access-analyzer"],
                "detail-type": ["Access Analyzer Finding"],
                "detail": {"status": ["ACTIVE"]},
            }),
        }
    }

    /// The construct id (and rule name suffix).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The event pattern.
    pub fn pattern(&self) -> &serde_json::Value {
        &self.pattern
    }
}

/// An SNS topic for AWS's alarms and events, to create: a customer managed KMS key (rotated)
/// whose policy lets the account administer it, SNS use it for the account, and CloudWatch
/// and EventBridge use it (`kms:GenerateDataKey*`, `kms:Decrypt`) for this account only
/// (`aws:SourceAccount`); the topic encrypted with it; a topic policy letting the account
/// manage the topic, CloudWatch alarms of this account publish, and each [`EventRoute`]'s
/// rule publish (`aws:SourceArn`); a subscription per [`Subscription`]; and a rule and
/// target per [`EventRoute`].
///
/// Resources under construct `id`: `account`, `partition`, `region` (data sources), `key`,
/// `key-alias` (`alias/sns/<name>`), the topic itself (`aws_sns_topic.<id>`), `policy`,
/// `subscription-<n>` (from 0, in the order given), and per route `<route id>` and
/// `<route id>-target`.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug)]
pub struct AlertTopic {
    name: String,
    subscriptions: Vec<Subscription>,
    routes: Vec<EventRoute>,
    key_deletion_window_days: u8,
}

/// The topic in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct AlertTopicHandle {
    topic: aws::SnsTopicHandle,
    key: aws::KmsKeyHandle,
    policy: aws::SnsTopicPolicyHandle,
    subscriptions: Vec<aws::SnsTopicSubscriptionHandle>,
    rules: Vec<(String, aws::CloudwatchEventRuleHandle)>,
    key_policy: PolicyDocument,
    topic_policy: PolicyDocument,
}

impl AlertTopic {
    /// Topic `name` (1-256 letters, digits, `-` and `_`) delivering to `subscriptions`: at
    /// least one, or nobody hears the alarms.
    pub fn new(
        name: impl Into<String>,
        subscriptions: impl IntoIterator<Item = Subscription>,
    ) -> Self {
        Self {
            name: name.into(),
            subscriptions: subscriptions.into_iter().collect(),
            routes: Vec::new(),
            key_deletion_window_days: 30,
        }
    }

    /// Route the events `route` matches to the topic.
    pub fn route(mut self, route: EventRoute) -> Self {
        self.routes.push(route);
        self
    }

    /// Days KMS waits before deleting the topic's key once scheduled (7 to 30, default 30).
    pub fn key_deletion_window_days(mut self, days: u8) -> Self {
        self.key_deletion_window_days = days;
        self
    }

    fn check(&self) -> std::result::Result<(), ObservabilityError> {
        let name_ok = (1..=256).contains(&self.name.len())
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        if !name_ok {
            return Err(ObservabilityError::Name {
                what: "SNS topic".into(),
                value: self.name.clone(),
                allowed: "1 to 256 letters, digits, '-' and '_'".into(),
            });
        }
        if self.subscriptions.is_empty() {
            return Err(ObservabilityError::Empty {
                what: format!("alert topic {:?}", self.name),
                item: "subscription (Subscription::email or Subscription::https)".into(),
            });
        }
        for subscription in &self.subscriptions {
            subscription.check()?;
        }
        for (index, route) in self.routes.iter().enumerate() {
            if self.routes[..index].iter().any(|r| r.id == route.id) {
                return Err(ObservabilityError::Duplicate {
                    what: "event route".into(),
                    name: route.id.clone(),
                });
            }
        }
        if !(7..=30).contains(&self.key_deletion_window_days) {
            return Err(ObservabilityError::Retention {
                what: "key deletion window".into(),
                days: self.key_deletion_window_days.into(),
                allowed: "7 to 30 days".into(),
            });
        }
        Ok(())
    }
}

impl Construct for AlertTopic {
    type Handle = AlertTopicHandle;

    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<AlertTopicHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        self.check().map_err(|e| e.at(&at))?;
        let name = self.name;

        let identity = scope.add("account", aws::DataCallerIdentity::new())?;
        let partition = scope.add("partition", aws::DataPartition::new())?;
        let region = scope.add("region", aws::DataRegion::new())?;
        let here = AwsLocation::computed(
            partition.partition(),
            region.region(),
            identity.account_id(),
        );
        let account = here.account().clone();
        let account_root = Arn::new(here.partition().clone(), "iam", "", account.clone(), "root");
        let of_this_account = || Condition::string_equals("aws:SourceAccount", account.clone());

        // The key: the account administers it (its IAM policies decide who), principals
        // of the account use it through SNS (publishing by hand, a test message), and
        // CloudWatch and EventBridge use it for this account's alarms and rules.
        let key_policy = PolicyDocument::new()
            .statement(account_administers_key(&account_root))
            .statement(
                Statement::allow(["kms:GenerateDataKey*", "kms:Decrypt"])
                    .sid("AccountPublishesThroughSns")
                    .principal("AWS", [account_root.clone()])
                    .on(["*"])
                    .when(Condition::string_equals(
                        "kms:CallerAccount",
                        account.clone(),
                    ))
                    .when(Condition::string_equals(
                        "kms:ViaService",
                        girder_core::expr::fns::format(
                            "sns.%s.amazonaws.com",
                            [region.region().any()],
                        ),
                    ))
                    .wildcard_because(KEY_POLICY_RESOURCE),
            )
            .statement(
                Statement::allow(["kms:GenerateDataKey*", "kms:Decrypt"])
                    .sid("AlarmsAndEventsPublish")
                    .principal("Service", [CLOUDWATCH_SERVICE, EVENTBRIDGE_SERVICE])
                    .on(["*"])
                    .when(of_this_account())
                    .wildcard_because(KEY_POLICY_RESOURCE),
            );
        let key = add_key(
            &mut scope,
            &at,
            format!("SNS topic {name}: alarms and events"),
            self.key_deletion_window_days,
            &key_policy,
            format!("alias/sns/{name}"),
        )?;

        let topic = scope.add_default(
            aws::SnsTopic::new()
                .name(&name)
                .kms_master_key_id(key.arn()),
        )?;
        let topic_arn: Value<String> = topic.arn().into();

        // The rules first: the topic policy names them.
        let mut rules = Vec::new();
        for route in &self.routes {
            let pattern = serde_json::to_string(&route.pattern)
                .map_err(|e| ObservabilityError::Values(e.to_string()).at(&at))?;
            let rule = scope.add(
                &route.id,
                aws::CloudwatchEventRule::new()
                    .name(format!("{name}-{}", route.id))
                    .description(&route.description)
                    .event_pattern(pattern),
            )?;
            rules.push((route.id.clone(), rule));
        }

        let mut topic_policy = PolicyDocument::new()
            .statement(
                Statement::allow([
                    "sns:GetTopicAttributes",
                    "sns:SetTopicAttributes",
                    "sns:AddPermission",
                    "sns:RemovePermission",
                    "sns:DeleteTopic",
                    "sns:Subscribe",
                    "sns:ListSubscriptionsByTopic",
                    "sns:Publish",
                ])
                .sid("AccountManagesTopic")
                .principal("AWS", [account_root])
                .on([topic_arn.clone()]),
            )
            .statement(
                Statement::allow(["sns:Publish"])
                    .sid("AlarmsOfThisAccountPublish")
                    .principal("Service", [CLOUDWATCH_SERVICE])
                    .on([topic_arn.clone()])
                    .when(of_this_account())
                    .when(Condition::new(
                        "ArnLike",
                        "aws:SourceArn",
                        [here.arn("cloudwatch", "alarm:*")],
                    )),
            );
        if !rules.is_empty() {
            topic_policy = topic_policy.statement(
                Statement::allow(["sns:Publish"])
                    .sid("EventRulesPublish")
                    .principal("Service", [EVENTBRIDGE_SERVICE])
                    .on([topic_arn.clone()])
                    .when(of_this_account())
                    .when(Condition::new(
                        "ArnEquals",
                        "aws:SourceArn",
                        rules.iter().map(|(_, rule)| rule.arn()),
                    )),
            );
        }
        let policy = scope.add(
            "policy",
            aws::SnsTopicPolicy::new(topic.arn(), topic_policy.render(&format!("{at}/policy"))?),
        )?;

        for (route_id, rule) in &rules {
            scope.add(
                &format!("{route_id}-target"),
                aws::CloudwatchEventTarget::new(topic.arn(), rule.name())
                    .target_id("sns")
                    .into_spec()
                    // EventBridge may publish once the topic policy lets it.
                    .depends_on(&policy),
            )?;
        }

        let mut subscriptions = Vec::new();
        for (index, subscription) in self.subscriptions.iter().enumerate() {
            subscriptions.push(scope.add(
                &format!("subscription-{index}"),
                aws::SnsTopicSubscription::new(
                    subscription.endpoint(),
                    subscription.protocol(),
                    topic.arn(),
                ),
            )?);
        }

        Ok(AlertTopicHandle {
            topic,
            key,
            policy,
            subscriptions,
            rules,
            key_policy,
            topic_policy,
        })
    }
}

impl AlertTopicHandle {
    /// The topic's ARN: what alarms notify.
    pub fn arn(&self) -> Expr<String> {
        self.topic.arn()
    }

    /// The generated topic.
    pub fn topic(&self) -> &aws::SnsTopicHandle {
        &self.topic
    }

    /// The topic's key.
    pub fn key(&self) -> &aws::KmsKeyHandle {
        &self.key
    }

    /// The subscriptions, in the order given.
    pub fn subscriptions(&self) -> &[aws::SnsTopicSubscriptionHandle] {
        &self.subscriptions
    }

    /// The EventBridge rules, by route id.
    pub fn rules(&self) -> &[(String, aws::CloudwatchEventRuleHandle)] {
        &self.rules
    }

    /// The key's policy, for review (`PolicyDocument::access`).
    pub fn key_policy(&self) -> &PolicyDocument {
        &self.key_policy
    }

    /// The topic's policy, for review.
    pub fn topic_policy(&self) -> &PolicyDocument {
        &self.topic_policy
    }
}

impl Dependable for AlertTopicHandle {
    /// The topic and its policy: an alarm or rule waiting for the topic waits until it may
    /// publish.
    fn dependencies(&self) -> Vec<girder_core::expr::Reference> {
        vec![self.topic.dependency(), self.policy.dependency()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_are_checked_by_protocol() {
        for good in [
            Subscription::email("security@piksel.example"),
            Subscription::https("https://events.pagerduty.com/integration/abc/enqueue"),
        ] {
            assert_eq!(good.check(), Ok(()), "{good:?}");
        }
        for bad in [
            Subscription::email(""),
            Subscription::email("security"),
            Subscription::email("security@localhost"),
            Subscription::email("a b@piksel.example"),
            Subscription::https("http://events.pagerduty.com/x"),
            Subscription::https("https://"),
            Subscription::https("events.pagerduty.com/x"),
        ] {
            assert!(
                matches!(bad.check(), Err(ObservabilityError::Subscription { .. })),
                "{bad:?}"
            );
        }
    }
}
