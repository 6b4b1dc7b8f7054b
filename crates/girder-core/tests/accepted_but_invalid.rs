//! Values Terraform or Helm would refuse later (at `terraform init`, at install) are
//! refused when they are given, with the construct path, the value and what is allowed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use girder_core::prelude::*;
use girder_core::terraform::ModuleSpec;

fn stack() -> Stack {
    Stack::new("net", "dev", Backend::local()).unwrap()
}

#[test]
fn provider_version_constraints_follow_terraform_syntax() {
    for good in [
        "~> 6.25",
        ">= 1.10, < 2.0",
        "1.2.3",
        "= 1.0.0-beta.1",
        "!= 1.2",
        ">=1.0,<2",
        "~> 0.71",
    ] {
        stack()
            .require_provider(ProviderRequirement::new("aws", "hashicorp/aws", good))
            .unwrap();
    }
    for bad in [
        "",
        "latest",
        " ",
        "1.x",
        "^1.0",
        "v1.0",
        "~> ",
        ">= 1.0,",
        "1.2.3.4",
        "=> 1.0",
        "~> 6.0 || 7",
    ] {
        let err = stack()
            .require_provider(ProviderRequirement::new("aws", "hashicorp/aws", bad))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!(
                "net-dev:terraform.required_providers.aws: provider aws version {bad:?}: "
            )),
            "{bad}: {err}"
        );
        assert!(
            err.contains("comma-separated `[op] version` terms"),
            "{err}"
        );
    }
}

#[test]
fn provider_sources_are_registry_addresses() {
    for good in [
        "hashicorp/aws",
        "registry.terraform.io/hashicorp/aws",
        "integrations/github",
    ] {
        stack()
            .require_provider(ProviderRequirement::new("p", good, "~> 1.0"))
            .unwrap();
    }
    for bad in [
        "",
        "aws",
        "hashicorp/",
        "a/b/c/d",
        "hashicorp/aws provider",
        "-x/aws",
    ] {
        let err = stack()
            .require_provider(ProviderRequirement::new("p", bad, "~> 1.0"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!(
                "provider source {bad:?} is not [hostname/]namespace/type"
            )),
            "{bad}: {err}"
        );
    }
}

#[test]
fn the_required_version_is_a_constraint() {
    let mut stack = stack();
    stack.set_required_version(">= 1.10, < 2.0").unwrap();
    for bad in ["", "latest", "1.10+"] {
        let err = stack.set_required_version(bad).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "net-dev:terraform.required_version: required_version {bad:?}: "
            )),
            "{err}"
        );
    }
}

#[test]
fn module_versions_are_constraints_on_registry_sources_only() {
    let mut stack = stack();
    let mut root = stack.root();
    root.add_module(
        "vpc",
        ModuleSpec::new("terraform-aws-modules/vpc/aws").version("~> 6.0"),
    )
    .unwrap();
    root.add_module(
        "endpoints",
        ModuleSpec::new("app.terraform.io/acme/vpc/aws//modules/endpoints").version("1.0.0"),
    )
    .unwrap();
    root.add_module("local", ModuleSpec::new("./modules/x"))
        .unwrap();
    let err = root
        .add_module(
            "bad-version",
            ModuleSpec::new("terraform-aws-modules/vpc/aws").version("latest"),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "net-dev:bad-version: module \"terraform-aws-modules/vpc/aws\" version \"latest\": "
        ),
        "{err}"
    );
    for source in [
        "./modules/x",
        "git::https://example.com/vpc.git",
        "github.com/acme/vpc",
        "https://example.com/vpc.zip",
    ] {
        let err = root
            .add_module("pinned", ModuleSpec::new(source).version("1.0.0"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!(
                "module source {source:?} is not a registry address"
            )),
            "{err}"
        );
    }
    let err = root
        .add_module("nothing", ModuleSpec::new(""))
        .unwrap_err()
        .to_string();
    assert!(err.contains("a module call needs a source"), "{err}");
}

#[test]
fn helm_charts_come_from_https_or_oci_at_an_exact_semver() {
    let add = |repository: &str, name: &str, version: &str| {
        stack()
            .root()
            .add_helm_release(HelmRelease::new(
                "cache",
                ChartRef::new(repository, name, version),
            ))
            .map_err(|e| e.to_string())
    };
    for (repository, version) in [
        ("https://charts.bitnami.com/bitnami", "1.2.3"),
        ("oci://registry-1.docker.io/bitnamicharts", "23.1.1"),
        ("https://charts.example.com:8443/x", "v1.2.3-rc.1+build.5"),
        ("https://x", "0.0.0-0.3.7"),
    ] {
        add(repository, "redis", version).unwrap();
    }
    for version in [
        "1.x", "1.2", "^23", "01.2.3", "1.2.3-01", "1.2.3-", "1.2.3+", "", "latest",
    ] {
        let err = add("https://charts.example.com", "redis", version).unwrap_err();
        assert!(
            err.starts_with(&format!(
                "net-dev:: chart redis version {version:?} is not an exact version"
            )) || err.contains(&format!(
                "chart redis version {version:?} is not an exact version"
            )),
            "{version}: {err}"
        );
        assert!(err.contains("SemVer 2"), "{err}");
    }
    for repository in [
        "http://charts.example.com",
        "https://",
        "ftp://x",
        "oci://",
        "charts.example.com",
    ] {
        let err = add(repository, "redis", "1.2.3").unwrap_err();
        assert!(
            err.contains(&format!(
                "chart repository {repository:?} must be an https:// or oci:// URL with a host"
            )),
            "{repository}: {err}"
        );
    }
    let err = add("https://charts.example.com", "re dis", "1.2.3").unwrap_err();
    assert!(err.contains("chart name \"re dis\""), "{err}");
}

#[test]
fn required_version_and_module_versions_take_what_terraform_takes() {
    // Terraform reads these with hashicorp/go-version (checked with Terraform 1.11):
    // a leading `v`, more than three numbers and `+build` are fine there, though not in
    // required_providers.
    for good in [
        ">= v1.5.0",
        ">= 1.2.3.4",
        "1.5.0+meta",
        ">= 1.10, < 2.0",
        "~> 1.10.0-beta1",
    ] {
        stack().set_required_version(good).unwrap();
    }
    for bad in ["", "latest", "1.x", ">= 1.0,", "=> 1.0"] {
        assert!(stack().set_required_version(bad).is_err(), "{bad}");
    }
}
