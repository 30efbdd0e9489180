//! The whole benchmark suite in one run, ending with a table of medians and of
//! ratios against each baseline (see `docs/bench.md`):
//!
//! ```text
//! cargo bench --bench suite                      # short run, a few minutes
//! ARNMAP_BENCH_FULL=1 cargo bench --bench suite  # longer samples
//! ARNMAP_BENCH_SIZES=1k,100k cargo bench --bench suite    # some sizes only
//! ARNMAP_BENCH_COMPILE_ONLY=1 ...                 # compile and exit (profiling)
//! ARNMAP_BENCH_PROFILE_LOOKUPS=N ...              # N lookups of the first size, exit
//! ARNMAP_BENCH_PROFILE_SHAPE=user_name_100k ...   # ... of that rule shape and size instead
//! ARNMAP_BENCH_NO_SHAPES=1 ...                    # skip the rule-shape sets
//! ARNMAP_BENCH_CHECK=1 cargo bench --bench suite  # CI: ratios only, seconds, exit 1 on a miss
//! ARNMAP_BENCH_DUMP=DIR ...                       # write the rule sets and callers (benches/decisions.sh)
//! ```
//!
//! For 1k, 100k and 1M generated rules: compile time and retained heap bytes
//! per rule (counted by a counting global allocator, not estimated), then
//! criterion lookups with the caller already parsed — arnmap's indexed
//! matcher against a linear `ArnLike` scan, one `RegexSet` and one `GlobSet`
//! (each asserted to agree with arnmap on every caller before timing). Then
//! identity parsing alone, proof decoding with every pre-check, and token
//! signing and verification per algorithm.

use std::alloc::System;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant, UNIX_EPOCH};

use arnmap::internals::wire::encode;
use arnmap::{Caller, CallerIdentity, CompiledPolicy};
#[cfg(feature = "token")]
use arnmap::{KeyPair, KeyRing, SigningAlgorithm, TokenConfig, TokenIssuer, TokenSubject};
use arnmap::{PrecheckConfig, precheck};
use criterion::Criterion;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[allow(dead_code)]
mod baseline;
#[allow(dead_code)]
mod ruleset;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// One rule-set size.
struct Size {
    label: &'static str,
    rules: usize,
    orgs: usize,
    /// Build the RegexSet and GlobSet baselines (too slow and large at 1M).
    sets: bool,
}

const SIZES: [Size; 3] = [
    Size {
        label: "1k",
        rules: 1_000,
        orgs: 100,
        sets: true,
    },
    Size {
        label: "100k",
        rules: 100_000,
        orgs: 10_000,
        sets: true,
    },
    Size {
        label: "1M",
        rules: 1_000_000,
        orgs: 100_000,
        sets: false,
    },
];

/// What one size measured outside criterion.
struct Built {
    label: &'static str,
    compile: Duration,
    bytes_per_rule: f64,
    keys: usize,
    set_build: Option<(Duration, Duration, usize)>,
    /// The process's memory on transparent huge pages right after arnmap's
    /// lookups were timed, in MiB.
    huge_pages: Option<u64>,
    /// Of which the index's own mappings (`IndexStats::mapped_bytes`), in MiB.
    index_mapped: usize,
}

/// Whether the process runs with the heap on huge pages, for the report.
fn heap_setting() -> &'static str {
    if arnmap::huge_pages::heap_on_huge_pages() {
        "yes"
    } else {
        "no"
    }
}

/// The process's memory on transparent huge pages in MiB (`AnonHugePages`
/// of `/proc/self/smaps_rollup`; `None` where there is none): whether the
/// kernel actually gave the heap huge pages, which the tunable only asks for.
fn huge_page_mib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/smaps_rollup")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("AnonHugePages:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kib| kib / 1024)
}

fn config(full: bool) -> Criterion {
    let c = Criterion::default().configure_from_args();
    if full {
        c.sample_size(30)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4))
    } else {
        c.sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_millis(1200))
    }
    .without_plots()
}

fn live_bytes(region: &Region<'_, System>) -> isize {
    // stats_alloc already counts a realloc's growth or shrink in
    // bytes_allocated / bytes_deallocated (bytes_reallocated repeats it).
    let s = region.change();
    s.bytes_allocated as isize - s.bytes_deallocated as isize
}

/// Compiles the generated text, timing it and counting the heap it keeps.
fn compile(size: &Size) -> (CompiledPolicy, Duration, f64) {
    compile_text(ruleset::policy_text(size.rules, size.orgs), size.rules)
}

/// Compiles a text of `rules` rules, timing it and counting the memory it
/// keeps (heap, and the index's huge-page mappings).
fn compile_text(text: String, rules: usize) -> (CompiledPolicy, Duration, f64) {
    let region = Region::new(GLOBAL);
    let started = Instant::now();
    let policy = match CompiledPolicy::compile_str("bench.policy", &text) {
        Ok(p) => p,
        Err(d) => {
            eprintln!("{}", d.render(&arnmap::SourceMap::new(), false));
            std::process::exit(2)
        }
    };
    let took = started.elapsed();
    // The text was allocated before the region: dropping it must not count.
    let text_bytes = text.capacity() as isize;
    drop(text);
    // The index's largest tables are mappings of their own (huge pages),
    // which the allocator does not see: counted from the index's stats.
    let kept = live_bytes(&region) + text_bytes + policy.stats().mapped_bytes as isize;
    (policy, took, kept as f64 / rules as f64)
}

fn callers(size: &Size) -> Vec<(String, CallerIdentity)> {
    parsed(ruleset::callers(size.rules, 1024))
}

fn parsed(callers: Vec<(String, String, String)>) -> Vec<(String, CallerIdentity)> {
    callers
        .into_iter()
        .filter_map(|(org, arn, uid)| CallerIdentity::parse(&arn, &uid).ok().map(|id| (org, id)))
        .collect()
}

/// The two sizes each rule shape is measured at: one org of this many rules.
const SHAPE_SIZES: [(&str, usize); 2] = [("1k", 1_000), ("100k", 100_000)];

/// One rule shape at one size: arnmap and the prefilter baseline (both
/// checked against the reference matcher on every caller first).
fn shape_run(c: &mut Criterion, shape: ruleset::Shape, label: &str, rules: usize) {
    // `ARNMAP_BENCH_PROFILE_SHAPE`: this shape and size alone, for a profiler.
    let profiled = std::env::var_os("ARNMAP_BENCH_PROFILE_SHAPE");
    if profiled
        .as_ref()
        .is_some_and(|name| *name != *format!("{}_{label}", shape.label()))
    {
        return;
    }
    let (policy, took, _) = compile_text(ruleset::shape_policy_text(shape, rules), rules);
    let callers = parsed(ruleset::shape_callers(shape, rules, 1024));
    let mapped = callers
        .iter()
        .filter(|(org, id)| policy.decide(org, &Caller::new(id)).kind() == "mapped")
        .count();
    eprintln!(
        "{} {label}: compiled in {took:.2?}, {mapped}/{} callers mapped, {:?}",
        shape.label(),
        callers.len(),
        policy.stats()
    );
    assert_agrees("linear", &policy, &callers, |org, caller| {
        baseline::linear(&policy, org, caller).to_decision()
    });
    if profiled.is_some() {
        profile_lookups(&format!("{} {label}", shape.label()), &policy, &callers);
    }
    let prefilter = baseline::PrefilterBaseline::build(&policy);
    assert_agrees("prefilter", &policy, &callers, |org, caller| {
        prefilter.evaluate(&policy, org, caller).to_decision()
    });
    let group = format!("shape_{}_{label}", shape.label());
    bench_lookups(c, &group, "arnmap", &callers, |org, caller| {
        matches!(policy.evaluate(org, caller), arnmap::Verdict::Mapped { .. })
    });
    bench_lookups(c, &group, "prefilter", &callers, |org, caller| {
        matches!(
            prefilter.evaluate(&policy, org, caller),
            arnmap::Verdict::Mapped { .. }
        )
    });
}

/// `ARNMAP_BENCH_PROFILE_LOOKUPS=N`: for callgrind / perf, `N` lookups over
/// the callers and nothing else, then exit.
#[inline(never)]
fn profile_lookups(label: &str, policy: &CompiledPolicy, callers: &[(String, CallerIdentity)]) {
    let Some(n) = std::env::var("ARNMAP_BENCH_PROFILE_LOOKUPS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
    else {
        return;
    };
    let started = Instant::now();
    let mut mapped = 0usize;
    for (org, id) in callers.iter().cycle().take(n) {
        mapped += usize::from(matches!(
            policy.evaluate(org, &Caller::new(id)),
            arnmap::Verdict::Mapped { .. }
        ));
    }
    eprintln!(
        "{label}: {n} lookups ({mapped} mapped) in {:.2?}",
        started.elapsed()
    );
    std::process::exit(0);
}

/// Every baseline must reach arnmap's decision on every caller.
fn assert_agrees(
    name: &str,
    policy: &CompiledPolicy,
    callers: &[(String, CallerIdentity)],
    other: impl Fn(&str, &Caller<'_>) -> arnmap::Decision,
) {
    for (org, id) in callers {
        let caller = Caller::new(id);
        let ours = policy.decide(org, &caller);
        let theirs = other(org, &caller);
        if ours != theirs {
            eprintln!("{name} disagrees on {id} in {org}: arnmap {ours:?}, {name} {theirs:?}");
            std::process::exit(3)
        }
    }
}

/// Times one lookup per iteration, cycling through the callers.
fn bench_lookups(
    c: &mut Criterion,
    group: &str,
    name: &str,
    callers: &[(String, CallerIdentity)],
    mut lookup: impl FnMut(&str, &Caller<'_>) -> bool,
) {
    let mut g = c.benchmark_group(group);
    if callers.len() < 1024 {
        // A slow baseline: the same number of lookups in every sample.
        g.sampling_mode(criterion::SamplingMode::Flat);
    }
    g.bench_function(name, |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 1) % callers.len();
            let (org, id) = callers.get(i).map_or(("", None), |(o, id)| (o, Some(id)));
            id.is_some_and(|id| black_box(lookup(org, &Caller::new(id))))
        })
    });
    g.finish();
}

fn size_run(c: &mut Criterion, size: &Size) -> Built {
    let (policy, compile_time, bytes_per_rule) = compile(size);
    let stats = policy.stats();
    eprintln!(
        "{}: compiled {} rules in {} orgs in {compile_time:.2?}, {bytes_per_rule:.0} B/rule, {stats:?}",
        size.label, size.rules, size.orgs
    );
    let callers = callers(size);
    let kinds: std::collections::BTreeMap<&str, usize> =
        callers.iter().fold(Default::default(), |mut m, (org, id)| {
            *m.entry(policy.decide(org, &Caller::new(id)).kind())
                .or_default() += 1;
            m
        });
    eprintln!("{}: decisions over the caller mix: {kinds:?}", size.label);
    if std::env::var_os("ARNMAP_BENCH_PROFILE_SHAPE").is_none() {
        profile_lookups(size.label, &policy, &callers);
    }
    let group = format!("lookup_{}", size.label);
    assert_agrees("linear", &policy, &callers, |org, caller| {
        baseline::linear(&policy, org, caller).to_decision()
    });
    bench_lookups(c, &group, "arnmap", &callers, |org, caller| {
        matches!(policy.evaluate(org, caller), arnmap::Verdict::Mapped { .. })
    });
    let huge_pages = huge_page_mib();
    bench_lookups(c, &group, "linear", &callers, |org, caller| {
        matches!(
            baseline::linear(&policy, org, caller),
            arnmap::Verdict::Mapped { .. }
        )
    });
    let prefilter = baseline::PrefilterBaseline::build(&policy);
    assert_agrees("prefilter", &policy, &callers, |org, caller| {
        prefilter.evaluate(&policy, org, caller).to_decision()
    });
    bench_lookups(c, &group, "prefilter", &callers, |org, caller| {
        matches!(
            prefilter.evaluate(&policy, org, caller),
            arnmap::Verdict::Mapped { .. }
        )
    });
    drop(prefilter);
    let mut set_build = None;
    if size.sets {
        let started = Instant::now();
        let regex = baseline::RegexBaseline::build(&policy);
        let regex_build = started.elapsed();
        let started = Instant::now();
        let glob = baseline::GlobBaseline::build(&policy);
        let glob_build = started.elapsed();
        eprintln!(
            "{}: RegexSet built in {regex_build:.2?}, GlobSet ({} sets) in {glob_build:.2?}",
            size.label,
            glob.sets()
        );
        set_build = Some((regex_build, glob_build, glob.sets()));
        // Over 100k patterns one RegexSet lookup takes about a second (the
        // lazy DFA gives up and the PikeVM walks the whole NFA): both sets are
        // checked and timed on the first 12 callers (two of each shape).
        let few = if size.rules > 10_000 {
            12
        } else {
            callers.len()
        };
        let callers = callers.get(..few).unwrap_or(&callers);
        let started = Instant::now();
        assert_agrees("regexset", &policy, callers, |org, caller| {
            regex.evaluate(&policy, org, caller).to_decision()
        });
        let regex_check = started.elapsed();
        let started = Instant::now();
        assert_agrees("globset", &policy, callers, |org, caller| {
            glob.evaluate(&policy, org, caller).to_decision()
        });
        eprintln!(
            "{}: RegexSet and GlobSet agree with arnmap on {few} callers ({regex_check:.2?}, {:.2?})",
            size.label,
            started.elapsed()
        );
        bench_lookups(c, &group, "regexset", callers, |org, caller| {
            matches!(
                regex.evaluate(&policy, org, caller),
                arnmap::Verdict::Mapped { .. }
            )
        });
        bench_lookups(c, &group, "globset", callers, |org, caller| {
            matches!(
                glob.evaluate(&policy, org, caller),
                arnmap::Verdict::Mapped { .. }
            )
        });
    }
    Built {
        label: size.label,
        compile: compile_time,
        bytes_per_rule,
        keys: stats.keys,
        set_build,
        huge_pages,
        index_mapped: stats.mapped_bytes >> 20,
    }
}

const PROOF_HEADERS: &str = r#"{"Content-Length":["43"],"Content-Type":["application/x-www-form-urlencoded; charset=utf-8"],"X-Amz-Date":["20260101T000000Z"],"x-ddog-org-id":["org"],"X-Amz-Security-Token":["t"],"host":["sts.amazonaws.com"],"Authorization":["AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEEXAMPLE12/20260101/us-east-1/sts/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-security-token;x-ddog-org-id, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"]}"#;

fn parsing(c: &mut Criterion) {
    let inputs: Vec<(String, String)> = ruleset::callers(1000, 1024)
        .into_iter()
        .map(|(_, arn, uid)| (arn, uid))
        .collect();
    let mut g = c.benchmark_group("parse");
    g.bench_function("identity", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 1) % inputs.len();
            inputs
                .get(i)
                .map(|(arn, uid)| black_box(CallerIdentity::parse(arn, uid)).is_ok())
        })
    });
    let proof = encode(
        b"Action=GetCallerIdentity&Version=2011-06-15",
        PROOF_HEADERS,
        "POST",
        "https://sts.amazonaws.com",
    );
    let now = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    let cfg = PrecheckConfig::default();
    if let Err(e) = precheck(&proof, "org", now, &cfg) {
        eprintln!("the bench proof does not pass the pre-checks: {e}");
        std::process::exit(3)
    }
    g.bench_function("proof_precheck", |b| {
        b.iter(|| black_box(precheck(black_box(&proof), "org", now, &cfg)).is_ok())
    });
    g.finish();
}

/// The algorithms timed by `tokens`.
#[cfg(feature = "token")]
const TOKEN_ALGORITHMS: [SigningAlgorithm; 3] = [
    SigningAlgorithm::EdDSA,
    SigningAlgorithm::ES256,
    SigningAlgorithm::RS256,
];

/// Token signing and verification per token, for each algorithm.
#[cfg(feature = "token")]
fn tokens(c: &mut Criterion) {
    let subject = TokenSubject {
        account: "terraform@example.com".into(),
        org: "0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10".into(),
        aws_arn: "arn:aws:sts::123456789012:assumed-role/terraform-runner/tf-42".into(),
        aws_account: "123456789012".into(),
        rule: "seed".into(),
    };
    let now = std::time::SystemTime::now();
    let mut g = c.benchmark_group("token");
    for alg in TOKEN_ALGORITHMS {
        let issuer = match KeyPair::generate(alg)
            .map_err(arnmap::IssueError::from)
            .and_then(|key| {
                TokenIssuer::new(
                    TokenConfig {
                        algorithm: alg,
                        ..TokenConfig::default()
                    },
                    KeyRing::single(key),
                )
            }) {
            Ok(issuer) => issuer,
            Err(e) => {
                eprintln!("cannot build a {alg:?} issuer: {e}");
                std::process::exit(3)
            }
        };
        let token = match issuer.issue(&subject, now) {
            Ok(t) if issuer.verify(&t.token, now).is_ok() => t.token,
            _ => {
                eprintln!("a {alg:?} token does not round trip");
                std::process::exit(3)
            }
        };
        g.bench_function(format!("sign_{alg:?}"), |b| {
            b.iter(|| black_box(issuer.issue(black_box(&subject), now)).is_ok())
        });
        g.bench_function(format!("verify_{alg:?}"), |b| {
            b.iter(|| black_box(issuer.verify(black_box(&token), now)).is_ok())
        });
    }
    g.finish();
}

/// Criterion's median for a benchmark, in nanoseconds per iteration.
fn median_ns(group: &str, name: &str) -> Option<f64> {
    let root = std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR").map(|d| PathBuf::from(d).join("criterion"))
        })
        .unwrap_or_else(|| PathBuf::from("target/criterion"));
    let path = root.join(group).join(name).join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.pointer("/median/point_estimate")?.as_f64()
}

fn ns(v: Option<f64>) -> String {
    match v {
        Some(v) if v >= 1e6 => format!("{:.2} ms", v / 1e6),
        Some(v) if v >= 1e3 => format!("{:.2} µs", v / 1e3),
        Some(v) => format!("{v:.0} ns"),
        None => "—".into(),
    }
}

fn ratio(base: Option<f64>, ours: Option<f64>) -> String {
    match (base, ours) {
        (Some(b), Some(o)) if o > 0.0 => format!("{:.0}×", b / o),
        _ => "—".into(),
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn report(built: &[Built], shapes: bool) {
    println!(
        "\nHeap on transparent huge pages (`GLIBC_TUNABLES=glibc.malloc.hugetlb=1`, as `arnmap serve` runs): {}",
        heap_setting()
    );
    println!("\n## Lookup medians (one lookup, caller already parsed)\n");
    println!(
        "| rules | arnmap | linear scan | RegexSet | GlobSet | prefilter | vs linear | vs RegexSet | vs GlobSet | vs prefilter |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for b in built {
        let group = format!("lookup_{}", b.label);
        let ours = median_ns(&group, "arnmap");
        let linear = median_ns(&group, "linear");
        let regex = median_ns(&group, "regexset");
        let glob = median_ns(&group, "globset");
        let prefilter = median_ns(&group, "prefilter");
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            b.label,
            ns(ours),
            ns(linear),
            ns(regex),
            ns(glob),
            ns(prefilter),
            ratio(linear, ours),
            ratio(regex, ours),
            ratio(glob, ours),
            ratio(prefilter, ours)
        );
    }
    let huge: Vec<String> = built
        .iter()
        .map(|b| match b.huge_pages {
            Some(mib) => format!("{} {mib} MiB (index {} MiB)", b.label, b.index_mapped),
            None => format!("{} unknown", b.label),
        })
        .collect();
    println!(
        "\nMemory on huge pages right after arnmap's lookups were timed (`AnonHugePages`; of which the index's own tables): {}",
        huge.join(", ")
    );
    if shapes {
        println!("\n## Rule shapes (one org of one shape; caller already parsed)\n");
        println!(
            "| rule shape | arnmap 1k | arnmap 100k | 100k / 1k | prefilter 1k | prefilter 100k | vs prefilter at 100k |"
        );
        println!("|---|---|---|---|---|---|---|");
        for shape in ruleset::Shape::ALL {
            let at = |size: &str, name: &str| {
                median_ns(&format!("shape_{}_{size}", shape.label()), name)
            };
            let (small, large) = (at("1k", "arnmap"), at("100k", "arnmap"));
            let growth = match (small, large) {
                (Some(s), Some(l)) if s > 0.0 => format!("{:.2}×", l / s),
                _ => "—".into(),
            };
            println!(
                "| {} | {} | {} | {growth} | {} | {} | {} |",
                shape.display(),
                ns(small),
                ns(large),
                ns(at("1k", "prefilter")),
                ns(at("100k", "prefilter")),
                ratio(at("100k", "prefilter"), large)
            );
        }
    }
    println!("\n## Compile and memory\n");
    println!(
        "| rules | compile | memory kept per rule (heap + huge-page mappings) | index keys | RegexSet build | GlobSet build |"
    );
    println!("|---|---|---|---|---|---|");
    for b in built {
        let (r, g) = match b.set_build {
            Some((r, g, 1)) => (format!("{r:.2?}"), format!("{g:.2?}")),
            Some((r, g, n)) => (
                format!("{r:.2?}"),
                format!("{g:.2?} ({n} sets: one does not build)"),
            ),
            None => ("not built".into(), "not built".into()),
        };
        println!(
            "| {} | {:.2?} | {:.0} B | {} | {r} | {g} |",
            b.label, b.compile, b.bytes_per_rule, b.keys
        );
    }
    println!("\n## Per-item costs\n");
    println!("| what | median |");
    println!("|---|---|");
    println!(
        "| identity parse (ARN + UserId) | {} |",
        ns(median_ns("parse", "identity"))
    );
    println!(
        "| proof decode + every pre-check | {} |",
        ns(median_ns("parse", "proof_precheck"))
    );
    #[cfg(feature = "token")]
    for alg in TOKEN_ALGORITHMS {
        println!(
            "| token sign / verify ({alg:?}) | {} / {} |",
            ns(median_ns("token", &format!("sign_{alg:?}"))),
            ns(median_ns("token", &format!("verify_{alg:?}")))
        );
    }

    let at = |label: &str, name: &str| median_ns(&format!("lookup_{label}"), name);
    let (k1, m1) = (at("1k", "arnmap"), at("1M", "arnmap"));
    let h = at("100k", "arnmap");
    let big = built.iter().find(|b| b.label == "1M");
    println!("\n## Targets (issue 13)\n");
    println!("| target | measured | |");
    println!("|---|---|---|");
    if shapes {
        for shape in ruleset::Shape::ALL {
            let at = |size: &str| median_ns(&format!("shape_{}_{size}", shape.label()), "arnmap");
            if let (Some(s), Some(l)) = (at("1k"), at("100k")) {
                println!(
                    "| {}: lookup at 100k ≤ 2× at 1k | {:.2}× | {} |",
                    shape.display(),
                    l / s,
                    verdict(l <= 2.0 * s)
                );
            }
        }
    }
    if let (Some(k1), Some(m1)) = (k1, m1) {
        println!(
            "| mixed: lookup at 1M ≤ 1.6× lookup at 1k | {:.2}× | {} |",
            m1 / k1,
            verdict(m1 <= 1.6 * k1)
        );
        println!(
            "| median lookup at 1M ≤ 200 ns | {} | {} |",
            ns(Some(m1)),
            verdict(m1 <= 200.0)
        );
    }
    for (name, label, want) in [
        ("linear scan", "linear", 50.0),
        ("RegexSet", "regexset", 5.0),
        ("GlobSet", "globset", 5.0),
        ("the prefilter baseline", "prefilter", 10.0),
    ] {
        if let (Some(base), Some(h)) = (at("100k", label), h) {
            println!(
                "| mixed at 100k ≥ {want:.0}× faster than {name} | {:.0}× | {} |",
                base / h,
                verdict(base / h >= want)
            );
        }
    }
    if shapes {
        for shape in ruleset::Shape::ALL {
            let at = |name: &str| median_ns(&format!("shape_{}_100k", shape.label()), name);
            if let (Some(base), Some(ours)) = (at("prefilter"), at("arnmap")) {
                println!(
                    "| {} at 100k ≥ 10× faster than the prefilter baseline | {:.1}× | {} |",
                    shape.display(),
                    base / ours,
                    verdict(base >= 10.0 * ours)
                );
            }
        }
    }
    if let Some(b) = big {
        println!(
            "| compile 1M rules ≤ 2 s | {:.2?} | {} |",
            b.compile,
            verdict(b.compile <= Duration::from_secs(2))
        );
        println!(
            "| memory kept ≤ 256 B per rule at 1M (heap + huge-page mappings) | {:.0} B | {} |",
            b.bytes_per_rule,
            verdict(b.bytes_per_rule <= 256.0)
        );
    }
}

/// Per-lookup time, for the CI short mode: the median over rounds of about
/// 20 ms (at least three rounds, and one lookup per round for a very slow
/// baseline), cycling through the callers. Only compared within one run.
fn time_ns(
    callers: &[(String, CallerIdentity)],
    mut lookup: impl FnMut(&str, &Caller<'_>) -> bool,
) -> f64 {
    let mut i = 0usize;
    let mut next = || {
        i = (i + 1) % callers.len().max(1);
        callers.get(i)
    };
    // Calibrate a batch that takes about a millisecond.
    let started = Instant::now();
    if let Some((org, id)) = next() {
        black_box(lookup(org, &Caller::new(id)));
    }
    let one = started.elapsed().as_nanos().max(1);
    let batch = (1_000_000 / one).clamp(1, 4096) as usize;
    let mut samples = Vec::new();
    let all = Instant::now();
    while samples.len() < 3 || (samples.len() < 25 && all.elapsed() < Duration::from_millis(400)) {
        let started = Instant::now();
        let mut n = 0usize;
        while n == 0 || started.elapsed() < Duration::from_millis(20) {
            for _ in 0..batch {
                if let Some((org, id)) = next() {
                    black_box(lookup(org, &Caller::new(id)));
                }
            }
            n += batch;
        }
        samples.push(started.elapsed().as_nanos() as f64 / n as f64);
    }
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The CI short mode (`ARNMAP_BENCH_CHECK=1 cargo bench --bench suite`):
/// checks, within this one run and by ratios only, that each rule shape's
/// lookup at 100k rules is within 3× of its lookup at 1k, and that arnmap is
/// faster than every baseline at 100k (each rule shape against the linear
/// scan and the prefilter; the mixed set against all four). Every baseline
/// is first checked to decide like arnmap. Exits 1 when a check fails.
fn check_mode() -> ! {
    let mut failed = Vec::new();
    let mut check = |what: String, ok: bool| {
        println!("| {what} | {} |", if ok { "ok" } else { "FAILED" });
        if !ok {
            failed.push(what);
        }
    };
    println!(
        "heap on transparent huge pages (as `arnmap serve` runs): {}\n",
        heap_setting()
    );
    println!("| check | |\n|---|---|");
    for shape in ruleset::Shape::ALL {
        let mut ours = Vec::new();
        for (label, rules) in SHAPE_SIZES {
            let (policy, _, _) = compile_text(ruleset::shape_policy_text(shape, rules), rules);
            let callers = parsed(ruleset::shape_callers(shape, rules, 1024));
            let few = callers.get(..64).unwrap_or(&callers);
            assert_agrees("linear", &policy, few, |org, caller| {
                baseline::linear(&policy, org, caller).to_decision()
            });
            let prefilter = baseline::PrefilterBaseline::build(&policy);
            assert_agrees("prefilter", &policy, &callers, |org, caller| {
                prefilter.evaluate(&policy, org, caller).to_decision()
            });
            let t = time_ns(&callers, |org, caller| {
                matches!(policy.evaluate(org, caller), arnmap::Verdict::Mapped { .. })
            });
            if rules >= 100_000 {
                let base = time_ns(&callers, |org, caller| {
                    matches!(
                        prefilter.evaluate(&policy, org, caller),
                        arnmap::Verdict::Mapped { .. }
                    )
                });
                check(
                    format!(
                        "{} {label}: arnmap {t:.0} ns < prefilter {base:.0} ns ({:.1}×)",
                        shape.label(),
                        base / t
                    ),
                    t < base,
                );
                let linear = time_ns(few, |org, caller| {
                    matches!(
                        baseline::linear(&policy, org, caller),
                        arnmap::Verdict::Mapped { .. }
                    )
                });
                check(
                    format!(
                        "{} {label}: arnmap {t:.0} ns < linear {linear:.0} ns ({:.0}×)",
                        shape.label(),
                        linear / t
                    ),
                    t < linear,
                );
            }
            ours.push(t);
        }
        if let [small, large] = ours[..] {
            check(
                format!(
                    "{}: lookup at 100k / at 1k = {:.2}× ≤ 3×",
                    shape.label(),
                    large / small
                ),
                large <= 3.0 * small,
            );
        }
    }
    let size = &SIZES[1];
    let (policy, _, _) = compile(size);
    let callers = callers(size);
    assert_agrees("linear", &policy, &callers, |org, caller| {
        baseline::linear(&policy, org, caller).to_decision()
    });
    let prefilter = baseline::PrefilterBaseline::build(&policy);
    assert_agrees("prefilter", &policy, &callers, |org, caller| {
        prefilter.evaluate(&policy, org, caller).to_decision()
    });
    let regex = baseline::RegexBaseline::build(&policy);
    let glob = baseline::GlobBaseline::build(&policy);
    let few = callers.get(..12).unwrap_or(&callers);
    assert_agrees("regexset", &policy, few, |org, caller| {
        regex.evaluate(&policy, org, caller).to_decision()
    });
    assert_agrees("globset", &policy, few, |org, caller| {
        glob.evaluate(&policy, org, caller).to_decision()
    });
    let ours = time_ns(&callers, |org, caller| {
        matches!(policy.evaluate(org, caller), arnmap::Verdict::Mapped { .. })
    });
    let baselines: [(&str, f64); 4] = [
        (
            "linear",
            time_ns(&callers, |org, caller| {
                matches!(
                    baseline::linear(&policy, org, caller),
                    arnmap::Verdict::Mapped { .. }
                )
            }),
        ),
        (
            "prefilter",
            time_ns(&callers, |org, caller| {
                matches!(
                    prefilter.evaluate(&policy, org, caller),
                    arnmap::Verdict::Mapped { .. }
                )
            }),
        ),
        (
            "regexset",
            time_ns(few, |org, caller| {
                matches!(
                    regex.evaluate(&policy, org, caller),
                    arnmap::Verdict::Mapped { .. }
                )
            }),
        ),
        (
            "globset",
            time_ns(few, |org, caller| {
                matches!(
                    glob.evaluate(&policy, org, caller),
                    arnmap::Verdict::Mapped { .. }
                )
            }),
        ),
    ];
    for (name, base) in baselines {
        check(
            format!(
                "mixed {}: arnmap {ours:.0} ns < {name} {base:.0} ns ({:.0}×)",
                size.label,
                base / ours
            ),
            ours < base,
        );
    }
    if failed.is_empty() {
        println!("\nall checks passed");
        std::process::exit(0)
    }
    eprintln!("\n{} check(s) failed: {failed:?}", failed.len());
    std::process::exit(1)
}

/// `ARNMAP_BENCH_DUMP=DIR`: writes each generated rule set (the mixed 1k
/// and 100k sets, each shape at 1k) as `NAME.policy` with its callers as
/// `NAME.callers` (`ARN<TAB>USERID` lines, the input of `arnmap check
/// --stdin`) and its org as `NAME.org`, then exits; `benches/decisions.sh`
/// compares two `arnmap` binaries' decisions over them.
fn dump(dir: &std::path::Path) -> ! {
    /// A set's name, policy text and callers (`(org, arn, user id)`).
    type Set = (String, String, Vec<(String, String, String)>);
    let mut sets: Vec<Set> = SIZES
        .iter()
        .take(2)
        .map(|size| {
            (
                format!("mixed-{}", size.label),
                ruleset::policy_text(size.rules, size.orgs),
                ruleset::callers(size.rules, 1024),
            )
        })
        .collect();
    for shape in ruleset::Shape::ALL {
        sets.push((
            format!("shape-{}-1k", shape.label()),
            ruleset::shape_policy_text(shape, 1_000),
            ruleset::shape_callers(shape, 1_000, 1024),
        ));
    }
    for (name, text, callers) in sets {
        let lines: String = callers
            .iter()
            .map(|(_, arn, uid)| format!("{arn}\t{uid}\n"))
            .collect();
        let org = callers
            .first()
            .map(|(org, _, _)| org.clone())
            .unwrap_or_default();
        let written = std::fs::write(dir.join(format!("{name}.policy")), text)
            .and_then(|()| std::fs::write(dir.join(format!("{name}.callers")), lines))
            .and_then(|()| std::fs::write(dir.join(format!("{name}.org")), org));
        if let Err(e) = written {
            eprintln!("cannot write {name} into {}: {e}", dir.display());
            std::process::exit(2)
        }
    }
    std::process::exit(0)
}

fn main() {
    // Measure what `arnmap serve` runs with: the heap on transparent huge
    // pages (arnmap::huge_pages; `ARNMAP_HUGE_PAGES=0` measures without,
    // and valgrind needs it off). Returns only when it did not execute again.
    if let Some(e) = arnmap::huge_pages::reexec_with_huge_page_heap() {
        eprintln!("could not restart with the heap on huge pages ({e}); measuring without");
    }
    if std::env::var_os("ARNMAP_BENCH_CHECK").is_some() {
        check_mode();
    }
    if let Some(dir) = std::env::var_os("ARNMAP_BENCH_DUMP") {
        dump(std::path::Path::new(&dir));
    }
    let full = std::env::var_os("ARNMAP_BENCH_FULL").is_some();
    let mut c = config(full);
    let only: Option<String> = std::env::var("ARNMAP_BENCH_SIZES").ok();
    let mut built = Vec::new();
    let profile_shape = std::env::var_os("ARNMAP_BENCH_PROFILE_SHAPE").is_some();
    for size in &SIZES {
        if profile_shape
            || only
                .as_deref()
                .is_some_and(|o| !o.split(',').any(|s| s == size.label))
        {
            continue;
        }
        if std::env::var_os("ARNMAP_BENCH_COMPILE_ONLY").is_some() {
            // For profilers: compile and report, nothing else.
            let (policy, took, per_rule) = compile(size);
            eprintln!(
                "{}: compiled in {took:.2?}, {per_rule:.0} B/rule, {:?}",
                size.label,
                policy.stats()
            );
            drop(policy);
            continue;
        }
        built.push(size_run(&mut c, size));
    }
    if std::env::var_os("ARNMAP_BENCH_COMPILE_ONLY").is_some() {
        return;
    }
    let shapes = std::env::var_os("ARNMAP_BENCH_NO_SHAPES").is_none();
    if shapes {
        for shape in ruleset::Shape::ALL {
            for (label, rules) in SHAPE_SIZES {
                shape_run(&mut c, shape, label, rules);
            }
        }
    }
    parsing(&mut c);
    #[cfg(feature = "token")]
    tokens(&mut c);
    c.final_summary();
    report(&built, shapes);
}
