//! Operator commands, locally and against a deployed stack: `roster-admin --help` (`HELP`
//! below) lists them and the steps of a signing key rotation.

use roster::auth::password;
use roster::auth::signing_key::{self, DEFAULT_KID, Put, SigningSecret};
use roster::clock::Now;
use roster::domain::{Email, Password, PersonName, User};
use roster::storage::Store;
use std::process::ExitCode;

const HELP: &str = "\
roster-admin: operator commands, locally and against a deployed stack. The table comes from
TABLE_NAME; endpoint, region and credentials from the AWS SDK's usual environment
(AWS_ENDPOINT_URL for the local emulator).

  create-table           create the table (as template.yaml declares it)
  verify-sender          register SES_FROM_ADDRESS with the local emulator's SES
  create-admin --email E --password P [--name N]
                         create a platform admin (idempotent per email)

Access tokens are signed with an Ed25519 key. The private key lives only in a Secrets
Manager secret, as JSON {\"kid\": \"roster-1\", \"seed\": \"<base64 of 32 bytes>\"}, which
only the signing functions (auth, accept) read, once per cold start
(JWT_SIGNING_KEY_SECRET). Every function verifies with the public keys of JWT_PUBLIC_KEYS
(kid=x entries, comma-separated), all of which the JWKS publishes.

  gen-key [--kid K]      print a new key: the secret's JSON on stdout, its public
                         kid=x entry on stderr (kid default roster-1)
  put-signing-key --secret-id ID [--kid K | --file F]
                         make a new key (or the one in F, as gen-key wrote it) the
                         secret's current value, creating the secret if needed; prints
                         the public kid=x entry
  public-keys --secret-id ID
                         print the public kid=x entry of the secret's current key

First deploy: `roster-admin put-signing-key --secret-id roster/signing-key` creates the
secret; give its printed kid=x entry as JWT_PUBLIC_KEYS and the secret id to the
signing functions.

Rotation (nobody is signed out; refresh tokens are not signed with this key):
  1. (umask 077; roster-admin gen-key --kid roster-2 > roster-2.json)
     Deploy with both public entries, old first: JWT_PUBLIC_KEYS=roster-1=...,roster-2=...
     Every function now accepts tokens of both kids; the JWKS lists both. Still only
     roster-1 signs.
  2. When that deploy is complete everywhere:
     roster-admin put-signing-key --secret-id ID --file roster-2.json; rm roster-2.json
     and deploy again with a new JWT_SIGNING_KEY_GENERATION, so no warm signing
     instance keeps roster-1. New tokens carry roster-2; roster-1 tokens still verify.
  3. After the access token lifetime (ACCESS_TOKEN_TTL_SECONDS, 15 minutes by default)
     has passed since step 2's deploy, remove roster-1 from JWT_PUBLIC_KEYS and deploy.
     A roster-1 token is now refused (401); its holder refreshes and gets a roster-2 one.
The order matters: a signing function whose secret's kid is not in its JWT_PUBLIC_KEYS
(or whose public key differs) fails at init rather than issue tokens others refuse.
";

fn usage() -> ExitCode {
    eprintln!(
        "usage: roster-admin create-table | verify-sender | create-admin --email E --password P \
         [--name N] | gen-key [--kid K] | put-signing-key --secret-id ID [--kid K | --file F] \
         | public-keys --secret-id ID | --help"
    );
    ExitCode::from(2)
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

async fn store() -> Result<Store, String> {
    let table = std::env::var("TABLE_NAME")
        .map_err(|_| "TABLE_NAME is required but not set".to_string())?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    Ok(Store::new(aws_sdk_dynamodb::Client::new(&aws), table))
}

async fn enable_stream() -> Result<(), String> {
    let table = std::env::var("TABLE_NAME")
        .map_err(|_| "TABLE_NAME is required but not set".to_string())?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    roster::events::stream::enable_stream(&aws_sdk_dynamodb::Client::new(&aws), &table)
        .await
        .map_err(|e| format!("enabling the table's stream: {e}"))
}

async fn create_admin(args: &[String]) -> Result<String, String> {
    let email = Email::parse(&flag(args, "--email").ok_or("--email is required")?)
        .map_err(|e| format!("--email {e}"))?;
    let password = Password::parse(&flag(args, "--password").ok_or("--password is required")?)
        .map_err(|e| format!("--password {e}"))?;
    let name = PersonName::parse(&flag(args, "--name").unwrap_or_else(|| "Platform Admin".into()))
        .map_err(|e| format!("--name {e}"))?;
    let store = store().await?;
    if let Some(existing) = store
        .find_user_by_email(&email)
        .await
        .map_err(|e| e.to_string())?
    {
        return Ok(format!(
            "platform admin {} already exists ({})",
            existing.email, existing.id
        ));
    }
    let now = Now::get().rfc3339();
    let hash = password::hash(&password).map_err(|e| e.to_string())?;
    let user = User {
        platform_admin: true,
        ..User::new(email, name.to_string(), hash, &now)
    };
    store
        .create_user(&user, None)
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "created platform admin {} ({})",
        user.email, user.id
    ))
}

async fn secrets_client() -> aws_sdk_secretsmanager::Client {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    aws_sdk_secretsmanager::Client::new(&aws)
}

/// A new key under `--kid` (default roster-1).
fn new_key(args: &[String]) -> Result<SigningSecret, String> {
    let kid = flag(args, "--kid").unwrap_or_else(|| DEFAULT_KID.into());
    SigningSecret::generate(&kid).map_err(|e| format!("--kid {e}"))
}

/// The private part to stdout (to be redirected into a file or a secret), the public entry
/// to stderr.
fn gen_key(args: &[String]) -> Result<String, String> {
    let secret = new_key(args)?;
    let public = secret
        .signer()
        .map_err(|e| e.to_string())?
        .public()
        .to_string();
    eprintln!("{public}");
    Ok(secret.to_json())
}

async fn put_signing_key(args: &[String]) -> Result<String, String> {
    let secret_id = flag(args, "--secret-id").ok_or("--secret-id is required")?;
    let from_file = flag(args, "--file").is_some();
    let secret = match flag(args, "--file") {
        Some(_) if flag(args, "--kid").is_some() => {
            return Err("--kid and --file: the file names its own kid".into());
        }
        Some(file) => {
            let json = std::fs::read_to_string(&file).map_err(|e| format!("--file {file}: {e}"))?;
            SigningSecret::parse(&json).map_err(|e| format!("--file {file}: {e}"))?
        }
        None => new_key(args)?,
    };
    let public = secret
        .signer()
        .map_err(|e| e.to_string())?
        .public()
        .to_string();
    let put = signing_key::put(&secrets_client().await, &secret_id, &secret)
        .await
        .map_err(|e| e.to_string())?;
    eprintln!(
        "{} {secret_id} with kid {}; JWT_PUBLIC_KEYS must list:",
        match put {
            Put::Created => "created",
            Put::Updated => "updated",
        },
        secret.kid()
    );
    if put == Put::Updated && !from_file {
        eprintln!(
            "(a key no JWT_PUBLIC_KEYS lists yet: auth and accept instances that start before \
             it is deployed fail at init; see --help for the rotation order)"
        );
    }
    Ok(public)
}

async fn public_keys(args: &[String]) -> Result<String, String> {
    let secret_id = flag(args, "--secret-id").ok_or("--secret-id is required")?;
    let secret = signing_key::read(&secrets_client().await, &secret_id)
        .await
        .map_err(|e| e.to_string())?;
    Ok(secret
        .signer()
        .map_err(|e| e.to_string())?
        .public()
        .to_string())
}

async fn verify_sender() -> Result<String, String> {
    let from = std::env::var("SES_FROM_ADDRESS").unwrap_or_else(|_| "roster@roster.local".into());
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    roster::mail::Mailer::new(aws_sdk_sesv2::Client::new(&aws), from.clone())
        .create_sender_identity()
        .await?;
    Ok(format!("sender {from} registered"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--help" | "-h" | "help") => Ok(HELP.trim_end().to_string()),
        Some("gen-key") => gen_key(&args),
        Some("put-signing-key") => put_signing_key(&args).await,
        Some("public-keys") => public_keys(&args).await,
        Some("create-table") => match store().await {
            Ok(store) => match store.create_table_if_missing().await {
                // The stream feeds the events function (template.yaml's StreamSpecification).
                Ok(created) => enable_stream().await.map(|()| {
                    if created {
                        "table created (with its stream)"
                    } else {
                        "table exists (with its stream)"
                    }
                    .to_string()
                }),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(e),
        },
        Some("create-admin") => create_admin(&args).await,
        Some("verify-sender") => verify_sender().await,
        _ => return usage(),
    };
    match result {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("roster-admin: {message}");
            ExitCode::FAILURE
        }
    }
}
