//! Lookup cost against 1,000 rules and against 1,000,000 rules in 100,000
//! orgs (half of them in one org), with the caller already parsed. The index
//! should make the two cost about the same.

use std::hint::black_box;
use std::time::Duration;

use arnmap::{Caller, CallerIdentity, CompiledPolicy};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[allow(dead_code)]
mod ruleset;

fn build(rules: usize, orgs: usize) -> (CompiledPolicy, Vec<(String, CallerIdentity)>) {
    let text = ruleset::policy_text(rules, orgs);
    let started = std::time::Instant::now();
    let policy = CompiledPolicy::compile_str("bench.policy", &text).unwrap_or_else(|d| {
        eprintln!("{}", d.render(&arnmap::SourceMap::new(), false));
        std::process::exit(2)
    });
    eprintln!(
        "compiled {rules} rules in {orgs} orgs in {:.2?} ({:?})",
        started.elapsed(),
        policy.stats()
    );
    let callers = ruleset::callers(rules, 1024)
        .into_iter()
        .filter_map(|(org, arn, uid)| CallerIdentity::parse(&arn, &uid).ok().map(|id| (org, id)))
        .collect();
    (policy, callers)
}

fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("lookup");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    for (label, rules, orgs) in [
        ("1k_rules_100_orgs", 1_000, 100),
        ("1M_rules_100k_orgs", 1_000_000, 100_000),
    ] {
        let (policy, callers) = build(rules, orgs);
        let kinds: std::collections::BTreeMap<&str, usize> =
            callers.iter().fold(Default::default(), |mut m, (org, id)| {
                *m.entry(policy.decide(org, &Caller::new(id)).kind())
                    .or_default() += 1;
                m
            });
        eprintln!("{label}: decisions over the caller mix: {kinds:?}");
        group.throughput(Throughput::Elements(callers.len() as u64));
        group.bench_function(label, |b| {
            b.iter(|| {
                for (org, id) in &callers {
                    black_box(policy.evaluate(org, &Caller::new(id)));
                }
            })
        });
        drop(policy);
    }
    group.finish();
}

criterion_group!(benches, lookup);
criterion_main!(benches);
