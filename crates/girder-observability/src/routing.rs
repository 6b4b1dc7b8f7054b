//! [`Routing`]: Alertmanager sending alerts to people by what they match (critical to
//! PagerDuty, warnings to Slack, status to e-mail, say), the alternative to one SNS topic
//! ([`crate::SnsRoute`]). Every credential (PagerDuty's routing key, Slack's webhook URL,
//! the mail server's password) is a key of one Secret in the monitoring namespace, which
//! the operator mounts into Alertmanager (`alertmanagerSpec.secrets`) and the configuration
//! reads as a file (`routing_key_file`, `api_url_file`, `auth_password_file`): no credential
//! is written into the chart's values. Make that Secret with an ExternalSecret.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::error::ObservabilityError;
use crate::values::{AlertRoute, Receiver};

/// Where the operator mounts the Secrets named in `alertmanagerSpec.secrets`.
pub const ALERTMANAGER_SECRETS_DIR: &str = "/etc/alertmanager/secrets";

/// One way of reaching people. Fields ending in `_key` name keys of the routing's Secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Channel {
    /// PagerDuty's Events API v2: the integration's routing key.
    PagerDuty {
        /// The Secret key holding the routing key.
        routing_key_key: String,
    },
    /// A Slack incoming webhook, posting to `channel`.
    Slack {
        /// The Secret key holding the webhook URL.
        webhook_url_key: String,
        /// `#platform-alerts`.
        channel: String,
    },
    /// E-mail through an SMTP server (STARTTLS required).
    Email {
        /// Recipients (`ops@example.org`).
        to: String,
        /// Sender.
        from: String,
        /// `email-smtp.us-west-2.amazonaws.com:587`.
        smarthost: String,
        /// The SMTP user name (Alertmanager reads it only inline; it is not a secret: an
        /// SES SMTP user's name is its access key id, nothing without the password).
        username: String,
        /// The Secret key holding the SMTP password.
        password_key: String,
    },
}

impl Channel {
    fn kind(&self) -> &'static str {
        match self {
            Channel::PagerDuty { .. } => "PagerDuty",
            Channel::Slack { .. } => "Slack",
            Channel::Email { .. } => "e-mail",
        }
    }

    fn keys(&self) -> Vec<&str> {
        match self {
            Channel::PagerDuty { routing_key_key } => vec![routing_key_key],
            Channel::Slack {
                webhook_url_key, ..
            } => vec![webhook_url_key],
            Channel::Email { password_key, .. } => vec![password_key],
        }
    }
}

/// A route: alerts matching every matcher go to a receiver.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Route {
    receiver: String,
    matchers: Vec<String>,
    continue_matching: bool,
}

/// Alertmanager's routing tree: named receivers, a default one and routes by matchers,
/// credentials from Secret `secret`. The chart's always-firing `Watchdog` and
/// `InfoInhibitor` go nowhere; so do `severity="info"` alerts no route claims.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routing {
    secret: String,
    default: String,
    receivers: Vec<(String, Channel)>,
    routes: Vec<Route>,
}

impl Routing {
    /// Everything no route claims goes to receiver `default`; the credentials are keys
    /// of Secret `secret` (namespace of the monitoring stack).
    pub fn new(secret: impl Into<String>, default: impl Into<String>) -> Self {
        Self {
            secret: secret.into(),
            default: default.into(),
            receivers: Vec::new(),
            routes: Vec::new(),
        }
    }

    /// Receiver `name`, reaching people through `channel`.
    pub fn receiver(mut self, name: impl Into<String>, channel: Channel) -> Self {
        self.receivers.push((name.into(), channel));
        self
    }

    /// Alerts matching every one of `matchers` (`severity = "critical"`) go to receiver
    /// `receiver`, and no further.
    pub fn route<M: Into<String>>(
        self,
        receiver: impl Into<String>,
        matchers: impl IntoIterator<Item = M>,
    ) -> Self {
        self.push(receiver, matchers, false)
    }

    /// Alerts matching `matchers` go to `receiver` and on to the routes after (and the
    /// default): a critical alert pages and is posted too.
    pub fn also<M: Into<String>>(
        self,
        receiver: impl Into<String>,
        matchers: impl IntoIterator<Item = M>,
    ) -> Self {
        self.push(receiver, matchers, true)
    }

    fn push<M: Into<String>>(
        mut self,
        receiver: impl Into<String>,
        matchers: impl IntoIterator<Item = M>,
        continue_matching: bool,
    ) -> Self {
        self.routes.push(Route {
            receiver: receiver.into(),
            matchers: matchers.into_iter().map(Into::into).collect(),
            continue_matching,
        });
        self
    }

    /// The Secret the credentials are read from.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Every key of the Secret a receiver reads, sorted.
    pub fn secret_keys(&self) -> BTreeSet<String> {
        self.receivers
            .iter()
            .flat_map(|(_, channel)| channel.keys())
            .map(str::to_owned)
            .collect()
    }

    /// The receivers and the route tree, checked.
    pub(crate) fn render(&self) -> Result<(AlertRoute, Vec<Receiver>), ObservabilityError> {
        let bad = |what: &str, value: &str, allowed: &str| ObservabilityError::Receiver {
            what: what.into(),
            value: value.into(),
            allowed: allowed.into(),
        };
        if !girder_core::vocabulary::dns::is_dns_subdomain(&self.secret) {
            return Err(bad(
                "receiver Secret",
                &self.secret,
                "a Kubernetes object name (DNS subdomain)",
            ));
        }
        let mut names = BTreeSet::from(["null".to_owned()]);
        let mut receivers = vec![Receiver {
            name: "null".into(),
            ..Receiver::default()
        }];
        for (name, channel) in &self.receivers {
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(bad("receiver name", name, "non-empty, without spaces"));
            }
            if !names.insert(name.clone()) {
                return Err(ObservabilityError::Duplicate {
                    what: "receiver".into(),
                    name: name.clone(),
                });
            }
            receivers.push(self.render_receiver(name, channel)?);
        }
        let defined = "a receiver named with Routing::receiver";
        if !names.contains(&self.default) || self.default == "null" {
            return Err(bad("default receiver", &self.default, defined));
        }
        for route in &self.routes {
            if !names.contains(&route.receiver) {
                return Err(bad("route receiver", &route.receiver, defined));
            }
            if route.matchers.is_empty() {
                return Err(ObservabilityError::Empty {
                    what: format!("route to {:?}", route.receiver),
                    item: "matcher".into(),
                });
            }
            for matcher in &route.matchers {
                matcher_ok(matcher).map_err(|why| bad("route matcher", matcher, why))?;
            }
        }
        let null = |matcher: &str| AlertRoute {
            receiver: "null".into(),
            matchers: vec![matcher.into()],
            ..AlertRoute::default()
        };
        let mut routes = vec![
            null("alertname = \"Watchdog\""),
            null("alertname = \"InfoInhibitor\""),
        ];
        routes.extend(self.routes.iter().map(|r| AlertRoute {
            receiver: r.receiver.clone(),
            matchers: r.matchers.clone(),
            continue_matching: r.continue_matching.then_some(true),
            ..AlertRoute::default()
        }));
        routes.push(null("severity = \"info\""));
        let root = AlertRoute {
            receiver: self.default.clone(),
            group_by: vec!["namespace".into(), "alertname".into()],
            group_wait: Some("30s".into()),
            group_interval: Some("5m".into()),
            repeat_interval: Some("12h".into()),
            routes,
            ..AlertRoute::default()
        };
        Ok((root, receivers))
    }

    fn render_receiver(
        &self,
        name: &str,
        channel: &Channel,
    ) -> Result<Receiver, ObservabilityError> {
        for key in channel.keys() {
            if !secret_key_ok(key) {
                return Err(ObservabilityError::Receiver {
                    what: format!("{} credential key", channel.kind()),
                    value: key.into(),
                    allowed: "a Secret key: letters, digits, '-', '_' and '.'".into(),
                });
            }
        }
        let file = |key: &str| format!("{ALERTMANAGER_SECRETS_DIR}/{}/{key}", self.secret);
        let mut receiver = Receiver {
            name: name.into(),
            ..Receiver::default()
        };
        match channel {
            Channel::PagerDuty { routing_key_key } => {
                receiver.pagerduty_configs.push(PagerDutyConfig {
                    routing_key_file: file(routing_key_key),
                    send_resolved: true,
                    severity: "{{ .CommonLabels.severity }}".into(),
                });
            }
            Channel::Slack {
                webhook_url_key,
                channel,
            } => {
                if channel.is_empty() || channel.contains(char::is_whitespace) {
                    return Err(ObservabilityError::Receiver {
                        what: "Slack channel".into(),
                        value: channel.clone(),
                        allowed: "a channel name (`#platform-alerts`), no spaces".into(),
                    });
                }
                receiver.slack_configs.push(SlackConfig {
                    api_url_file: file(webhook_url_key),
                    channel: channel.clone(),
                    send_resolved: true,
                    title: "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}".into(),
                    text: "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}".into(),
                });
            }
            Channel::Email {
                to,
                from,
                smarthost,
                username,
                password_key,
            } => {
                for (what, address) in [("e-mail recipient", to), ("e-mail sender", from)] {
                    if !address_ok(address) {
                        return Err(ObservabilityError::Receiver {
                            what: what.into(),
                            value: address.clone(),
                            allowed: "one address, local@domain".into(),
                        });
                    }
                }
                if username.is_empty() || username.contains(char::is_whitespace) {
                    return Err(ObservabilityError::Receiver {
                        what: "SMTP user name".into(),
                        value: username.clone(),
                        allowed: "non-empty, without spaces".into(),
                    });
                }
                if !smarthost_ok(smarthost) {
                    return Err(ObservabilityError::Receiver {
                        what: "SMTP server".into(),
                        value: smarthost.clone(),
                        allowed: "host:port".into(),
                    });
                }
                receiver.email_configs.push(EmailConfig {
                    to: to.clone(),
                    from: from.clone(),
                    smarthost: smarthost.clone(),
                    auth_username: username.clone(),
                    auth_password_file: file(password_key),
                    require_tls: true,
                    send_resolved: true,
                });
            }
        }
        Ok(receiver)
    }
}

/// One `label = "value"` / `label =~ "re"` / `!=` / `!~` matcher.
fn matcher_ok(matcher: &str) -> Result<(), &'static str> {
    let allowed = "one matcher: label =, !=, =~ or !~ a quoted value";
    let (label, rest) = matcher.split_once(['=', '!']).ok_or(allowed)?;
    let label = label.trim();
    let name_ok = label
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let value = rest.trim_start_matches(['=', '~']).trim();
    let quoted = value.len() >= 2 && value.starts_with('"') && value.ends_with('"');
    if name_ok && quoted && !matcher.contains('\n') {
        Ok(())
    } else {
        Err(allowed)
    }
}

/// A Secret data key: `[-._a-zA-Z0-9]+`, at most 253 characters.
fn secret_key_ok(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn address_ok(address: &str) -> bool {
    address.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !address.contains([' ', ',', '\n'])
    })
}

fn smarthost_ok(smarthost: &str) -> bool {
    smarthost.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty() && !host.contains(' ') && port.parse::<u16>().is_ok_and(|p| p > 0)
    })
}

/// A `pagerduty_configs` entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PagerDutyConfig {
    /// The routing key's file.
    pub routing_key_file: String,
    /// Resolve the incident when the alert resolves.
    pub send_resolved: bool,
    /// The incident's severity (the alert's).
    pub severity: String,
}

/// A `slack_configs` entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SlackConfig {
    /// The webhook URL's file.
    pub api_url_file: String,
    /// The channel.
    pub channel: String,
    /// Post resolutions too.
    pub send_resolved: bool,
    /// The message title.
    pub title: String,
    /// The message text.
    pub text: String,
}

/// An `email_configs` entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EmailConfig {
    /// Recipients.
    pub to: String,
    /// Sender.
    pub from: String,
    /// `host:port`.
    pub smarthost: String,
    /// The SMTP user name.
    pub auth_username: String,
    /// The SMTP password's file.
    pub auth_password_file: String,
    /// STARTTLS required.
    pub require_tls: bool,
    /// Mail resolutions too.
    pub send_resolved: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slack() -> Channel {
        Channel::Slack {
            webhook_url_key: "slack-webhook-url".into(),
            channel: "#alerts".into(),
        }
    }

    fn pagerduty() -> Channel {
        Channel::PagerDuty {
            routing_key_key: "pagerduty-routing-key".into(),
        }
    }

    #[test]
    fn routes_render_in_order_between_the_null_routes() {
        let routing = Routing::new("receivers", "slack")
            .receiver("slack", slack())
            .receiver("pagerduty", pagerduty())
            .also("pagerduty", ["severity = \"critical\""]);
        let (root, receivers) = routing.render().unwrap();
        assert_eq!(root.receiver, "slack");
        let order: Vec<&str> = root.routes.iter().map(|r| r.receiver.as_str()).collect();
        assert_eq!(order, ["null", "null", "pagerduty", "null"]);
        assert_eq!(root.routes[2].continue_matching, Some(true));
        let names: Vec<&str> = receivers.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["null", "slack", "pagerduty"]);
        assert_eq!(
            receivers[2].pagerduty_configs[0].routing_key_file,
            "/etc/alertmanager/secrets/receivers/pagerduty-routing-key"
        );
        assert_eq!(
            routing.secret_keys().into_iter().collect::<Vec<_>>(),
            ["pagerduty-routing-key", "slack-webhook-url"]
        );
    }

    #[test]
    fn bad_receivers_and_routes_are_refused() {
        let base = || Routing::new("receivers", "slack").receiver("slack", slack());
        let receiver_error =
            |routing: Routing| matches!(routing.render(), Err(ObservabilityError::Receiver { .. }));
        assert!(matches!(
            base().receiver("slack", slack()).render(),
            Err(ObservabilityError::Duplicate { .. })
        ));
        assert!(receiver_error(
            base()
                .receiver("pd", pagerduty())
                .route("pd", ["severity critical"])
        ));
        assert!(receiver_error(
            base().route("pd", ["severity = \"critical\""])
        ));
        assert!(matches!(
            base()
                .receiver("pd", pagerduty())
                .route("pd", Vec::<String>::new())
                .render(),
            Err(ObservabilityError::Empty { .. })
        ));
        assert!(receiver_error(
            Routing::new("receivers", "nobody").receiver("slack", slack())
        ));
        assert!(receiver_error(base().receiver(
            "mail",
            Channel::Email {
                to: "ops".into(),
                from: "alerts@example.org".into(),
                smarthost: "smtp.example.org:587".into(),
                username: "alertmanager".into(),
                password_key: "smtp-password".into(),
            }
        )));
        assert!(receiver_error(base().receiver(
            "pd",
            Channel::PagerDuty {
                routing_key_key: "a/b".into(),
            }
        )));
        assert!(receiver_error(
            Routing::new("Receivers!", "slack").receiver("slack", slack())
        ));
    }
}
