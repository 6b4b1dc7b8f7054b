//! The one place stacks are registered, by name. `cargo xtask synth` and `list`, the
//! `stacks` benchmark and the snapshot tests go through [`registry`]; a new system adds one
//! [`System`] there.
//!
//! Stacks are built lazily: `synth --stack X --env E` calls the builder of X for E, of the
//! stacks X reads outputs of (its declared needs, in the same environment, transitively:
//! synth wires cross-stack reads across the app, so they must be in it), of the stacks that
//! read X (the outputs X declares for them are part of X's artifacts) and of what those
//! read, and no other builder. The output holds the selected stacks only, byte for byte as
//! a synth of every stack writes them.
//!
//! A builder that fails, or a stack whose synth fails, is reported by stack, system and
//! environment, and every failing stack is reported, not only the first: a stack that
//! reads a failing stack is not reported again (the stack it reads is the one to fix).

use std::fmt;

use girder_core::{App, Assembly, Stack};

/// Builds one stack for the environment it is given.
pub type Builder = Box<dyn Fn(&str) -> girder_core::Result<Stack>>;

/// One registered stack: its name, the stacks of its system it reads outputs of, and how
/// to build it for one environment.
pub struct Entry {
    name: &'static str,
    needs: Vec<&'static str>,
    build: Builder,
}

/// A system: the environments it exists in and its stacks, each built for each of them.
pub struct System {
    name: &'static str,
    environments: Vec<&'static str>,
    stacks: Vec<Entry>,
}

impl System {
    /// A system without stacks yet.
    pub fn new(name: &'static str, environments: impl IntoIterator<Item = &'static str>) -> Self {
        Self {
            name,
            environments: environments.into_iter().collect(),
            stacks: Vec::new(),
        }
    }

    /// Register stack `name`, which reads nothing from other stacks; `build` makes it for
    /// one environment.
    pub fn stack(
        self,
        name: &'static str,
        build: impl Fn(&str) -> girder_core::Result<Stack> + 'static,
    ) -> Self {
        self.stack_reading(name, &[], build)
    }

    /// Register stack `name`, which reads outputs of the stacks `needs` (stacks of this
    /// system, same environment) or is deployed after them (`Stack::deploy_after`):
    /// selecting it builds them too, and selecting one of them builds it (their outputs
    /// for it are part of their artifacts).
    pub fn stack_reading(
        mut self,
        name: &'static str,
        needs: &[&'static str],
        build: impl Fn(&str) -> girder_core::Result<Stack> + 'static,
    ) -> Self {
        self.stacks.push(Entry {
            name,
            needs: needs.to_vec(),
            build: Box::new(build),
        });
        self
    }
}

/// One stack of the registry in one environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registered {
    /// The system that registers it.
    pub system: &'static str,
    /// The stack name (`--stack`).
    pub stack: &'static str,
    /// The environment (`--env`).
    pub environment: &'static str,
}

impl Registered {
    /// The stack id, `<stack>-<environment>`.
    pub fn id(&self) -> String {
        format!("{}-{}", self.stack, self.environment)
    }
}

/// Where a stack failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Its builder returned an error (or a stack other than the one registered).
    Build,
    /// It built, but synthesizing it (with the stacks it reads) failed.
    Synth,
}

/// One failing stack.
#[derive(Debug)]
pub struct Failure {
    /// The stack and environment.
    pub stack: Registered,
    /// Whether `--stack` / `--env` selected it (`false`: a selected stack reads it, or it
    /// reads a selected stack).
    pub selected: bool,
    /// Where it failed.
    pub stage: Stage,
    /// What went wrong.
    pub error: girder_core::Error,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Registered {
            system,
            environment,
            ..
        } = self.stack;
        let read = if self.selected {
            ""
        } else {
            "; not selected, built for a selected stack"
        };
        let stage = match self.stage {
            Stage::Build => "failed to build",
            Stage::Synth => "failed to synthesize",
        };
        write!(
            f,
            "stack {} (system {system}, env {environment}{read}) {stage}: {}",
            self.stack.id(),
            self.error
        )
    }
}

/// Why the registry produced no app or assembly.
#[derive(Debug)]
pub enum Error {
    /// The registry is inconsistent: a stack registered twice, a need that names no stack
    /// of its system.
    Registry(String),
    /// `--stack` / `--env` name no registered stack, or select nothing together (the rule
    /// of girder-core's `Assembly::select`, checked before anything is built).
    Selection(girder_core::Error),
    /// Stacks that failed, each named.
    Stacks(Vec<Failure>),
    /// Every stack synthesizes with the stacks it reads, but not all together.
    Synth(girder_core::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Registry(message) => write!(f, "stack registry: {message}"),
            Error::Selection(error) => write!(f, "{error}"),
            Error::Stacks(failures) => match failures.as_slice() {
                [one] => write!(f, "{one}"),
                all => {
                    write!(f, "{} stacks failed:", all.len())?;
                    for failure in all {
                        write!(f, "\n- {}", failure.to_string().replace('\n', "\n  "))?;
                    }
                    Ok(())
                }
            },
            Error::Synth(error) => write!(f, "the selected stacks together: {error}"),
        }
    }
}

impl std::error::Error for Error {}

/// Stacks by name, built on demand.
#[derive(Default)]
pub struct Registry {
    systems: Vec<System>,
}

/// One stack of a plan: what to build, and whether the selection asked for it.
struct Planned<'a> {
    entry: &'a Entry,
    registered: Registered,
    /// Positions (in the plan) of the stacks it reads, directly.
    needs: Vec<usize>,
    selected: bool,
}

impl Planned<'_> {
    fn failure(&self, stage: Stage, error: girder_core::Error) -> Failure {
        Failure {
            stack: self.registered,
            selected: self.selected,
            stage,
            error,
        }
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a system.
    pub fn system(mut self, system: System) -> Self {
        self.systems.push(system);
        self
    }

    /// Every stack in every environment, in the order synth adds them to the app: by
    /// system, then environment, then stack.
    pub fn stacks(&self) -> Vec<Registered> {
        self.all().map(|(_, registered)| registered).collect()
    }

    fn all(&self) -> impl Iterator<Item = (&Entry, Registered)> {
        self.systems.iter().flat_map(|system| {
            system.environments.iter().flat_map(move |&environment| {
                system.stacks.iter().map(move |entry| {
                    let registered = Registered {
                        system: system.name,
                        stack: entry.name,
                        environment,
                    };
                    (entry, registered)
                })
            })
        })
    }

    /// Build the stacks `names` in the environments `envs` (all when empty), and the
    /// stacks they read or are read by, into an app.
    pub fn build(&self, names: &[String], envs: &[String]) -> Result<App, Error> {
        let plan = self.plan(names, envs)?;
        let (built, failures) = build(&plan);
        if !failures.is_empty() {
            return Err(Error::Stacks(roots(&plan, failures)));
        }
        app_of(built.iter().flatten()).map_err(Error::Synth)
    }

    /// Build and synthesize the stacks `names` in the environments `envs` (all when
    /// empty): the assembly holds the selected stacks; the stacks they read or are read
    /// by are built and synthesized with them so that the reads are wired.
    pub fn synth(&self, names: &[String], envs: &[String]) -> Result<Assembly, Error> {
        let plan = self.plan(names, envs)?;
        let (built, mut failures) = build(&plan);
        let mut together = None;
        if failures.is_empty() {
            match app_of(built.iter().flatten()).and_then(|app| app.synth()) {
                Ok(assembly) => return assembly.select(names, envs).map_err(Error::Selection),
                Err(error) => together = Some(error),
            }
        }
        // Find the failing stacks: synthesize each stack that built with what it reads.
        for (at, planned) in plan.iter().enumerate() {
            let closure = closure(&plan, at);
            if closure.iter().any(|&i| built[i].is_none()) {
                continue;
            }
            if let Err(error) = app_of(closure.iter().filter_map(|&i| built[i].as_ref()))
                .and_then(|app| app.synth())
            {
                failures.push((at, planned.failure(Stage::Synth, error)));
            }
        }
        match together {
            // Each stack synthesizes with what it reads; the selection as a whole does not.
            Some(error) if failures.is_empty() => Err(Error::Synth(error)),
            _ => Err(Error::Stacks(roots(&plan, failures))),
        }
    }

    /// The stacks to build for a selection, in registry order, with what each reads (see
    /// the module's documentation).
    fn plan(&self, names: &[String], envs: &[String]) -> Result<Vec<Planned<'_>>, Error> {
        self.check()?;
        let all: Vec<(&Entry, Registered)> = self.all().collect();
        let known: Vec<(&str, &str)> = all.iter().map(|(_, r)| (r.stack, r.environment)).collect();
        Assembly::check_selection(&known, names, envs).map_err(Error::Selection)?;
        let position = |system: &str, stack: &str, environment: &str| {
            all.iter().position(|(_, r)| {
                r.system == system && r.stack == stack && r.environment == environment
            })
        };
        let mut wanted: Vec<bool> = all
            .iter()
            .map(|(_, r)| {
                (names.is_empty() || names.iter().any(|n| n == r.stack))
                    && (envs.is_empty() || envs.iter().any(|e| e == r.environment))
            })
            .collect();
        let selected = wanted.clone();
        // The stacks that read a selected stack: the outputs a selected stack writes for
        // them are part of its artifacts.
        for (i, (entry, r)) in all.iter().enumerate() {
            let reads_a_selected = entry
                .needs
                .iter()
                .any(|need| position(r.system, need, r.environment).is_some_and(|j| selected[j]));
            wanted[i] |= reads_a_selected;
        }
        // And every stack a wanted stack reads, transitively: synth wires the reads.
        let mut pending: Vec<usize> = (0..all.len()).filter(|&i| wanted[i]).collect();
        while let Some(i) = pending.pop() {
            let (entry, r) = &all[i];
            for need in &entry.needs {
                if let Some(j) = position(r.system, need, r.environment)
                    && !wanted[j]
                {
                    wanted[j] = true;
                    pending.push(j);
                }
            }
        }
        let kept: Vec<usize> = (0..all.len()).filter(|&i| wanted[i]).collect();
        let at = |i: usize| kept.iter().position(|&k| k == i);
        Ok(kept
            .iter()
            .map(|&i| {
                let (entry, registered) = all[i];
                let needs = entry
                    .needs
                    .iter()
                    .filter_map(|need| {
                        position(registered.system, need, registered.environment).and_then(at)
                    })
                    .collect();
                Planned {
                    entry,
                    registered,
                    needs,
                    selected: selected[i],
                }
            })
            .collect())
    }

    /// Stack names are unique, and needs name stacks of their system.
    fn check(&self) -> Result<(), Error> {
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for system in &self.systems {
            for entry in &system.stacks {
                if let Some((other, _)) = seen.iter().find(|(_, name)| *name == entry.name) {
                    return Err(Error::Registry(format!(
                        "stack {} is registered by system {other} and again by system {}; \
                         stack names are unique across systems",
                        entry.name, system.name
                    )));
                }
                seen.push((system.name, entry.name));
            }
            for entry in &system.stacks {
                for need in &entry.needs {
                    if !system.stacks.iter().any(|s| s.name == *need) {
                        let known: Vec<&str> = system.stacks.iter().map(|s| s.name).collect();
                        return Err(Error::Registry(format!(
                            "stack {} of system {} reads stack {need}, which the system does \
                             not register; its stacks: {}",
                            entry.name,
                            system.name,
                            known.join(", ")
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Build every stack of `plan`: the stack at each position, or `None` where it failed,
/// and the failures.
fn build(plan: &[Planned<'_>]) -> (Vec<Option<Stack>>, Vec<(usize, Failure)>) {
    let mut built = Vec::with_capacity(plan.len());
    let mut failures = Vec::new();
    for planned in plan {
        let r = planned.registered;
        let result = (planned.entry.build)(r.environment).and_then(|stack| {
            if stack.name() == r.stack && stack.environment() == r.environment {
                Ok(stack)
            } else {
                Err(girder_core::Error::invalid(
                    "stack registry",
                    format!(
                        "the builder of stack {} (env {}) returned stack {}; a builder \
                         returns the stack it is registered as",
                        r.stack,
                        r.environment,
                        stack.id()
                    ),
                ))
            }
        });
        match result {
            Ok(stack) => built.push(Some(stack)),
            Err(error) => {
                built.push(None);
                failures.push((built.len() - 1, planned.failure(Stage::Build, error)));
            }
        }
    }
    (built, failures)
}

/// The failures to report, in plan order: the stacks to fix, not those that fail only
/// because a stack they read does (unless every failure reads another: a cycle, reported
/// whole).
fn roots(plan: &[Planned<'_>], failures: Vec<(usize, Failure)>) -> Vec<Failure> {
    let failed: Vec<usize> = failures.iter().map(|(at, _)| *at).collect();
    let (mut roots, readers): (Vec<_>, Vec<_>) = failures.into_iter().partition(|(at, _)| {
        !closure(plan, *at)
            .iter()
            .any(|i| i != at && failed.contains(i))
    });
    if roots.is_empty() {
        roots = readers;
    }
    roots.sort_by_key(|(at, _)| *at);
    roots.into_iter().map(|(_, failure)| failure).collect()
}

/// The position `at` of the plan and every position it reads, transitively, in plan order.
fn closure(plan: &[Planned<'_>], at: usize) -> Vec<usize> {
    let mut inside = vec![false; plan.len()];
    let mut pending = vec![at];
    while let Some(i) = pending.pop() {
        if inside.get(i).copied().unwrap_or(true) {
            continue;
        }
        inside[i] = true;
        pending.extend(&plan[i].needs);
    }
    (0..plan.len()).filter(|&i| inside[i]).collect()
}

fn app_of<'a>(stacks: impl Iterator<Item = &'a Stack>) -> girder_core::Result<App> {
    let mut app = App::new();
    for stack in stacks {
        app.add_stack(stack.clone())?;
    }
    Ok(app)
}

/// The environment called `name` among a system's `all`, or an error naming the ones it has.
fn environment<E>(
    system: &str,
    all: Vec<E>,
    name_of: fn(&E) -> &str,
    name: &str,
) -> girder_core::Result<E> {
    let known: Vec<&str> = all.iter().map(name_of).collect();
    let message = format!(
        "{system} has no environment {name:?}; known: {}",
        known.join(", ")
    );
    all.into_iter()
        .find(|e| name_of(e) == name)
        .ok_or_else(|| girder_core::Error::invalid("stack registry", message))
}

fn pixtools_environment(name: &str) -> girder_core::Result<girder_stack_pixtools::Environment> {
    environment(
        "PixTools",
        girder_stack_pixtools::environments(),
        |e| e.name,
        name,
    )
}

fn piksel_environment(name: &str) -> girder_core::Result<girder_stack_piksel::Environment> {
    environment(
        "Piksel",
        girder_stack_piksel::environments(),
        |e| e.name,
        name,
    )
}

fn its_camera_environment(name: &str) -> girder_core::Result<girder_stack_its_camera::Environment> {
    environment(
        "ITS Camera AI",
        girder_stack_its_camera::environments(),
        |e| e.name,
        name,
    )
}

/// Every registered stack.
pub fn registry() -> Registry {
    use girder_example_quickstart as quickstart;
    use girder_example_workloads as workloads;
    use girder_stack_piksel as piksel;
    use girder_stack_pixtools as pixtools;
    let pixtools_environments: Vec<&'static str> =
        pixtools::environments().iter().map(|e| e.name).collect();
    let piksel_environments: Vec<&'static str> =
        piksel::environments().iter().map(|e| e.name).collect();
    let its_environments: Vec<&'static str> = girder_stack_its_camera::environments()
        .iter()
        .map(|e| e.name)
        .collect();
    Registry::new()
        // The library consumers' example; kept in the synth output so the external checks
        // (tfcheck, k8scheck) cover what it teaches. `service` reads the VPC of `network`
        // (its builder builds `network` again for the handle; synth wires the reads).
        .system(
            System::new("quickstart", [quickstart::ENVIRONMENT])
                .stack("network", |_| Ok(quickstart::network_stack()?.0))
                .stack_reading("service", &["network"], |_| {
                    quickstart::service_stack(&quickstart::network_stack()?.1)
                }),
        )
        // girder-k8s by example: every workload construct, checked by k8scheck and
        // kubernetes-validate in CI.
        .system(
            System::new("workloads", [workloads::ENVIRONMENT])
                .stack("shop", |_| workloads::shop_stack()),
        )
        // The seed systems. The main stack keeps its state in the state stack's bucket and
        // is deployed after it (`Stack::deploy_after`), though it reads nothing from it.
        .system(
            System::new("pixtools", pixtools_environments)
                .stack("pixtools-state", |env| {
                    pixtools::state_stack(&pixtools_environment(env)?)
                })
                .stack_reading("pixtools", &["pixtools-state"], |env| {
                    pixtools::main_stack(&pixtools_environment(env)?)
                }),
        )
        // The platform of Piksel: per environment the bootstrap, the infra, the
        // Terraform Cloud agents (in the infra's VPC) and the EKS layer, which reads the
        // infra's VPC and the agents' security group.
        .system(
            System::new("piksel", piksel_environments)
                .stack("piksel-bootstrap", |env| {
                    piksel::bootstrap_stack(&piksel_environment(env)?)
                })
                .stack_reading("piksel-infra", &["piksel-bootstrap"], |env| {
                    Ok(piksel::infra_stack(&piksel_environment(env)?)?.0)
                })
                .stack_reading("piksel-agents", &["piksel-infra"], |env| {
                    piksel::agents_stack(&piksel_environment(env)?)
                })
                .stack_reading("piksel-eks", &["piksel-infra", "piksel-agents"], |env| {
                    piksel::eks_stack(&piksel_environment(env)?)
                }),
        )
        // ITS Camera AI (seed 003): per environment the cluster and its platform.
        .system(
            System::new("its-camera", its_environments)
                .stack(girder_stack_its_camera::NAME, |env| {
                    girder_stack_its_camera::stack(&its_camera_environment(env)?)
                }),
        )
}
