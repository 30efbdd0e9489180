//! `arnmap check`: decide for one caller, or for a stream of callers on stdin.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use arnmap::{Caller, CallerIdentity, CompiledPolicy, Decision};
use serde::Serialize;

use super::{EXIT_OK, EXIT_POLICY, load_policy};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per caller.
    Json,
    /// A sentence per caller.
    Human,
}

/// `arnmap check`
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Policy files, or directories of `*.policy` files.
    #[arg(long = "policy", required = true, num_args = 1..)]
    pub policy: Vec<PathBuf>,
    /// The org whose rules apply.
    #[arg(long)]
    pub org: String,
    /// The caller ARN.
    #[arg(long, conflicts_with = "stdin", required_unless_present = "stdin")]
    pub arn: Option<String>,
    /// The caller's UserId (as STS returns it).
    #[arg(long, requires = "arn")]
    pub user_id: Option<String>,
    /// The STS region the proof was signed for (the `region` attribute).
    #[arg(long)]
    pub region: Option<String>,
    /// Read callers from stdin: `ARN` or `ARN<TAB>USERID` per line; print one JSON object per line.
    #[arg(long)]
    pub stdin: bool,
    /// Output format (with `--stdin` always JSON lines).
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

/// One line of `check` output.
#[derive(Debug, Serialize)]
pub struct CheckLine {
    /// The caller ARN as given.
    pub arn: String,
    /// `mapped`, `denied`, `no_match` or `error`.
    pub decision: &'static str,
    /// The account identifier, when mapped.
    pub user: Option<String>,
    /// The deciding rule, when one decided.
    pub rule: Option<String>,
    /// Why, when the decision is an error.
    pub error: Option<String>,
}

/// Decides for one caller; an unparseable caller is an `error` decision.
pub fn check_one(
    policy: &CompiledPolicy,
    org: &str,
    arn: &str,
    user_id: Option<&str>,
    region: Option<&str>,
) -> CheckLine {
    let parsed = match user_id {
        Some(uid) => CallerIdentity::parse(arn, uid),
        None => CallerIdentity::parse_arn(arn),
    };
    let decision = match parsed {
        Ok(identity) => policy.decide(
            org,
            &Caller {
                identity: &identity,
                region,
            },
        ),
        Err(e) => Decision::Error {
            rule: None,
            reason: format!("invalid caller: {e}"),
        },
    };
    let kind = decision.kind();
    let (user, rule, error) = match decision {
        Decision::Mapped { user, rule } => (Some(user), Some(rule), None),
        Decision::Denied { rule } => (None, Some(rule), None),
        Decision::NoMatch => (None, None, None),
        Decision::Error { rule, reason } => (None, rule, Some(reason)),
    };
    CheckLine {
        arn: arn.to_owned(),
        decision: kind,
        user,
        rule,
        error,
    }
}

fn human(line: &CheckLine) -> String {
    let rule = line
        .rule
        .as_deref()
        .map(|r| format!(" (rule {r})"))
        .unwrap_or_default();
    match line.decision {
        "mapped" => format!(
            "{} → {}{rule}",
            line.arn,
            line.user.as_deref().unwrap_or_default()
        ),
        "denied" => format!("{} → denied{rule}", line.arn),
        "no_match" => format!("{} → no rule matches", line.arn),
        _ => format!(
            "{} → error{rule}: {}",
            line.arn,
            line.error.as_deref().unwrap_or_default()
        ),
    }
}

fn json(line: &CheckLine) -> String {
    serde_json::to_string(line).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// Runs `arnmap check`.
pub fn run(args: CheckArgs) -> ExitCode {
    let Some(policy) = load_policy(&args.policy) else {
        return ExitCode::from(EXIT_POLICY);
    };
    let region = args.region.as_deref();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.stdin {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else {
                eprintln!("error: stdin is not valid UTF-8 text");
                return ExitCode::from(super::EXIT_FAILED);
            };
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            let (arn, user_id) = match line.split_once('\t') {
                Some((arn, uid)) => (arn, Some(uid)),
                None => (line, None),
            };
            let result = check_one(&policy, &args.org, arn, user_id, region);
            if writeln!(out, "{}", json(&result)).is_err() {
                return ExitCode::from(EXIT_OK);
            }
        }
    } else if let Some(arn) = &args.arn {
        let result = check_one(&policy, &args.org, arn, args.user_id.as_deref(), region);
        let text = match args.format {
            Format::Json => json(&result),
            Format::Human => human(&result),
        };
        let _ = writeln!(out, "{text}");
    }
    let _ = out.flush();
    ExitCode::from(EXIT_OK)
}
