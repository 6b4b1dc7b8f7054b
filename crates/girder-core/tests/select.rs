//! `Assembly::select` (what `cargo xtask synth --stack … --env …` narrows to): every name
//! and environment asked for must exist, so a typo is an error, never a smaller output.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use girder_core::Stack;
use girder_core::prelude::*;

fn assembly() -> Assembly {
    let mut app = App::new();
    for (name, env) in [("network", "dev"), ("network", "prod"), ("apps", "dev")] {
        app.add_stack(Stack::new(name, env, Backend::local()).unwrap())
            .unwrap();
    }
    app.synth().unwrap()
}

fn names(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn ids(assembly: &Assembly) -> Vec<&str> {
    assembly.stacks().iter().map(|s| s.id.as_str()).collect()
}

#[test]
fn an_unknown_stack_next_to_a_known_one_is_an_error_listing_the_known_ones() {
    let err = assembly()
        .select(&names(&["network", "nope"]), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown --stack nope"), "{err}");
    assert!(err.contains("known: apps, network"), "{err}");
}

#[test]
fn an_unknown_environment_next_to_a_known_one_is_an_error_listing_the_known_ones() {
    let err = assembly()
        .select(&[], &names(&["dev", "staging"]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown --env staging"), "{err}");
    assert!(err.contains("known: dev, prod"), "{err}");
}

#[test]
fn every_unknown_value_is_named() {
    let err = assembly()
        .select(&names(&["nope", "network", "nada"]), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown --stack nope, nada"), "{err}");
}

#[test]
fn known_names_and_environments_select_their_stacks() {
    let a = assembly();
    assert_eq!(
        ids(&a.select(&names(&["network"]), &[]).unwrap()),
        ["network-dev", "network-prod"]
    );
    assert_eq!(
        ids(&a.select(&[], &names(&["dev"])).unwrap()),
        ["network-dev", "apps-dev"]
    );
    assert_eq!(ids(&a.select(&[], &[]).unwrap()).len(), 3);
}

#[test]
fn a_known_name_and_environment_that_select_nothing_together_are_an_error() {
    let err = assembly()
        .select(&names(&["apps"]), &names(&["prod"]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no stack matches"), "{err}");
}

#[test]
fn the_rule_checks_a_selection_before_anything_is_built() {
    let stacks = [("network", "dev"), ("network", "prod"), ("apps", "dev")];
    let check = |n: &[&str], e: &[&str]| Assembly::check_selection(&stacks, &names(n), &names(e));
    let err = check(&["apps", "nope"], &[]).unwrap_err().to_string();
    assert!(
        err.contains(
            "unknown --stack nope; known: apps, network \
             (stacks are: network-dev, network-prod, apps-dev)"
        ),
        "{err}"
    );
    let err = check(&["apps"], &["prod"]).unwrap_err().to_string();
    assert!(err.contains("no stack matches"), "{err}");
    check(&["network"], &["prod"]).unwrap();
    check(&[], &[]).unwrap();
    let err = Assembly::check_selection(&[], &[], &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("no stack matches"), "{err}");
}
