#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! The Piksel platform stacks synthesized together, as CI and Terraform Cloud get them.

use girder_core::App;
use girder_core::assertions::Template;

fn assembly() -> girder_core::Assembly {
    let mut app = App::new();
    girder_stack_piksel::build(&mut app).unwrap();
    app.synth().unwrap()
}

#[test]
fn every_environment_has_an_infra_and_an_eks_workspace_and_eks_follows_infra() {
    let assembly = assembly();
    let manifest = assembly.manifest();
    let stacks = manifest["stacks"].as_array().unwrap();
    let ids: Vec<&str> = stacks.iter().map(|s| s["id"].as_str().unwrap()).collect();
    for env in ["dev", "staging", "prod"] {
        let infra = format!("piksel-infra-{env}");
        let eks = format!("piksel-eks-{env}");
        let at = |id: &str| ids.iter().position(|i| *i == id).unwrap();
        assert!(at(&infra) < at(&eks), "{ids:?}");
        let agents = format!("piksel-agents-{env}");
        assert!(
            at(&infra) < at(&agents) && at(&agents) < at(&eks),
            "{ids:?}"
        );
        let entry = &stacks[at(&eks)];
        assert_eq!(entry["depends_on"], serde_json::json!([infra, agents]));
        assert_eq!(entry["backend"]["type"], "cloud");
        assert_eq!(entry["backend"]["organization"], "piksel");
        assert_eq!(entry["backend"]["workspace"], eks);
    }
}

#[test]
fn the_cluster_reads_the_vpc_of_its_environment_through_terraform_cloud() {
    let assembly = assembly();
    for env in ["dev", "staging", "prod"] {
        let eks = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        let reads = eks.data_sources("tfe_outputs");
        let mut workspaces: Vec<&str> = reads
            .iter()
            .map(|(_, r)| r["workspace"].as_str().unwrap())
            .collect();
        workspaces.sort_unstable();
        assert_eq!(
            workspaces,
            [
                format!("piksel-agents-{env}"),
                format!("piksel-infra-{env}")
            ],
            "{env}"
        );
        let cluster = eks.resource("aws_eks_cluster", "cluster_eks_cluster");
        let subnets = cluster["vpc_config"][0]["subnet_ids"].to_string();
        assert!(subnets.contains("data.tfe_outputs"), "{env}: {subnets}");
        // The nodes reach the ODC index: the infra's database group admits the cluster's
        // group on 5432, the rule written in this stack.
        let rules = eks.resources("aws_vpc_security_group_ingress_rule");
        let (_, rule) = rules
            .iter()
            .find(|(name, _)| name.starts_with("database_access"))
            .unwrap();
        assert_eq!(rule["from_port"], 5432);
        assert!(
            rule["security_group_id"]
                .as_str()
                .unwrap()
                .contains("data.tfe_outputs")
        );
        // Three zones, private subnets only.
        assert_eq!(
            cluster["vpc_config"][0]["subnet_ids"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        assert_eq!(cluster["vpc_config"][0]["endpoint_private_access"], true);
    }
}

#[test]
fn production_is_sized_and_protected_as_production() {
    let assembly = assembly();
    let prod = Template::from_assembly(&assembly, "piksel-infra-prod").unwrap();
    let dev = Template::from_assembly(&assembly, "piksel-infra-dev").unwrap();
    let db = |t: &Template| t.resources("aws_db_instance")[0].1.clone();
    assert_eq!(db(&prod)["multi_az"], true);
    assert_eq!(db(&prod)["deletion_protection"], true);
    assert_eq!(db(&prod)["backup_retention_period"], 14);
    assert_eq!(db(&dev)["multi_az"], false);
    assert_eq!(db(&dev)["deletion_protection"], false);
    assert_eq!(
        db(&prod)["engine_version"]
            .as_str()
            .unwrap()
            .split('.')
            .next(),
        Some("16")
    );
    // A NAT gateway per zone in prod, one elsewhere.
    assert_eq!(prod.resources("aws_nat_gateway").len(), 3);
    assert_eq!(dev.resources("aws_nat_gateway").len(), 1);
    let eks = Template::from_assembly(&assembly, "piksel-eks-prod").unwrap();
    let groups = eks.resources("aws_eks_node_group");
    let names: Vec<&str> = groups
        .iter()
        .map(|(_, g)| g["node_group_name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "system",
            "workloads-a",
            "workloads-b",
            "workloads-c",
            "dask"
        ]
    );
    // The workloads pool holds EBS volumes (the hub's database, the homes): a group per
    // zone, one subnet each, a node in each in prod (review 6's M2).
    for zone in ["a", "b", "c"] {
        let group = &eks.resource(
            "aws_eks_node_group",
            &format!("nodes_workloads_{zone}_group"),
        );
        assert_eq!(group["subnet_ids"].as_array().unwrap().len(), 1, "{zone}");
        assert_eq!(group["scaling_config"][0]["min_size"], 1, "{zone}");
        assert_eq!(
            group["labels"][girder_stack_piksel::POOL_LABEL],
            "workloads"
        );
    }
    let dask = groups
        .iter()
        .find(|(_, g)| g["capacity_type"] == "SPOT")
        .unwrap()
        .1;
    assert_eq!(dask["scaling_config"][0]["min_size"], 0);
    assert_eq!(dask["taint"][0]["key"], girder_stack_piksel::DASK_TAINT);
    assert_eq!(dask["taint"][0]["effect"], "NO_SCHEDULE");
    assert_eq!(dask["labels"][girder_stack_piksel::POOL_LABEL], "dask");
}

#[test]
fn registries_scan_and_keep_tags_and_notebooks_are_versioned() {
    let assembly = assembly();
    for env in ["dev", "staging", "prod"] {
        let infra = Template::from_assembly(&assembly, &format!("piksel-infra-{env}")).unwrap();
        let repos = infra.resources("aws_ecr_repository");
        let names: Vec<&str> = repos
            .iter()
            .map(|(_, r)| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, girder_stack_piksel::REPOSITORIES);
        // Release tags never expire; only CI's builds are counted.
        for (_, lifecycle) in infra.resources("aws_ecr_lifecycle_policy") {
            let policy: serde_json::Value =
                serde_json::from_str(lifecycle["policy"].as_str().unwrap()).unwrap();
            assert_eq!(
                policy["rules"][1]["selection"]["tagPrefixList"],
                serde_json::json!([girder_stack_piksel::BUILD_TAG_PREFIX])
            );
        }
        for (_, repo) in repos {
            assert_eq!(repo["image_tag_mutability"], "IMMUTABLE");
            assert_eq!(
                repo["image_scanning_configuration"][0]["scan_on_push"],
                true
            );
        }
        let versioning = infra.resources("aws_s3_bucket_versioning");
        assert!(
            versioning
                .iter()
                .any(|(name, _)| name.contains("notebooks")),
            "{env}"
        );
        let zone = infra.resources("aws_route53_zone");
        assert_eq!(zone[0].1["name"], format!("{env}.piksel.internal"));
    }
}

#[test]
fn each_environment_bootstraps_its_workspaces_roles_and_checks() {
    let assembly = assembly();
    for (env, account, auto_apply) in [
        ("dev", "333333333333", true),
        ("staging", "444444444444", false),
        ("prod", "555555555555", false),
    ] {
        let t = Template::from_assembly(&assembly, &format!("piksel-bootstrap-{env}")).unwrap();
        // The two workspaces are named after the stacks they run, so girder's cross-stack
        // reads find them; dev alone applies without a person.
        let workspaces = t.resources("tfe_workspace");
        let mut names: Vec<String> = workspaces
            .iter()
            .map(|(_, w)| w["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                format!("piksel-agents-{env}"),
                format!("piksel-eks-{env}"),
                format!("piksel-infra-{env}")
            ]
        );
        // The agents' workspace only keeps the state of a stack applied by hand: no
        // repository, no run (review 3's M2).
        let agents = t.resource("tfe_workspace", "agents_workspace");
        assert!(agents.get("vcs_repo").is_none());
        assert_eq!(
            t.resource("tfe_workspace_settings", "agents_workspace_settings")["execution_mode"],
            "local"
        );
        let workspaces: Vec<_> = workspaces
            .into_iter()
            .filter(|(_, w)| w.get("vcs_repo").is_some())
            .collect();
        for (_, w) in &workspaces {
            assert_eq!(w["auto_apply"], auto_apply, "{env}");
            let name = w["name"].as_str().unwrap();
            // The repositories hold girder's `out/`, which Flux reads too.
            assert_eq!(w["working_directory"], format!("out/terraform/{name}"));
        }
        // The infra's state is read by the EKS layer only; the EKS layer runs after it.
        for (_, settings) in t.resources("tfe_workspace_settings") {
            assert_eq!(settings["global_remote_state"], false);
        }
        t.resource_count_is("tfe_run_trigger", 1);
        // The repositories are read through Terraform Cloud's GitHub App: no OAuth
        // token id to fill in.
        for (_, workspace) in &workspaces {
            let repo = &workspace["vcs_repo"][0];
            assert!(repo.get("oauth_token_id").is_none(), "{repo}");
            assert_eq!(
                repo["github_app_installation_id"],
                "${data.tfe_github_app_installation.github.id}"
            );
        }
        // No static key: each workspace's runs assume a plan and an apply role of this
        // environment's account, pinned to the workspace and phase.
        t.resource_count_is("aws_iam_role", 4);
        for (_, role) in t.resources("aws_iam_role") {
            let trust = role["assume_role_policy"].to_string();
            assert!(trust.contains("run_phase:"), "{trust}");
            assert!(trust.contains(&format!("project:piksel-{env}")), "{trust}");
        }
        let variables: Vec<String> = t
            .resources("tfe_variable")
            .iter()
            .map(|(_, v)| v["key"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            variables
                .iter()
                .filter(|k| *k == "TFC_AWS_PROVIDER_AUTH")
                .count(),
            2,
            "{variables:?}"
        );
        // An apply manages its stack's services and roles; never everything, never a
        // user or an account-wide IAM setting.
        for (name, policy) in t.resources("aws_iam_role_policy") {
            let text = policy["policy"].as_str().unwrap();
            assert!(!text.contains("\"Action\" = \"*\""), "{name}: {text}");
            assert!(!text.contains("iam:*"), "{name}");
            assert!(!text.contains("iam:CreateUser"), "{name}");
            // No run, plan or apply, reads the agents' token.
            assert!(text.contains("NotTheAgentToken"), "{name}");
            if name.ends_with("_apply_apply") {
                assert!(text.contains("aws:RequestedRegion"), "{name}");
            }
        }
        // Runs waiting for a person have approvers: a team with write access to both.
        let accesses = t.resources("tfe_team_access");
        if auto_apply {
            assert!(accesses.is_empty(), "{env}");
        } else {
            assert_eq!(accesses.len(), 2, "{env}");
            // Approve runs and read outputs; no variable edits, no locking.
            for (_, access) in &accesses {
                assert!(access.get("access").is_none(), "{access}");
                let permissions = &access["permissions"][0];
                assert_eq!(permissions["runs"], "apply");
                assert_eq!(permissions["variables"], "read");
                assert_eq!(permissions["state_versions"], "read-outputs");
                assert_eq!(permissions["workspace_locking"], false);
            }
            // Its members are the identity provider's group.
            let team = t.resource("tfe_team", "approvers");
            assert_eq!(team["sso_team_id"], format!("piksel-{env}-approvers"));
            assert_eq!(
                t.resources("tfe_team")[0].1["name"],
                format!("piksel-{env}-approvers")
            );
        }
        // Policy checks on both workspaces' plans.
        t.resource_count_is("tfe_workspace_policy_set", 2);
        // The provider is pinned to the environment's account.
        let provider = &t.terraform()["provider"]["aws"];
        assert!(provider.to_string().contains(account), "{provider}");
    }
    // Infra follows its bootstrap in the manifest.
    let manifest = assembly.manifest();
    let infra = manifest["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "piksel-infra-prod")
        .unwrap();
    assert_eq!(
        infra["depends_on"],
        serde_json::json!(["piksel-bootstrap-prod"])
    );
}

#[test]
fn ci_pushes_images_to_the_two_registries_only_from_main_and_release_tags() {
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-infra-staging").unwrap();
    let role = t.resource("aws_iam_role", "ci_ecr_push");
    let trust_text = role["assume_role_policy"].to_string();
    for subject in [
        "repo:piksel/piksel-core:ref:refs/heads/main",
        "repo:piksel/piksel-core:ref:refs/tags/v*",
        "repo:piksel/piksel-jupyter:ref:refs/heads/main",
        "repo:piksel/piksel-jupyter:ref:refs/tags/v*",
    ] {
        assert!(trust_text.contains(subject), "{subject}: {trust_text}");
    }
    let policies = t.resources("aws_iam_role_policy");
    let (_, push) = policies
        .iter()
        .find(|(name, _)| name.starts_with("ci_ecr_push"))
        .unwrap();
    let text = push["policy"].as_str().unwrap();
    for action in girder_storage::PUSH_ACTIONS {
        assert!(text.contains(action), "{action}");
    }
    for never in [
        "ecr:DeleteRepository",
        "ecr:BatchDeleteImage",
        "ecr:SetRepositoryPolicy",
        "ecr:*",
    ] {
        assert!(!text.contains(never), "{never}");
    }
    assert!(text.contains("aws_ecr_repository.registry_piksel_core.arn"));
    assert!(text.contains("aws_ecr_repository.registry_piksel_jupyter.arn"));
}

#[test]
fn developers_reach_their_instance_by_ssh_over_session_manager_only() {
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-infra-dev").unwrap();
    let instance = t.resource("aws_instance", "developer_access_instance");
    assert_eq!(instance["associate_public_ip_address"], false);
    assert_eq!(instance["metadata_options"][0]["http_tokens"], "required");
    assert_eq!(
        instance["metadata_options"][0]["http_put_response_hop_limit"],
        1
    );
    assert_eq!(instance["root_block_device"][0]["encrypted"], true);
    assert!(
        instance["subnet_id"]
            .to_string()
            .contains("network_vpc_private")
    );
    // No port is open to anyone: the group has no ingress rule.
    let ingress = t.resources("aws_vpc_security_group_ingress_rule");
    assert!(
        ingress
            .iter()
            .all(|(name, _)| !name.starts_with("developer_access")),
        "{ingress:?}"
    );
    // Developers may start SSH sessions (AWS-StartSSHSession, not a shell document) to
    // this instance, from the allowlist, and nothing else.
    let policy = t.resource("aws_iam_policy", "developer_access_developer_policy")["policy"]
        .as_str()
        .unwrap();
    assert!(policy.contains("document/AWS-StartSSHSession"), "{policy}");
    assert!(!policy.contains("AWS-StartInteractiveCommand"));
    assert!(!policy.contains("SendCommand"));
    assert!(
        policy.contains(r#""IpAddress" = {"aws:SourceIp" = "198.51.100.0/24"}"#),
        "{policy}"
    );
    // The session ARN's policy variable reaches IAM as written, not as a Terraform
    // template.
    assert!(policy.contains("session/$${aws:userid}-*"), "{policy}");
}

#[test]
fn terraform_installs_flux_which_syncs_the_environments_clusters_directory() {
    let assembly = assembly();
    for (env, account) in [("dev", "333333333333"), ("prod", "555555555555")] {
        let t = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        let controllers = t.resource("helm_release", "flux_controllers");
        assert_eq!(controllers["chart"], "flux2");
        assert_eq!(controllers["namespace"], "flux-system");
        assert!(controllers["version"].as_str().unwrap().starts_with("2."));
        // Flux's pods need nodes, DNS, and the apply role's access to the cluster.
        let waits = controllers["depends_on"].to_string();
        for needed in [
            "aws_eks_node_group",
            "aws_eks_addon.addons_coredns",
            "aws_eks_access_entry.access_terraform_cloud",
        ] {
            assert!(waits.contains(needed), "{env}: {needed} not in {waits}");
        }
        let sync = t.resource("helm_release", "flux_sync");
        // flux2-sync names its GitRepository after the release: the name every app
        // Kustomization and the image automation take as their source.
        assert_eq!(sync["name"], "flux-system");
        for object in t.kube_objects() {
            if let Some(source) = object["spec"]["sourceRef"].as_object()
                && source["kind"] == "GitRepository"
            {
                assert_eq!(source["name"], sync["name"], "{object}");
            }
        }
        // After the controllers and the ConfigMap every app substitutes from: a first
        // sync before it would fail and wait out its interval.
        assert_eq!(
            sync["depends_on"],
            serde_json::json!([
                "helm_release.flux_controllers",
                "kubernetes_config_map_v1.gitops_terraform_outputs"
            ])
        );
        // The kubernetes provider signs in as the helm provider does.
        assert_eq!(
            t.terraform()["provider"]["kubernetes"]["exec"][0],
            t.terraform()["provider"]["helm"]["kubernetes"]["exec"]
        );
        let values: serde_json::Value =
            serde_json::from_str(sync["values"][0].as_str().unwrap()).unwrap();
        // girder's Flux layout of the stack, committed at `out/` of the repository.
        assert_eq!(
            values["kustomization"]["spec"]["path"],
            format!("./out/gitops/piksel-eks-{env}/clusters/{env}")
        );
        assert_eq!(values["kustomization"]["spec"]["prune"], true);
        assert_eq!(
            values["gitRepository"]["spec"]["url"],
            "https://github.com/piksel/piksel-kubernetes"
        );
        // No credential in the plan: the repository's secret is referenced by name.
        assert!(values["gitRepository"]["spec"]["secretRef"]["name"].is_string());
        // The apply role that runs this (the bootstrap's) administers the cluster.
        let entries = t.resources("aws_eks_access_entry");
        assert!(
            entries.iter().any(|(_, e)| e["principal_arn"]
                == format!("arn:aws:iam::{account}:role/tfc-piksel-eks-{env}-apply")),
            "{entries:?}"
        );
        let provider = &t.terraform()["provider"]["helm"];
        let text = provider.to_string();
        assert!(
            text.contains("aws_eks_cluster.cluster_eks_cluster.endpoint"),
            "{text}"
        );
        // Credentials per phase from the phase's own role (the exec plugin), never a
        // token read once at plan.
        assert_eq!(provider["kubernetes"]["exec"]["command"], "aws");
        assert_eq!(
            provider["kubernetes"]["exec"]["args"],
            serde_json::json!([
                "eks",
                "get-token",
                "--cluster-name",
                "${aws_eks_cluster.cluster_eks_cluster.name}",
                "--region",
                "us-west-2",
                "--output",
                "json"
            ])
        );
        assert!(provider["kubernetes"].get("token").is_none(), "{text}");
        assert!(t.terraform()["data"].get("aws_eks_cluster_auth").is_none());
    }
    // The bootstrap names the same role.
    let bootstrap = Template::from_assembly(&assembly, "piksel-bootstrap-dev").unwrap();
    assert!(
        bootstrap
            .resources("aws_iam_role")
            .iter()
            .any(|(_, r)| r["name"] == "tfc-piksel-eks-dev-apply")
    );
}

/// The IAM actions creating a resource of Terraform type `rtype` needs, by its service:
/// what an apply role must allow for the stack to apply at all.
fn create_actions(rtype: &str) -> Vec<&'static str> {
    let exact = match rtype {
        "aws_iam_role" => vec!["iam:CreateRole", "iam:GetRole", "iam:PassRole"],
        "aws_iam_role_policy" => vec!["iam:PutRolePolicy"],
        "aws_iam_role_policy_attachment" => vec!["iam:AttachRolePolicy"],
        "aws_iam_instance_profile" => {
            vec!["iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile"]
        }
        "aws_iam_policy" => vec!["iam:CreatePolicy"],
        "aws_iam_openid_connect_provider" => vec!["iam:CreateOpenIDConnectProvider"],
        // The narrowed services: the calls their creates make.
        "aws_kms_key" => vec![
            "kms:CreateKey",
            "kms:PutKeyPolicy",
            "kms:EnableKeyRotation",
            "kms:DescribeKey",
            "kms:TagResource",
        ],
        "aws_kms_alias" => vec!["kms:CreateAlias"],
        "aws_cloudtrail" => vec![
            "cloudtrail:CreateTrail",
            "cloudtrail:PutEventSelectors",
            "cloudtrail:StartLogging",
            "cloudtrail:GetTrailStatus",
        ],
        "aws_backup_vault" => vec![
            "backup:CreateBackupVault",
            "backup-storage:MountCapsule",
            "kms:CreateGrant",
            "kms:GenerateDataKey",
        ],
        "aws_backup_vault_lock_configuration" => vec!["backup:PutBackupVaultLockConfiguration"],
        "aws_backup_plan" => vec!["backup:CreateBackupPlan", "backup:GetBackupPlan"],
        "aws_backup_selection" => vec!["backup:CreateBackupSelection", "iam:PassRole"],
        "aws_cloudwatch_event_rule" => vec!["events:PutRule", "events:DescribeRule"],
        "aws_cloudwatch_event_target" => vec!["events:PutTargets"],
        "aws_launch_template" => vec!["ec2:CreateLaunchTemplate", "ec2:DescribeLaunchTemplates"],
        "aws_security_group" => vec!["ec2:CreateSecurityGroup", "ec2:DescribeSecurityGroups"],
        "aws_vpc_security_group_ingress_rule" => vec!["ec2:AuthorizeSecurityGroupIngress"],
        "aws_vpc_security_group_egress_rule" => vec!["ec2:AuthorizeSecurityGroupEgress"],
        "aws_eks_node_group" => vec!["eks:CreateNodegroup", "ec2:RunInstances"],
        _ => vec![],
    };
    if !exact.is_empty() {
        return exact;
    }
    let service = |prefix: &str, action: &'static str| rtype.starts_with(prefix).then_some(action);
    [
        service("aws_eks_", "eks:CreateCluster"),
        service("aws_db_", "rds:CreateDBInstance"),
        service("aws_ecs_", "ecs:CreateService"),
        service("aws_s3_", "s3:PutBucketPolicy"),
        service("aws_ecr_", "ecr:CreateRepository"),
        service("aws_route53_", "route53:CreateHostedZone"),
        service("aws_cloudwatch_log_", "logs:CreateLogGroup"),
        service("aws_cloudwatch_metric_alarm", "cloudwatch:PutMetricAlarm"),
        service("aws_ssm_", "ssm:PutParameter"),
        service("aws_secretsmanager_", "secretsmanager:CreateSecret"),
        service("aws_vpc", "ec2:CreateVpc"),
        service("aws_subnet", "ec2:CreateSubnet"),
        service("aws_route", "ec2:CreateRoute"),
        service("aws_nat_gateway", "ec2:CreateNatGateway"),
        service("aws_eip", "ec2:AllocateAddress"),
        service("aws_internet_gateway", "ec2:CreateInternetGateway"),
        service(
            "aws_default_security_group",
            "ec2:RevokeSecurityGroupIngress",
        ),
        service("aws_flow_log", "ec2:CreateFlowLogs"),
        service("aws_instance", "ec2:RunInstances"),
        service("aws_sns_", "sns:CreateTopic"),
        service("aws_accessanalyzer_", "access-analyzer:CreateAnalyzer"),
        service("aws_cloudfront_", "cloudfront:CreateDistribution"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The IAM actions updating (tags included) and deleting a resource of IAM type `rtype`
/// needs (review 2's m-c: a change of `default_tags` or of the OIDC provider's
/// thumbprints).
fn update_and_delete_actions(rtype: &str) -> Vec<&'static str> {
    match rtype {
        "aws_iam_role" => vec![
            "iam:UpdateRole",
            "iam:UpdateAssumeRolePolicy",
            "iam:TagRole",
            "iam:UntagRole",
            "iam:DeleteRole",
        ],
        "aws_iam_role_policy" => vec!["iam:DeleteRolePolicy"],
        "aws_iam_role_policy_attachment" => vec!["iam:DetachRolePolicy"],
        "aws_iam_instance_profile" => vec![
            "iam:TagInstanceProfile",
            "iam:UntagInstanceProfile",
            "iam:RemoveRoleFromInstanceProfile",
            "iam:DeleteInstanceProfile",
        ],
        "aws_iam_policy" => vec![
            "iam:CreatePolicyVersion",
            "iam:DeletePolicyVersion",
            "iam:TagPolicy",
            "iam:UntagPolicy",
            "iam:DeletePolicy",
        ],
        "aws_iam_openid_connect_provider" => vec![
            "iam:UpdateOpenIDConnectProviderThumbprint",
            "iam:TagOpenIDConnectProvider",
            "iam:UntagOpenIDConnectProvider",
            "iam:DeleteOpenIDConnectProvider",
        ],
        _ => vec![],
    }
}

/// The actions the Allow statements of policy `text` (JSON) name.
fn allowed_patterns(text: &str) -> Vec<String> {
    let document: serde_json::Value = serde_json::from_str(text).unwrap();
    document["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .flat_map(|s| match &s["Action"] {
            serde_json::Value::String(one) => vec![one.clone()],
            serde_json::Value::Array(many) => many
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// Whether one of `patterns` (IAM actions, `*` a run of characters) names `action`.
fn names(patterns: &[String], action: &str) -> bool {
    patterns.iter().any(|p| match p.split_once('*') {
        Some((prefix, "")) => action.starts_with(prefix),
        Some(_) => panic!("unexpected pattern {p}"),
        None => p == action,
    })
}

/// Each stack's apply policy (the JSON text) in `env`, with the stack's id.
fn apply_policies(assembly: &girder_core::Assembly, env: &str) -> Vec<(&'static str, String)> {
    let bootstrap = Template::from_assembly(assembly, &format!("piksel-bootstrap-{env}")).unwrap();
    [("piksel-infra", "infra"), ("piksel-eks", "eks")]
        .into_iter()
        .map(|(stack, id)| {
            (
                stack,
                bootstrap.resource("aws_iam_role_policy", &format!("{id}_aws_apply_apply"))
                    ["policy"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect()
}

#[test]
fn each_workspaces_apply_role_may_create_every_resource_its_stack_declares() {
    let assembly = assembly();
    for env in ["dev", "prod"] {
        for (stack, policy) in apply_policies(&assembly, env) {
            let role = format!("tfc-{stack}-{env}-apply");
            let allowed = allowed_patterns(&policy);
            let t = Template::from_assembly(&assembly, &format!("{stack}-{env}")).unwrap();
            let resources = t.terraform()["resource"].as_object().unwrap();
            for rtype in resources.keys() {
                if rtype.starts_with("helm_") || rtype.starts_with("kubernetes_") {
                    continue; // the cluster's API, through its access entry
                }
                if rtype.starts_with("random_") {
                    continue; // computed by Terraform, no API
                }
                let needed = create_actions(rtype);
                assert!(!needed.is_empty(), "{stack}: no actions known for {rtype}");
                for action in needed {
                    assert!(
                        names(&allowed, action),
                        "{stack}-{env}: {rtype} needs {action}, which {role} lacks"
                    );
                }
            }
        }
    }
}

#[test]
fn each_workspaces_apply_role_may_update_and_delete_the_iam_resources_its_stack_declares() {
    let assembly = assembly();
    for env in ["dev", "prod"] {
        for (stack, policy) in apply_policies(&assembly, env) {
            let allowed = allowed_patterns(&policy);
            let t = Template::from_assembly(&assembly, &format!("{stack}-{env}")).unwrap();
            for rtype in t.terraform()["resource"].as_object().unwrap().keys() {
                for action in update_and_delete_actions(rtype) {
                    assert!(
                        names(&allowed, action),
                        "{stack}-{env}: {rtype} needs {action} to change"
                    );
                }
            }
        }
    }
}

#[test]
fn the_eks_apply_role_manages_no_ssm_and_only_the_ec2_resources_its_stack_makes() {
    // Review 2's m-e: `ssm:*` and `ec2:*` on `*` let the EKS workspace run commands on
    // the developer instance and change the infra's VPC.
    let assembly = assembly();
    for env in ["dev", "prod"] {
        let policies = apply_policies(&assembly, env);
        let (_, eks) = policies.iter().find(|(s, _)| *s == "piksel-eks").unwrap();
        let allowed = allowed_patterns(eks);
        for never in [
            "ssm:SendCommand",
            "ssm:StartSession",
            "ssm:GetParameter",
            "ec2:CreateVpc",
            "ec2:DeleteSubnet",
            "ec2:CreateRoute",
            "ec2:ModifyInstanceAttribute",
            "ec2:TerminateInstances",
            "ec2:DeleteVpcEndpoints",
        ] {
            assert!(!names(&allowed, never), "{env}: the EKS apply may {never}");
        }
        assert!(
            !allowed.iter().any(|a| a == "ec2:*" || a == "ssm:*"),
            "{env}"
        );
        // It launches instances only from the stack's launch templates.
        let document: serde_json::Value = serde_json::from_str(eks).unwrap();
        let launch = document["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Action"] == "ec2:RunInstances")
            .unwrap();
        assert!(
            launch["Condition"]["ArnLike"]["ec2:LaunchTemplate"]
                .as_str()
                .unwrap()
                .ends_with(":launch-template/*")
        );
        // The infra apply no longer has the audit services whole.
        let (_, infra) = policies.iter().find(|(s, _)| *s == "piksel-infra").unwrap();
        let infra = allowed_patterns(infra);
        for whole in ["cloudtrail:*", "backup:*", "kms:*", "backup-storage:*"] {
            assert!(
                !infra.iter().any(|a| a == whole),
                "{env}: infra has {whole}"
            );
        }
    }
}

#[test]
fn each_account_is_audited_backed_up_and_prod_serves_the_website() {
    let assembly = assembly();
    for (env, daily, website) in [
        ("dev", 7, false),
        ("staging", 14, false),
        ("prod", 35, true),
    ] {
        let t = Template::from_assembly(&assembly, &format!("piksel-infra-{env}")).unwrap();
        let trail = t.resources("aws_cloudtrail");
        assert_eq!(trail.len(), 1, "{env}");
        assert_eq!(trail[0].1["is_multi_region_trail"], true);
        assert_eq!(trail[0].1["enable_log_file_validation"], true);
        // The IAM and security-group alarms notify the environment's security topic.
        let alarms = t.resources("aws_cloudwatch_metric_alarm");
        assert!(alarms.len() >= 7, "{env}: {}", alarms.len());
        for (name, alarm) in &alarms {
            assert!(
                alarm["alarm_actions"]
                    .to_string()
                    .contains("aws_sns_topic.security_alerts"),
                "{env}: {name}"
            );
        }
        t.resource_count_is("aws_accessanalyzer_analyzer", 1);
        // The database nightly, the cluster's volumes by the CSI driver's tag.
        let plan = t.resources("aws_backup_plan");
        let rules = plan[0].1["rule"].as_array().unwrap();
        assert_eq!(rules[0]["lifecycle"][0]["delete_after"], daily, "{env}");
        let selections = t
            .resources("aws_backup_selection")
            .iter()
            .map(|(_, s)| s.to_string())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            selections.contains(&format!(":db:piksel-{env}-odc")),
            "{env}: {selections}"
        );
        assert!(selections.contains("ebs.csi.aws.com/cluster"), "{env}");
        // One website, in production, deployed from piksel-website's main.
        assert_eq!(
            !t.resources("aws_cloudfront_distribution").is_empty(),
            website,
            "{env}"
        );
        if website {
            let deployer = t
                .resources("aws_iam_role")
                .into_iter()
                .find(|(_, r)| r["name"] == "piksel-prod-website-deploy")
                .unwrap()
                .1;
            assert!(
                deployer["assume_role_policy"]
                    .to_string()
                    .contains("repo:piksel/piksel-website:ref:refs/heads/main")
            );
        }
    }
}

#[test]
fn every_role_an_apply_makes_is_bounded_and_the_apply_may_make_no_other() {
    let assembly = assembly();
    for (env, account) in [("dev", "333333333333"), ("prod", "555555555555")] {
        let boundary = format!("arn:aws:iam::{account}:policy/piksel-{env}-boundary");
        for stack in ["piksel-infra", "piksel-eks"] {
            let t = Template::from_assembly(&assembly, &format!("{stack}-{env}")).unwrap();
            for (name, role) in t.resources("aws_iam_role") {
                assert_eq!(
                    role["permissions_boundary"],
                    boundary.as_str(),
                    "{stack}: {name}"
                );
            }
        }
        let bootstrap =
            Template::from_assembly(&assembly, &format!("piksel-bootstrap-{env}")).unwrap();
        let ceiling = bootstrap.resource("aws_iam_policy", "boundary");
        assert_eq!(ceiling["name"], format!("piksel-{env}-boundary"));
        let text = ceiling["policy"].as_str().unwrap();
        for denied in [
            "iam:CreateUser",
            "iam:CreateAccessKey",
            "iam:DeleteRolePermissionsBoundary",
        ] {
            assert!(text.contains(denied), "{denied}");
        }
        // The apply roles make roles only with the boundary.
        for id in ["infra", "eks"] {
            let apply = bootstrap.resource("aws_iam_role_policy", &format!("{id}_aws_apply_apply"))
                ["policy"]
                .as_str()
                .unwrap();
            let document: serde_json::Value = serde_json::from_str(apply).unwrap();
            let statements = document["Statement"].as_array().unwrap();
            let make = statements
                .iter()
                .find(|s| s["Sid"] == "MakeRolesUnderTheBoundary")
                .unwrap();
            assert_eq!(
                make["Condition"]["StringEquals"]["iam:PermissionsBoundary"],
                boundary.as_str(),
                "{id}"
            );
            assert!(
                statements
                    .iter()
                    .any(|s| s["Sid"] == "NeverUnbound" && s["Effect"] == "Deny")
            );
            // No other statement lets it make a role.
            assert!(
                statements
                    .iter()
                    .filter(|s| s["Sid"] != "MakeRolesUnderTheBoundary")
                    .all(|s| !s["Action"].to_string().contains("iam:CreateRole")),
                "{id}"
            );
        }
    }
}

/// Whether `statement` (a policy statement's JSON) denies `action` on `resource`
/// unconditionally; a `Resource` ending in `*` matches by prefix.
fn denies(statement: &serde_json::Value, action: &str, resource: &str) -> bool {
    let listed = |field: &serde_json::Value| -> Vec<String> {
        match field {
            serde_json::Value::String(one) => vec![one.clone()],
            serde_json::Value::Array(many) => many
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    statement["Effect"] == "Deny"
        && statement.get("Condition").is_none()
        && listed(&statement["Action"]).iter().any(|a| a == action)
        && listed(&statement["Resource"])
            .iter()
            .any(|r| match r.strip_suffix('*') {
                Some(prefix) => resource.starts_with(prefix),
                None => r == resource,
            })
}

#[test]
fn an_apply_role_cannot_raise_its_own_rights_or_rewrite_the_boundary() {
    // Review 2's N2: the apply roles are not bounded themselves (they make the
    // boundary), so their own policy must deny the one-call escalations.
    let assembly = assembly();
    for (env, account) in [("dev", "333333333333"), ("prod", "555555555555")] {
        let boundary = format!("arn:aws:iam::{account}:policy/piksel-{env}-boundary");
        let bootstrap =
            Template::from_assembly(&assembly, &format!("piksel-bootstrap-{env}")).unwrap();
        for id in ["infra", "eks"] {
            let apply = bootstrap.resource("aws_iam_role_policy", &format!("{id}_aws_apply_apply"))
                ["policy"]
                .as_str()
                .unwrap();
            let document: serde_json::Value = serde_json::from_str(apply).unwrap();
            let statements = document["Statement"].as_array().unwrap();
            let denied = |action: &str, resource: &str| {
                statements.iter().any(|s| denies(s, action, resource))
            };
            for stack in ["infra", "eks"] {
                for phase in ["apply", "plan"] {
                    let role =
                        format!("arn:aws:iam::{account}:role/tfc-piksel-{stack}-{env}-{phase}");
                    for action in [
                        "iam:PutRolePolicy",
                        "iam:AttachRolePolicy",
                        "iam:DeleteRolePolicy",
                        "iam:UpdateAssumeRolePolicy",
                        "iam:PutRolePermissionsBoundary",
                    ] {
                        assert!(denied(action, &role), "{id}-{env} may {action} on {role}");
                    }
                }
            }
            for action in ["iam:CreatePolicyVersion", "iam:DeletePolicy"] {
                assert!(
                    denied(action, &boundary),
                    "{id}-{env} may {action} on the boundary"
                );
            }
            // Any other role without the boundary gets no policy either.
            let guard = statements
                .iter()
                .find(|s| s["Sid"] == "PoliciesOnlyForBoundedRoles")
                .unwrap();
            assert_eq!(guard["Effect"], "Deny");
            assert_eq!(
                guard["Condition"]["StringNotEquals"]["iam:PermissionsBoundary"],
                boundary.as_str()
            );
        }
    }
}

#[test]
fn the_administrators_can_find_their_cluster_to_reach_it() {
    // Review 2's N6: the access entry is useless if `aws eks update-kubeconfig` cannot
    // describe the cluster.
    let assembly = assembly();
    for env in ["dev", "prod"] {
        let t = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        let policy = t.resource("aws_iam_role_policy", "access_admins_role_find_the_cluster");
        assert_eq!(policy["role"], "${aws_iam_role.access_admins_role.name}");
        let text = policy["policy"].as_str().unwrap();
        assert!(
            text.contains(
                r#""Action" = "eks:DescribeCluster", "Resource" = aws_eks_cluster.cluster_eks_cluster.arn"#
            ),
            "{env}: {text}"
        );
        assert!(!text.contains("eks:*"), "{env}: {text}");
    }
}

#[test]
fn the_eks_workspace_runs_on_agents_in_the_vpc_with_credentials_per_phase() {
    let assembly = assembly();
    for (env, account) in [("dev", "333333333333"), ("prod", "555555555555")] {
        let bootstrap =
            Template::from_assembly(&assembly, &format!("piksel-bootstrap-{env}")).unwrap();
        // A pool for the environment's project only, its token in a SecureString.
        let pool = bootstrap.resource("tfe_agent_pool", "agents_pool");
        assert_eq!(pool["organization_scoped"], false);
        let allowed = bootstrap.resource("tfe_agent_pool_allowed_projects", "agents_pool_allowed");
        assert_eq!(
            allowed["allowed_project_ids"],
            serde_json::json!(["${tfe_project.project.id}"])
        );
        let token = bootstrap.resource("aws_ssm_parameter", "agents_token");
        assert_eq!(token["type"], "SecureString");
        assert_eq!(token["value"], "${tfe_agent_token.agents_pool_token.token}");
        let parameter = token["name"].as_str().unwrap().to_owned();
        // The EKS workspace runs there, after the pool allows its project, and has no
        // speculative plans; the infra stays on Terraform Cloud's runners.
        let eks = bootstrap.resource("tfe_workspace_settings", "eks_settings");
        assert_eq!(eks["execution_mode"], "agent");
        assert_eq!(eks["agent_pool_id"], "${tfe_agent_pool.agents_pool.id}");
        let waits = eks["depends_on"].to_string();
        assert!(
            waits.contains("tfe_agent_pool_allowed_projects.agents_pool_allowed"),
            "{waits}"
        );
        assert_eq!(
            bootstrap.resource("tfe_workspace", "eks")["speculative_enabled"],
            false
        );
        let infra_settings = bootstrap.resource("tfe_workspace_settings", "infra_settings");
        assert!(infra_settings.get("execution_mode").is_none());
        // No workspace starts a run before its variables exist.
        for (_, workspace) in bootstrap.resources("tfe_workspace") {
            assert_eq!(workspace["queue_all_runs"], false);
        }

        // The agents: Fargate in the private subnets, no public address, outbound
        // HTTPS only, the token injected from that parameter, one run per task.
        // The agents' own stack, applied by hand (review 3's M2): no apply role can
        // change them, their image or their role.
        let infra = Template::from_assembly(&assembly, &format!("piksel-agents-{env}")).unwrap();
        let role = infra.resource("aws_iam_role", "agents_service_execution");
        assert_eq!(role["name"], format!("tfc-agent-piksel-{env}-execution"));
        assert!(role.get("permissions_boundary").is_none());
        let apply = bootstrap.resource("aws_iam_role_policy", "infra_aws_apply_apply")["policy"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(!apply.contains("\"ecs:*\""), "{apply}");
        assert!(apply.contains("NotTheAgentImage"), "{apply}");
        assert!(apply.contains("OwnRolesStay"), "{apply}");
        let service = infra.resource("aws_ecs_service", "agents_service_service");
        assert_eq!(service["launch_type"], "FARGATE");
        let network = &service["network_configuration"][0];
        assert_eq!(network["assign_public_ip"], false);
        assert!(
            network["subnets"].to_string().contains("private"),
            "{network}"
        );
        let sg = &network["security_groups"][0];
        assert_eq!(sg, "${aws_security_group.agents_service_security_group.id}");
        assert!(
            infra
                .resources("aws_vpc_security_group_ingress_rule")
                .iter()
                .all(|(_, rule)| rule["security_group_id"] != *sg)
        );
        let egress: Vec<_> = infra
            .resources("aws_vpc_security_group_egress_rule")
            .into_iter()
            .filter(|(_, rule)| rule["security_group_id"] == *sg)
            .collect();
        assert_eq!(egress.len(), 1);
        assert_eq!(egress[0].1["from_port"], 443);
        assert_eq!(egress[0].1["to_port"], 443);
        let task = infra.resource("aws_ecs_task_definition", "agents_service_task");
        let definitions = task["container_definitions"].as_str().unwrap();
        assert!(definitions.contains("TFC_AGENT_SINGLE"), "{definitions}");
        assert!(
            definitions.contains(&format!(
                "arn:aws:ssm:us-west-2:{account}:parameter{parameter}"
            )) || definitions.contains(&format!("parameter{parameter}")),
            "{definitions}"
        );
        assert!(
            task.get("task_role_arn").is_none(),
            "no AWS credentials of their own"
        );
        assert!(definitions.contains(&format!(
            "{account}.dkr.ecr.us-west-2.amazonaws.com/{}:{}",
            girder_stack_piksel::AGENT_REPOSITORY,
            girder_stack_piksel::AGENT_VERSION
        )));

        // The cluster's API admits them; the plan role reads flux-system only.
        let eks = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        let api: Vec<_> = eks
            .resources("aws_vpc_security_group_ingress_rule")
            .into_iter()
            .filter(|(_, rule)| rule["from_port"] == 443)
            .collect();
        assert_eq!(api.len(), 1, "{api:?}");
        assert!(
            api[0].1["referenced_security_group_id"]
                .to_string()
                .contains("tfe_outputs"),
            "{:?}",
            api[0].1
        );
        // The plan role reads the ConfigMaps of flux-system (Helm's releases are kept
        // there, not as Secrets) through a group a Role binds; no access policy, and so
        // no Secret: the GitHub App key is one (review 3's M6).
        let plan = eks.resource("aws_eks_access_entry", "access_terraform_cloud_plan_entry");
        assert_eq!(
            plan["principal_arn"],
            format!("arn:aws:iam::{account}:role/tfc-piksel-eks-{env}-plan")
        );
        assert_eq!(
            plan["kubernetes_groups"],
            serde_json::json!(["piksel-terraform-plan"])
        );
        assert!(
            eks.resources("aws_eks_access_policy_association")
                .iter()
                .all(|(_, a)| !a["principal_arn"].to_string().contains("-plan")),
        );
        assert_eq!(
            eks.terraform()["provider"]["helm"]["helm_driver"],
            "configmap"
        );
        let role = eks.resource("kubernetes_role_v1", "gitops_plan_reader");
        // In flux-system, which Terraform makes first, before anything Helm keeps there,
        // and before Flux's install (review 4's m4).
        assert_eq!(
            role["metadata"][0]["namespace"],
            "${kubernetes_namespace_v1.gitops_flux_namespace.metadata[0].name}"
        );
        assert_eq!(
            eks.resource("kubernetes_namespace_v1", "gitops_flux_namespace")["metadata"][0]["name"],
            "flux-system"
        );
        let install = eks.resource("helm_release", "flux_controllers");
        assert!(install.get("create_namespace").is_none());
        let waits = install["depends_on"].to_string();
        for needed in [
            "kubernetes_namespace_v1.gitops_flux_namespace",
            "kubernetes_role_v1.gitops_plan_reader",
            "kubernetes_role_binding_v1.gitops_plan_reader_binding",
        ] {
            assert!(waits.contains(needed), "{waits}");
        }
        let rules = role["rule"].to_string();
        assert!(!rules.contains("secrets"), "{rules}");
        assert!(!rules.contains("\"*\""), "{rules}");
        let binding = eks.resource("kubernetes_role_binding_v1", "gitops_plan_reader_binding");
        assert_eq!(binding["subject"][0]["kind"], "Group");
        assert_eq!(binding["subject"][0]["name"], "piksel-terraform-plan");
    }
}

/// The HelmReleases of an EKS stack's manifests.
fn helm_releases(t: &Template) -> Vec<&serde_json::Value> {
    t.kube_objects()
        .iter()
        .filter(|o| o["kind"] == "HelmRelease")
        .collect()
}

#[test]
fn every_addon_is_pinned_on_the_system_pool_with_resources_and_two_replicas_in_prod() {
    let assembly = assembly();
    // The versions of the shared schema index (schemas/helm/index.json).
    let pinned = [
        ("metrics-server", "3.13.1", "replicas"),
        ("aws-load-balancer-controller", "3.5.0", "replicaCount"),
        ("external-dns", "1.21.1", "replicaCount"),
        ("cluster-autoscaler", "9.59.0", "replicaCount"),
        ("external-secrets", "2.9.0", "replicaCount"),
    ];
    for env in ["dev", "staging", "prod"] {
        let t = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        // The add-ons' releases (the monitoring stack's is the observability app's; the
        // services' are in their namespaces: app odc-services' in odc, app jupyter's in
        // jupyterhub and dask).
        let services = [
            girder_stack_piksel::ODC_NAMESPACE,
            girder_stack_piksel::JUPYTERHUB_NAMESPACE,
            girder_stack_piksel::DASK_NAMESPACE,
        ];
        let releases: Vec<_> = helm_releases(&t)
            .into_iter()
            .filter(|r| r["metadata"]["name"] != "kube-prometheus-stack")
            .filter(|r| !services.iter().any(|ns| r["metadata"]["namespace"] == *ns))
            .collect();
        assert_eq!(releases.len(), pinned.len(), "{env}");
        for (chart, version, replicas_key) in pinned {
            let release = t.kube_object("HelmRelease", chart);
            let spec = &release["spec"];
            assert_eq!(spec["chart"]["spec"]["chart"], chart, "{env}");
            assert_eq!(spec["chart"]["spec"]["version"], version, "{env} {chart}");
            let values = &spec["values"];
            assert_eq!(
                values["nodeSelector"],
                serde_json::json!({"piksel.io/pool": "system"}),
                "{env} {chart}"
            );
            assert!(
                values["resources"]["requests"]["memory"].is_string()
                    && values["resources"]["limits"]["memory"].is_string(),
                "{env} {chart}: {values}"
            );
            // The namespace is the release's own, with Pod Security labels.
            let namespace = release["metadata"]["namespace"].as_str().unwrap();
            let ns = t.kube_object("Namespace", namespace);
            assert_eq!(
                ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "restricted",
                "{env} {chart}"
            );
            // Two replicas in production, where the chart can run two (external-dns
            // has no leader election: one replica).
            let expected = match (env, chart) {
                (_, "external-dns") => 1,
                (_, "aws-load-balancer-controller") | ("prod", _) => 2,
                _ => 1,
            };
            assert_eq!(values[replicas_key], expected, "{env} {chart}");
        }
        if env == "prod" {
            let eso = &t.kube_object("HelmRelease", "external-secrets")["spec"]["values"];
            for component in [&eso, &&eso["webhook"], &&eso["certController"]] {
                assert_eq!(component["podDisruptionBudget"]["enabled"], true);
                assert_eq!(component["nodeSelector"]["piksel.io/pool"], "system");
            }
        }
    }
}

#[test]
fn the_load_balancer_controller_is_told_its_cluster_region_and_vpc() {
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-staging").unwrap();
    let values = &t.kube_object("HelmRelease", "aws-load-balancer-controller")["spec"]["values"];
    // The pods cannot reach the instance metadata service (hop limit 1) to learn them.
    assert_eq!(values["clusterName"], "piksel-staging");
    assert_eq!(values["region"], "us-west-2");
    assert_eq!(values["vpcId"], "${VPC_ID}");
    // Substituted by Flux from the ConfigMap Terraform writes with the VPC's id.
    let config_map = t.resource("kubernetes_config_map_v1", "gitops_terraform_outputs");
    assert_eq!(
        config_map["metadata"][0]["name"],
        "piksel-eks-staging-terraform-outputs"
    );
    assert_eq!(config_map["metadata"][0]["namespace"], "flux-system");
    let vpc = config_map["data"]["VPC_ID"].as_str().unwrap();
    assert!(
        vpc.contains("data.tfe_outputs.piksel_infra_staging"),
        "{vpc}"
    );
    assert!(
        config_map["data"]["ROUTE53_ZONE_ID"]
            .as_str()
            .unwrap()
            .contains("zone_id"),
        "{config_map}"
    );
    // Written after the add-ons' pod identity associations: no add-on pod starts
    // before its role is associated.
    let waits = config_map["depends_on"].to_string();
    for role in [
        "load_balancer_controller",
        "cluster_autoscaler",
        "external_dns",
        "external_secrets",
    ] {
        assert!(
            waits.contains(&format!(
                "aws_eks_pod_identity_association.addon_roles_{role}_association"
            )),
            "{role}: {waits}"
        );
    }
    assert!(waits.contains("helm_release.flux_controllers"), "{waits}");
    let provider = t.terraform()["provider"]["kubernetes"].to_string();
    assert!(
        provider.contains("aws_eks_cluster.cluster_eks_cluster.endpoint"),
        "{provider}"
    );
}

/// The inline policy of an add-on's pod identity role.
fn addon_policy(t: &Template, role: &str) -> String {
    // A jsonencode(...) of the document (its ARNs are expressions): its text names the
    // statements.
    t.resource(
        "aws_iam_role_policy",
        &format!("addon_roles_{role}_role_workload"),
    )["policy"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn the_autoscaler_may_resize_only_the_clusters_node_groups() {
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-prod").unwrap();
    let policy = addon_policy(&t, "cluster_autoscaler");
    for group in [
        "system",
        "workloads_a",
        "workloads_b",
        "workloads_c",
        "dask",
    ] {
        assert!(
            policy.contains(&format!(
                "aws_eks_node_group.nodes_{group}_group.resources[0].autoscaling_groups[0].name"
            )),
            "{group}: {policy}"
        );
        assert!(
            policy.contains(&format!("aws_eks_node_group.nodes_{group}_group.arn")),
            "{group}: {policy}"
        );
    }
    assert!(
        policy.contains("aws:ResourceTag/k8s.io/cluster-autoscaler/piksel-prod"),
        "{policy}"
    );
    // Its values discover exactly this cluster's groups.
    let values = &t.kube_object("HelmRelease", "cluster-autoscaler")["spec"]["values"];
    assert_eq!(values["autoDiscovery"]["clusterName"], "piksel-prod");
    assert_eq!(values["awsRegion"], "us-west-2");
    let association = t.resource(
        "aws_eks_pod_identity_association",
        "addon_roles_cluster_autoscaler_association",
    );
    assert_eq!(association["service_account"], "cluster-autoscaler");
    assert_eq!(
        values["rbac"]["serviceAccount"]["name"],
        association["service_account"]
    );
}

#[test]
fn external_dns_may_change_the_internal_zone_only() {
    let assembly = assembly();
    for env in ["dev", "prod"] {
        let t = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        let policy = addon_policy(&t, "external_dns");
        // The zone's id, read from the infra workspace's outputs.
        assert!(
            policy.contains(&format!(
                "hostedzone/%s\", data.aws_partition.cluster_eks_partition.partition, data.tfe_outputs.piksel_infra_{env}.nonsensitive_values.aws_route53_zone_dns_internal_zone_id"
            )),
            "{env}: {policy}"
        );
        // The only call on every resource finds the zone.
        assert_eq!(
            policy.matches("\"Resource\" = \"*\"").count(),
            1,
            "{env}: {policy}"
        );
        let values = &t.kube_object("HelmRelease", "external-dns")["spec"]["values"];
        assert_eq!(
            values["domainFilters"],
            serde_json::json!([format!("{env}.piksel.internal")])
        );
        assert_eq!(values["txtOwnerId"], format!("piksel-eks-{env}"));
        assert_eq!(values["policy"], "sync");
        assert!(
            values["extraArgs"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("--zone-id-filter=${ROUTE53_ZONE_ID}"))
        );
    }
}

/// The objects of kind `kind` in namespace `namespace`.
fn kinds<'a>(t: &'a Template, kind: &str) -> Vec<&'a serde_json::Value> {
    t.kube_objects()
        .iter()
        .filter(|o| o["kind"] == kind)
        .collect()
}

fn in_namespace<'a>(t: &'a Template, kind: &str, namespace: &str) -> Vec<&'a serde_json::Value> {
    t.kube_objects()
        .iter()
        .filter(|o| o["kind"] == kind && o["metadata"]["namespace"] == namespace)
        .collect()
}

fn named<'a>(objects: &[&'a serde_json::Value], name: &str) -> &'a serde_json::Value {
    objects
        .iter()
        .find(|o| o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

/// The quantity `q` in thousandths of a core or bytes (`500m`, `4`, `16Gi`).
fn amount(q: &str) -> f64 {
    let (digits, unit) = q.split_at(q.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(q.len()));
    let n: f64 = digits.parse().unwrap();
    n * match unit {
        "" => 1000.0,
        "m" => 1.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        other => panic!("unit {other}"),
    }
}

#[test]
fn every_service_namespace_has_a_quota_limits_and_default_deny() {
    let assembly = assembly();
    let mut quotas = std::collections::BTreeMap::new();
    for (env, vpc) in [
        ("dev", "10.10.0.0/16"),
        ("staging", "10.20.0.0/16"),
        ("prod", "10.30.0.0/16"),
    ] {
        let t = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        for (ns, level) in [
            (girder_stack_piksel::ODC_NAMESPACE, "restricted"),
            (girder_stack_piksel::JUPYTERHUB_NAMESPACE, "baseline"),
            (girder_stack_piksel::DASK_NAMESPACE, "restricted"),
        ] {
            let namespace = t.kube_object("Namespace", ns);
            for mode in ["enforce", "audit", "warn"] {
                assert_eq!(
                    namespace["metadata"]["labels"][format!("pod-security.kubernetes.io/{mode}")],
                    level,
                    "{env} {ns}"
                );
            }
            let quota = named(&in_namespace(&t, "ResourceQuota", ns), "compute");
            let hard = &quota["spec"]["hard"];
            for key in [
                "requests.cpu",
                "requests.memory",
                "limits.cpu",
                "limits.memory",
                "pods",
            ] {
                assert!(hard[key].is_string(), "{env} {ns}: no {key}");
            }
            assert!(
                amount(hard["requests.cpu"].as_str().unwrap())
                    <= amount(hard["limits.cpu"].as_str().unwrap())
            );
            assert_eq!(hard["services.loadbalancers"], "0");
            quotas.insert((env, ns), amount(hard["requests.cpu"].as_str().unwrap()));
            let limits = named(&in_namespace(&t, "LimitRange", ns), "container-defaults");
            let item = &limits["spec"]["limits"][0];
            assert_eq!(item["type"], "Container");
            for resource in ["cpu", "memory"] {
                assert!(item["default"][resource].is_string(), "{env} {ns}");
                assert!(item["defaultRequest"][resource].is_string(), "{env} {ns}");
            }
            let policies = in_namespace(&t, "NetworkPolicy", ns);
            let deny = named(&policies, "default-deny");
            assert_eq!(
                deny["spec"]["policyTypes"],
                serde_json::json!(["Ingress", "Egress"])
            );
            assert_eq!(deny["spec"]["podSelector"], serde_json::json!({}));
            assert!(deny["spec"].get("ingress").is_none() && deny["spec"].get("egress").is_none());
            let dns = &named(&policies, "allow-dns")["spec"]["egress"][0];
            assert_eq!(
                dns["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
                "kube-system"
            );
            assert_eq!(dns["ports"][0]["port"], 53);
            let database = &named(&policies, "allow-index-database")["spec"]["egress"][0];
            assert_eq!(database["to"][0]["ipBlock"]["cidr"], vpc, "{env} {ns}");
            assert_eq!(
                database["ports"],
                serde_json::json!([{"port": 5432, "protocol": "TCP"}])
            );
            // No pod reaches the node role through the instance metadata service.
            let https =
                &named(&policies, "allow-https-out")["spec"]["egress"][0]["to"][0]["ipBlock"];
            assert_eq!(https["except"], serde_json::json!(["169.254.169.254/32"]));
        }
        // The load balancer's targets reach the ODC services and the hub, not Dask.
        for (ns, admitted) in [("odc", true), ("jupyterhub", true), ("dask", false)] {
            let policies = in_namespace(&t, "NetworkPolicy", ns);
            let lb = policies
                .iter()
                .find(|p| p["metadata"]["name"] == "allow-from-load-balancer");
            assert_eq!(lb.is_some(), admitted, "{env} {ns}");
            if let Some(lb) = lb {
                assert_eq!(lb["spec"]["ingress"][0]["from"][0]["ipBlock"]["cidr"], vpc);
                assert_eq!(lb["spec"]["ingress"][0]["ports"][0]["port"], "http");
                // datacube-ows's chart leaves its port 8000 unnamed: admitted by number,
                // in odc only.
                let ports = lb["spec"]["ingress"][0]["ports"].as_array().unwrap();
                let numbered: Vec<&serde_json::Value> =
                    ports.iter().skip(1).map(|p| &p["port"]).collect();
                if ns == "odc" {
                    assert_eq!(numbered, [&serde_json::json!(8000)], "{env}");
                } else {
                    assert!(numbered.is_empty(), "{env} {ns}");
                }
            }
        }
    }
    // Notebooks reach their Dask clusters; the gateway asks the hub who they are.
    let t = Template::from_assembly(&assembly, "piksel-eks-prod").unwrap();
    let hub = in_namespace(&t, "NetworkPolicy", "jupyterhub");
    let to_dask = &named(&hub, "allow-to-dask")["spec"]["egress"][0];
    assert_eq!(
        to_dask["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "dask"
    );
    let from_dask = &named(&hub, "allow-hub-api-from-dask")["spec"]["ingress"][0];
    assert_eq!(from_dask["ports"][0]["port"], 8081);
    let dask = in_namespace(&t, "NetworkPolicy", "dask");
    assert_eq!(
        named(&dask, "allow-to-hub-api")["spec"]["egress"][0]["ports"][0]["port"],
        8081
    );
    assert!(named(&dask, "allow-from-jupyterhub")["spec"]["ingress"][0]["ports"].is_array());
    for ns in ["odc", "jupyterhub", "dask"] {
        assert!(quotas[&("prod", ns)] > quotas[&("dev", ns)], "{ns}");
    }
}

#[test]
fn the_agent_image_is_built_on_the_release_the_task_runs() {
    let dockerfile = include_str!("../agent/Dockerfile");
    assert!(
        dockerfile.contains(&format!(
            "ARG TFC_AGENT_VERSION={}",
            girder_stack_piksel::AGENT_VERSION
        )),
        "stacks/piksel/agent/Dockerfile builds another tfc-agent release than AGENT_VERSION"
    );
    assert!(dockerfile.contains("FROM hashicorp/tfc-agent:${TFC_AGENT_VERSION}"));
    // Every file the build copies from its context is in the repository (review 3's
    // B2: a COPY of a file nobody committed fails the build, and no agent ever starts).
    let context = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("agent");
    for line in dockerfile.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() == Some(&"COPY") && !words.iter().any(|w| w.starts_with("--from=")) {
            for source in &words[1..words.len() - 1] {
                if !source.starts_with("--") {
                    assert!(
                        context.join(source).exists(),
                        "COPY {source}: not in stacks/piksel/agent"
                    );
                }
            }
        }
    }
    // The CLI the exec plugin runs is on the PATH.
    assert!(dockerfile.contains("/usr/local/bin/aws"));
}

#[test]
fn external_secrets_reads_the_environments_secrets_only() {
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-dev").unwrap();
    let policy = addon_policy(&t, "external_secrets");
    assert!(policy.contains("secret:piksel/dev/*"), "{policy}");
    assert!(!policy.contains("\"Resource\" = \"*\""), "{policy}");
    let store = t.kube_object("ClusterSecretStore", "aws-secrets-manager");
    assert_eq!(
        store["spec"]["provider"]["aws"]["service"],
        "SecretsManager"
    );
    assert_eq!(store["spec"]["provider"]["aws"]["region"], "us-west-2");
}

#[test]
fn flux_syncs_girders_layout_with_no_second_flux_system() {
    let assembly = assembly();
    for env in ["dev", "staging", "prod"] {
        let id = format!("piksel-eks-{env}");
        let stack = assembly.stacks().iter().find(|s| s.id == id).unwrap();
        let gitops: Vec<&str> = stack
            .artifacts
            .iter()
            .map(|a| a.path.as_str())
            .filter(|p| p.starts_with("gitops/"))
            .collect();
        // Terraform's flux2-sync owns the flux-system GitRepository and Kustomization.
        assert!(
            gitops.iter().all(|p| !p.contains("flux-system")),
            "{env}: {gitops:?}"
        );
        let dir = format!("gitops/{id}/clusters/{env}");
        for app in ["addons", "secret-stores"] {
            let path = format!("{dir}/kustomization-{id}-{app}.yaml");
            assert!(gitops.contains(&path.as_str()), "{env}: {gitops:?}");
        }
        let t = Template::from_assembly(&assembly, &id).unwrap();
        let sync = t.resource("helm_release", "flux_sync");
        let values: serde_json::Value =
            serde_json::from_str(sync["values"][0].as_str().unwrap()).unwrap();
        assert_eq!(
            values["kustomization"]["spec"]["path"],
            format!("./out/{dir}")
        );
        // The secret stores come after the add-ons (the operator's CRDs).
        let stores = String::from_utf8(
            assembly
                .artifact(&format!("{dir}/kustomization-{id}-secret-stores.yaml"))
                .unwrap()
                .bytes
                .clone(),
        )
        .unwrap();
        // Each app after what its objects need: ExternalSecrets after the store,
        // PrometheusRules and Flux's Alertmanager provider after kube-prometheus-stack.
        let depends = |app: &str| -> Vec<String> {
            let text = String::from_utf8(
                assembly
                    .artifact(&format!("{dir}/kustomization-{id}-{app}.yaml"))
                    .unwrap()
                    .bytes
                    .clone(),
            )
            .unwrap();
            let doc: serde_json::Value = serde_norway::from_str(
                text.lines()
                    .filter(|l| !l.starts_with('#'))
                    .collect::<Vec<_>>()
                    .join("\n")
                    .as_str(),
            )
            .unwrap();
            doc["spec"]["dependsOn"]
                .as_array()
                .map(|d| {
                    d.iter()
                        .map(|n| {
                            n["name"]
                                .as_str()
                                .unwrap()
                                .trim_start_matches(&format!("{id}-"))
                                .to_owned()
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        assert!(depends("addons").is_empty());
        assert!(depends("platform").is_empty());
        for (app, needs) in [
            ("secret-stores", vec!["addons", "platform"]),
            ("observability", vec!["addons", "platform", "secret-stores"]),
            ("monitoring", vec!["observability"]),
            ("notifications", vec!["secret-stores", "observability"]),
            ("images", vec!["addons", "platform"]),
        ] {
            let has = depends(app);
            for need in needs {
                assert!(
                    has.iter().any(|h| h == need),
                    "{env}: {app} waits for {has:?}, not {need}"
                );
            }
        }
        assert!(
            stores.contains(&format!("name: {id}-terraform-outputs")),
            "{stores}"
        );
    }
}

#[test]
fn the_security_alarms_and_access_analyzer_findings_reach_pagerduty_and_the_mailbox() {
    // Review 2's N4: an AWS-managed SNS key CloudWatch cannot use, and nobody subscribed.
    let assembly = assembly();
    for env in ["dev", "staging", "prod"] {
        let t = Template::from_assembly(&assembly, &format!("piksel-infra-{env}")).unwrap();
        let topic = t.resource("aws_sns_topic", "security_alerts");
        assert_eq!(topic["name"], format!("piksel-{env}-security-alerts"));
        assert_eq!(
            topic["kms_master_key_id"], "${aws_kms_key.security_alerts_key.arn}",
            "{env}"
        );
        let key_policy = t.resource("aws_kms_key", "security_alerts_key")["policy"].to_string();
        for needed in [
            "cloudwatch.amazonaws.com",
            "events.amazonaws.com",
            "aws:SourceAccount",
            "kms:GenerateDataKey*",
            "kms:Decrypt",
        ] {
            assert!(key_policy.contains(needed), "{env}: {needed}: {key_policy}");
        }
        let topic_policy =
            t.resource("aws_sns_topic_policy", "security_alerts_policy")["policy"].to_string();
        for needed in [
            "cloudwatch.amazonaws.com",
            "events.amazonaws.com",
            "sns:Publish",
            "aws:SourceAccount",
            "aws_cloudwatch_event_rule.security_alerts_access_analyzer_findings.arn",
        ] {
            assert!(topic_policy.contains(needed), "{env}: {needed}");
        }
        // PagerDuty pages, the mailbox keeps the record.
        let mut subscriptions: Vec<(String, String)> = t
            .resources("aws_sns_topic_subscription")
            .iter()
            .map(|(_, s)| {
                assert_eq!(s["topic_arn"], "${aws_sns_topic.security_alerts.arn}");
                (
                    s["protocol"].as_str().unwrap().to_owned(),
                    s["endpoint"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        subscriptions.sort();
        assert_eq!(subscriptions.len(), 2, "{env}");
        assert_eq!(subscriptions[0].0, "email");
        assert!(subscriptions[1].0 == "https");
        assert!(
            subscriptions[1]
                .1
                .starts_with("https://events.pagerduty.com/integration/")
        );
        // Access Analyzer's active findings go to the same topic.
        let rule = t.resource(
            "aws_cloudwatch_event_rule",
            "security_alerts_access_analyzer_findings",
        );
        let pattern: serde_json::Value =
            serde_json::from_str(rule["event_pattern"].as_str().unwrap()).unwrap();
        assert_eq!(
            pattern["source"],
            serde_json::json!(["aws.access-analyzer"])
        );
        assert_eq!(
            pattern["detail-type"],
            serde_json::json!(["Access Analyzer Finding"])
        );
        assert_eq!(pattern["detail"]["status"], serde_json::json!(["ACTIVE"]));
        let targets = t.resources("aws_cloudwatch_event_target");
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].1["arn"], "${aws_sns_topic.security_alerts.arn}");
    }
}

#[test]
fn alert_rules_cover_each_category_the_seed_monitors() {
    let assembly = assembly();
    for env in ["dev", "staging", "prod"] {
        let t = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        let rules = in_namespace(&t, "PrometheusRule", "monitoring");
        let alerts = |group: &str| -> Vec<(String, serde_json::Value)> {
            let rule = named(&rules, group);
            assert_eq!(
                rule["metadata"]["labels"]["release"],
                "kube-prometheus-stack"
            );
            rule["spec"]["groups"][0]["rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| (r["alert"].as_str().unwrap().to_owned(), r.clone()))
                .collect()
        };
        for (group, expected) in [
            (
                "nodes",
                &[
                    "NodeCpuHigh",
                    "NodeMemoryHigh",
                    "NodeNotReady",
                    "NodeNetworkErrors",
                ][..],
            ),
            (
                "pods",
                &[
                    "PodCrashLooping",
                    "PodNotRunning",
                    "DeploymentReplicasUnavailable",
                ][..],
            ),
            (
                "control-plane",
                &["KubeApiServerErrors", "KubeApiServerSlow"][..],
            ),
            (
                "index-database",
                &[
                    "IndexDatabaseConnectionsHigh",
                    "IndexDatabaseSlowQueries",
                    "IndexDatabaseStorageLow",
                    "IndexDatabaseStorageExhausted",
                ][..],
            ),
        ] {
            let alerts = alerts(group);
            for name in expected {
                let (_, rule) = alerts
                    .iter()
                    .find(|(n, _)| n == name)
                    .unwrap_or_else(|| panic!("{env}: no {name} in {group}"));
                assert!(rule["labels"]["severity"].is_string(), "{name}");
                assert!(rule["annotations"]["runbook_url"].is_string(), "{name}");
                assert!(rule["for"].is_string(), "{name}");
            }
        }
        // The database rules read the environment's instance, through the exporter.
        for (_, rule) in alerts("index-database") {
            let expr = rule["expr"].as_str().unwrap();
            assert!(expr.contains(&format!("piksel-{env}-odc")), "{expr}");
            assert!(expr.contains("aws_rds_"), "{expr}");
        }
        let values = t.helm_values("kube-prometheus-stack").unwrap();
        let pods = values["prometheus"]["additionalPodMonitors"].to_string();
        assert!(pods.contains("cloudwatch-exporter"), "{pods}");
        // Dashboards for the cluster and the database, loaded by Grafana's sidecar.
        for uid in ["piksel-cluster", "piksel-index-database"] {
            let cm = t.kube_object("ConfigMap", &format!("dashboard-{uid}"));
            assert_eq!(cm["metadata"]["labels"]["grafana_dashboard"], "1");
        }
    }
}

#[test]
fn storage_classes_gp3_by_default_and_provisioned_iops_in_production() {
    let assembly = assembly();
    for env in ["dev", "prod"] {
        let t = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        let gp3 = t.kube_object("StorageClass", "gp3");
        assert_eq!(
            gp3["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"],
            "true"
        );
        assert_eq!(gp3["parameters"]["encrypted"], "true");
        assert_eq!(gp3["volumeBindingMode"], "WaitForFirstConsumer");
        let advanced = t
            .kube_objects()
            .iter()
            .find(|o| o["kind"] == "StorageClass" && o["metadata"]["name"] == "gp3-provisioned");
        if env == "prod" {
            let advanced = advanced.unwrap();
            assert_eq!(advanced["parameters"]["iops"], "6000");
            assert_eq!(advanced["parameters"]["encrypted"], "true");
            assert_eq!(advanced["reclaimPolicy"], "Retain");
        } else {
            assert!(advanced.is_none(), "{env}");
        }
    }
}

#[test]
fn prometheus_and_grafana_run_on_the_system_pool_with_gp3_storage_from_a_pinned_chart() {
    let assembly = assembly();
    let index: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/schemas/helm/index.json"),
        )
        .unwrap_or_else(|_| r#"{"charts":{"kube-prometheus-stack":{"version":"88.5.3"}}}"#.into()),
    )
    .unwrap();
    for env in ["dev", "prod"] {
        let t = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        let release = t.kube_object("HelmRelease", "kube-prometheus-stack");
        assert_eq!(release["metadata"]["namespace"], "monitoring");
        assert_eq!(
            release["spec"]["chart"]["spec"]["version"],
            index["charts"]["kube-prometheus-stack"]["version"]
        );
        let values = t.helm_values("kube-prometheus-stack").unwrap();
        for pointer in [
            "/prometheus/prometheusSpec/nodeSelector",
            "/alertmanager/alertmanagerSpec/nodeSelector",
            "/grafana/nodeSelector",
            "/prometheusOperator/nodeSelector",
            "/kube-state-metrics/nodeSelector",
        ] {
            assert_eq!(
                values.pointer(pointer).unwrap()["piksel.io/pool"],
                "system",
                "{env} {pointer}"
            );
        }
        let claim =
            &values["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"];
        assert_eq!(claim["storageClassName"], "gp3");
        assert_eq!(
            values["alertmanager"]["alertmanagerSpec"]["storage"]["volumeClaimTemplate"]["spec"]["storageClassName"],
            "gp3"
        );
        // Grafana's admin comes from Secrets Manager, never a literal.
        assert!(values["grafana"].get("adminPassword").is_none());
        let admin = t.kube_object("ExternalSecret", "grafana-admin");
        assert_eq!(
            admin["spec"]["secretStoreRef"]["kind"],
            "ClusterSecretStore"
        );
        assert_eq!(
            admin["spec"]["secretStoreRef"]["name"],
            girder_stack_piksel::SECRET_STORE
        );
        // The exporter: on the system pool, with a role that reads metrics only.
        let exporter = t.kube_object("Deployment", "cloudwatch-exporter");
        assert_eq!(
            exporter["spec"]["template"]["spec"]["nodeSelector"]["piksel.io/pool"],
            "system"
        );
        assert_eq!(
            exporter["spec"]["template"]["spec"]["containers"][0]["image"],
            girder_stack_piksel::YACE_IMAGE
        );
        let policy = t.resource(
            "aws_iam_role_policy",
            "monitoring_cloudwatch_exporter_identity_role_workload",
        );
        let doc: serde_json::Value =
            serde_json::from_str(policy["policy"].as_str().unwrap()).unwrap();
        assert_eq!(
            doc["Statement"][0]["Action"],
            serde_json::json!([
                "cloudwatch:GetMetricData",
                "cloudwatch:ListMetrics",
                "tag:GetResources"
            ])
        );
        assert_eq!(doc["Statement"].as_array().unwrap().len(), 1);
        let association = t.resource(
            "aws_eks_pod_identity_association",
            "monitoring_cloudwatch_exporter_identity_association",
        );
        assert_eq!(association["namespace"], "monitoring");
        assert_eq!(association["service_account"], "cloudwatch-exporter");
    }
}

#[test]
fn alerts_page_when_critical_post_warnings_and_mail_status_with_credentials_from_secrets() {
    let assembly = assembly();
    for env in ["dev", "prod"] {
        let t = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        let values = t.helm_values("kube-prometheus-stack").unwrap();
        let am = &values["alertmanager"];
        let route = &am["config"]["route"];
        assert_eq!(route["receiver"], "slack");
        let routes = route["routes"].as_array().unwrap();
        let to = |matcher: &str| {
            routes
                .iter()
                .find(|r| r["matchers"][0] == matcher)
                .unwrap_or_else(|| panic!("no route for {matcher}"))
        };
        assert_eq!(to("severity = \"critical\"")["receiver"], "pagerduty");
        assert_eq!(to("severity = \"critical\"")["continue"], true);
        assert_eq!(to("notify = \"page\"")["receiver"], "pagerduty");
        assert_eq!(to("notify = \"status\"")["receiver"], "email");
        // Status is matched before info alerts are dropped.
        let at = |matcher: &str| {
            routes
                .iter()
                .position(|r| r["matchers"][0] == matcher)
                .unwrap()
        };
        assert!(at("notify = \"status\"") < at("severity = \"info\""));
        // Every credential is a file of the mounted Secret, filled by External Secrets.
        assert_eq!(
            am["alertmanagerSpec"]["secrets"],
            serde_json::json!([girder_stack_piksel::ALERT_RECEIVERS])
        );
        let receivers = am["config"]["receivers"].to_string();
        for field in [
            "routing_key\"",
            "api_url\"",
            "auth_password\"",
            "hooks.slack.com",
        ] {
            assert!(!receivers.contains(field), "{field} in {receivers}");
        }
        let secret = t.kube_object("ExternalSecret", girder_stack_piksel::ALERT_RECEIVERS);
        assert_eq!(secret["metadata"]["namespace"], "monitoring");
        let keys: Vec<&str> = secret["spec"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                assert_eq!(d["remoteRef"]["key"], format!("piksel/{env}/alerting"));
                d["secretKey"].as_str().unwrap()
            })
            .collect();
        for file in receivers
            .split("/etc/alertmanager/secrets/alert-receivers/")
            .skip(1)
        {
            let key = file.split('"').next().unwrap();
            assert!(keys.contains(&key), "{key} not in {keys:?}");
        }
    }
}

#[test]
fn the_trail_bucket_is_object_locked_by_environment_and_prods_vault_is_locked() {
    // Review 2's N5: the log files and recovery points could be deleted.
    let assembly = assembly();
    for (env, mode, days, vault_locked) in [
        ("dev", "GOVERNANCE", 30, false),
        ("staging", "GOVERNANCE", 90, false),
        ("prod", "COMPLIANCE", 365, true),
    ] {
        let t = Template::from_assembly(&assembly, &format!("piksel-infra-{env}")).unwrap();
        let bucket = t.resource("aws_s3_bucket", "security_trail_bucket");
        assert_eq!(bucket["object_lock_enabled"], true, "{env}");
        let lock = t.resource(
            "aws_s3_bucket_object_lock_configuration",
            "security_trail_bucket_object_lock",
        );
        let retention = &lock["rule"][0]["default_retention"][0];
        assert_eq!(retention["mode"], mode, "{env}");
        assert_eq!(retention["days"], days, "{env}");
        // No log file or replaced version expires before its lock ends.
        let lifecycle = t.resource(
            "aws_s3_bucket_lifecycle_configuration",
            "security_trail_bucket_lifecycle",
        );
        let expire = lifecycle["rule"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "expire-AWSLogs")
            .unwrap();
        assert!(expire["expiration"][0]["days"].as_u64().unwrap() >= days);
        assert_eq!(
            expire["noncurrent_version_expiration"][0]["noncurrent_days"], days,
            "{env}"
        );
        // Only the other buckets' lifecycles are untouched.
        t.resource_count_is("aws_s3_bucket_object_lock_configuration", 1);
        let vault_locks = t.resources("aws_backup_vault_lock_configuration");
        assert_eq!(!vault_locks.is_empty(), vault_locked, "{env}");
        if vault_locked {
            let lock = &vault_locks[0].1;
            assert_eq!(lock["min_retention_days"], 7);
            assert_eq!(lock["max_retention_days"], 400);
            assert_eq!(lock["changeable_for_days"], 7);
            assert_eq!(
                lock["backup_vault_name"],
                "${aws_backup_vault.backup_plan_vault.name}"
            );
        }
    }
}

#[test]
fn flux_notifications_reach_slack_through_an_external_secret_and_page_through_alertmanager() {
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-staging").unwrap();
    let providers = in_namespace(&t, "Provider", "flux-system");
    let slack = named(&providers, "slack");
    assert_eq!(slack["spec"]["type"], "slack");
    assert!(
        slack["spec"].get("address").is_none(),
        "the webhook is a secret"
    );
    assert_eq!(
        slack["spec"]["secretRef"]["name"],
        girder_stack_piksel::SLACK_SECRET
    );
    let secret = t.kube_object("ExternalSecret", girder_stack_piksel::SLACK_SECRET);
    assert_eq!(secret["metadata"]["namespace"], "flux-system");
    assert_eq!(
        secret["spec"]["secretStoreRef"]["name"],
        girder_stack_piksel::SECRET_STORE
    );
    assert_eq!(secret["spec"]["data"][0]["secretKey"], "address");
    assert_eq!(
        secret["spec"]["data"][0]["remoteRef"]["key"],
        "piksel/staging/alerting"
    );
    let alertmanager = named(&providers, "alertmanager");
    assert_eq!(alertmanager["spec"]["type"], "alertmanager");
    assert!(
        alertmanager["spec"]["address"]
            .as_str()
            .unwrap()
            .starts_with("http://kube-prometheus-stack-alertmanager.monitoring.svc:9093/")
    );
    // No Provider carries a credential in its spec.
    for provider in &providers {
        assert!(provider["spec"].get("token").is_none());
        assert_ne!(provider["spec"]["type"], "pagerduty");
    }
    let alerts = in_namespace(&t, "Alert", "flux-system");
    for (name, provider, severity, notify) in [
        ("critical", "alertmanager", "error", Some("page")),
        ("warnings", "slack", "error", None),
        ("status", "alertmanager", "info", Some("status")),
    ] {
        let alert = named(&alerts, name);
        assert_eq!(alert["spec"]["providerRef"]["name"], provider, "{name}");
        assert_eq!(alert["spec"]["eventSeverity"], severity, "{name}");
        assert_eq!(
            alert["spec"]["eventMetadata"]["notify"].as_str(),
            notify,
            "{name}"
        );
        let sources = alert["spec"]["eventSources"].as_array().unwrap();
        assert!(
            sources
                .iter()
                .any(|s| s["kind"] == "Kustomization" && s["namespace"] == "flux-system"),
            "{name}"
        );
    }
    // The platform pages; the services' namespaces only post and mail.
    let critical = named(&alerts, "critical")["spec"]["eventSources"].to_string();
    assert!(!critical.contains("\"odc\""), "{critical}");
    let warnings = named(&alerts, "warnings")["spec"]["eventSources"].to_string();
    assert!(warnings.contains("\"odc\""), "{warnings}");
}

#[test]
fn the_image_reflector_role_reads_only_the_two_repositories() {
    let assembly = assembly();
    for (env, account) in [
        ("dev", "333333333333"),
        ("staging", "444444444444"),
        ("prod", "555555555555"),
    ] {
        let t = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        let policy = t.resource(
            "aws_iam_role_policy",
            "image_automation_reflector_identity_role_workload",
        );
        let doc: serde_json::Value =
            serde_json::from_str(policy["policy"].as_str().unwrap()).unwrap();
        let statements = doc["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 2);
        let repositories: Vec<String> = girder_stack_piksel::REPOSITORIES
            .iter()
            .map(|r| format!("arn:aws:ecr:us-west-2:{account}:repository/{r}"))
            .collect();
        assert_eq!(statements[0]["Resource"], serde_json::json!(repositories));
        assert_eq!(
            statements[0]["Action"],
            serde_json::json!(girder_stack_piksel::REFLECTOR_ACTIONS)
        );
        for action in statements[0]["Action"].as_array().unwrap() {
            let action = action.as_str().unwrap();
            assert!(
                ["ecr:BatchGetImage", "ecr:DescribeImages", "ecr:ListImages"].contains(&action),
                "{action}"
            );
        }
        // The login alone is on `*` (it has no resource-level permissions).
        assert_eq!(statements[1]["Action"], "ecr:GetAuthorizationToken");
        assert_eq!(statements[1]["Resource"], "*");
        let association = t.resource(
            "aws_eks_pod_identity_association",
            "image_automation_reflector_identity_association",
        );
        assert_eq!(association["namespace"], "flux-system");
        assert_eq!(
            association["service_account"],
            girder_stack_piksel::REFLECTOR_SERVICE_ACCOUNT
        );
        let role = t.resource("aws_iam_role", "image_automation_reflector_identity_role");
        assert!(
            role["assume_role_policy"]
                .as_str()
                .unwrap()
                .contains("pods.eks.amazonaws.com")
        );
        assert!(role["permissions_boundary"].is_string());

        // The repositories are listed with the controller's AWS identity, the policies
        // follow what each environment deploys.
        for repository in girder_stack_piksel::REPOSITORIES {
            let image = in_namespace(&t, "ImageRepository", "flux-system");
            let image = named(&image, repository);
            assert_eq!(image["spec"]["provider"], "aws");
            assert_eq!(
                image["spec"]["image"],
                format!("{account}.dkr.ecr.us-west-2.amazonaws.com/{repository}")
            );
            let policies = in_namespace(&t, "ImagePolicy", "flux-system");
            let policy = &named(&policies, repository)["spec"];
            assert_eq!(policy["imageRepositoryRef"]["name"], repository);
            // The automation writes tag and digest: what the workloads pin.
            assert_eq!(policy["digestReflectionPolicy"], "IfNotPresent");
            let pattern = policy["filterTags"]["pattern"].as_str().unwrap();
            if env == "dev" {
                assert!(
                    pattern.starts_with(&format!("^{}", girder_stack_piksel::BUILD_TAG_PREFIX)),
                    "{pattern}"
                );
                assert_eq!(policy["policy"]["numerical"]["order"], "asc");
            } else {
                assert!(pattern.starts_with("^v"), "{pattern}");
                let range = policy["policy"]["semver"]["range"].as_str().unwrap();
                assert_eq!(range.ends_with("-0"), env == "staging", "{range}");
            }
        }
        let automation = t.kube_object("ImageUpdateAutomation", "piksel-images");
        assert_eq!(automation["spec"]["sourceRef"]["kind"], "GitRepository");
        assert_eq!(
            automation["spec"]["update"]["path"],
            // The pins file girder reads at synth and never writes (images.rs).
            format!("./stacks/piksel/images/{env}")
        );
        // Production's updates wait for a person: a branch, not main.
        let push = automation["spec"]["git"].get("push");
        assert_eq!(push.is_some(), env == "prod", "{env}");
    }
}

#[test]
fn no_apply_role_may_erase_the_audit_record_or_the_backups() {
    // Review 2's N5: the apply roles held cloudtrail:*, s3:*, kms:* and backup:* on `*`.
    let assembly = assembly();
    for (env, account) in [("dev", "333333333333"), ("prod", "555555555555")] {
        let trail = format!("arn:aws:cloudtrail:us-west-2:{account}:trail/piksel-{env}");
        let bucket = format!("arn:aws:s3:::piksel-{env}-audit-{account}-us-west-2");
        let log_file = format!("{bucket}/AWSLogs/{account}/CloudTrail/us-west-2/file.json.gz");
        let recovery_point = format!("arn:aws:backup:us-west-2:{account}:recovery-point:0123-4567");
        for (stack, policy) in apply_policies(&assembly, env) {
            let document: serde_json::Value = serde_json::from_str(&policy).unwrap();
            let statements = document["Statement"].as_array().unwrap();
            let denied = |action: &str, resource: &str| {
                statements.iter().any(|s| denies(s, action, resource))
            };
            for action in ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"] {
                assert!(denied(action, &trail), "{stack}-{env} may {action}");
            }
            for action in [
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
                "s3:BypassGovernanceRetention",
                "s3:PutObjectRetention",
            ] {
                assert!(denied(action, &log_file), "{stack}-{env} may {action}");
            }
            assert!(denied("s3:DeleteBucket", &bucket), "{stack}-{env}");
            for action in [
                "backup:DeleteRecoveryPoint",
                "backup:UpdateRecoveryPointLifecycle",
                "backup:DeleteBackupVault",
                "backup:DeleteBackupVaultLockConfiguration",
                "backup:PutBackupVaultAccessPolicy",
            ] {
                assert!(
                    denied(action, &recovery_point),
                    "{stack}-{env} may {action}"
                );
            }
            // The audit keys (named by alias: their ids are made at apply) are neither
            // disabled nor deleted, and keep their aliases.
            let keys = statements
                .iter()
                .find(|s| s["Sid"] == "TheAuditKeysStay")
                .unwrap();
            assert_eq!(keys["Effect"], "Deny");
            assert_eq!(
                keys["Action"],
                serde_json::json!(["kms:DisableKey", "kms:ScheduleKeyDeletion"])
            );
            assert_eq!(
                keys["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"],
                serde_json::json!([
                    format!("alias/cloudtrail/piksel-{env}"),
                    format!("alias/backup/piksel-{env}-platform"),
                    format!("alias/sns/piksel-{env}-security-alerts"),
                ])
            );
            assert!(denied(
                "kms:DeleteAlias",
                &format!("arn:aws:kms:us-west-2:{account}:alias/cloudtrail/piksel-{env}")
            ));
        }
        // The trail and the key aliases the denies name are the ones the infra makes.
        let infra = Template::from_assembly(&assembly, &format!("piksel-infra-{env}")).unwrap();
        assert_eq!(
            infra.resource("aws_cloudtrail", "security_trail_trail")["name"],
            format!("piksel-{env}")
        );
        // The bucket's name is built from the account and region the provider is pinned
        // to: `piksel-<env>-audit-<account>-us-west-2`.
        let name = infra.resource("aws_s3_bucket", "security_trail_bucket")["bucket"].to_string();
        assert!(
            name.contains(&format!("piksel-{env}-audit-%s-%s"))
                && name.contains("aws_caller_identity")
                && name.contains("aws_region"),
            "{name}"
        );
        assert!(
            infra.terraform()["provider"]["aws"]
                .to_string()
                .contains(account)
        );
        let mut aliases: Vec<String> = infra
            .resources("aws_kms_alias")
            .iter()
            .map(|(_, a)| a["name"].as_str().unwrap().to_owned())
            .collect();
        aliases.sort();
        assert_eq!(
            aliases,
            [
                format!("alias/backup/piksel-{env}-platform"),
                format!("alias/cloudtrail/piksel-{env}"),
                format!("alias/sns/piksel-{env}-security-alerts"),
            ]
        );
    }
}

#[test]
fn developers_push_their_own_key_and_hold_the_policy_through_their_role() {
    // Review 2's N1 and N7: no shared key pair, and a policy attached to someone.
    let assembly = assembly();
    for (env, account) in [("dev", "333333333333"), ("prod", "555555555555")] {
        let t = Template::from_assembly(&assembly, &format!("piksel-infra-{env}")).unwrap();
        t.resource_count_is("aws_key_pair", 0);
        let instance = t.resource("aws_instance", "developer_access_instance");
        assert!(instance["key_name"].is_null(), "{env}");
        let text = t.resource("aws_iam_policy", "developer_access_developer_policy")["policy"]
            .as_str()
            .unwrap()
            .to_owned();
        // The policy holds references (the instance ARN), so it is a jsonencode; read its
        // statements by what they name.
        assert!(
            text.contains(r#""Action" = "ec2-instance-connect:SendSSHPublicKey""#),
            "{text}"
        );
        assert!(
            text.contains(r#""StringEquals" = {"ec2:osuser" = "ec2-user"}"#),
            "{text}"
        );
        assert!(
            text.contains(r#""Resource" = aws_instance.developer_access_instance.arn"#),
            "{text}"
        );
        assert_eq!(
            text.matches(r#""IpAddress" = {"aws:SourceIp" = "198.51.100.0/24"}"#)
                .count(),
            2,
            "{text}"
        );
        // The developers' role holds it; the account (its SSO) decides who assumes it.
        let role = t.resource("aws_iam_role", "developer_access_developers_role");
        assert_eq!(role["name"], format!("piksel-{env}-developers"));
        let trust = role["assume_role_policy"].as_str().unwrap();
        assert!(
            trust.contains(&format!("arn:aws:iam::{account}:root")),
            "{trust}"
        );
        let attachment = t.resource(
            "aws_iam_role_policy_attachment",
            "developer_access_developers_ssh",
        );
        assert_eq!(
            attachment["policy_arn"],
            "${aws_iam_policy.developer_access_developer_policy.arn}"
        );
        assert_eq!(
            attachment["role"],
            "${aws_iam_role.developer_access_developers_role.name}"
        );
        assert_eq!(
            t.resource("aws_iam_policy", "developer_access_developer_policy")["name"],
            format!("piksel-{env}-developer-ssh")
        );
    }
}

#[test]
fn an_apply_role_may_attach_only_the_managed_policies_the_stacks_attach() {
    // Review 2's N2: AttachRolePolicy with AdministratorAccess on a bounded role.
    let assembly = assembly();
    for (env, account) in [("dev", "333333333333"), ("prod", "555555555555")] {
        // What the stacks attach: AWS managed policies by name, the developers' policy.
        let mut attached = Vec::new();
        for stack in ["piksel-infra", "piksel-eks"] {
            let t = Template::from_assembly(&assembly, &format!("{stack}-{env}")).unwrap();
            for (_, attachment) in t.resources("aws_iam_role_policy_attachment") {
                let arn = attachment["policy_arn"].as_str().unwrap().to_owned();
                attached.push(if arn.contains(":iam::aws:policy/") {
                    let name = arn.split(":iam::aws:policy/").nth(1).unwrap();
                    format!(
                        "arn:aws:iam::aws:policy/{}",
                        name.split('"').next().unwrap()
                    )
                } else {
                    assert_eq!(
                        arn,
                        "${aws_iam_policy.developer_access_developer_policy.arn}"
                    );
                    format!("arn:aws:iam::{account}:policy/piksel-{env}-developer-ssh")
                });
            }
        }
        for (stack, policy) in apply_policies(&assembly, env) {
            let document: serde_json::Value = serde_json::from_str(&policy).unwrap();
            let guard = document["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["Sid"] == "OnlyTheseManagedPolicies")
                .unwrap();
            assert_eq!(guard["Effect"], "Deny");
            assert_eq!(
                guard["Action"],
                serde_json::json!(["iam:AttachRolePolicy", "iam:DetachRolePolicy"])
            );
            let list: Vec<&str> = guard["Condition"]["ArnNotLike"]["iam:PolicyARN"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            for arn in &attached {
                assert!(
                    list.contains(&arn.as_str()),
                    "{stack}-{env}: {arn} not in {list:?}"
                );
            }
            for never in [
                "arn:aws:iam::aws:policy/AdministratorAccess",
                "arn:aws:iam::aws:policy/IAMFullAccess",
            ] {
                assert!(!list.contains(&never), "{stack}-{env}: {never}");
            }
            // Nor the boundary, which allows everything but the escapes.
            assert!(
                list.iter()
                    .all(|arn| !arn.ends_with("-boundary") && !arn.ends_with('*')),
                "{list:?}"
            );
        }
    }
}

#[test]
fn prods_registries_take_release_tags_only() {
    // Review 2's m-f: unreleased builds of main reached the production registry.
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-infra-prod").unwrap();
    let trust = t.resource("aws_iam_role", "ci_ecr_push")["assume_role_policy"].to_string();
    for subject in [
        "repo:piksel/piksel-core:ref:refs/tags/v*",
        "repo:piksel/piksel-jupyter:ref:refs/tags/v*",
    ] {
        assert!(trust.contains(subject), "{subject}: {trust}");
    }
    assert!(!trust.contains("refs/heads/"), "{trust}");
}

#[test]
fn the_website_ci_reads_its_bucket_distribution_and_role_from_the_outputs() {
    // Review 2's m-d.
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-infra-prod").unwrap();
    assert_eq!(
        t.output("website_bucket").unwrap()["value"],
        "piksel-website-555555555555-us-west-2"
    );
    assert_eq!(
        t.output("website_distribution_id").unwrap()["value"],
        "${aws_cloudfront_distribution.website_site.id}"
    );
    assert_eq!(
        t.output("website_deploy_role_arn").unwrap()["value"],
        "${aws_iam_role.website_site_deployer.arn}"
    );
    // `aws cloudfront wait invalidation-completed` may poll.
    let deploy =
        t.resource("aws_iam_role_policy", "website_site_deployer_deploy")["policy"].to_string();
    assert!(deploy.contains("cloudfront:GetInvalidation"), "{deploy}");
    // No website, no outputs, outside production.
    let dev = Template::from_assembly(&assembly, "piksel-infra-dev").unwrap();
    assert!(dev.output("website_bucket").is_none());
}

#[test]
fn the_cni_enforces_the_namespaces_network_policies() {
    // EKS accepts NetworkPolicy objects without enforcing them unless the VPC CNI's
    // network policy agent is on: the default-deny policies would deny nothing.
    let assembly = assembly();
    for env in ["dev", "staging", "prod"] {
        let t = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        assert!(
            t.kube_objects()
                .iter()
                .any(|o| o["kind"] == "NetworkPolicy")
        );
        let cni = t.resource("aws_eks_addon", "addons_vpc_cni_addon");
        let values: serde_json::Value =
            serde_json::from_str(cni["configuration_values"].as_str().unwrap()).unwrap();
        assert_eq!(values["enableNetworkPolicy"], "true", "{env}");
    }
}

#[test]
fn pods_that_call_the_api_may_reach_the_kubernetes_services_address() {
    // Review 3's M5: the CNI's policy agent may judge a pod's packet to the API before the
    // `kubernetes` Service's address becomes the control plane's: both must be allowed.
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-prod").unwrap();
    let range = t.resource("aws_eks_cluster", "cluster_eks_cluster")["kubernetes_network_config"]
        [0]["service_ipv4_cidr"]
        .clone();
    assert_eq!(range, "172.20.0.0/16");
    for namespace in ["jupyterhub", "dask"] {
        let policies = in_namespace(&t, "NetworkPolicy", namespace);
        let policy = named(&policies, "allow-kubernetes-api");
        let peers = policy["spec"]["egress"][0]["to"].to_string();
        assert!(peers.contains("172.20.0.1/32"), "{namespace}: {peers}");
    }
    // Only the pods that start and route the users' pods; never the users' code
    // (review 6's m1).
    let selector = |namespace: &str| {
        named(
            &in_namespace(&t, "NetworkPolicy", namespace),
            "allow-kubernetes-api",
        )["spec"]["podSelector"]["matchExpressions"][0]
            .clone()
    };
    assert_eq!(
        selector("jupyterhub"),
        serde_json::json!({"key": "component", "operator": "In", "values": ["hub"]})
    );
    assert_eq!(
        selector("dask"),
        serde_json::json!({
            "key": "app.kubernetes.io/component",
            "operator": "NotIn",
            "values": ["dask-scheduler", "dask-worker"],
        })
    );
}

#[test]
fn flux_alerts_watch_every_namespace_with_a_platform_helm_release() {
    // Review 3's m3: the add-ons' HelmReleases live in namespaces of their own; a failed
    // upgrade there must reach the critical alert, not only the Kustomization's timeout.
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-prod").unwrap();
    let alerts = in_namespace(&t, "Alert", "flux-system");
    let critical = named(&alerts, "critical").to_string();
    let warnings = named(&alerts, "warnings").to_string();
    for release in helm_releases(&t) {
        let namespace = release["metadata"]["namespace"].as_str().unwrap();
        let watched = format!("\"namespace\":\"{namespace}\"");
        // The services' releases (namespaces odc, jupyterhub, dask) are not the
        // platform's: their failures are warnings, not pages.
        let services = [
            girder_stack_piksel::ODC_NAMESPACE,
            girder_stack_piksel::JUPYTERHUB_NAMESPACE,
            girder_stack_piksel::DASK_NAMESPACE,
        ];
        let alert = if services.contains(&namespace) {
            &warnings
        } else {
            &critical
        };
        assert!(alert.contains(&watched), "{namespace} not watched: {alert}");
    }
    // And the load balancer controller's Service webhook is off: it would fail every
    // Service create while its pods are down.
    let lbc = t.kube_object("HelmRelease", "aws-load-balancer-controller");
    assert_eq!(lbc["spec"]["values"]["enableServiceMutatorWebhook"], false);
}

#[test]
fn the_secrets_the_cluster_reads_exist_without_a_value_in_terraform() {
    // Review 3's m7: ExternalSecrets of names nothing made stall the observability
    // chain; the infra makes each one, and never its value (that stays out of state).
    let assembly = assembly();
    for env in ["dev", "prod"] {
        let infra = Template::from_assembly(&assembly, &format!("piksel-infra-{env}")).unwrap();
        let names: Vec<String> = infra
            .resources("aws_secretsmanager_secret")
            .iter()
            .filter_map(|(_, s)| s["name"].as_str().map(str::to_owned))
            .collect();
        let eks = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        for secret in eks
            .kube_objects()
            .iter()
            .filter(|o| o["kind"] == "ExternalSecret")
        {
            for data in secret["spec"]["data"].as_array().unwrap() {
                let key = data["remoteRef"]["key"].as_str().unwrap();
                assert!(
                    names.iter().any(|n| n == key),
                    "{env}: {key} is made by nobody: {names:?}"
                );
            }
        }
        // The only values Terraform writes are the index users' passwords, which it
        // generates (girder-rds): the third-party credentials never pass through it.
        for (name, _) in infra.resources("aws_secretsmanager_secret_version") {
            assert!(
                ["indexer", "reader", "explorer"]
                    .iter()
                    .any(|user| name == format!("database_{user}_secret_version")),
                "{env}: {name}"
            );
        }
    }
}

#[test]
fn flux_is_installed_only_once_the_agents_may_reach_the_api() {
    // Review 3's m4: the helm provider runs on the agents; its first call must not race
    // the security group rule that lets them in.
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-dev").unwrap();
    let waits = t.resource("helm_release", "flux_controllers")["depends_on"].to_string();
    assert!(
        waits.contains("aws_vpc_security_group_ingress_rule.api_access_ingress_tcp_443_from_"),
        "{waits}"
    );
}

// Review 3's M1: the permissions boundary, and what the apply roles may do to roles.

const ENVIRONMENTS: [(&str, &str); 3] = [
    ("dev", "333333333333"),
    ("staging", "444444444444"),
    ("prod", "555555555555"),
];

/// The strings of a policy field that is one string or a list of them.
fn listed(field: &serde_json::Value) -> Vec<String> {
    match field {
        serde_json::Value::String(one) => vec![one.clone()],
        serde_json::Value::Array(many) => many
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// IAM's wildcard match (`*` any run, `?` one character).
fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

/// Whether `statement`'s conditions hold in `context` (condition key, its values), as IAM
/// evaluates the operators the Piksel policies use: a negated operator holds when the
/// key is absent, a positive one does not.
fn conditions_hold(statement: &serde_json::Value, context: &[(&str, &str)]) -> bool {
    let Some(conditions) = statement.get("Condition").and_then(|c| c.as_object()) else {
        return true;
    };
    conditions.iter().all(|(operator, keys)| {
        keys.as_object().unwrap().iter().all(|(key, values)| {
            let values = listed(values);
            let given: Vec<&str> = context
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| *v)
                .collect();
            let any_equal = given.iter().any(|g| values.iter().any(|v| v == g));
            let any_like = given.iter().any(|g| values.iter().any(|v| glob(v, g)));
            match operator.as_str() {
                "StringEquals" | "ArnEquals" | "ForAnyValue:StringEquals" => any_equal,
                "StringLike" | "ArnLike" => any_like,
                "StringNotEquals" | "ArnNotEquals" => !any_equal,
                "ArnNotLike" | "StringNotLike" => !any_like,
                other => panic!("operator {other} not modelled"),
            }
        })
    })
}

/// Whether policy `document` (JSON) allows `action` on `resource` in `context`: an
/// Allow matches and no Deny does.
fn allows(
    document: &serde_json::Value,
    action: &str,
    resource: &str,
    context: &[(&str, &str)],
) -> bool {
    let matching = |effect: &str| {
        document["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(move |s| {
                s["Effect"] == effect
                    && listed(&s["Action"])
                        .iter()
                        .any(|a| glob(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
                    && listed(&s["Resource"]).iter().any(|r| glob(r, resource))
                    && conditions_hold(s, context)
            })
            .count()
    };
    matching("Allow") > 0 && matching("Deny") == 0
}

/// The environment's boundary policy and its apply roles' policies, parsed.
fn boundary_and_applies(
    assembly: &girder_core::Assembly,
    env: &str,
) -> (serde_json::Value, Vec<(&'static str, serde_json::Value)>) {
    let bootstrap = Template::from_assembly(assembly, &format!("piksel-bootstrap-{env}")).unwrap();
    let boundary = serde_json::from_str(
        bootstrap.resource("aws_iam_policy", "boundary")["policy"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let applies = apply_policies(assembly, env)
        .into_iter()
        .map(|(stack, text)| (stack, serde_json::from_str(&text).unwrap()))
        .collect();
    (boundary, applies)
}

/// Every action the policy text names after `"Action"`, in JSON (`"Action":[...]`) or
/// in a `jsonencode` (`"Action" = [...]`).
fn policy_actions(text: &str) -> Vec<String> {
    let mut actions = Vec::new();
    for (at, _) in text.match_indices("\"Action\"") {
        let rest = text[at + "\"Action\"".len()..].trim_start();
        let rest = rest
            .strip_prefix(':')
            .or_else(|| rest.strip_prefix('='))
            .unwrap()
            .trim_start();
        let value = if rest.starts_with('[') {
            &rest[..=rest.find(']').unwrap()]
        } else {
            let end = rest[1..].find('"').unwrap() + 2;
            &rest[..end]
        };
        actions.extend(
            value
                .split('"')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .filter(|a| a.contains(':')),
        );
    }
    actions
}

#[test]
fn every_action_of_every_role_the_stacks_make_is_within_the_boundary() {
    // Review 3's M1: the boundary was `Allow *`. Its ceiling lists the services the
    // stacks' roles use; a role that needs more fails here, not at apply.
    let assembly = assembly();
    for (env, _) in ENVIRONMENTS {
        let (boundary, _) = boundary_and_applies(&assembly, env);
        let ceiling = boundary["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == "CeilingAllowsTheseServices")
            .unwrap();
        assert_eq!(ceiling["Effect"], "Allow");
        assert_eq!(ceiling["Resource"], "*");
        let ceiling = listed(&ceiling["Action"]);
        assert!(!ceiling.iter().any(|a| a == "*"), "{env}: {ceiling:?}");
        // The only Allow of the boundary.
        assert_eq!(
            boundary["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["Effect"] == "Allow")
                .count(),
            1
        );
        let within = |action: &str| ceiling.iter().any(|c| glob(c, action));
        let mut checked = 0;
        for stack in ["piksel-infra", "piksel-eks"] {
            let t = Template::from_assembly(&assembly, &format!("{stack}-{env}")).unwrap();
            for rtype in ["aws_iam_role_policy", "aws_iam_policy"] {
                for (name, policy) in t.resources(rtype) {
                    let text = policy["policy"].as_str().unwrap();
                    let actions = policy_actions(text);
                    assert!(!actions.is_empty(), "{stack}-{env}: {name}");
                    for action in actions {
                        assert!(
                            within(&action),
                            "{stack}-{env}: {name} needs {action}, outside the boundary"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 100, "{env}: {checked}");
        // Nothing that escapes: no role writes, no assuming other roles, no audit service.
        for never in [
            "iam:PutRolePolicy",
            "iam:UpdateAssumeRolePolicy",
            "iam:PassRole",
            "iam:CreateRole",
            "sts:AssumeRole",
            "cloudtrail:StopLogging",
            "sns:DeleteTopic",
            "organizations:LeaveOrganization",
        ] {
            assert!(!within(never), "{env}: the boundary allows {never}");
        }
    }
}

#[test]
fn a_role_an_apply_makes_inherits_every_audit_and_role_deny_from_the_boundary() {
    // Review 3's M1, path 1: a role made under the boundary with `Action: *` of its own
    // may do only what the boundary allows, and none of what it denies.
    let assembly = assembly();
    for (env, account) in ENVIRONMENTS {
        let (boundary, applies) = boundary_and_applies(&assembly, env);
        let minted = format!("arn:aws:iam::{account}:role/piksel-{env}-minted");
        let as_minted = [("aws:PrincipalArn", minted.as_str())];
        let trail = format!("arn:aws:cloudtrail:us-west-2:{account}:trail/piksel-{env}");
        let bucket = format!("arn:aws:s3:::piksel-{env}-audit-{account}-us-west-2");
        let log_file = format!("{bucket}/AWSLogs/{account}/CloudTrail/us-west-2/file.json.gz");
        let recovery_point = format!("arn:aws:backup:us-west-2:{account}:recovery-point:0123");
        let token =
            format!("arn:aws:ssm:us-west-2:{account}:parameter/piksel/{env}/tfc-agent-token");
        let topic = format!("arn:aws:sns:us-west-2:{account}:piksel-{env}-security-alerts");
        let key = format!("arn:aws:kms:us-west-2:{account}:key/0123");
        let tfc_apply = format!("arn:aws:iam::{account}:role/tfc-piksel-infra-{env}-apply");
        let admin = format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole");
        let denied = [
            ("cloudtrail:StopLogging", trail.as_str()),
            ("cloudtrail:DeleteTrail", trail.as_str()),
            ("cloudtrail:UpdateTrail", trail.as_str()),
            ("cloudtrail:PutEventSelectors", trail.as_str()),
            ("s3:DeleteObjectVersion", log_file.as_str()),
            ("s3:BypassGovernanceRetention", log_file.as_str()),
            ("s3:PutBucketPolicy", bucket.as_str()),
            ("s3:DeleteBucket", bucket.as_str()),
            ("backup:DeleteRecoveryPoint", recovery_point.as_str()),
            (
                "backup:UpdateRecoveryPointLifecycle",
                recovery_point.as_str(),
            ),
            ("ssm:GetParameter", token.as_str()),
            ("ssm:GetParameters", token.as_str()),
            ("ssm:GetParametersByPath", "*"),
            ("sns:DeleteTopic", topic.as_str()),
            ("sns:SetTopicAttributes", topic.as_str()),
            ("sns:Unsubscribe", topic.as_str()),
            ("iam:PutRolePolicy", tfc_apply.as_str()),
            ("iam:UpdateAssumeRolePolicy", tfc_apply.as_str()),
            ("iam:PutRolePolicy", admin.as_str()),
            ("iam:UpdateAssumeRolePolicy", admin.as_str()),
            ("iam:PassRole", minted.as_str()),
            ("sts:AssumeRole", admin.as_str()),
        ];
        for (action, resource) in denied {
            assert!(
                !allows(&boundary, action, resource, &as_minted),
                "{env}: a bounded role may {action} on {resource}"
            );
        }
        // The audit keys: not disabled, deleted or re-policied, by their aliases.
        for alias in [
            format!("alias/cloudtrail/piksel-{env}"),
            format!("alias/backup/piksel-{env}-platform"),
            format!("alias/sns/piksel-{env}-security-alerts"),
        ] {
            let context = [
                ("aws:PrincipalArn", minted.as_str()),
                ("kms:ResourceAliases", alias.as_str()),
            ];
            for action in [
                "kms:ScheduleKeyDeletion",
                "kms:DisableKey",
                "kms:PutKeyPolicy",
            ] {
                assert!(
                    !allows(&boundary, action, &key, &context),
                    "{env}: a bounded role may {action} {alias}"
                );
            }
        }
        // What the workload roles do stays allowed: the cluster's key, its instances, the
        // agents' execution role reading its token.
        assert!(allows(&boundary, "kms:Decrypt", &key, &as_minted));
        assert!(allows(&boundary, "ec2:DescribeInstances", "*", &as_minted));
        // No bounded role reads the agents' token, not even by accident of a name.
        assert!(!allows(
            &boundary,
            "ssm:GetParameters",
            &token,
            &[(
                "aws:PrincipalArn",
                format!("arn:aws:iam::{account}:role/piksel-{env}-tfc-agent-execution").as_str()
            )]
        ));
        // Every boundary Deny is one the apply roles carry too (but those the apply needs).
        for statement in boundary["Statement"].as_array().unwrap() {
            let sid = statement["Sid"].as_str().unwrap();
            if statement["Effect"] != "Deny" || !sid.starts_with("The") {
                continue;
            }
            if [
                "TheTrailKeepsItsSettings",
                "TheTrailBucketKeepsItsPolicyAndLock",
                "TheSecurityTopicKeepsItsSettings",
                "TheBoundaryStays",
                "TheWorkspaceRolesStay",
            ]
            .contains(&sid)
            {
                continue; // the apply needs these (see bootstrap.rs), or has its own
            }
            for (stack, apply) in &applies {
                assert!(
                    apply["Statement"].as_array().unwrap().contains(statement),
                    "{stack}-{env} lacks the boundary's {sid}"
                );
            }
        }
    }
}

#[test]
fn the_agents_execution_role_is_outside_every_apply_and_the_boundary() {
    // Review 3's M2: the token's one reader is the agents' stack's role, applied by hand,
    // unbounded and under `tfc-`, so no apply role may change or pass it.
    let assembly = assembly();
    for (env, account) in ENVIRONMENTS {
        let t = Template::from_assembly(&assembly, &format!("piksel-agents-{env}")).unwrap();
        let role = t.resource("aws_iam_role", "agents_service_execution");
        assert_eq!(role["name"], format!("tfc-agent-piksel-{env}-execution"));
        assert!(role.get("permissions_boundary").is_none());
        let policy = t.resource(
            "aws_iam_role_policy",
            "agents_service_execution_start_agents",
        )["policy"]
            .to_string();
        assert!(
            policy.contains(&format!("parameter/piksel/{env}/tfc-agent-token")),
            "{policy}"
        );
        let (boundary, applies) = boundary_and_applies(&assembly, env);
        let token = boundary["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == "NotTheAgentToken")
            .unwrap();
        assert!(token.get("Condition").is_none(), "{token}");
        let arn = format!("arn:aws:iam::{account}:role/tfc-agent-piksel-{env}-execution");
        for (stack, apply) in &applies {
            for action in [
                "iam:PassRole",
                "iam:PutRolePolicy",
                "iam:UpdateAssumeRolePolicy",
            ] {
                assert!(
                    !allows(apply, action, &arn, &[]),
                    "{stack}-{env} may {action} {arn}"
                );
            }
        }
    }
}

#[test]
fn every_role_the_stacks_make_is_named_for_its_environment() {
    // The apply roles create, re-trust, change, tag, delete and pass `piksel-<env>-*`
    // only: every role the stacks make must be one.
    let assembly = assembly();
    for (env, account) in ENVIRONMENTS {
        let prefix = format!("piksel-{env}-");
        let mut roles = 0;
        for stack in ["piksel-infra", "piksel-eks"] {
            let t = Template::from_assembly(&assembly, &format!("{stack}-{env}")).unwrap();
            for (id, role) in t.resources("aws_iam_role") {
                let name = role["name"].as_str().unwrap_or_else(|| panic!("{id}"));
                assert!(name.starts_with(&prefix), "{stack}-{env}: {id} is {name}");
                // Under the stack's path: only its own apply manages it (review 4).
                assert_eq!(role["path"], format!("/{stack}/"), "{stack}-{env}: {id}");
                assert!(role.get("name_prefix").is_none(), "{stack}-{env}: {id}");
                roles += 1;
            }
        }
        assert!(roles >= 19, "{env}: {roles}");
        let (_, applies) = boundary_and_applies(&assembly, env);
        for (stack, apply) in &applies {
            let pattern = format!("arn:aws:iam::{account}:role/{stack}/piksel-{env}-*");
            let statements = apply["Statement"].as_array().unwrap();
            for sid in [
                "MakeRolesUnderTheBoundary",
                "ChangeOnlyTheseRoles",
                "PassTheseRolesToTheirServices",
            ] {
                let statement = statements.iter().find(|s| s["Sid"] == sid).unwrap();
                assert_eq!(
                    statement["Resource"],
                    pattern.as_str(),
                    "{stack}-{env}: {sid}"
                );
            }
            // No Allow grants the scoped role writes on anything else.
            for statement in statements.iter().filter(|s| s["Effect"] == "Allow") {
                if statement["Resource"] == pattern.as_str() {
                    continue;
                }
                for action in [
                    "iam:CreateRole",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:DeleteRole",
                    "iam:UpdateRole",
                    "iam:TagRole",
                    "iam:UntagRole",
                    "iam:PassRole",
                    "iam:PutRolePermissionsBoundary",
                ] {
                    assert!(
                        !names(&listed(&statement["Action"]), action),
                        "{stack}-{env}: {} allows {action}",
                        statement["Sid"]
                    );
                }
            }
        }
    }
}

#[test]
fn an_apply_re_trusts_and_passes_only_the_stacks_roles_to_the_services_they_trust() {
    // Review 3's M1, path 2: UpdateAssumeRolePolicy on any role not `tfc-*` (an
    // administrator's) was account admin; PassRole had no service.
    let assembly = assembly();
    for (env, account) in ENVIRONMENTS {
        // The services the stacks' roles trust are the ones they are passed to.
        let mut trusted: Vec<String> = Vec::new();
        for stack in ["piksel-infra", "piksel-eks"] {
            let t = Template::from_assembly(&assembly, &format!("{stack}-{env}")).unwrap();
            for (_, role) in t.resources("aws_iam_role") {
                let trust = role["assume_role_policy"].as_str().unwrap();
                for service in trust
                    .split('"')
                    .filter(|s| s.ends_with(".amazonaws.com") && !s.starts_with("sts."))
                {
                    if !trusted.iter().any(|t| t == service) {
                        trusted.push(service.to_owned());
                    }
                }
            }
        }
        trusted.sort();
        let (_, applies) = boundary_and_applies(&assembly, env);
        // The cluster's role (the EKS stack's) and the CI push role (the infra's): each
        // apply manages its own stack's roles, never the other's (review 4's M-A: an
        // infra run could re-trust the cluster's administrators).
        let eks_role = format!("arn:aws:iam::{account}:role/piksel-eks/piksel-{env}-cluster");
        let infra_role = format!("arn:aws:iam::{account}:role/piksel-infra/piksel-{env}-ecr-push");
        let admin = format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole");
        let tfc = format!("arn:aws:iam::{account}:role/tfc-piksel-eks-{env}-apply");
        let boundary = format!("arn:aws:iam::{account}:policy/piksel-{env}-boundary");
        for (stack, apply) in &applies {
            let pass = apply["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["Sid"] == "PassTheseRolesToTheirServices")
                .unwrap();
            let mut passed_to = listed(&pass["Condition"]["StringEquals"]["iam:PassedToService"]);
            passed_to.sort();
            assert_eq!(passed_to, trusted, "{stack}-{env}");
            let region = [("aws:RequestedRegion", "us-west-2")];
            let (own, others) = if *stack == "piksel-eks" {
                (&eks_role, &infra_role)
            } else {
                (&infra_role, &eks_role)
            };
            for action in [
                "iam:UpdateAssumeRolePolicy",
                "iam:DeleteRole",
                "iam:UpdateRole",
                "iam:TagRole",
                "iam:UntagRole",
            ] {
                assert!(
                    allows(apply, action, own, &region),
                    "{stack}-{env}: {action} on its own {own}"
                );
                for other in [others, &admin, &tfc] {
                    assert!(
                        !allows(apply, action, other, &region),
                        "{stack}-{env} may {action} on {other}"
                    );
                }
            }
            // Passed to the services the roles trust, and to no other.
            let to = |service: &'static str| [("iam:PassedToService", service)];
            assert!(allows(apply, "iam:PassRole", own, &to("eks.amazonaws.com")));
            assert!(
                !allows(apply, "iam:PassRole", others, &to("eks.amazonaws.com")),
                "{stack}-{env} may pass the other stack's {others}"
            );
            for service in ["lambda.amazonaws.com", "codebuild.amazonaws.com"] {
                assert!(
                    !allows(apply, "iam:PassRole", own, &to(service)),
                    "{stack}-{env} may pass a role to {service}"
                );
            }
            assert!(!allows(apply, "iam:PassRole", own, &[]), "{stack}-{env}");
            assert!(!allows(
                apply,
                "iam:PassRole",
                &admin,
                &to("ec2.amazonaws.com")
            ));
            // An apply assumes no role, not even one it made.
            assert!(
                !allows(apply, "sts:AssumeRole", own, &region),
                "{stack}-{env}"
            );
            // Roles are made by the stacks' names, under the boundary only.
            let minted = format!("arn:aws:iam::{account}:role/{stack}/piksel-{env}-minted");
            let bounded = [("iam:PermissionsBoundary", boundary.as_str())];
            assert!(allows(apply, "iam:CreateRole", &minted, &bounded));
            assert!(!allows(apply, "iam:CreateRole", &minted, &[]));
            let elsewhere = format!("arn:aws:iam::{account}:role/backdoor");
            assert!(!allows(apply, "iam:CreateRole", &elsewhere, &bounded));
            // The security topic is not deleted (m8); its subscriptions stay the infra's
            // to replace.
            let topic = format!("arn:aws:sns:us-west-2:{account}:piksel-{env}-security-alerts");
            assert!(
                !allows(apply, "sns:DeleteTopic", &topic, &region),
                "{stack}-{env} may delete the security topic"
            );
        }
    }
}

/// The services each AWS managed policy the stacks attach grants actions of (from the
/// policies' published documents), for the boundary's ceiling: a bounded role gets the
/// intersection, so a service missing from the ceiling silently breaks the role.
const MANAGED_POLICY_SERVICES: [(&str, &[&str]); 6] = [
    (
        "AmazonEKSClusterPolicy",
        &["autoscaling", "ec2", "elasticloadbalancing", "kms"],
    ),
    // eks:DescribeCluster only: the ceiling allows EKS reads, no write.
    (
        "AmazonEKSWorkerNodePolicy",
        &["ec2", "eks:Describe*", "eks-auth"],
    ),
    ("AmazonEC2ContainerRegistryPullOnly", &["ecr"]),
    ("AmazonEKS_CNI_Policy", &["ec2"]),
    (
        "service-role/AWSBackupServiceRolePolicyForBackup",
        &["backup", "ec2", "rds", "kms", "tag"],
    ),
    (
        "service-role/AWSBackupServiceRolePolicyForRestores",
        &["backup", "ec2", "rds", "kms"],
    ),
];

#[test]
fn the_managed_policies_the_stacks_attach_are_within_the_boundary() {
    let assembly = assembly();
    for (env, _) in ENVIRONMENTS {
        let (boundary, _) = boundary_and_applies(&assembly, env);
        let ceiling = listed(
            &boundary["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["Sid"] == "CeilingAllowsTheseServices")
                .unwrap()["Action"],
        );
        for stack in ["piksel-infra", "piksel-eks"] {
            let t = Template::from_assembly(&assembly, &format!("{stack}-{env}")).unwrap();
            for (id, attachment) in t.resources("aws_iam_role_policy_attachment") {
                let arn = attachment["policy_arn"].as_str().unwrap();
                let Some(name) = arn.split(":iam::aws:policy/").nth(1) else {
                    continue; // the stack's own policy: checked by its actions
                };
                let name = name.split('"').next().unwrap();
                let (_, services) = MANAGED_POLICY_SERVICES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .unwrap_or_else(|| panic!("{stack}-{env}: {id} attaches {name}, whose services this test does not know"));
                for service in *services {
                    let needed = if service.contains(':') {
                        (*service).to_owned()
                    } else {
                        format!("{service}:*")
                    };
                    assert!(
                        ceiling.contains(&needed),
                        "{stack}-{env}: {name} needs {service}, outside the boundary"
                    );
                }
            }
        }
    }
}

#[test]
fn the_boundary_and_the_apply_policies_fit_iams_size_limits() {
    // A managed policy (the boundary) holds at most 6,144 characters, a role's inline
    // policies 10,240 together, whitespace not counted.
    let assembly = assembly();
    let size = |text: &str| text.chars().filter(|c| !c.is_whitespace()).count();
    for (env, _) in ENVIRONMENTS {
        let (boundary, applies) = boundary_and_applies(&assembly, env);
        let boundary = size(&boundary.to_string());
        assert!(boundary <= 6144, "{env}: the boundary is {boundary}");
        for (stack, apply) in applies {
            let apply = size(&apply.to_string());
            assert!(apply <= 10240, "{stack}-{env}: the apply policy is {apply}");
        }
    }
}

#[test]
fn a_plan_reads_configuration_never_data() {
    // Review 3's m11: the plan roles hold ReadOnlyAccess and pull requests plan the infra:
    // no object of a bucket (the notebooks are users' work), no image, no log event.
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-bootstrap-prod").unwrap();
    for id in ["infra_aws_plan_plan", "eks_aws_plan_plan"] {
        let policy: serde_json::Value = serde_json::from_str(
            t.resource("aws_iam_role_policy", id)["policy"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        for (action, resource) in [
            (
                "s3:GetObject",
                "arn:aws:s3:::piksel-notebooks-555555555555-us-west-2/alice/x.ipynb",
            ),
            (
                "ecr:GetDownloadUrlForLayer",
                "arn:aws:ecr:us-west-2:555555555555:repository/piksel-core",
            ),
            (
                "logs:GetLogEvents",
                "arn:aws:logs:us-west-2:555555555555:log-group:/aws/eks/piksel-prod/cluster",
            ),
            (
                "secretsmanager:GetSecretValue",
                "arn:aws:secretsmanager:us-west-2:555555555555:secret:piksel/prod/alerting",
            ),
        ] {
            let denied = policy["Statement"].as_array().unwrap().iter().any(|s| {
                s["Effect"] == "Deny"
                    && names(&listed(&s["Action"]), action)
                    && listed(&s["Resource"]).iter().any(|r| glob(r, resource))
            });
            assert!(denied, "{id} may {action} {resource}");
        }
    }
}

#[test]
fn only_the_node_exporter_runs_privileged() {
    // Review 3's m10: the whole monitoring namespace was privileged for the node
    // exporter's sake; Prometheus, Grafana, Alertmanager and the operator get a floor.
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-prod").unwrap();
    let level = |name: &str| {
        t.kube_object("Namespace", name)["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
            .clone()
    };
    assert_eq!(level("monitoring"), "baseline");
    assert_eq!(level("monitoring-node-exporter"), "privileged");
    let release = t.kube_object("HelmRelease", "kube-prometheus-stack");
    assert_eq!(
        release["spec"]["values"]["prometheus-node-exporter"]["namespaceOverride"],
        "monitoring-node-exporter"
    );
}

#[test]
fn the_odc_products_reach_the_cluster_as_checked_definitions() {
    // Issue 14's start: each product girder-odc checked is a key of ConfigMap
    // odc-products in namespace odc, as `datacube product add` reads it.
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-dev").unwrap();
    let config = t.kube_object("ConfigMap", "odc-products");
    assert_eq!(config["metadata"]["namespace"], "odc");
    for product in girder_stack_piksel::odc_products() {
        let key = format!("{}.odc-product.yaml", product.name());
        let yaml = config["data"][&key]
            .as_str()
            .unwrap_or_else(|| panic!("{key}"));
        assert_eq!(girder_odc::Product::from_yaml(yaml).unwrap(), product);
    }
}

#[test]
fn the_index_is_initialised_by_a_job_that_alone_reads_the_master_secret() {
    let assembly = assembly();
    for env in ["dev", "staging", "prod"] {
        let t = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        // Its role reads the master secret and the three users' secrets, nothing else.
        let policy = t.resource("aws_iam_role_policy", "odc_roles_init_role_workload")["policy"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(policy.contains("master_user_secret"), "{policy}");
        for user in ["indexer", "reader", "explorer"] {
            assert!(
                policy.contains(&format!("database_{user}_secret_arn")),
                "{policy}"
            );
        }
        assert_eq!(policy.matches("\"Action\"").count(), 1, "{policy}");
        assert!(policy.contains("\"Action\" = \"secretsmanager:GetSecretValue\""));
        // The External Secrets role never reads the master secret: RDS names it
        // `rds!db-...`, outside both of its prefixes.
        let eso = addon_policy(&t, "external_secrets");
        assert!(!eso.contains("master_user_secret"), "{eso}");
        assert!(
            eso.contains(&format!("secret:piksel-{env}-odc/users/*")),
            "{eso}"
        );

        let jobs: Vec<_> = kinds(&t, "Job")
            .into_iter()
            .filter(|j| {
                j["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .starts_with("odc-init-")
            })
            .collect();
        assert_eq!(jobs.len(), 1, "{env}");
        let pod = &jobs[0]["spec"]["template"]["spec"];
        assert_eq!(pod["serviceAccountName"], "odc-init");
        assert_eq!(pod["automountServiceAccountToken"], false);
        let container = &pod["containers"][0];
        let image = container["image"].as_str().unwrap();
        assert_eq!(
            image,
            girder_stack_piksel::pinned_image(
                &girder_stack_piksel::environments()
                    .into_iter()
                    .find(|e| e.name == env)
                    .unwrap(),
                "piksel-core"
            )
            .unwrap()
            .to_string()
        );
        assert!(image.contains("@sha256:"), "{image}");
        let env_var = |name: &str| {
            container["env"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["name"] == name)
                .unwrap_or_else(|| panic!("{name}"))["value"]
                .clone()
        };
        // Values known at apply come through Flux's substitution, from the outputs
        // ConfigMap Terraform writes.
        assert_eq!(env_var("ODC_MASTER_SECRET_ARN"), "${ODC_MASTER_SECRET_ARN}");
        assert_eq!(env_var("DB_HOSTNAME"), "${ODC_DB_HOST}");
        assert_eq!(env_var("PGSSLMODE"), "verify-full");
        // Review 5's B2: datacube-ows's schema command loads the services' configuration.
        assert_eq!(env_var("DATACUBE_OWS_CFG"), "/odc/scripts/ows_cfg.json");
        let scripts = t.kube_object("ConfigMap", "odc-scripts");
        let services = t.kube_object("ConfigMap", "ows-config");
        assert_eq!(
            scripts["data"]["ows_cfg.json"],
            services["data"]["ows_cfg.json"]
        );
        let outputs = t.resources("kubernetes_config_map_v1");
        let (_, outputs) = outputs
            .iter()
            .find(|(name, _)| name.contains("terraform_outputs"))
            .unwrap();
        for key in ["ODC_MASTER_SECRET_ARN", "ODC_DB_HOST"] {
            assert!(outputs["data"][key].as_str().is_some(), "{key}");
        }
        // No Secret of the cluster holds the master password: no ExternalSecret reads it.
        for secret in kinds(&t, "ExternalSecret") {
            assert!(!secret.to_string().contains("rds!"), "{secret}");
        }
    }
}

#[test]
fn each_index_user_reaches_the_namespaces_that_use_it_and_no_other() {
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-dev").unwrap();
    let mut found: Vec<(String, String, String)> = kinds(&t, "ExternalSecret")
        .into_iter()
        .filter(|s| {
            s["spec"]["data"][0]["remoteRef"]["key"]
                .as_str()
                .is_some_and(|k| k.starts_with("piksel-dev-odc/users/"))
        })
        .map(|s| {
            let keys: Vec<&str> = s["spec"]["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["secretKey"].as_str().unwrap())
                .collect();
            assert_eq!(keys, ["postgres-username", "postgres-password"]);
            (
                s["metadata"]["namespace"].as_str().unwrap().to_owned(),
                s["spec"]["target"]["name"].as_str().unwrap().to_owned(),
                s["spec"]["data"][0]["remoteRef"]["key"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    found.sort();
    let expected: Vec<(String, String, String)> = [
        ("jupyterhub", "odc-reader", "odc_reader"),
        ("odc", "odc-explorer", "odc_explorer"),
        ("odc", "odc-indexer", "odc_indexer"),
        ("odc", "odc-reader", "odc_reader"),
    ]
    .iter()
    .map(|(ns, secret, user)| {
        (
            (*ns).to_owned(),
            (*secret).to_owned(),
            format!("piksel-dev-odc/users/{user}"),
        )
    })
    .collect();
    assert_eq!(found, expected);
    // The store serves those namespaces.
    let store = t.kube_object("ClusterSecretStore", "aws-secrets-manager");
    let allowed = store["spec"]["conditions"][0]["namespaces"].to_string();
    for ns in ["odc", "jupyterhub"] {
        assert!(allowed.contains(&format!("\"{ns}\"")), "{allowed}");
    }
    // The infra makes each user's secret with Terraform's password.
    let infra = Template::from_assembly(&assembly, "piksel-infra-dev").unwrap();
    // The master is ODC's admin role itself (review 5's M3: the postgis driver's init
    // relies on it on PostgreSQL 16).
    assert_eq!(
        infra.resource("aws_db_instance", "database_odc")["username"],
        "odc_admin"
    );
    for user in ["odc_indexer", "odc_reader", "odc_explorer"] {
        let secrets = infra.resources("aws_secretsmanager_secret");
        assert!(
            secrets
                .iter()
                .any(|(_, s)| s["name"] == format!("piksel-dev-odc/users/{user}")),
            "{user}"
        );
    }
}

#[test]
fn every_product_is_indexed_on_a_schedule_by_a_role_reading_the_data_bucket_only() {
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-dev").unwrap();
    let cronjobs = kinds(&t, "CronJob");
    for product in girder_stack_piksel::odc_products() {
        let job = cronjobs
            .iter()
            .find(|c| {
                c["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["name"] == "ODC_PRODUCT" && e["value"] == product.name())
            })
            .unwrap_or_else(|| panic!("no indexing of {}", product.name()));
        let pod = &job["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        assert_eq!(pod["serviceAccountName"], "odc-indexer");
        assert_eq!(job["spec"]["concurrencyPolicy"], "Forbid");
        // The command is one the image's contract provides.
        let script = pod["containers"][0]["command"][2].as_str().unwrap();
        let words: Vec<&str> = script.split_whitespace().collect();
        let program = words[words.iter().position(|w| *w == "exec").unwrap() + 1];
        // Flux substitutes `${NAME}` and `$NAME` in every manifest: none is left for it.
        assert!(!script.contains("${"), "{script}");
        assert!(
            girder_stack_piksel::CoreImage::COMMANDS.contains(&program),
            "{program}"
        );
        assert!(script.contains(product.name()), "{script}");
        // As the indexer, never the master user; its credentials are files.
        let secrets: Vec<&str> = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v["secret"]["secretName"].as_str())
            .collect();
        assert_eq!(secrets, ["odc-indexer"]);
        assert!(!pod.to_string().contains("secretKeyRef"), "{pod}");
    }
    let policy = t.resource("aws_iam_role_policy", "odc_roles_indexer_role_workload")["policy"]
        .as_str()
        .unwrap()
        .to_owned();
    // List and get, for each analysis's prefix of the data bucket.
    assert_eq!(policy.matches("\"Sid\"").count(), 4, "{policy}");
    let count = |text: &str| policy.matches(text).count();
    assert_eq!(count("\"Action\" = \"s3:ListBucket\""), 2, "{policy}");
    assert_eq!(count("\"Action\" = \"s3:GetObject\""), 2, "{policy}");
    assert_eq!(count("aws_s3_bucket_storage_data_arn"), 4, "{policy}");
    for prefix in ["gm_s2_annual/", "wofs_ls/"] {
        assert!(policy.contains(&format!("{prefix}*")), "{policy}");
    }
    assert!(!policy.contains("notebooks"), "{policy}");
}

/// The HelmRelease `name` of app odc-services, and its inline values.
fn odc_release<'a>(t: &'a Template, name: &str) -> (&'a serde_json::Value, &'a serde_json::Value) {
    let release = named(&in_namespace(t, "HelmRelease", "odc"), name);
    (release, &release["spec"]["values"])
}

#[test]
fn every_ows_layer_serves_an_indexed_product_with_styles_and_limits() {
    let assembly = assembly();
    let indexed: Vec<String> = girder_stack_piksel::odc_products()
        .iter()
        .map(|p| p.name().to_owned())
        .collect();
    for env in girder_stack_piksel::environments() {
        let t = Template::from_assembly(&assembly, &format!("piksel-eks-{}", env.name)).unwrap();
        let config = named(&in_namespace(&t, "ConfigMap", "odc"), "ows-config");
        let text = config["data"]["ows_cfg.json"].as_str().unwrap();
        assert_eq!(
            text.trim_end(),
            girder_stack_piksel::ows_config(&env).to_json().unwrap()
        );
        let doc: serde_json::Value = serde_json::from_str(text).unwrap();
        let mut served = Vec::new();
        for folder in doc["layers"].as_array().unwrap() {
            for layer in folder["layers"].as_array().unwrap() {
                let product = layer["product_name"].as_str().unwrap();
                assert!(indexed.iter().any(|p| p == product), "{product}");
                served.push(product.to_owned());
                assert!(!layer["styling"]["styles"].as_array().unwrap().is_empty());
                assert!(
                    layer["resource_limits"]["wms"]["max_datasets"]
                        .as_u64()
                        .unwrap()
                        <= 1000
                );
            }
        }
        served.sort();
        let mut all = indexed.clone();
        all.sort();
        assert_eq!(served, all, "a layer per indexed product");
        // Sentinel-2: true colour, false colour, NDVI.
        let s2 = &doc["layers"][0]["layers"][0];
        let styles: Vec<&str> = s2["styling"]["styles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(styles, ["true_colour", "false_colour", "ndvi"]);
        assert_eq!(
            doc["global"]["allowed_urls"],
            serde_json::json!([format!("http://ows.{}.piksel.internal", env.name)])
        );
    }
}

#[test]
fn the_odc_services_run_restricted_on_the_workloads_pool_from_the_core_image() {
    let assembly = assembly();
    for env in ["dev", "staging", "prod"] {
        let t = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        let (_, ows) = odc_release(&t, "ows");
        let pod = &ows["securityContext"];
        assert_eq!(pod["runAsNonRoot"], true);
        assert_eq!(pod["seccompProfile"]["type"], "RuntimeDefault");
        let container = &ows["ows"]["securityContext"];
        assert_eq!(container["allowPrivilegeEscalation"], false);
        assert_eq!(
            container["capabilities"]["drop"],
            serde_json::json!(["ALL"])
        );
        // No init container copying a configuration out of another image.
        assert!(ows["owsConfig"]["image"].is_null());
        assert!(ows["owsConfig"].as_object().unwrap().contains_key("image"));
        // No NodePort (the namespace's quota allows none).
        assert_eq!(ows["service"]["type"], "ClusterIP");
        let (explorer_release, explorer) = odc_release(&t, "explorer");
        let patch = &explorer_release["spec"]["postRenderers"][0]["kustomize"]["patches"][0];
        assert_eq!(patch["target"]["kind"], "Deployment");
        assert_eq!(patch["target"]["name"], "explorer-datacube-explorer");
        let operations: serde_json::Value =
            serde_json::from_str(patch["patch"].as_str().unwrap()).unwrap();
        let set = |path: &str| {
            operations
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["path"] == path)
                .map(|o| o["value"].clone())
                .unwrap_or_else(|| panic!("{env}: no {path}"))
        };
        assert_eq!(
            set("/spec/template/spec/securityContext")["runAsNonRoot"],
            true
        );
        assert_eq!(
            set("/spec/template/spec/containers/0/securityContext")["capabilities"]["drop"],
            serde_json::json!(["ALL"])
        );
        for values in [ows, explorer] {
            let affinity = &values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                ["nodeSelectorTerms"][0]["matchExpressions"][0];
            assert_eq!(affinity["key"], girder_stack_piksel::POOL_LABEL);
            assert_eq!(affinity["values"], serde_json::json!(["workloads"]));
        }
        for image in [&ows["ows"]["image"], &explorer["image"]] {
            assert_eq!(image["repository"], "piksel-core");
            assert!(image["tag"].as_str().unwrap().contains("@sha256:"), "{env}");
            assert!(
                image["registry"]
                    .as_str()
                    .unwrap()
                    .ends_with(".dkr.ecr.us-west-2.amazonaws.com")
            );
        }
        for cron in in_namespace(&t, "CronJob", "odc") {
            let pod = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"];
            assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{env}");
            for container in pod["containers"].as_array().unwrap() {
                assert_eq!(
                    container["securityContext"]["allowPrivilegeEscalation"],
                    false
                );
            }
        }
    }
}

#[test]
fn prod_keeps_two_of_each_odc_service_with_disruption_budgets() {
    let assembly = assembly();
    for env in ["dev", "staging", "prod"] {
        let t = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        let (_, ows) = odc_release(&t, "ows");
        let explorer_hpa = named(
            &in_namespace(&t, "HorizontalPodAutoscaler", "odc"),
            "explorer-datacube-explorer",
        );
        let ows_min = ows["minReplicas"].as_u64().unwrap();
        let explorer_min = explorer_hpa["spec"]["minReplicas"].as_u64().unwrap();
        assert!(ows_min <= ows["maxReplicas"].as_u64().unwrap());
        assert_eq!(ows["ows"]["hpa"]["autoscaling"], true, "{env}");
        assert_eq!(
            explorer_hpa["spec"]["scaleTargetRef"]["name"],
            "explorer-datacube-explorer"
        );
        let budgets = in_namespace(&t, "PodDisruptionBudget", "odc");
        if env == "prod" {
            assert!(ows_min >= 2 && explorer_min >= 2);
            assert!(ows["maxReplicas"].as_u64().unwrap() > 2);
            let ows_pdb = named(&budgets, "ows");
            assert_eq!(
                ows_pdb["spec"]["selector"]["matchLabels"],
                serde_json::json!({"app": "datacube-ows", "release": "ows"})
            );
            assert_eq!(ows_pdb["spec"]["minAvailable"], 1);
            let explorer_pdb = named(&budgets, "explorer");
            assert_eq!(
                explorer_pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"],
                "explorer"
            );
        } else {
            // One replica is the floor: a budget of one would block every drain.
            assert!(budgets.is_empty(), "{env}");
        }
    }
}

#[test]
fn the_odc_services_are_internal_alb_ingresses_at_their_hosts() {
    let assembly = assembly();
    for env in ["dev", "staging", "prod"] {
        let t = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        for (release, host, health) in [
            ("ows", format!("ows.{env}.piksel.internal"), "/ping"),
            (
                "explorer",
                format!("explorer.{env}.piksel.internal"),
                "/stac",
            ),
        ] {
            let (_, values) = odc_release(&t, release);
            let ingress = &values["ingress"];
            assert_eq!(ingress["enabled"], true);
            assert_eq!(ingress["ingressClassName"], "alb");
            assert_eq!(ingress["hosts"], serde_json::json!([host]));
            let annotations = &ingress["annotations"];
            assert_eq!(annotations["alb.ingress.kubernetes.io/scheme"], "internal");
            assert_eq!(annotations["alb.ingress.kubernetes.io/target-type"], "ip");
            assert_eq!(
                annotations["alb.ingress.kubernetes.io/healthcheck-path"],
                health
            );
        }
    }
}

#[test]
fn the_odc_services_read_the_index_as_their_own_users_with_the_postgis_driver() {
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-dev").unwrap();
    for (release, secret) in [("ows", "odc-reader"), ("explorer", "odc-explorer")] {
        let (_, values) = odc_release(&t, release);
        let database = &values["database"];
        assert_eq!(database["existingSecret"], secret);
        assert_eq!(database["host"], "${ODC_DB_HOST}");
        assert_eq!(database["port"], 5432);
        assert_eq!(database["database"], "odc");
        let env = if release == "ows" {
            &values["ows"]["additionalEnvironmentVars"]
        } else {
            &values["additionalEnvironmentVars"]
        };
        assert_eq!(env["ODC_DEFAULT_INDEX_DRIVER"], "postgis");
    }
    let (_, ows) = odc_release(&t, "ows");
    assert_eq!(ows["owsConfig"]["configMap"], "ows-config");
    assert_eq!(ows["owsConfig"]["ows_cfg"], "/env/config/ows_cfg.json");
    let crons = in_namespace(&t, "CronJob", "odc");
    for (name, secret, command) in [
        (
            "ows-update",
            "odc-indexer",
            "datacube-ows-update --views && exec datacube-ows-update",
        ),
        (
            "explorer-summaries",
            "odc-explorer",
            "exec cubedash-gen --init --all",
        ),
    ] {
        let container = &named(&crons, name)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
            [0];
        let line: Vec<&str> = container["command"]
            .as_array()
            .unwrap()
            .iter()
            .chain(container["args"].as_array().into_iter().flatten())
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(line.join(" ").ends_with(command), "{name}: {line:?}");
        // The user's credentials as files (checkov's CKV_K8S_35), never env.
        let pod = &named(&crons, name)["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        let mounted: Vec<&str> = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v["secret"]["secretName"].as_str())
            .collect();
        assert_eq!(mounted, [secret], "{name}");
        assert!(!container.to_string().contains("secretKeyRef"), "{name}");
        let env = container["env"].as_array().unwrap();
        let driver = env
            .iter()
            .find(|e| e["name"] == "ODC_DEFAULT_INDEX_DRIVER")
            .unwrap();
        assert_eq!(driver["value"], "postgis");
    }
}

#[test]
fn the_odc_services_are_scraped_alerted_on_and_applied_after_their_crds() {
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-prod").unwrap();
    for (name, port) in [
        ("ows-datacube-ows", "80"),
        ("explorer-datacube-explorer", "http"),
    ] {
        let monitor = named(&in_namespace(&t, "ServiceMonitor", "odc"), name);
        assert_eq!(
            monitor["metadata"]["labels"]["release"],
            "kube-prometheus-stack"
        );
        assert_eq!(monitor["spec"]["endpoints"][0]["port"], port);
    }
    let (_, ows) = odc_release(&t, "ows");
    assert_eq!(ows["prometheus"]["enabled"], true);
    let rule = named(&in_namespace(&t, "PrometheusRule", "odc"), "odc-services");
    assert_eq!(
        rule["metadata"]["labels"]["release"],
        "kube-prometheus-stack"
    );
    let alerts: Vec<&str> = rule["spec"]["groups"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["alert"].as_str().unwrap())
        .collect();
    for alert in [
        "OdcServicePodsNotReady",
        "OdcServiceDown",
        "OdcServiceErrorsHigh",
    ] {
        assert!(alerts.contains(&alert), "{alerts:?}");
    }
    let dashboard = named(
        &in_namespace(&t, "ConfigMap", "odc"),
        "dashboard-piksel-odc-services",
    );
    assert_eq!(dashboard["metadata"]["labels"]["grafana_dashboard"], "1");
    let flux = t.kube_object("Kustomization", "piksel-eks-prod-odc-services");
    let after: Vec<&str> = flux["spec"]["dependsOn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    for app in ["odc-index", "secret-stores", "observability"] {
        assert!(
            after.contains(&format!("piksel-eks-prod-{app}").as_str()),
            "{after:?}"
        );
    }
}

#[test]
fn datacube_ows_reads_pixels_with_a_role_of_its_own_and_nothing_else() {
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-dev").unwrap();
    let (_, ows) = odc_release(&t, "ows");
    assert_eq!(ows["serviceAccount"]["name"], "ows");
    assert_eq!(ows["serviceAccount"]["enabled"], true);
    let env = &ows["ows"]["additionalEnvironmentVars"];
    assert_eq!(env["AWS_REQUEST_PAYER"], "requester");
    assert!(env.get("AWS_NO_SIGN_REQUEST").is_none());
    let association = t
        .resources("aws_eks_pod_identity_association")
        .into_iter()
        .find(|(_, a)| a["service_account"] == "ows")
        .map(|(_, a)| a.clone())
        .unwrap();
    assert_eq!(association["namespace"], "odc");
    let policy = t.resource(
        "aws_iam_role_policy",
        "odc_services_roles_ows_role_workload",
    )["policy"]
        .as_str()
        .unwrap()
        .to_owned();
    for prefix in ["gm_s2_annual/", "wofs_ls/"] {
        assert!(policy.contains(&format!("{prefix}*")), "{policy}");
    }
    for objects in ["sentinel-cogs/*", "usgs-landsat/collection02/*"] {
        assert!(
            policy.contains(&format!("arn:aws:s3:::{objects}")),
            "{policy}"
        );
    }
    assert!(!policy.contains("notebooks"), "{policy}");
    assert!(!policy.contains("s3:PutObject"), "{policy}");
    // Explorer reads only the index: no role, no ServiceAccount value.
    let (_, explorer) = odc_release(&t, "explorer");
    assert!(explorer.get("serviceAccount").is_none());
}

/// The values of HelmRelease `name` of `piksel-eks-<env>`.
fn release_values(assembly: &girder_core::Assembly, env: &str, name: &str) -> serde_json::Value {
    let t = Template::from_assembly(assembly, &format!("piksel-eks-{env}")).unwrap();
    t.kube_object("HelmRelease", name)["spec"]["values"].clone()
}

/// The number after `c.ClusterConfig.<field> = ` in the gateway's configuration.
fn gateway_setting(values: &serde_json::Value, field: &str) -> u64 {
    let config = values["gateway"]["extraConfig"]["girder-cluster-policy"]
        .as_str()
        .unwrap();
    let line = config
        .lines()
        .find_map(|l| l.strip_prefix(&format!("c.ClusterConfig.{field} = ")))
        .unwrap_or_else(|| panic!("no {field}: {config}"));
    line.trim_matches(|c| c == '"' || c == 'G').parse().unwrap()
}

#[test]
fn the_notebook_sync_may_list_put_and_delete_under_notebooks_only() {
    let assembly = assembly();
    for env in ["dev", "staging", "prod"] {
        let t = Template::from_assembly(&assembly, &format!("piksel-infra-{env}")).unwrap();
        let role = t.resource("aws_iam_role", "ci_notebook_sync");
        assert_eq!(role["name"], format!("piksel-{env}-notebook-sync"));
        let trust = role["assume_role_policy"].to_string();
        let subject = if env == "prod" {
            "repo:piksel/piksel-jupyter:environment:prod"
        } else {
            "repo:piksel/piksel-jupyter:ref:refs/heads/main"
        };
        assert!(trust.contains(subject), "{env}: {trust}");
        assert!(trust.contains("aws_iam_openid_connect_provider.ci_github.arn"));
        let policy = t.resource("aws_iam_role_policy", "ci_notebook_sync_sync")["policy"]
            .as_str()
            .unwrap()
            .to_owned();
        // Listing under the prefix, writing and deleting objects under it; no reads, no
        // version deletes (versioning keeps what a sync removes), no other bucket.
        assert!(
            policy.contains(r#""s3:prefix" = "notebooks/*""#),
            "{policy}"
        );
        assert!(
            policy.contains(r#"format("%s/notebooks/*", aws_s3_bucket.storage_notebooks.arn)"#),
            "{policy}"
        );
        for action in ["s3:ListBucket", "s3:PutObject", "s3:DeleteObject"] {
            assert!(policy.contains(action), "{action}: {policy}");
        }
        for never in [
            "s3:GetObject",
            "s3:DeleteObjectVersion",
            "s3:*",
            "storage_data",
            r#""Resource" = "*""#,
        ] {
            assert!(!policy.contains(never), "{never}: {policy}");
        }
        // The bucket it writes is the versioned one.
        let versioning = t.resources("aws_s3_bucket_versioning");
        assert!(
            versioning
                .iter()
                .any(|(name, v)| name.starts_with("storage_notebooks")
                    && v["versioning_configuration"][0]["status"] == "Enabled"),
            "{env}"
        );
    }
}

#[test]
fn notebook_servers_read_the_examples_read_only_as_their_own_account() {
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-dev").unwrap();
    let association = t.resource(
        "aws_eks_pod_identity_association",
        "jupyter_notebook_reader_association",
    );
    assert_eq!(association["namespace"], "jupyterhub");
    assert_eq!(association["service_account"], "jupyter-user");
    let policy = t.resource(
        "aws_iam_role_policy",
        "jupyter_notebook_reader_role_workload",
    )["policy"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("s3:ListBucket") && policy.contains("s3:GetObject"));
    for never in ["s3:PutObject", "s3:DeleteObject"] {
        assert!(!policy.contains(never), "{never}: {policy}");
    }
    assert!(policy.contains(r#""%s/notebooks/*""#), "{policy}");
    // The data bucket only under the analyses' prefixes (the pixels a notebook loads).
    assert!(
        !policy.contains(r#"format("%s/*", data.tfe_outputs.piksel_infra_dev.nonsensitive_values.aws_s3_bucket_storage_data_arn)"#),
        "{policy}"
    );
    // Its ServiceAccount exists, mounts no API token, and is the servers'.
    let account = named(
        &in_namespace(&t, "ServiceAccount", "jupyterhub"),
        "jupyter-user",
    );
    assert_eq!(account["automountServiceAccountToken"], false);
    let values = release_values(&assembly, "dev", "jupyterhub");
    let singleuser = &values["singleuser"];
    assert_eq!(singleuser["serviceAccountName"], "jupyter-user");
    // The examples: copied from the bucket's prefix at each start into a volume the
    // notebook container mounts read-only.
    let init = &singleuser["initContainers"][0];
    let command = init["command"].to_string();
    assert!(
        command.contains("s3://piksel-notebooks-333333333333-us-west-2/notebooks/"),
        "{command}"
    );
    assert_eq!(
        init["image"],
        singleuser["image"]["name"].as_str().unwrap().to_owned()
            + ":"
            + singleuser["image"]["tag"].as_str().unwrap()
    );
    assert_eq!(init["securityContext"]["runAsNonRoot"], true);
    let mounts = singleuser["storage"]["extraVolumeMounts"]
        .as_array()
        .unwrap();
    let examples = mounts.iter().find(|m| m["name"] == "examples").unwrap();
    assert_eq!(examples["mountPath"], "/home/jovyan/examples");
    assert_eq!(examples["readOnly"], true);
    // The index, read-only, as the reader odc.rs gives this namespace.
    let env = &singleuser["extraEnv"];
    assert_eq!(
        env["ODC_DEFAULT_DB_USERNAME"]["valueFrom"]["secretKeyRef"],
        serde_json::json!({"name": "odc-reader", "key": "postgres-username"})
    );
    assert_eq!(env["ODC_DEFAULT_DB_HOSTNAME"], "${ODC_DB_HOST}");
    assert_eq!(env["PGSSLMODE"], "verify-full");
    let reader = named(
        &in_namespace(&t, "ExternalSecret", "jupyterhub"),
        "odc-reader",
    );
    assert_eq!(reader["spec"]["data"][0]["secretKey"], "postgres-username");
}

#[test]
fn notebook_servers_run_on_the_workloads_pool_and_tolerate_nothing() {
    let assembly = assembly();
    for env in ["dev", "staging", "prod"] {
        let values = release_values(&assembly, env, "jupyterhub");
        let workloads = serde_json::json!({"piksel.io/pool": "workloads"});
        assert_eq!(values["singleuser"]["nodeSelector"], workloads, "{env}");
        assert_eq!(values["hub"]["nodeSelector"], workloads, "{env}");
        assert_eq!(values["proxy"]["chp"]["nodeSelector"], workloads, "{env}");
        // The chart's default tolerations (its own dedicated taints) are replaced by
        // none; nothing adds the Dask taint's.
        assert_eq!(
            values["scheduling"]["userPods"]["tolerations"],
            serde_json::json!([]),
            "{env}"
        );
        assert_eq!(
            values["scheduling"]["corePods"]["tolerations"],
            serde_json::json!([]),
            "{env}"
        );
        assert!(
            !values.to_string().contains("piksel.io/dask"),
            "{env}: a JupyterHub pod tolerates the Dask pool"
        );
        // Pod Security baseline: no privileged iptables init container; the servers run
        // as uid 1000, nothing escalates, every capability dropped.
        assert_eq!(
            values["singleuser"]["cloudMetadata"]["blockWithIptables"],
            false
        );
        let container =
            &values["hub"]["config"]["KubeSpawner"]["extra_container_config"]["securityContext"];
        assert_eq!(container["runAsUser"], 1000);
        assert_eq!(container["allowPrivilegeEscalation"], false);
        assert_eq!(
            container["capabilities"]["drop"],
            serde_json::json!(["ALL"])
        );
        // No LoadBalancer Service (the quota allows none): the ALB targets pods.
        assert_eq!(values["proxy"]["service"]["type"], "ClusterIP");
    }
}

#[test]
fn the_hub_is_behind_an_internal_alb_at_its_internal_name_signing_in_with_github() {
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-staging").unwrap();
    let values = release_values(&assembly, "staging", "jupyterhub");
    let ingress = &values["ingress"];
    assert_eq!(ingress["enabled"], true);
    assert_eq!(ingress["ingressClassName"], "alb");
    assert_eq!(
        ingress["hosts"],
        serde_json::json!(["jupyter.staging.piksel.internal"])
    );
    let annotations = &ingress["annotations"];
    assert_eq!(annotations["alb.ingress.kubernetes.io/scheme"], "internal");
    assert_eq!(annotations["alb.ingress.kubernetes.io/target-type"], "ip");
    assert_eq!(
        annotations["external-dns.alpha.kubernetes.io/hostname"],
        "jupyter.staging.piksel.internal"
    );
    // The ALB's targets are the proxy's container port `http` (the chart's name for
    // configurable-http-proxy's 8000), which the platform admits from the VPC.
    let policies = in_namespace(&t, "NetworkPolicy", "jupyterhub");
    let lb = named(&policies, "allow-from-load-balancer");
    assert_eq!(lb["spec"]["ingress"][0]["ports"][0]["port"], "http");
    // GitHub OAuth for organization piksel, its client from Secret
    // `jupyterhub-github-oauth`.
    let config = &values["hub"]["config"];
    assert_eq!(config["JupyterHub"]["authenticator_class"], "github");
    assert_eq!(
        config["GitHubOAuthenticator"]["allowed_organizations"],
        serde_json::json!(["piksel"])
    );
    assert_eq!(
        config["GitHubOAuthenticator"]["oauth_callback_url"],
        "http://jupyter.staging.piksel.internal/hub/oauth_callback"
    );
    let env = &values["hub"]["extraEnv"];
    for (variable, key) in [
        ("GITHUB_CLIENT_ID", "client_id"),
        ("GITHUB_CLIENT_SECRET", "client_secret"),
    ] {
        assert_eq!(
            env[variable]["valueFrom"]["secretKeyRef"],
            serde_json::json!({"name": "jupyterhub-github-oauth", "key": key})
        );
    }
    // Idle servers are stopped.
    assert_eq!(values["cull"]["enabled"], true);
    assert!(values["cull"]["timeout"].as_u64().unwrap() > 0);
}

#[test]
fn jupyters_secrets_are_the_environments_made_empty_by_the_infra() {
    let assembly = assembly();
    for env in ["dev", "prod"] {
        let t = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        let remote = |namespace: &str, name: &str| {
            named(&in_namespace(&t, "ExternalSecret", namespace), name)["spec"]["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    (
                        d["remoteRef"]["key"].as_str().unwrap().to_owned(),
                        d["secretKey"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let oauth = format!("piksel/{env}/jupyterhub-github-oauth");
        let token = format!("piksel/{env}/dask-gateway-api-token");
        assert_eq!(
            remote("jupyterhub", "jupyterhub-github-oauth"),
            [
                (oauth.clone(), "client_id".to_owned()),
                (oauth.clone(), "client_secret".to_owned())
            ]
        );
        for namespace in ["jupyterhub", "dask"] {
            assert_eq!(
                remote(namespace, "dask-gateway-api-token"),
                [(token.clone(), "token".to_owned())]
            );
        }
        // The store lets both namespaces read.
        let store = t.kube_object("ClusterSecretStore", "aws-secrets-manager");
        let allowed = store["spec"]["conditions"][0]["namespaces"].to_string();
        assert!(allowed.contains("\"jupyterhub\"") && allowed.contains("\"dask\""));
        // The infra makes both secrets, without a value.
        let infra = Template::from_assembly(&assembly, &format!("piksel-infra-{env}")).unwrap();
        for (resource, name) in [
            ("cluster_secrets_jupyterhub_github_oauth", &oauth),
            ("cluster_secrets_dask_gateway_api_token", &token),
        ] {
            let secret = infra.resource("aws_secretsmanager_secret", resource);
            assert_eq!(&secret["name"], name.as_str());
        }
        // ... and never a value of them (an operator puts it).
        for (_, version) in infra.resources("aws_secretsmanager_secret_version") {
            let secret = version["secret_id"].to_string();
            assert!(
                !secret.contains("jupyterhub_github_oauth")
                    && !secret.contains("dask_gateway_api_token"),
                "{secret}"
            );
        }
    }
}

#[test]
fn dask_workers_tolerate_the_dask_taint_and_everything_runs_restricted() {
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-dev").unwrap();
    let values = release_values(&assembly, "dev", "dask-gateway");
    let backend = &values["gateway"]["backend"];
    let worker = &backend["worker"]["extraPodConfig"];
    assert_eq!(
        worker["tolerations"],
        serde_json::json!([{
            "key": "piksel.io/dask", "operator": "Equal", "value": "true", "effect": "NoSchedule"
        }])
    );
    assert_eq!(
        worker["nodeSelector"],
        serde_json::json!({"piksel.io/pool": "dask"})
    );
    // Schedulers stay on the on-demand pool.
    let scheduler = &backend["scheduler"]["extraPodConfig"];
    assert!(scheduler.get("tolerations").is_none());
    assert_eq!(
        scheduler["nodeSelector"],
        serde_json::json!({"piksel.io/pool": "workloads"})
    );
    for process in ["scheduler", "worker"] {
        let pod = &backend[process]["extraPodConfig"]["securityContext"];
        assert_eq!(pod["runAsNonRoot"], true, "{process}");
        assert_eq!(pod["seccompProfile"]["type"], "RuntimeDefault", "{process}");
        let container = &backend[process]["extraContainerConfig"]["securityContext"];
        assert_eq!(container["allowPrivilegeEscalation"], false, "{process}");
        assert_eq!(
            container["capabilities"]["drop"],
            serde_json::json!(["ALL"])
        );
        // Requests within limits.
        let cores = &backend[process]["cores"];
        assert!(cores["request"].as_f64() <= cores["limit"].as_f64());
    }
    // The gateway's own Deployments are patched to `restricted` (the chart templates no
    // such context).
    let release = t.kube_object("HelmRelease", "dask-gateway");
    let patches = release["spec"]["postRenderers"][0]["kustomize"]["patches"]
        .as_array()
        .unwrap();
    let targets: Vec<&str> = patches
        .iter()
        .map(|p| p["target"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        [
            "api-dask-gateway",
            "controller-dask-gateway",
            "traefik-dask-gateway"
        ]
    );
    for patch in patches {
        let text = patch["patch"].as_str().unwrap();
        assert!(
            text.contains("RuntimeDefault") && text.contains("\"ALL\""),
            "{text}"
        );
    }
    // JupyterHub authentication: the hub's API, the shared token, scope checks on.
    let auth = &values["gateway"]["auth"];
    assert_eq!(auth["type"], "jupyterhub");
    assert_eq!(auth["jupyterhub"]["jupyterhubServiceName"], "dask-gateway");
    assert_eq!(
        auth["jupyterhub"]["apiTokenFromSecretName"],
        "dask-gateway-api-token"
    );
    let hub = release_values(&assembly, "dev", "jupyterhub");
    assert!(
        hub["hub"]["loadRoles"]["user"]["scopes"]
            .to_string()
            .contains("access:services!service=dask-gateway")
    );
    assert_eq!(values["traefik"]["service"]["type"], "ClusterIP");
}

#[test]
fn production_scales_dask_and_jupyter_further_than_dev_and_a_worker_fits_its_node() {
    let assembly = assembly();
    let (dev, prod) = (
        release_values(&assembly, "dev", "dask-gateway"),
        release_values(&assembly, "prod", "dask-gateway"),
    );
    for field in [
        "cluster_max_workers",
        "cluster_max_cores",
        "cluster_max_memory",
        "idle_timeout",
    ] {
        assert!(
            gateway_setting(&prod, field) > gateway_setting(&dev, field),
            "{field}"
        );
    }
    let (dev_hub, prod_hub) = (
        release_values(&assembly, "dev", "jupyterhub"),
        release_values(&assembly, "prod", "jupyterhub"),
    );
    let home =
        |v: &serde_json::Value| amount(v["singleuser"]["storage"]["capacity"].as_str().unwrap());
    assert!(home(&prod_hub) > home(&dev_hub));
    let largest = |v: &serde_json::Value| {
        v["singleuser"]["profileList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["kubespawner_override"]["cpu_limit"].as_f64().unwrap())
            .fold(0.0, f64::max)
    };
    assert!(largest(&prod_hub) > largest(&dev_hub));
    // The default worker: four on an r7i.2xlarge (8 vCPU, 64 GiB, about 7.9 and 61
    // allocatable).
    let worker = &dev["gateway"]["backend"]["worker"];
    let cores = worker["cores"]["request"].as_f64().unwrap();
    let memory: f64 = worker["memory"]["limit"]
        .as_str()
        .unwrap()
        .trim_end_matches('G')
        .parse()
        .unwrap();
    assert!(4.0 * cores <= 7.5 && 4.0 * memory <= 60.0, "{worker}");
    // One cluster at its ceiling stays inside the dask namespace's quota.
    for (env, values) in [("dev", &dev), ("prod", &prod)] {
        let t = Template::from_assembly(&assembly, &format!("piksel-eks-{env}")).unwrap();
        let quota = named(&in_namespace(&t, "ResourceQuota", "dask"), "compute");
        let memory_quota = amount(quota["spec"]["hard"]["requests.memory"].as_str().unwrap());
        let ceiling = gateway_setting(values, "cluster_max_memory") as f64 * 1024.0_f64.powi(3);
        assert!(ceiling < memory_quota, "{env}");
    }
}

#[test]
fn jupyters_configuration_is_a_configmap_flux_delivers_after_the_secret_store() {
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-dev").unwrap();
    let config = named(
        &in_namespace(&t, "ConfigMap", "jupyterhub"),
        "jupyter-config",
    );
    let data = &config["data"];
    let environment = data["environment.yml"].as_str().unwrap();
    assert!(
        environment.contains("dask-gateway=2026.3.0"),
        "{environment}"
    );
    assert!(environment.contains("datacube"), "{environment}");
    assert!(
        data["extensions.yml"]
            .as_str()
            .unwrap()
            .contains("dask-labextension")
    );
    let dask = data["dask.yaml"].as_str().unwrap();
    assert!(
        dask.contains(
            "address: http://traefik-dask-gateway.dask.svc.cluster.local/services/dask-gateway"
        ),
        "{dask}"
    );
    assert!(dask.contains("type: jupyterhub"), "{dask}");
    // The servers mount it.
    let values = release_values(&assembly, "dev", "jupyterhub");
    let volumes = values["singleuser"]["storage"]["extraVolumes"].to_string();
    assert!(volumes.contains("\"name\":\"jupyter-config\""), "{volumes}");
    let kustomization = t.kube_object("Kustomization", "piksel-eks-dev-jupyter");
    let after = kustomization["spec"]["dependsOn"].to_string();
    assert!(after.contains("piksel-eks-dev-secret-stores"), "{after}");
}

#[test]
fn whoever_loads_pixels_may_read_every_indexed_products_objects() {
    // datacube-ows, the notebook servers and the Dask workers read the same objects:
    // the analyses' prefixes, Sentinel-2's COGs and USGS's requester-pays Landsat.
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-dev").unwrap();
    for policy in [
        "odc_services_roles_ows_role_workload",
        "jupyter_notebook_reader_role_workload",
        "jupyter_dask_worker_role_workload",
    ] {
        let text = t.resource("aws_iam_role_policy", policy)["policy"]
            .as_str()
            .unwrap()
            .to_owned();
        for objects in [
            "arn:aws:s3:::sentinel-cogs/*",
            "arn:aws:s3:::usgs-landsat/collection02/*",
            "gm_s2_annual/*",
            "wofs_ls/*",
        ] {
            assert!(text.contains(objects), "{policy}: {objects}: {text}");
        }
        assert!(!text.contains("s3:PutObject"), "{policy}");
    }
    // The workers sign as their own account, and ask for requester-pays reads.
    let values = release_values(&assembly, "dev", "dask-gateway");
    let worker = &values["gateway"]["backend"]["worker"];
    assert_eq!(
        worker["extraPodConfig"]["serviceAccountName"],
        girder_stack_piksel::WORKER_SERVICE_ACCOUNT
    );
    let env = worker["extraContainerConfig"]["env"].to_string();
    assert!(
        env.contains("AWS_REQUEST_PAYER") && env.contains("requester"),
        "{env}"
    );
    let account = t.kube_object("ServiceAccount", "dask-worker");
    assert_eq!(account["metadata"]["namespace"], "dask");
    let association = t.resource(
        "aws_eks_pod_identity_association",
        "jupyter_dask_worker_association",
    );
    assert_eq!(association["namespace"], "dask");
    assert_eq!(association["service_account"], "dask-worker");
    // The notebook servers too.
    let hub = release_values(&assembly, "dev", "jupyterhub");
    assert_eq!(
        hub["singleuser"]["extraEnv"]["AWS_REQUEST_PAYER"],
        "requester"
    );
}

#[test]
fn every_ows_layer_shows_what_indexing_adds_without_a_restart() {
    // Review 6's B1: ranges read at every request, and written once by the init Job
    // before the services' first start.
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "piksel-eks-dev").unwrap();
    let config = t.kube_object("ConfigMap", "ows-config");
    let doc: serde_json::Value =
        serde_json::from_str(config["data"]["ows_cfg.json"].as_str().unwrap()).unwrap();
    let mut layers = 0;
    for folder in doc["layers"].as_array().unwrap() {
        for layer in folder["layers"].as_array().unwrap() {
            assert_eq!(layer["dynamic"], true, "{}", layer["name"]);
            layers += 1;
        }
    }
    assert_eq!(layers, girder_stack_piksel::odc_products().len());
    let scripts = t.kube_object("ConfigMap", "odc-scripts");
    let init = scripts["data"]["odc_init.py"].as_str().unwrap();
    assert!(
        init.contains(r#"must(["datacube-ows-update"], indexer)"#),
        "{init}"
    );
}

#[test]
fn the_hub_keeps_its_database_explorer_writes_its_pid_where_it_may_and_jupyter_follows_the_index() {
    // Review 6's m5, m6 and m3.
    let assembly = assembly();
    let hub = release_values(&assembly, "prod", "jupyterhub");
    assert_eq!(
        hub["hub"]["db"]["pvc"]["annotations"]["helm.sh/resource-policy"],
        "keep"
    );
    let t = Template::from_assembly(&assembly, "piksel-eks-prod").unwrap();
    let (_, explorer) = odc_release(&t, "explorer");
    let args: Vec<&str> = explorer["dockerArgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let pid = args.iter().position(|a| *a == "--pid").unwrap();
    assert_eq!(args[pid + 1], "/dev/shm/gunicorn.pid");
    assert!(!args.contains(&"||"), "{args:?}");
    let jupyter = t.kube_object("Kustomization", "piksel-eks-prod-jupyter");
    let after = jupyter["spec"]["dependsOn"].to_string();
    assert!(after.contains("piksel-eks-prod-odc-index"), "{after}");
}
