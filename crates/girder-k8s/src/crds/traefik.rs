//! Traefik (`traefik.io/v1alpha1`), the ingress controller K3s ships: a `Middleware`
//! changes requests on their way through a router. An Ingress uses one through the
//! annotation [`middlewares_annotation`] names.

use serde::Serialize;

use super::{Extra, Object, Spec};

/// `Middleware`.
pub type Middleware = Object<MiddlewareSpec>;

/// The annotation that attaches Middlewares to the routers of an Ingress.
pub const MIDDLEWARES_ANNOTATION: &str = "traefik.ingress.kubernetes.io/router.middlewares";

/// The value of [`MIDDLEWARES_ANNOTATION`] for `middlewares` (namespace, name) in order:
/// `<namespace>-<name>@kubernetescrd`, comma separated.
pub fn middlewares_annotation<'a>(middlewares: impl IntoIterator<Item = &'a Middleware>) -> String {
    middlewares
        .into_iter()
        .map(|m| {
            format!(
                "{}-{}@kubernetescrd",
                m.metadata.namespace.as_deref().unwrap_or("default"),
                m.name()
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The spec of a Middleware: one kind of change each.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MiddlewareSpec {
    /// Limit the request rate per client.
    pub rate_limit: Option<RateLimit>,
    /// Other middlewares (`headers`, `ipAllowList`, `inFlightReq`).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for MiddlewareSpec {
    const API_VERSION: &'static str = "traefik.io/v1alpha1";
    const KIND: &'static str = "Middleware";
}

/// `rateLimit`: `average` requests per `period` per client, with bursts up to `burst`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// Requests per period.
    pub average: u32,
    /// Requests allowed at once above the average.
    pub burst: u32,
    /// The period (`1s`, `1m`); Traefik's default is a second.
    pub period: Option<String>,
    /// How a client is told apart.
    pub source_criterion: Option<SourceCriterion>,
}

impl RateLimit {
    /// `average` requests per second per client, bursts up to `burst`, the client being
    /// the address a load balancer in front appended to `X-Forwarded-For` (the last one;
    /// earlier entries are the client's own claim).
    pub fn per_second_behind_load_balancer(average: u32, burst: u32) -> Self {
        Self {
            average,
            burst,
            period: Some("1s".into()),
            source_criterion: Some(SourceCriterion {
                ip_strategy: Some(IpStrategy { depth: Some(1) }),
            }),
        }
    }
}

/// `sourceCriterion`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceCriterion {
    /// Tell clients apart by address.
    pub ip_strategy: Option<IpStrategy>,
}

/// `ipStrategy`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct IpStrategy {
    /// Which `X-Forwarded-For` entry, counted from the right, is the client.
    pub depth: Option<u32>,
}
