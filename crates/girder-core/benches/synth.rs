//! Synth throughput: stacks of 1,000 and 10,000 resources with references between them
//! (each subnet references the VPC and the previous subnet; a tenth of them are read by a
//! second stack through cross-stack outputs). Prints peak heap per size before timing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
#![allow(unsafe_code)] // the counting allocator below

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use girder_core::prelude::*;
use serde_json::json;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: delegates to the system allocator; only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn build(resources: usize) -> App {
    let mut network = Stack::new("network", "bench", Backend::cloud("acme")).unwrap();
    network
        .require_provider(ProviderRequirement::new("aws", "hashicorp/aws", "~> 6.0"))
        .unwrap();
    let mut consumer = Stack::new("apps", "bench", Backend::cloud("acme")).unwrap();
    consumer
        .require_provider(ProviderRequirement::new("aws", "hashicorp/aws", "~> 6.0"))
        .unwrap();
    let mut scope = network.scope("network").unwrap();
    let vpc = scope
        .add(
            "vpc",
            ResourceSpec::resource("aws_vpc", &json!({ "cidr_block": "10.0.0.0/8" })),
        )
        .unwrap();
    let mut previous = vpc.clone();
    for i in 1..resources {
        let subnet = scope
            .add(
                &format!("subnet-{i}"),
                ResourceSpec::resource(
                    "aws_subnet",
                    &json!({
                        "vpc_id": vpc.id(),
                        "cidr_block": fns::cidrsubnet(vpc.attr::<String>("cidr_block"), 16, i),
                        "tags": { "Name": format!("subnet-{i}"), "After": previous.id() },
                    }),
                ),
            )
            .unwrap();
        if i % 10 == 0 {
            consumer
                .root()
                .add(
                    &format!("sg-{i}"),
                    ResourceSpec::resource(
                        "aws_security_group",
                        &json!({ "vpc_id": vpc.id(), "description": subnet.id() }),
                    ),
                )
                .unwrap();
        }
        previous = subnet;
    }
    let mut app = App::new();
    app.add_stack(network).unwrap();
    app.add_stack(consumer).unwrap();
    app
}

fn report_peak_memory() {
    for size in [1_000, 10_000] {
        let base = CURRENT.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let start = Instant::now();
        let app = build(size);
        let built = start.elapsed();
        let assembly = app.synth().unwrap();
        let total = start.elapsed();
        let bytes: usize = assembly.files().iter().map(|(_, b)| b.len()).sum();
        let peak = PEAK.load(Ordering::Relaxed) - base;
        eprintln!(
            "synth/{size}: build {built:?}, build+synth {total:?}, peak heap {:.1} MiB, output {:.1} MiB",
            peak as f64 / (1024.0 * 1024.0),
            bytes as f64 / (1024.0 * 1024.0)
        );
    }
}

fn bench(c: &mut Criterion) {
    report_peak_memory();
    let mut group = c.benchmark_group("synth");
    group.sample_size(10);
    for size in [1_000, 10_000] {
        let app = build(size);
        group.bench_with_input(BenchmarkId::new("synth", size), &app, |b, app| {
            b.iter(|| app.synth().unwrap())
        });
        group.bench_with_input(BenchmarkId::new("build+synth", size), &size, |b, &size| {
            b.iter(|| build(size).synth().unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
