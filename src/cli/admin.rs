//! `arnmap keys create|list|revoke|rotate`, `arnmap grant [--revoke]` and
//! `arnmap mappings list|delete`: administration on the data dir (or the
//! shared store, `--store postgres://…`), no SQL.

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
    /// Print the key pairs (one JSON object per line: id, org, permissions,
    /// created, keys); never a key or its hash.
    List(ListKeysArgs),
    /// Delete a key pair by id; a running `arnmap serve` refuses it from its
    /// next request on. Tokens already issued stay valid until they expire.
    Revoke(RevokeKeysArgs),
}

/// `arnmap keys list`
#[derive(Debug, clap::Args)]
pub struct ListKeysArgs {
    /// Where the store is.
    #[command(flatten)]
    pub location: StoreLocation,
    /// Only this org's keys (a UUID); every org's without it.
    #[arg(long)]
    pub org: Option<String>,
}

/// `arnmap keys revoke`
#[derive(Debug, clap::Args)]
pub struct RevokeKeysArgs {
    /// Where the store is.
    #[command(flatten)]
    pub location: StoreLocation,
    /// The key pair's id, as `arnmap keys list` prints it.
    #[arg(long)]
    pub id: String,
}

/// `arnmap mappings`
#[derive(Debug, clap::Subcommand)]
pub enum MappingsCommand {
    /// Print an org's stored persona mappings, one JSON object per line (id,
    /// org, account_identifier, arn_pattern, created), oldest first.
    List(MappingsArgs),
    /// Delete one stored mapping (`--id`), or all of an org's (`--all`).
    /// Meant for recovery with the service stopped: a running `arnmap serve`
    /// keeps deciding with the mappings it loaded until it restarts.
    Delete(DeleteMappingsArgs),
}

/// `arnmap mappings list`
#[derive(Debug, clap::Args)]
pub struct MappingsArgs {
    /// Where the store is.
    #[command(flatten)]
    pub location: StoreLocation,
    /// The org (a UUID).
    #[arg(long)]
    pub org: String,
    /// Only this mapping.
    #[arg(long)]
    pub id: Option<String>,
}

/// `arnmap mappings delete`
#[derive(Debug, clap::Args)]
pub struct DeleteMappingsArgs {
    /// Where the store is.
    #[command(flatten)]
    pub location: StoreLocation,
    /// The org (a UUID).
    #[arg(long)]
    pub org: String,
    /// The mapping to delete.
    #[arg(long, conflicts_with = "all")]
    pub id: Option<String>,
    /// Delete every mapping of the org (required when `--id` is not given).
    #[arg(long)]
    pub all: bool,
}

/// `arnmap keys create`
#[derive(Debug, clap::Args)]
pub struct CreateKeysArgs {
    /// Where the store is.
    #[command(flatten)]
    pub location: StoreLocation,
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
    /// Where the store is.
    #[command(flatten)]
    pub location: StoreLocation,
    /// The org (a UUID).
    #[arg(long)]
    pub org: String,
    /// The account identifier tokens are issued to (their `sub`).
    #[arg(long)]
    pub account: String,
    /// cloud_auth_config_read and/or cloud_auth_config_write.
    #[arg(long = "permission", required = true, num_args = 1..)]
    pub permissions: Vec<String>,
    /// Take these permissions away instead. The management API refuses the
    /// account's tokens from their next request on; the tokens themselves
    /// stay valid (elsewhere) until they expire.
    #[arg(long)]
    pub revoke: bool,
}

fn permissions(names: &[String]) -> Result<Vec<Permission>, String> {
    names
        .iter()
        .map(|n| n.parse::<Permission>().map_err(|e| e.to_string()))
        .collect()
}

/// `--data-dir` or `--store`: where the admin commands find the store.
#[derive(Debug, clap::Args)]
pub struct StoreLocation {
    /// The data directory of `arnmap serve`.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// The shared store of `arnmap serve --store`
    /// (`postgres://USER@HOST:PORT/DB`), instead of the data directory's.
    #[arg(long, value_name = "URL", conflicts_with = "data_dir")]
    pub store: Option<String>,
}

impl StoreLocation {
    /// Opens the store, creating the data dir's store when there is none.
    fn open(&self) -> Result<Store, String> {
        if let Some(url) = &self.store {
            return Store::connect(url).map_err(|e| e.to_string());
        }
        ensure_data_dir(&self.data_dir).map_err(|e| e.to_string())?;
        Store::open(&self.data_dir).map_err(|e| e.to_string())
    }

    /// Opens a store that must already exist (listing or revoking in a
    /// mistyped directory should not create an empty store).
    fn open_existing(&self) -> Result<Store, String> {
        if let Some(url) = &self.store {
            return Store::connect(url).map_err(|e| e.to_string());
        }
        let file = self.data_dir.join("arnmap.sqlite3");
        if !file.is_file() {
            return Err(format!(
                "no store in {} (no arnmap.sqlite3)",
                self.data_dir.display()
            ));
        }
        Store::open(&self.data_dir).map_err(|e| e.to_string())
    }
}

/// An org argument for keys and grants: a UUID, lowercase as the store
/// keeps keys and grants.
fn org_arg(org: &str) -> Result<String, String> {
    mapping_org_arg(org).map(|o| o.to_ascii_lowercase())
}

/// An org argument for mappings: a UUID, exactly as the service stores it
/// (the org of the caller that created the mapping).
fn mapping_org_arg(org: &str) -> Result<String, String> {
    if uuid::Uuid::try_parse(org).is_ok() && org.len() == 36 {
        Ok(org.to_owned())
    } else {
        Err(format!("org {org:?} is not a UUID"))
    }
}

/// Prints one JSON object per line.
fn print_lines<T: serde::Serialize>(items: &[T]) -> ExitCode {
    for item in items {
        match serde_json::to_string(item) {
            Ok(line) => println!("{line}"),
            Err(e) => return fail(e.to_string(), EXIT_FAILED),
        }
    }
    ExitCode::SUCCESS
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
            let result = args
                .location
                .open()
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
        KeysCommand::List(args) => {
            let org = match args.org.as_deref().map(org_arg).transpose() {
                Ok(org) => org,
                Err(e) => return fail(e, EXIT_POLICY),
            };
            match args
                .location
                .open_existing()
                .and_then(|s| s.keys(org.as_deref()).map_err(|e| e.to_string()))
            {
                Ok(keys) => print_lines(&keys),
                Err(e) => fail(e, EXIT_FAILED),
            }
        }
        KeysCommand::Revoke(args) => {
            match args
                .location
                .open_existing()
                .and_then(|s| s.revoke_keys(&args.id).map_err(|e| e.to_string()))
            {
                Ok(true) => {
                    eprintln!(
                        "revoked key pair {}; tokens already issued stay valid until they expire",
                        args.id
                    );
                    ExitCode::SUCCESS
                }
                Ok(false) => fail(format!("no key with id {:?}", args.id), EXIT_FAILED),
                Err(e) => fail(e, EXIT_FAILED),
            }
        }
    }
}

/// Runs `arnmap mappings …`.
pub fn mappings(command: MappingsCommand) -> ExitCode {
    match command {
        MappingsCommand::List(args) => {
            let org = match mapping_org_arg(&args.org) {
                Ok(org) => org,
                Err(e) => return fail(e, EXIT_POLICY),
            };
            let listed = args.location.open_existing().and_then(|s| {
                let all = match &args.id {
                    Some(id) => s.mapping(&org, id).map(|m| m.into_iter().collect()),
                    None => s.mappings(&org),
                };
                all.map_err(|e| e.to_string())
            });
            match listed {
                Ok(found) if found.is_empty() && args.id.is_some() => fail(
                    format!("org {org} has no mapping {:?}", args.id.unwrap_or_default()),
                    EXIT_FAILED,
                ),
                Ok(found) => {
                    let lines: Vec<serde_json::Value> = found
                        .iter()
                        .map(|m| {
                            serde_json::json!({
                                "id": m.id,
                                "org": m.org,
                                "account_identifier": m.account_identifier,
                                "arn_pattern": m.arn_pattern,
                                "created": m.created,
                            })
                        })
                        .collect();
                    print_lines(&lines)
                }
                Err(e) => fail(e, EXIT_FAILED),
            }
        }
        MappingsCommand::Delete(args) => {
            let org = match mapping_org_arg(&args.org) {
                Ok(org) => org,
                Err(e) => return fail(e, EXIT_POLICY),
            };
            if args.id.is_none() && !args.all {
                return fail(
                    format!(
                        "give --id ID to delete one mapping, or --all to delete every mapping of org {org}"
                    ),
                    EXIT_POLICY,
                );
            }
            let store = match args.location.open_existing() {
                Ok(s) => s,
                Err(e) => return fail(e, EXIT_FAILED),
            };
            let deleted = match &args.id {
                Some(id) => store.delete_mapping(&org, id).map(usize::from),
                None => store.delete_mappings(&org),
            };
            match deleted {
                Ok(0) if args.id.is_some() => fail(
                    format!("org {org} has no mapping {:?}", args.id.unwrap_or_default()),
                    EXIT_FAILED,
                ),
                Ok(n) => {
                    eprintln!(
                        "deleted {n} mapping(s) of org {org}; a running `arnmap serve` keeps the ones it loaded until it restarts"
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e.to_string(), EXIT_FAILED),
            }
        }
    }
}

/// Runs `arnmap grant` (or `arnmap grant --revoke`).
pub fn grant(args: GrantArgs) -> ExitCode {
    let perms = match permissions(&args.permissions) {
        Ok(p) => p,
        Err(e) => return fail(e, EXIT_POLICY),
    };
    if args.revoke {
        return revoke_grant(&args, &perms);
    }
    match args.location.open().and_then(|s| {
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

fn revoke_grant(args: &GrantArgs, perms: &[Permission]) -> ExitCode {
    let org = match org_arg(&args.org) {
        Ok(org) => org,
        Err(e) => return fail(e, EXIT_POLICY),
    };
    match args.location.open_existing().and_then(|s| {
        s.revoke_grant(&org, &args.account, perms)
            .map_err(|e| e.to_string())
    }) {
        Ok(0) => fail(
            format!(
                "{} holds none of {} in org {org}; nothing revoked",
                args.account,
                args.permissions.join(", ")
            ),
            EXIT_FAILED,
        ),
        Ok(n) => {
            eprintln!(
                "revoked {n} permission(s) of {} in org {org}; tokens already issued stay valid until they expire, but the management API refuses them what was revoked",
                args.account
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(e, EXIT_FAILED),
    }
}
