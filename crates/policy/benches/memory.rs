//! Figure (e) of BENCHMARKS.md: bytes per compiled policy, measured with a counting
//! global allocator, and a check that deciding workload (a) allocates nothing.
//!
//! A bench target of its own because the counting allocator is global: in
//! `authorize.rs` it would slow down Cedar (which allocates while deciding) and so
//! bias the comparison.
//!
//! What is counted: the bytes the compiled policy still holds after
//! [`Policy::parse`] returns (heap blocks allocated and not freed, the `Arc` and every
//! string inside included; the parser's temporary document is freed by then). These
//! are requested bytes; the system allocator adds its own header and rounding, about
//! 16 bytes per block, printed separately.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_precision_loss,
    reason = "benchmark harness: a failed setup aborts the run"
)]

use std::alloc::System;
use std::sync::Arc;

use portcullis_policy::{Decision, Policy, PolicySet, authorize};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[path = "support/workload.rs"]
#[allow(dead_code, reason = "shared with authorize.rs, which uses all of it")]
mod workload;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes and blocks a closure leaves allocated, and its result.
fn retained<T>(f: impl FnOnce() -> T) -> (T, i64, i64) {
    let region = Region::new(GLOBAL);
    let value = f();
    let c = region.change();
    // A reallocation is already counted in `bytes_allocated` (growth) or
    // `bytes_deallocated` (shrinking); `bytes_reallocated` only sums the two.
    let bytes = c.bytes_allocated as i64 - c.bytes_deallocated as i64;
    let blocks = c.allocations as i64 - c.deallocations as i64;
    (value, bytes, blocks)
}

struct Sample {
    text: usize,
    bytes: i64,
    blocks: i64,
}

fn compile_all(policies: &[&workload::Managed]) -> (Vec<Arc<Policy>>, Vec<Sample>) {
    let mut kept = Vec::new();
    let mut samples = Vec::new();
    for m in policies {
        let (p, bytes, blocks) =
            retained(|| Policy::parse(m.name.as_str(), &m.text, workload::options()).unwrap());
        kept.push(p);
        samples.push(Sample {
            text: m.text.len(),
            bytes,
            blocks,
        });
    }
    (kept, samples)
}

fn report(label: &str, samples: &[Sample]) {
    let n = samples.len() as f64;
    let text = samples.iter().map(|s| s.text).sum::<usize>() as f64 / n;
    let bytes = samples.iter().map(|s| s.bytes).sum::<i64>() as f64 / n;
    let blocks = samples.iter().map(|s| s.blocks).sum::<i64>() as f64 / n;
    let mut sorted: Vec<i64> = samples.iter().map(|s| s.bytes).collect();
    sorted.sort_unstable();
    let ratio = bytes / text;
    println!(
        "{label}: {} policies, text {text:.0} B on average (compact JSON)",
        samples.len()
    );
    println!(
        "  compiled: {bytes:.0} B on average (min {}, median {}, max {}), {blocks:.1} heap blocks",
        sorted[0],
        sorted[sorted.len() / 2],
        sorted[sorted.len() - 1]
    );
    println!(
        "  ratio {ratio:.2} x text = {:.0} B per 1.5 KB (1,536 B) of policy text  [goal <= 2,048 B]",
        ratio * 1536.0
    );
    println!(
        "  with ~16 B of allocator header per block: {:.0} B ({:.2} x text)",
        bytes + 16.0 * blocks,
        (bytes + 16.0 * blocks) / text
    );
}

fn main() {
    // `cargo bench` passes `--bench`; this target takes no options.
    let all = workload::managed_policies();

    println!("== (e) memory per compiled policy ==");
    let mid: Vec<&workload::Managed> = all
        .iter()
        .filter(|m| (1400..=1600).contains(&m.text.len()))
        .collect();
    let (_kept, samples) = compile_all(&mid);
    report("AWS managed policies of 1,400-1,600 B", &samples);

    let every: Vec<&workload::Managed> = all.iter().collect();
    let (kept_all, samples) = compile_all(&every);
    report("all AWS managed policies", &samples);
    drop(kept_all);

    println!("\n== zero allocations per decision, workload (a) ==");
    let catalog = workload::catalog();
    let w = workload::principal_workload(&all, &catalog);
    let requests: Vec<_> = w.requests.iter().map(|r| r.request(&w.principal)).collect();
    let (set, set_bytes, set_blocks) = retained(|| {
        w.compiled
            .iter()
            .fold(PolicySet::builder(), |b, p| b.identity(p.clone()))
            .build()
            .unwrap()
    });
    println!(
        "policy set of the 10 policies ({} statements): index {set_bytes} B in {set_blocks} blocks (policies shared by Arc, not counted)",
        w.statements()
    );
    let region = Region::new(GLOBAL);
    let mut allowed = 0usize;
    let passes = 100;
    for _ in 0..passes {
        for r in &requests {
            allowed += usize::from(authorize(&set, None, r).decision == Decision::Allow);
        }
    }
    let c = region.change();
    println!(
        "{} decisions ({allowed} allowed): {} allocations, {} reallocations",
        passes * requests.len(),
        c.allocations,
        c.reallocations
    );
    assert_eq!(
        c.allocations + c.reallocations,
        0,
        "decisions allocated: {c:?}"
    );
}
