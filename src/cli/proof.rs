//! `arnmap proof --org ORG [--region R]`: print a proof signed with the
//! standard AWS environment variables, in Datadog's wire format.

use std::process::ExitCode;
use std::time::SystemTime;

use arnmap::{AwsCredentials, make_proof};

/// Arguments of `arnmap proof`.
#[derive(Debug, Clone, clap::Args)]
pub struct ProofArgs {
    /// The org UUID the proof is bound to (`x-ddog-org-id`).
    #[arg(long)]
    pub org: String,
    /// Sign for this region's STS host instead of the global `sts.amazonaws.com`.
    #[arg(long)]
    pub region: Option<String>,
}

/// Runs `arnmap proof`: the proof on stdout; exit 1 with the reason on stderr.
pub fn run(args: ProofArgs) -> ExitCode {
    let made = AwsCredentials::from_env()
        .and_then(|creds| make_proof(&creds, &args.org, args.region.as_deref(), SystemTime::now()));
    match made {
        Ok(proof) => {
            println!("{proof}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("arnmap proof: {e}");
            ExitCode::FAILURE
        }
    }
}
