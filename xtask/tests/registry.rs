//! The stack registry: `--stack` / `--env` build only what they select (and what it reads),
//! and every failing stack is named by stack, system and environment.

#![cfg(feature = "stacks")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use girder_aws::aws;
use girder_core::diagnostics::Diagnostics;
use girder_core::prelude::*;
use girder_core::{Error, Stack};
use xtask::stacks::{Registry, Stage, System, registry};

fn names(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn ids(assembly: &Assembly) -> Vec<&str> {
    assembly.stacks().iter().map(|s| s.id.as_str()).collect()
}

/// Counts the calls of each builder.
#[derive(Clone, Default)]
struct Calls(Arc<AtomicUsize>);

impl Calls {
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
    fn tick(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn empty_stack(name: &str, env: &str) -> girder_core::Result<Stack> {
    Stack::new(name, env, Backend::local())
}

/// Rejects every resource at synth (a stack that builds but fails to synthesize).
struct RejectAll;

impl Aspect for RejectAll {
    fn visit(&self, element: Element<'_>, diagnostics: &mut Diagnostics) {
        if let Element::Resource { path, .. } = element {
            diagnostics.error(path, "TEST_REJECT", "rejected by the test");
        }
    }
}

fn rejected_stack(name: &str, env: &str) -> girder_core::Result<Stack> {
    let mut stack = Stack::new(name, env, Backend::local())?;
    stack.require_provider(aws::requirement())?;
    stack.add_provider(aws::Provider::new().region("eu-west-1").into())?;
    stack.scope("store")?.add("bucket", aws::S3Bucket::new())?;
    stack.add_aspect(RejectAll);
    Ok(stack)
}

/// System `fake` (dev, prod): `good`, `broken` (its builder fails), `rejected` (fails at
/// synth); each builder counts its calls.
fn fake() -> (Registry, Calls, Calls, Calls) {
    let (good, broken, rejected) = (Calls::default(), Calls::default(), Calls::default());
    let registry = Registry::new().system(
        System::new("fake", ["dev", "prod"])
            .stack("good", {
                let calls = good.clone();
                move |env| {
                    calls.tick();
                    empty_stack("good", env)
                }
            })
            .stack("broken", {
                let calls = broken.clone();
                move |_| {
                    calls.tick();
                    Err(Error::invalid(
                        "broken/bucket",
                        "bucket name \"Bad\" is not allowed",
                    ))
                }
            })
            .stack("rejected", {
                let calls = rejected.clone();
                move |env| {
                    calls.tick();
                    rejected_stack("rejected", env)
                }
            }),
    );
    (registry, good, broken, rejected)
}

#[test]
fn selecting_a_stack_calls_only_its_builder() {
    let (registry, good, broken, rejected) = fake();
    let assembly = registry.synth(&names(&["good"]), &names(&["dev"])).unwrap();
    assert_eq!(ids(&assembly), ["good-dev"]);
    assert_eq!((good.count(), broken.count(), rejected.count()), (1, 0, 0));
    let assembly = registry.synth(&names(&["good"]), &[]).unwrap();
    assert_eq!(ids(&assembly), ["good-dev", "good-prod"]);
    assert_eq!((good.count(), broken.count(), rejected.count()), (3, 0, 0));
}

#[test]
fn an_unknown_stack_or_environment_is_an_error_before_anything_is_built() {
    let (registry, good, broken, rejected) = fake();
    let err = registry
        .synth(&names(&["good", "nope"]), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown --stack nope"), "{err}");
    assert!(err.contains("known: broken, good, rejected"), "{err}");
    let err = registry
        .synth(&[], &names(&["staging"]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown --env staging; known: dev, prod"),
        "{err}"
    );
    assert_eq!(good.count() + broken.count() + rejected.count(), 0);
}

#[test]
fn every_failing_stack_is_named_with_its_system_and_environment() {
    let (registry, good, _, _) = fake();
    let err = registry.synth(&[], &[]).unwrap_err();
    let xtask::stacks::Error::Stacks(failures) = &err else {
        panic!("expected stack failures, got {err}");
    };
    let named: Vec<(String, Stage)> = failures.iter().map(|f| (f.stack.id(), f.stage)).collect();
    assert_eq!(
        named,
        [
            ("broken-dev".to_owned(), Stage::Build),
            ("rejected-dev".to_owned(), Stage::Synth),
            ("broken-prod".to_owned(), Stage::Build),
            ("rejected-prod".to_owned(), Stage::Synth),
        ]
    );
    let text = err.to_string();
    assert!(text.starts_with("4 stacks failed:"), "{text}");
    assert!(
        text.contains(
            "stack broken-dev (system fake, env dev) failed to build: broken/bucket: bucket name"
        ),
        "{text}"
    );
    assert!(
        text.contains("stack rejected-prod (system fake, env prod) failed to synthesize:"),
        "{text}"
    );
    assert!(text.contains("TEST_REJECT"), "{text}");
    // The stacks that work were built (and checked) too.
    assert_eq!(good.count(), 2);
}

#[test]
fn a_failing_stack_does_not_stop_the_synth_of_another_selection() {
    let (registry, _, broken, _) = fake();
    let err = registry
        .synth(&names(&["broken"]), &names(&["dev"]))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("stack broken-dev (system fake"), "{err}");
    let assembly = registry.synth(&names(&["good"]), &[]).unwrap();
    assert_eq!(ids(&assembly), ["good-dev", "good-prod"]);
    assert_eq!(broken.count(), 1);
}

/// System `chain`: `app` reads `base`, which is broken; `other` is fine.
fn chain(base_builds: bool) -> Registry {
    Registry::new().system(
        System::new("chain", ["dev"])
            .stack("base", move |env| {
                if base_builds {
                    rejected_stack("base", env)
                } else {
                    Err(Error::invalid("base", "broken on purpose"))
                }
            })
            .stack_reading("app", &["base"], |env| empty_stack("app", env))
            .stack("other", |env| empty_stack("other", env)),
    )
}

#[test]
fn a_stack_that_reads_a_failing_stack_reports_the_stack_it_reads() {
    for (base_builds, stage) in [(false, Stage::Build), (true, Stage::Synth)] {
        let err = chain(base_builds).synth(&names(&["app"]), &[]).unwrap_err();
        let xtask::stacks::Error::Stacks(failures) = &err else {
            panic!("expected stack failures, got {err}");
        };
        assert_eq!(failures.len(), 1, "{err}");
        assert_eq!(
            (failures[0].stack.id(), failures[0].stage),
            ("base-dev".into(), stage)
        );
        assert!(!failures[0].selected);
        assert!(
            err.to_string()
                .contains("(system chain, env dev; not selected, built for a selected stack)"),
            "{err}"
        );
        // Without `app`, `base` is not built.
        let assembly = chain(base_builds).synth(&names(&["other"]), &[]).unwrap();
        assert_eq!(ids(&assembly), ["other-dev"]);
    }
}

#[test]
fn a_need_that_names_no_stack_of_the_system_is_an_error() {
    let registry = Registry::new().system(System::new("sys", ["dev"]).stack_reading(
        "app",
        &["netwrk"],
        |env| empty_stack("app", env),
    ));
    let err = registry.synth(&[], &[]).unwrap_err().to_string();
    assert!(
        err.contains(
            "stack app of system sys reads stack netwrk, which the system does not register"
        ),
        "{err}"
    );
}

#[test]
fn a_stack_name_registered_twice_is_an_error() {
    let registry = Registry::new()
        .system(System::new("one", ["dev"]).stack("net", |env| empty_stack("net", env)))
        .system(System::new("two", ["dev"]).stack("net", |env| empty_stack("net", env)));
    let err = registry.synth(&[], &[]).unwrap_err().to_string();
    assert!(
        err.contains("stack net is registered by system one and again by system two"),
        "{err}"
    );
}

#[test]
fn a_builder_that_returns_another_stack_is_an_error() {
    let registry = Registry::new()
        .system(System::new("sys", ["dev"]).stack("app", |env| empty_stack("web", env)));
    let err = registry.synth(&[], &[]).unwrap_err().to_string();
    assert!(
        err.contains("the builder of stack app (env dev) returned stack web-dev"),
        "{err}"
    );
}

/// The registered stacks' declared needs are complete: each stack, each environment and
/// each system synthesizes alone into the files a synth of every stack narrowed to it
/// (`Assembly::select`, what `--stack` did before the registry was lazy) writes, byte for
/// byte, manifest.json included.
#[test]
fn every_selection_writes_what_the_whole_synth_narrowed_to_it_writes() {
    let registry = registry();
    let all = registry.synth(&[], &[]).unwrap();
    let mut selections: Vec<(Vec<String>, Vec<String>)> = registry
        .stacks()
        .iter()
        .map(|r| (names(&[r.stack]), names(&[r.environment])))
        .collect();
    selections.extend([
        (names(&["network"]), vec![]),
        (names(&["service"]), vec![]),
        (names(&["pixtools", "shop"]), vec![]),
        (vec![], names(&["prod"])),
        (vec![], names(&["dev"])),
    ]);
    for (stacks, envs) in selections {
        let narrowed = all.select(&stacks, &envs).unwrap();
        let lazy = registry
            .synth(&stacks, &envs)
            .unwrap_or_else(|e| panic!("{stacks:?} {envs:?}: {e}"));
        assert_eq!(ids(&lazy), ids(&narrowed), "{stacks:?} {envs:?}");
        for ((path, bytes), (expected_path, expected)) in lazy.files().iter().zip(narrowed.files())
        {
            assert_eq!(path, &expected_path, "{stacks:?} {envs:?}");
            assert!(bytes == &expected, "{stacks:?} {envs:?}: {path} differs");
        }
        assert_eq!(lazy.files().len(), narrowed.files().len());
    }
}

#[test]
fn selecting_a_stack_builds_the_stacks_that_read_it_and_no_other() {
    let (reader, other) = (Calls::default(), Calls::default());
    let registry = Registry::new().system(
        System::new("sys", ["dev"])
            .stack("base", |env| empty_stack("base", env))
            .stack_reading("app", &["base"], {
                let calls = reader.clone();
                move |env| {
                    calls.tick();
                    empty_stack("app", env)
                }
            })
            .stack("other", {
                let calls = other.clone();
                move |env| {
                    calls.tick();
                    empty_stack("other", env)
                }
            }),
    );
    let assembly = registry.synth(&names(&["base"]), &[]).unwrap();
    assert_eq!(ids(&assembly), ["base-dev"]);
    assert_eq!((reader.count(), other.count()), (1, 0));
}

#[test]
fn the_quickstart_service_reads_the_network_it_declares() {
    let assembly = registry().synth(&names(&["service"]), &[]).unwrap();
    assert_eq!(ids(&assembly), ["service-dev"]);
    assert_eq!(assembly.stacks()[0].depends_on, ["network-dev"]);
}
