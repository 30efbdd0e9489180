//! `arnmap verify --org ORG [--proof FILE|-] [--sts-override HOST=URL]... [--config FILE]`:
//! pre-check a proof, replay it to STS, print the caller as JSON.

use std::io::Read;
use std::process::ExitCode;
use std::time::SystemTime;

use arnmap::{Verified, Verifier, VerifierConfig};

/// Arguments of `arnmap verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// The org the proof must be bound to.
    #[arg(long)]
    pub org: String,
    /// The proof: a file, or `-` for stdin (the default).
    #[arg(long, default_value = "-")]
    pub proof: String,
    /// Send requests for an allowlisted STS host elsewhere, e.g.
    /// `sts.amazonaws.com=http://127.0.0.1:5000` (http on loopback only).
    /// The proof must still name an allowlisted host.
    #[arg(long = "sts-override", value_name = "HOST=URL")]
    pub sts_override: Vec<String>,
    /// A verifier configuration in RON (see `arnmap::verifier`).
    #[arg(long)]
    pub config: Option<String>,
}

/// Runs `arnmap verify`: exit 0 and `{"arn","user_id","account","region"}` on
/// stdout; exit 1 and the specific reason on stderr when the proof is
/// rejected; exit 2 for unusable arguments or configuration.
pub fn run(args: VerifyArgs) -> ExitCode {
    let verifier = match build(&args) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("arnmap verify: {e}");
            return ExitCode::from(2);
        }
    };
    let proof = match read_proof(&args.proof) {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "arnmap verify: cannot read the proof from {}: {e}",
                args.proof
            );
            return ExitCode::from(2);
        }
    };
    match verifier.verify(&proof, &args.org, SystemTime::now()) {
        Ok(verified) => {
            println!("{}", to_json(&verified));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("arnmap verify: rejected [{}]: {e}", e.code());
            ExitCode::FAILURE
        }
    }
}

/// The JSON `arnmap verify` prints for an accepted proof.
pub fn to_json(verified: &Verified) -> serde_json::Value {
    serde_json::json!({
        "arn": verified.identity.arn(),
        "user_id": verified.identity.user_id(),
        "account": verified.identity.account(),
        "region": verified.region,
    })
}

fn build(args: &VerifyArgs) -> Result<Verifier, String> {
    let mut config: VerifierConfig = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            ron::from_str(&text).map_err(|e| format!("{path}: {e}"))?
        }
        None => VerifierConfig::default(),
    };
    for pair in &args.sts_override {
        let (host, url) = pair
            .split_once('=')
            .ok_or_else(|| format!("--sts-override `{pair}`: expected HOST=URL"))?;
        config.sts.overrides.insert(host.to_owned(), url.to_owned());
    }
    Verifier::new(config).map_err(|e| e.to_string())
}

fn read_proof(source: &str) -> std::io::Result<String> {
    let mut text = String::new();
    if source == "-" {
        std::io::stdin().take(1 << 20).read_to_string(&mut text)?;
    } else {
        std::fs::File::open(source)?
            .take(1 << 20)
            .read_to_string(&mut text)?;
    }
    Ok(text.trim().to_owned())
}
