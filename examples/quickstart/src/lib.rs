//! The quickstart: the smallest program that shows girder's whole flow.
//!
//! - stack `network` (env `dev`): an AWS provider with default tags, a VPC and two
//!   subnets planned with `cidrsubnet` over the availability zones;
//! - stack `service` (env `dev`): a security group inside that VPC and an ingress rule
//!   for the VPC's CIDR, both read from `network` (girder wires the outputs and the
//!   `tfe_outputs` reads), a Kubernetes app `web` and values for a Redis release, delivered
//!   by an Argo CD app of apps.
//!
//! AWS resources use the generated L1 types of girder-aws: arguments and attributes are
//! typed from the provider's schema, so no attribute name is typed from memory.

use std::collections::BTreeMap;

use girder_aws::aws;
use girder_core::prelude::*;
use girder_core::terraform::IntoResourceSpec;
use girder_core::{Result, Stack};
use girder_k8s::GitOps;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    HTTPGetAction, Namespace, PodSecurityContext, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, SeccompProfile, SecurityContext, Service, ServicePort, ServiceSpec,
    Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;

/// Terraform Cloud organization the example's workspaces live in.
pub const ORGANIZATION: &str = "girder-examples";

/// The environment the example describes.
pub const ENVIRONMENT: &str = "dev";

/// Add the quickstart's stacks to `app`.
pub fn build(app: &mut App) -> Result<()> {
    let (network, vpc) = network_stack()?;
    app.add_stack(network)?;
    app.add_stack(service_stack(&vpc)?)?;
    Ok(())
}

/// What the service stack needs from the network stack.
pub struct VpcOutputs {
    /// `aws_vpc.network_vpc.id`.
    pub id: Expr<String>,
    /// `aws_vpc.network_vpc.cidr_block`.
    pub cidr_block: Expr<String>,
}

/// Stack `network`, and the VPC attributes `service` reads from it.
pub fn network_stack() -> Result<(Stack, VpcOutputs)> {
    let mut stack = Stack::new("network", ENVIRONMENT, Backend::cloud(ORGANIZATION))?;
    stack.require_provider(aws::requirement())?;
    stack.add_aspect(DefaultTags::new([
        ("Project", "quickstart"),
        ("Environment", ENVIRONMENT),
        ("ManagedBy", "girder"),
    ]));
    let region: Expr<String> = stack.add_variable(
        "region",
        Variable::new(VarType::String)
            .default("eu-west-1")
            .description("AWS region of the network")
            .validation(
                |region| {
                    fns::can(fns::call::<Dynamic>(
                        "regex",
                        [Expr::lit("^[a-z]{2}-[a-z]+-[0-9]$").any(), region],
                    ))
                },
                "region must look like eu-west-1",
            ),
    )?;
    stack.add_provider(aws::Provider::new().region(region).into())?;

    let mut network = stack.scope("network")?;
    let zones = network.add(
        "zones",
        aws::DataAvailabilityZones::new().state("available"),
    )?;
    let vpc = network.child("vpc")?.add_default(
        aws::Vpc::new()
            .cidr_block("10.20.0.0/16")
            .enable_dns_support(true)
            .enable_dns_hostnames(true)
            .tags([("Name", "quickstart-dev")])
            .into_spec()
            .prevent_destroy(),
    )?;
    for (index, id) in ["private-a", "private-b"].into_iter().enumerate() {
        network.add(
            id,
            aws::Subnet::new(vpc.id())
                .cidr_block(fns::cidrsubnet(vpc.cidr_block(), 4, index))
                .availability_zone(fns::element(zones.names(), index))
                .map_public_ip_on_launch(false)
                .tags([("Name", format!("quickstart-dev-{id}"))]),
        )?;
    }
    stack.add_output("vpc_id", Output::new(&vpc.id()).description("The VPC id"))?;
    // Findings of checkov that this L1 example accepts; the reason is written next to the
    // block. girder_network::Vpc has all three (stacks/pixtools uses it).
    for (check, reason) in [
        (
            "CKV2_AWS_11",
            "the quickstart shows the L1 types; girder_network::Vpc adds flow logs",
        ),
        (
            "CKV2_AWS_12",
            "the quickstart shows the L1 types; girder_network::Vpc locks the default security group",
        ),
    ] {
        stack.acknowledge_check("network/vpc", check, reason)?;
    }
    stack.acknowledge_check(
        "network/zones",
        "CKV_AWS_394",
        "the subnets take the first two zones of the sorted list; a zone AWS adds later sorts after them",
    )?;
    Ok((
        stack,
        VpcOutputs {
            id: vpc.id(),
            cidr_block: vpc.cidr_block(),
        },
    ))
}

/// Stack `service`, inside the VPC of `network` (synthesize it in an app that also holds
/// stack `network`: girder wires the reads at synth).
pub fn service_stack(vpc: &VpcOutputs) -> Result<Stack> {
    let mut stack = Stack::new("service", ENVIRONMENT, Backend::cloud(ORGANIZATION))?;
    stack.require_provider(aws::requirement())?;
    stack.add_provider(aws::Provider::new().region("eu-west-1").into())?;

    let mut web = stack.scope("web")?;
    let sg = web.child("security-group")?.add_default(
        aws::SecurityGroup::new()
            .name("quickstart-web")
            .description("Web pods of the quickstart")
            .vpc_id(&vpc.id),
    )?;
    web.add(
        "ingress-http",
        aws::VpcSecurityGroupIngressRule::new("tcp", sg.id())
            .description("HTTP from inside the VPC")
            .cidr_ipv4(&vpc.cidr_block)
            .from_port(8080)
            .to_port(8080),
    )?;

    web.add_kube_object("web", &web_namespace())?;
    web.add_kube_object("web", &web_config())?;
    web.add_kube_object("web", &web_deployment())?;
    web.add_kube_object("web", &web_service())?;

    web.add_helm_release(
        HelmRelease::new(
            "cache",
            ChartRef::new(
                "oci://registry-1.docker.io/bitnamicharts",
                "redis",
                "23.1.1",
            ),
        )
        .namespace("web")
        .values(&json!({
            "architecture": "standalone",
            "auth": { "enabled": true, "existingSecret": "cache-auth" },
            "master": { "persistence": { "size": "1Gi" } },
        })),
    )?;
    stack.acknowledge_check(
        "web/security-group",
        "CKV2_AWS_5",
        "the group is for the web pods (security groups for pods); the cluster attaches it, not Terraform",
    )?;
    for (check, reason) in [
        (
            "CKV_K8S_43",
            "the example image is pinned by release tag; a real stack pins a digest (stacks/pixtools)",
        ),
        (
            "CKV_K8S_15",
            "pinned by release tag, pulled once per node; a real stack pins a digest (stacks/pixtools)",
        ),
        (
            "CKV_K8S_40",
            "runs as the unprivileged user of nginx-unprivileged (uid 101); runAsNonRoot is enforced",
        ),
    ] {
        stack.acknowledge_kube_check("Deployment", Some("web"), "web", check, reason)?;
    }
    // Argo CD delivers the manifests from Git: an app of apps under gitops/service-dev/.
    GitOps::new("https://github.com/girder-iac/girder", "main").argo_cd(&mut stack)?;
    Ok(stack)
}

fn labels() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_owned(), "web".to_owned()),
        (
            "app.kubernetes.io/part-of".to_owned(),
            "quickstart".to_owned(),
        ),
    ])
}

fn meta(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some("web".to_owned()),
        labels: Some(labels()),
        ..ObjectMeta::default()
    }
}

fn web_namespace() -> Namespace {
    Namespace {
        metadata: ObjectMeta {
            name: Some("web".to_owned()),
            labels: Some(BTreeMap::from([(
                "pod-security.kubernetes.io/enforce".to_owned(),
                "restricted".to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    }
}

fn web_config() -> ConfigMap {
    ConfigMap {
        metadata: meta("web-config"),
        data: Some(BTreeMap::from([(
            "default.conf".to_owned(),
            "server {\n  listen 8080;\n  location / { return 200 'ok'; }\n}\n".to_owned(),
        )])),
        ..ConfigMap::default()
    }
}

fn web_deployment() -> Deployment {
    let container = Container {
        name: "web".to_owned(),
        image: Some("nginxinc/nginx-unprivileged:1.27-alpine".to_owned()),
        ports: Some(vec![ContainerPort {
            name: Some("http".to_owned()),
            container_port: 8080,
            ..ContainerPort::default()
        }]),
        resources: Some(ResourceRequirements {
            requests: Some(BTreeMap::from([
                ("cpu".to_owned(), Quantity("50m".to_owned())),
                ("memory".to_owned(), Quantity("64Mi".to_owned())),
            ])),
            limits: Some(BTreeMap::from([
                ("cpu".to_owned(), Quantity("200m".to_owned())),
                ("memory".to_owned(), Quantity("128Mi".to_owned())),
            ])),
            ..ResourceRequirements::default()
        }),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".to_owned()]),
                ..Capabilities::default()
            }),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".to_owned(),
                ..SeccompProfile::default()
            }),
            ..SecurityContext::default()
        }),
        readiness_probe: Some(http_probe()),
        liveness_probe: Some(http_probe()),
        volume_mounts: Some(vec![
            VolumeMount {
                name: "config".to_owned(),
                mount_path: "/etc/nginx/conf.d".to_owned(),
                read_only: Some(true),
                ..VolumeMount::default()
            },
            VolumeMount {
                name: "tmp".to_owned(),
                mount_path: "/tmp".to_owned(),
                ..VolumeMount::default()
            },
        ]),
        ..Container::default()
    };
    Deployment {
        metadata: meta("web"),
        spec: Some(DeploymentSpec {
            replicas: Some(2),
            selector: LabelSelector {
                match_labels: Some(labels()),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels()),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    // nginx never calls the Kubernetes API.
                    automount_service_account_token: Some(false),
                    security_context: Some(PodSecurityContext {
                        run_as_non_root: Some(true),
                        ..PodSecurityContext::default()
                    }),
                    volumes: Some(vec![
                        Volume {
                            name: "config".to_owned(),
                            config_map: Some(ConfigMapVolumeSource {
                                name: "web-config".to_owned(),
                                ..ConfigMapVolumeSource::default()
                            }),
                            ..Volume::default()
                        },
                        Volume {
                            name: "tmp".to_owned(),
                            empty_dir: Some(EmptyDirVolumeSource::default()),
                            ..Volume::default()
                        },
                    ]),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

/// `GET /` on the `http` port (the config answers 200 `ok`).
fn http_probe() -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some("/".to_owned()),
            port: IntOrString::String("http".to_owned()),
            ..HTTPGetAction::default()
        }),
        ..Probe::default()
    }
}

fn web_service() -> Service {
    Service {
        metadata: meta("web"),
        spec: Some(ServiceSpec {
            selector: Some(labels()),
            ports: Some(vec![ServicePort {
                name: Some("http".to_owned()),
                port: 80,
                target_port: Some(IntOrString::String("http".to_owned())),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}
