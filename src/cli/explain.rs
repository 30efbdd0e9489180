//! `arnmap explain`: every rule that matched a caller, which one won, and the
//! precedence step that decided.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use arnmap::Explanation;
use arnmap::{Caller, CallerIdentity};

use super::{EXIT_FAILED, EXIT_OK, EXIT_POLICY, load_policy};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table and a sentence.
    Human,
    /// One JSON object.
    Json,
}

/// `arnmap explain`
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// Policy files, or directories of `*.policy` files.
    #[arg(long = "policy", required = true, num_args = 1..)]
    pub policy: Vec<PathBuf>,
    /// The org whose rules apply.
    #[arg(long)]
    pub org: String,
    /// The caller ARN.
    #[arg(long)]
    pub arn: String,
    /// The caller's UserId (as STS returns it).
    #[arg(long)]
    pub user_id: Option<String>,
    /// The STS region the proof was signed for (the `region` attribute).
    #[arg(long)]
    pub region: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

fn human(e: &Explanation) -> String {
    let mut out = String::new();
    if e.matched.is_empty() {
        out.push_str("no rule's pattern matches this caller\n");
    } else {
        out.push_str("rules whose pattern matches, in precedence order:\n");
        for m in &e.matched {
            let target = m
                .target
                .as_deref()
                .map(|t| format!(" → {t}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {:<4} {}{target}\n       pattern {} (via {})\n       {} literal chars, {} comparisons, declared #{}; condition {}: {}\n",
                m.effect,
                m.rule,
                m.pattern,
                m.matched_form,
                m.literal_chars,
                m.comparisons,
                m.declared,
                m.condition,
                m.outcome
            ));
        }
    }
    let decision = match &e.decision {
        arnmap::Decision::Mapped { user, rule } => format!("mapped to {user} by rule {rule}"),
        arnmap::Decision::Denied { rule } => format!("denied by rule {rule}"),
        arnmap::Decision::NoMatch => "no match".into(),
        arnmap::Decision::Error { rule, reason } => match rule {
            Some(rule) => format!("error in rule {rule}: {reason}"),
            None => format!("error: {reason}"),
        },
    };
    out.push_str(&format!("decision: {decision}\n{}\n", e.reason));
    out
}

/// Runs `arnmap explain`: exit 0, 1 when the caller is not a caller identity,
/// 2 when the policy does not compile.
pub fn run(args: ExplainArgs) -> ExitCode {
    let Some(policy) = load_policy(&args.policy) else {
        return ExitCode::from(EXIT_POLICY);
    };
    let parsed = match &args.user_id {
        Some(uid) => CallerIdentity::parse(&args.arn, uid),
        None => CallerIdentity::parse_arn(&args.arn),
    };
    let identity = match parsed {
        Ok(id) => id,
        Err(e) => {
            eprintln!("error: invalid caller: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let caller = Caller {
        identity: &identity,
        region: args.region.as_deref(),
    };
    let e = arnmap::explain(&policy, &args.org, &caller);
    let text = match args.format {
        Format::Human => human(&e),
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&e).unwrap_or_else(|_| "{}".into())
        ),
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    ExitCode::from(EXIT_OK)
}
