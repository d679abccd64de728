//! Operator commands, locally and against a deployed table:
//!
//!   roster-admin gen-key                 print a new JWT_SIGNING_KEY
//!   roster-admin create-table            create the table (as template.yaml declares it)
//!   roster-admin verify-sender           register SES_FROM_ADDRESS with the local emulator's SES
//!   roster-admin create-admin --email E --password P [--name N]
//!                                        create a platform admin (idempotent per email)
//!
//! The table comes from TABLE_NAME; endpoint, region and credentials from the AWS SDK's
//! usual environment (AWS_ENDPOINT_URL for the local emulator).

use roster::auth::{TokenKeys, password};
use roster::clock::Now;
use roster::domain::{Email, Password, PersonName, User, UserId};
use roster::storage::Store;
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: roster-admin gen-key | create-table | create-admin --email E --password P [--name N]"
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
    let user = User {
        id: UserId::new(),
        email,
        name: name.to_string(),
        org_id: None,
        role: None,
        platform_admin: true,
        created_at: now.clone(),
        updated_at: now,
        joined_at: None,
        password_hash: password::hash(&password).map_err(|e| e.to_string())?,
        token_version: 0,
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
        Some("gen-key") => Ok(TokenKeys::generate_seed()),
        Some("create-table") => match store().await {
            Ok(store) => store
                .create_table_if_missing()
                .await
                .map(|created| {
                    if created {
                        "table created"
                    } else {
                        "table exists"
                    }
                    .to_string()
                })
                .map_err(|e| e.to_string()),
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
