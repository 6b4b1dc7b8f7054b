//! How a workload is reached: its Service and the Ingress in front of it.

use std::collections::{BTreeMap, BTreeSet};

use girder_core::vocabulary::{Reason, ReasonError};
use girder_core::{Result, Scope};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::pod::Pods;
use crate::error::K8sError;
use crate::meta::object_meta;
use crate::service::{Ingress, Service, ServiceType};
use crate::validate;

/// The Service (with its Ingress) an exposable controller asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exposure {
    pub(crate) service: Option<Service>,
}

impl Exposure {
    /// Add the Service (named `name`, like the workload) and the Ingress; returns the
    /// Service's name.
    pub(crate) fn add(
        &self,
        pods: &Pods,
        scope: &mut Scope<'_>,
        at: &str,
        name: &str,
    ) -> Result<Option<String>> {
        let Some(service) = &self.service else {
            return Ok(None);
        };
        add_service(pods, scope, at, name, service, false)?;
        if let Some(ingress) = &service.ingress {
            add_ingress(pods, scope, at, name, ingress, service)?;
        }
        Ok(Some(name.to_owned()))
    }
}

pub(crate) fn add_service(
    pods: &Pods,
    scope: &mut Scope<'_>,
    at: &str,
    name: &str,
    service: &Service,
    for_stateful_set: bool,
) -> Result<()> {
    if service.ports.is_empty() {
        return Err(K8sError::ServiceWithoutPorts {
            service: format!("{}/{name}", pods.namespace),
        }
        .at(at));
    }
    let known: BTreeSet<&str> = pods.all_ports().map(|(n, _)| n).collect();
    for (port, target) in &service.ports {
        if *port == 0 {
            return Err(K8sError::ZeroServicePort {
                service: format!("{}/{name}", pods.namespace),
            }
            .at(at));
        }
        if !known.contains(target.as_str()) {
            return Err(K8sError::UnknownTargetPort {
                service: format!("{}/{name}", pods.namespace),
                target: target.clone(),
                workload: pods.labels.name.clone(),
                ports: known.iter().map(|&p| p.to_owned()).collect(),
            }
            .at(at));
        }
    }
    let ports = service
        .ports
        .iter()
        .map(|(port, target)| core::ServicePort {
            name: Some(target.clone()),
            port: i32::from(*port),
            target_port: Some(IntOrString::String(target.clone())),
            ..core::ServicePort::default()
        })
        .collect();
    let (service_type, cluster_ip) = match service.kind {
        ServiceType::ClusterIp => (None, None),
        ServiceType::Headless => (None, Some("None".to_owned())),
        ServiceType::LoadBalancer => (Some("LoadBalancer".to_owned()), None),
    };
    let object = core::Service {
        metadata: object_meta(
            Some(&pods.namespace),
            name,
            pods.labels.all(),
            service.annotations.clone(),
        ),
        spec: Some(core::ServiceSpec {
            type_: service_type,
            cluster_ip,
            selector: Some(pods.labels.selector()),
            ports: Some(ports),
            publish_not_ready_addresses: for_stateful_set.then_some(true),
            ..core::ServiceSpec::default()
        }),
        ..core::Service::default()
    };
    crate::meta::add_object(scope, &object)
}

fn add_ingress(
    pods: &Pods,
    scope: &mut Scope<'_>,
    at: &str,
    name: &str,
    ingress: &Ingress,
    service: &Service,
) -> Result<()> {
    let what = format!("Ingress {}/{name}", pods.namespace);
    if ingress.rules.is_empty() {
        return Err(K8sError::IngressWithoutPaths { ingress: what }.at(at));
    }
    let inbound = ingress
        .annotations
        .get("alb.ingress.kubernetes.io/inbound-cidrs");
    let mut restricted = inbound.is_some();
    if let Some(list) = inbound {
        let cidrs: Vec<&str> = list.split(',').map(str::trim).collect();
        if cidrs.iter().all(|c| c.is_empty()) {
            return Err(K8sError::EmptyAllowlist { ingress: what }.at(at));
        }
        for cidr in &cidrs {
            validate::cidr(at, &format!("{what} inbound CIDR"), cidr)?;
        }
        // An allowlist holding the whole internet restricts nothing.
        restricted = !cidrs.iter().any(|c| c.ends_with("/0"));
    }
    validate::dns_subdomain(at, &format!("{what} class"), &ingress.class)?;
    let tls_hosts = ingress.tls.iter().flat_map(|(hosts, _)| hosts.iter());
    for host in ingress
        .rules
        .iter()
        .filter_map(|(h, _, _)| h.as_ref())
        .chain(tls_hosts)
    {
        // A wildcard is allowed as the first label only.
        let name = host.strip_prefix("*.").unwrap_or(host);
        validate::dns_subdomain(at, &format!("{what} host"), name)?;
    }
    for (_, secret) in &ingress.tls {
        validate::dns_subdomain(at, &format!("{what} TLS Secret"), secret)?;
    }
    if ingress.internet_facing && !restricted {
        match ingress.open_to_internet.as_deref().map(Reason::new) {
            Some(Ok(_)) => {}
            Some(Err(problem @ ReasonError::ControlCharacter(_))) => {
                return Err(K8sError::OpenToInternetReason {
                    ingress: what,
                    problem,
                }
                .at(at));
            }
            _ => return Err(K8sError::OpenToInternet { ingress: what }.at(at)),
        }
    }
    let mut annotations = ingress.annotations.clone();
    if let Some(reason) = &ingress.open_to_internet {
        annotations.insert("girder.dev/open-to-internet".into(), reason.clone());
    }
    let mut rules: BTreeMap<Option<String>, Vec<net::HTTPIngressPath>> = BTreeMap::new();
    for (host, path, port) in &ingress.rules {
        if !service.ports.iter().any(|(p, _)| p == port) {
            return Err(K8sError::UnservedPort {
                ingress: what,
                path: path.clone(),
                port: *port,
                service: format!("{}/{name}", pods.namespace),
            }
            .at(at));
        }
        if !path.starts_with('/') {
            return Err(K8sError::RelativePath {
                ingress: what,
                path: path.clone(),
            }
            .at(at));
        }
        rules
            .entry(host.clone())
            .or_default()
            .push(net::HTTPIngressPath {
                path: Some(path.clone()),
                path_type: "Prefix".into(),
                backend: net::IngressBackend {
                    service: Some(net::IngressServiceBackend {
                        name: name.to_owned(),
                        port: Some(net::ServiceBackendPort {
                            number: Some(i32::from(*port)),
                            name: None,
                        }),
                    }),
                    resource: None,
                },
            });
    }
    let object = net::Ingress {
        metadata: object_meta(Some(&pods.namespace), name, pods.labels.all(), annotations),
        spec: Some(net::IngressSpec {
            ingress_class_name: Some(ingress.class.clone()),
            rules: Some(
                rules
                    .into_iter()
                    .map(|(host, paths)| net::IngressRule {
                        host,
                        http: Some(net::HTTPIngressRuleValue { paths }),
                    })
                    .collect(),
            ),
            tls: (!ingress.tls.is_empty()).then(|| {
                ingress
                    .tls
                    .iter()
                    .map(|(hosts, secret)| net::IngressTLS {
                        hosts: Some(hosts.clone()),
                        secret_name: Some(secret.clone()),
                    })
                    .collect()
            }),
            ..net::IngressSpec::default()
        }),
        ..net::Ingress::default()
    };
    crate::meta::add_object(scope, &object)
}
