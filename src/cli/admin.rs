//! `arnmap keys create|rotate` and `arnmap grant`: administration on the data dir.

use std::path::PathBuf;
use std::process::ExitCode;

use arnmap::service::ensure_data_dir;
use arnmap::service::{Permission, Store};
use arnmap::{KeyRing, SigningAlgorithm};

use super::{EXIT_FAILED, EXIT_POLICY};

/// `arnmap keys`
#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Create an API key and an application key for an org (created if
    /// needed); prints `{"api_key": …, "app_key": …}` once; only hashes are stored.
    Create(CreateKeysArgs),
    /// Add a new token signing key and make it the one that signs; older keys
    /// keep verifying until their files are removed.
    Rotate(RotateArgs),
}

/// `arnmap keys create`
#[derive(Debug, clap::Args)]
pub struct CreateKeysArgs {
    /// The data directory of `arnmap serve`.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// The org (a UUID).
    #[arg(long)]
    pub org: String,
    /// cloud_auth_config_read and/or cloud_auth_config_write.
    #[arg(long = "permission", required = true, num_args = 1..)]
    pub permissions: Vec<String>,
}

/// `arnmap keys rotate`
#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    /// The data directory of `arnmap serve`.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// EdDSA, ES256 or RS256.
    #[arg(long, default_value = "EdDSA")]
    pub algorithm: String,
}

/// `arnmap grant`
#[derive(Debug, clap::Args)]
pub struct GrantArgs {
    /// The data directory of `arnmap serve`.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// The org (a UUID).
    #[arg(long)]
    pub org: String,
    /// The account identifier tokens are issued to (their `sub`).
    #[arg(long)]
    pub account: String,
    /// cloud_auth_config_read and/or cloud_auth_config_write.
    #[arg(long = "permission", required = true, num_args = 1..)]
    pub permissions: Vec<String>,
}

fn permissions(names: &[String]) -> Result<Vec<Permission>, String> {
    names
        .iter()
        .map(|n| n.parse::<Permission>().map_err(|e| e.to_string()))
        .collect()
}

fn open(dir: &std::path::Path) -> Result<Store, String> {
    ensure_data_dir(dir).map_err(|e| e.to_string())?;
    Store::open(dir).map_err(|e| e.to_string())
}

fn fail(message: String, code: u8) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

/// Runs `arnmap keys …`.
pub fn keys(command: KeysCommand) -> ExitCode {
    match command {
        KeysCommand::Create(args) => {
            let perms = match permissions(&args.permissions) {
                Ok(p) => p,
                Err(e) => return fail(e, EXIT_POLICY),
            };
            let result = open(&args.data_dir)
                .and_then(|s| s.create_keys(&args.org, &perms).map_err(|e| e.to_string()));
            match result {
                Ok(keys) => match serde_json::to_string(&keys) {
                    Ok(json) => {
                        println!("{json}");
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(e.to_string(), EXIT_FAILED),
                },
                Err(e) => fail(e, EXIT_FAILED),
            }
        }
        KeysCommand::Rotate(args) => {
            let alg: SigningAlgorithm = match args.algorithm.parse() {
                Ok(a) => a,
                Err(e) => return fail(format!("{e}"), EXIT_POLICY),
            };
            let dir = args.data_dir.join("keys");
            match KeyRing::rotate(&dir, alg) {
                Ok(kid) => {
                    println!("{{\"kid\": \"{kid}\"}}");
                    eprintln!(
                        "restart `arnmap serve` with `algorithm: {alg:?}` in its token config to sign with the new key"
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e.to_string(), EXIT_FAILED),
            }
        }
    }
}

/// Runs `arnmap grant`.
pub fn grant(args: GrantArgs) -> ExitCode {
    let perms = match permissions(&args.permissions) {
        Ok(p) => p,
        Err(e) => return fail(e, EXIT_POLICY),
    };
    match open(&args.data_dir).and_then(|s| {
        s.grant(&args.org, &args.account, &perms)
            .map_err(|e| e.to_string())
    }) {
        Ok(()) => {
            eprintln!(
                "granted {} to {} in org {}",
                args.permissions.join(", "),
                args.account,
                args.org
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(e, EXIT_FAILED),
    }
}
