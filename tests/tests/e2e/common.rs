//! The `spawn_app` of Roster's end-to-end tests: each `TestApp` has its own table in the
//! local emulator (from `AWS_ENDPOINT_URL`, started by scripts/test), the real AWS SDK, and
//! calls functions through their `lambda_http` handlers.

use lambda_http::http::{Method, Request as HttpRequest, header};
use lambda_http::{Body, Request};
use roster::App;
use roster::auth::password;
use roster::clock::Now;
use roster::config::Config;
use roster::domain::{Email, OrgId, OrgRole, Password, User, UserId};
use serde_json::{Value, json};
use std::fmt::Display;
use std::sync::Arc;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub app: Arc<App>,
    pub dynamo: aws_sdk_dynamodb::Client,
    /// This test's turn (see `Turns`): held while any of its apps lives.
    turn: Arc<Turn>,
}

pub struct Reply {
    pub status: u16,
    pub headers: lambda_http::http::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

pub struct Mail {
    pub subject: String,
    /// moto keeps the HTML part as the message body.
    pub html: String,
    pub source: String,
}

impl Mail {
    pub fn token(&self) -> Option<String> {
        let start = self.html.find("/invite?token=")? + "/invite?token=".len();
        let rest = &self.html[start..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
            .unwrap_or(rest.len());
        Some(rest[..end].to_string())
    }
}

/// Who sends a request: a signed-in `Actor`, a bare access token, or no one (`Anonymous`).
pub trait Caller {
    fn bearer(&self) -> Option<&str>;
}

impl Caller for Actor {
    fn bearer(&self) -> Option<&str> {
        Some(&self.token)
    }
}

impl Caller for str {
    fn bearer(&self) -> Option<&str> {
        Some(self)
    }
}

impl Caller for String {
    fn bearer(&self) -> Option<&str> {
        Some(self)
    }
}

impl<T: Caller + ?Sized> Caller for &T {
    fn bearer(&self) -> Option<&str> {
        (**self).bearer()
    }
}

/// No bearer token.
pub struct Anonymous;

impl Caller for Anonymous {
    fn bearer(&self) -> Option<&str> {
        None
    }
}

/// How an invitation link is accepted.
pub enum Joining<'a> {
    /// The link alone (no account, no password: refused, or a malformed case).
    LinkOnly,
    /// Signed in as the invited account: its bearer token.
    SignedIn(&'a Actor),
    /// Signed out, as the existing account with this password.
    Password(&'a str),
    /// A new account: (name, password).
    New(&'a str, &'a str),
}

/// A signed-in test user.
#[derive(Clone)]
pub struct Actor {
    pub user: User,
    pub token: String,
    pub refresh: String,
}

/// The served local API's base URL (scripts/test sets ROSTER_API_URL), or `None`: the
/// caller skips, unless ROSTER_REQUIRE_LOCAL_API says nothing may be skipped.
pub fn local_api_url() -> Option<String> {
    let Ok(url) = std::env::var("ROSTER_API_URL") else {
        assert!(
            std::env::var("ROSTER_REQUIRE_LOCAL_API").is_err(),
            "ROSTER_API_URL must be set"
        );
        eprintln!("skipped: ROSTER_API_URL is not set (scripts/test sets it)");
        return None;
    };
    Some(url)
}

pub fn env_or_fail(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the tests with scripts/test"))
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// A fresh table per test keeps tests independent (and moto's per-transaction table
    /// copy cheap).
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        env_or_fail("AWS_ENDPOINT_URL");
        let turn = Turn::shared().await;
        let table = format!("roster-test-{}", uuid::Uuid::new_v4().simple());
        // The signing key in memory: only the keys suite (keys.rs) goes through Secrets Manager.
        let signer = roster::auth::SigningSecret::generate("roster-1")
            .and_then(|s| s.signer())
            .expect("signing key");
        let mut config = Config::from_lookup(|name| match name {
            "TABLE_NAME" => Some(table.clone()),
            "JWT_PUBLIC_KEYS" => Some(signer.public().to_string()),
            _ => None,
        })
        .expect("test config");
        // The emulator is single-threaded and shares two cores with the build and the other
        // tests: give it time (the deployed default is 3 s).
        config.aws_attempt_timeout = std::time::Duration::from_secs(20);
        tweak(&mut config);
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let keys = roster::auth::TokenKeys::signing(&config, signer).expect("keys");
        let app = App::new(config, keys, &aws).expect("app");
        app.store
            .create_table_if_missing()
            .await
            .expect("create table");
        app.mailer
            .create_sender_identity()
            .await
            .expect("sender identity");
        TestApp {
            dynamo: aws_sdk_dynamodb::Client::new(&aws),
            app,
            turn,
        }
    }

    /// The table and keys of the served local API, for tests that go through
    /// `cargo lambda watch`: scripts/test's TABLE_NAME, JWT_PUBLIC_KEYS and
    /// JWT_SIGNING_KEY_SECRET (read from the emulator's Secrets Manager, as auth does).
    pub async fn served() -> TestApp {
        Self::served_in(Turn::shared().await).await
    }

    /// `served`, once no other test holds an app, and no other test gets one until this
    /// one is dropped (see `Turns`).
    pub async fn served_alone() -> TestApp {
        Self::served_in(Turn::alone().await).await
    }

    async fn served_in(turn: Arc<Turn>) -> TestApp {
        env_or_fail("AWS_ENDPOINT_URL");
        let config = Config::from_env()
            .expect("TABLE_NAME, JWT_PUBLIC_KEYS and JWT_SIGNING_KEY_SECRET from scripts/test");
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        TestApp {
            dynamo: aws_sdk_dynamodb::Client::new(&aws),
            app: App::load(config, &aws).await.expect("app"),
            turn,
        }
    }

    /// Another `App` in this test (other endpoints, keys or settings), with this one's
    /// DynamoDB client and turn.
    pub fn beside(&self, app: Arc<App>) -> TestApp {
        TestApp {
            dynamo: self.dynamo.clone(),
            app,
            turn: self.turn.clone(),
        }
    }

    /// The same table and keys, but SES behind a port where nothing listens.
    pub async fn with_dead_mail(&self) -> TestApp {
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        // Set on the loader: an explicit endpoint wins over AWS_ENDPOINT_URL from the env.
        let dead = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url("http://127.0.0.1:9")
            .region(own_retry_quota("dead-mail"))
            .load()
            .await;
        self.beside(
            App::with_mail_config(self.app.config.clone(), self.app.keys.clone(), &aws, &dead)
                .expect("app"),
        )
    }

    /// Emails the emulator accepted for `to`, oldest first.
    pub async fn mails_to(&self, to: &str) -> Vec<Mail> {
        let url = format!("{}/moto-api/data.json", env_or_fail("AWS_ENDPOINT_URL"));
        let data: Value = reqwest::get(url)
            .await
            .expect("emulator")
            .json()
            .await
            .expect("json");
        data["ses"]["Message"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|m| {
                m["destinations"]["ToAddresses"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == to))
            })
            .map(|m| Mail {
                subject: m["subject"].as_str().unwrap_or("").to_string(),
                html: m["body"].as_str().unwrap_or("").to_string(),
                source: m["source"].as_str().unwrap_or("").to_string(),
            })
            .collect()
    }

    /// The token in the newest invitation email to `to`.
    pub async fn latest_token(&self, to: &str) -> String {
        let mails = self.mails_to(to).await;
        let mail = mails.last().unwrap_or_else(|| panic!("no mail to {to}"));
        mail.token().expect("accept link in mail")
    }

    /// The newest invitation token mailed to each of `emails` (one read of the emulator's
    /// mail store, however many addresses).
    pub async fn latest_tokens(
        &self,
        emails: &[String],
    ) -> std::collections::HashMap<String, String> {
        let url = format!("{}/moto-api/data.json", env_or_fail("AWS_ENDPOINT_URL"));
        let data: Value = reqwest::get(url)
            .await
            .expect("emulator")
            .json()
            .await
            .expect("json");
        let mut out = std::collections::HashMap::new();
        for m in data["ses"]["Message"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let to = m["destinations"]["ToAddresses"].as_array().cloned();
            let mail = Mail {
                subject: String::new(),
                html: m["body"].as_str().unwrap_or("").to_string(),
                source: String::new(),
            };
            for addr in to.unwrap_or_default() {
                let Some(addr) = addr.as_str() else { continue };
                if emails.iter().any(|e| e == addr)
                    && let Some(token) = mail.token()
                {
                    // Oldest first, so the last one kept is the newest.
                    out.insert(addr.to_string(), token);
                }
            }
        }
        out
    }

    /// An access token for `user`, minted with the app's key (no sign-in, no password hash),
    /// with the hints a sign-in would give it.
    pub fn token_for(&self, user: &User) -> String {
        let org = user.org_id.map(|o| o.to_string());
        let hints = roster::auth::jwt::Hints {
            org: org.as_deref(),
            platform_admin: user.platform_admin,
        };
        self.app
            .keys
            .issue_for_session(
                &user.id.to_string(),
                user.token_version,
                None,
                hints,
                Now::get().epoch(),
                900,
            )
            .expect("token")
    }

    /// Every page of a cursor-paginated list, following `next_cursor` from `uri` (which
    /// already has a query string); each page must answer 200.
    pub async fn pages(&self, uri: &str, token: &str) -> Vec<Reply> {
        let mut out = Vec::new();
        let mut next = uri.to_string();
        loop {
            let r = self.call("GET", &next, Some(token), None).await;
            assert_eq!(r.status, 200, "{next}: {}", r.body);
            let cursor = r.body["next_cursor"].as_str().map(str::to_string);
            out.push(r);
            match cursor {
                Some(c) => next = format!("{uri}&cursor={c}"),
                None => return out,
            }
        }
    }

    // -----------------------------------------------------------------------------------
    // One helper per route the suites call most: the method and path are written once, here.

    /// GET /me.
    pub async fn me(&self, caller: &dyn Caller) -> Reply {
        self.send("GET", "/me".into(), caller, None).await
    }

    /// POST /auth/login, whatever it answers (`login` insists on a 200).
    pub async fn sign_in(&self, email: &str, password: &str) -> Reply {
        let body = json!({"email": email, "password": password});
        self.send("POST", "/auth/login".into(), &Anonymous, Some(body))
            .await
    }

    /// POST /auth/refresh.
    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        let body = json!({"refresh_token": refresh_token});
        self.send("POST", "/auth/refresh".into(), &Anonymous, Some(body))
            .await
    }

    /// POST /auth/logout.
    pub async fn logout(&self, refresh_token: &str) -> Reply {
        let body = json!({"refresh_token": refresh_token});
        self.send("POST", "/auth/logout".into(), &Anonymous, Some(body))
            .await
    }

    /// POST /orgs with `body` (name, code and what else the case needs).
    pub async fn create_org(&self, caller: &dyn Caller, body: Value) -> Reply {
        self.send("POST", "/orgs".into(), caller, Some(body)).await
    }

    /// GET /orgs/{org}.
    pub async fn org(&self, caller: &dyn Caller, org: impl Display) -> Reply {
        self.send("GET", format!("/orgs/{org}"), caller, None).await
    }

    /// DELETE /orgs/{org} as `caller`, confirmed with the org's code (read first).
    pub async fn delete_org(&self, caller: &dyn Caller, org: impl Display) -> Reply {
        let code = self.org(caller, &org).await.body["code"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let uri = format!("/orgs/{org}?confirm={code}");
        self.send("DELETE", uri, caller, None).await
    }

    /// POST /users with `body` (an account made by an admin).
    pub async fn create_user_via_api(&self, caller: &dyn Caller, body: Value) -> Reply {
        self.send("POST", "/users".into(), caller, Some(body)).await
    }

    /// Invites `emails` into `org` as `caller`.
    pub async fn invite<E: AsRef<str>>(
        &self,
        caller: &dyn Caller,
        org: impl Display,
        emails: &[E],
        role: &str,
    ) -> Reply {
        let emails: Vec<&str> = emails.iter().map(AsRef::as_ref).collect();
        let body = json!({"emails": emails, "role": role});
        self.send(
            "POST",
            format!("/orgs/{org}/invitations"),
            caller,
            Some(body),
        )
        .await
    }

    /// GET /orgs/{org}/invitations/{id}.
    pub async fn invitation(&self, caller: &dyn Caller, org: impl Display, id: &str) -> Reply {
        let uri = format!("/orgs/{org}/invitations/{id}");
        self.send("GET", uri, caller, None).await
    }

    /// POST /orgs/{org}/invitations/{id}/resend.
    pub async fn resend(&self, caller: &dyn Caller, org: impl Display, id: &str) -> Reply {
        let uri = format!("/orgs/{org}/invitations/{id}/resend");
        self.send("POST", uri, caller, None).await
    }

    /// DELETE /orgs/{org}/invitations/{id}.
    pub async fn revoke(&self, caller: &dyn Caller, org: impl Display, id: &str) -> Reply {
        let uri = format!("/orgs/{org}/invitations/{id}");
        self.send("DELETE", uri, caller, None).await
    }

    /// GET /invitations/preview?token={link}.
    pub async fn preview(&self, link: &str) -> Reply {
        let uri = format!("/invitations/preview?token={link}");
        self.send("GET", uri, &Anonymous, None).await
    }

    /// POST /invitations/accept with `link`, joining as `how` says.
    pub async fn accept(&self, link: &str, how: Joining<'_>) -> Reply {
        let (caller, body): (&dyn Caller, Value) = match how {
            Joining::LinkOnly => (&Anonymous, json!({"token": link})),
            Joining::SignedIn(actor) => (actor, json!({"token": link})),
            Joining::Password(pw) => (&Anonymous, json!({"token": link, "password": pw})),
            Joining::New(name, pw) => (
                &Anonymous,
                json!({"token": link, "name": name, "password": pw}),
            ),
        };
        let uri = "/invitations/accept".into();
        self.send("POST", uri, caller, Some(body)).await
    }

    /// POST /invitations/decline with `link` (no caller).
    pub async fn decline(&self, link: &str) -> Reply {
        let body = json!({"token": link});
        let uri = "/invitations/decline".into();
        self.send("POST", uri, &Anonymous, Some(body)).await
    }

    /// PATCH /orgs/{org}/members/{user} to `role`.
    pub async fn change_role(
        &self,
        caller: &dyn Caller,
        org: impl Display,
        user: impl Display,
        role: &str,
    ) -> Reply {
        let uri = format!("/orgs/{org}/members/{user}");
        self.send("PATCH", uri, caller, Some(json!({"role": role})))
            .await
    }

    /// DELETE /orgs/{org}/members/{user}.
    pub async fn remove(
        &self,
        caller: &dyn Caller,
        org: impl Display,
        user: impl Display,
    ) -> Reply {
        let uri = format!("/orgs/{org}/members/{user}");
        self.send("DELETE", uri, caller, None).await
    }

    /// POST /orgs/{org}/members/bulk-role with `body` (user_ids and role).
    pub async fn bulk_role(&self, caller: &dyn Caller, org: impl Display, body: Value) -> Reply {
        let uri = format!("/orgs/{org}/members/bulk-role");
        self.send("POST", uri, caller, Some(body)).await
    }

    /// POST /orgs/{org}/members/bulk-remove of `user_ids`.
    pub async fn bulk_remove(&self, caller: &dyn Caller, org: impl Display, ids: Value) -> Reply {
        let uri = format!("/orgs/{org}/members/bulk-remove");
        self.send("POST", uri, caller, Some(json!({"user_ids": ids})))
            .await
    }

    /// POST /orgs/{org}/transfer-ownership to `to`.
    pub async fn transfer(
        &self,
        caller: &dyn Caller,
        org: impl Display,
        to: impl Display,
    ) -> Reply {
        let uri = format!("/orgs/{org}/transfer-ownership");
        let body = json!({"user_id": to.to_string()});
        self.send("POST", uri, caller, Some(body)).await
    }

    /// GET /orgs/{org}/members with `query` ("" or "?...").
    pub async fn members(&self, caller: &dyn Caller, org: impl Display, query: &str) -> Reply {
        self.send("GET", format!("/orgs/{org}/members{query}"), caller, None)
            .await
    }

    /// GET /orgs/{org}/members/{user}.
    pub async fn member(
        &self,
        caller: &dyn Caller,
        org: impl Display,
        user: impl Display,
    ) -> Reply {
        self.send("GET", format!("/orgs/{org}/members/{user}"), caller, None)
            .await
    }

    /// GET /orgs/{org}/invitations with `query` ("" or "?...").
    pub async fn invitations(&self, caller: &dyn Caller, org: impl Display, query: &str) -> Reply {
        let uri = format!("/orgs/{org}/invitations{query}");
        self.send("GET", uri, caller, None).await
    }

    /// GET /orgs/{org}/audit with `query` ("" or "?...").
    pub async fn audit(&self, caller: &dyn Caller, org: impl Display, query: &str) -> Reply {
        self.send("GET", format!("/orgs/{org}/audit{query}"), caller, None)
            .await
    }

    /// PATCH /orgs/{org} with `body`.
    pub async fn update_org(&self, caller: &dyn Caller, org: impl Display, body: Value) -> Reply {
        self.send("PATCH", format!("/orgs/{org}"), caller, Some(body))
            .await
    }

    /// GET /users/{user}.
    pub async fn user(&self, caller: &dyn Caller, user: impl Display) -> Reply {
        self.send("GET", format!("/users/{user}"), caller, None)
            .await
    }

    /// PATCH /users/{user} with `body`.
    pub async fn update_user(&self, caller: &dyn Caller, user: impl Display, body: Value) -> Reply {
        self.send("PATCH", format!("/users/{user}"), caller, Some(body))
            .await
    }

    /// DELETE /users/{user}.
    pub async fn delete_user(&self, caller: &dyn Caller, user: impl Display) -> Reply {
        self.send("DELETE", format!("/users/{user}"), caller, None)
            .await
    }

    /// POST /users/confirm-email with `link` (no caller).
    pub async fn confirm_email(&self, link: &str) -> Reply {
        let body = json!({"token": link});
        let uri = "/users/confirm-email".into();
        self.send("POST", uri, &Anonymous, Some(body)).await
    }

    /// GET /.well-known/jwks.json.
    pub async fn jwks(&self) -> Reply {
        let uri = "/.well-known/jwks.json".into();
        self.send("GET", uri, &Anonymous, None).await
    }

    async fn send(&self, method: &str, uri: String, by: &dyn Caller, body: Option<Value>) -> Reply {
        self.call(method, &uri, by.bearer(), body).await
    }

    /// Sends a request to whichever function serves its route.
    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let raw = body.map(|b| b.to_string());
        self.call_raw(method, uri, token, raw.as_deref()).await
    }

    pub async fn call_raw(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Reply {
        let req = request(method, uri, token, body);
        self.dispatch(req).await
    }

    pub async fn dispatch(&self, req: Request) -> Reply {
        let path = req.uri().path().to_string();
        use roster::http::{
            accept_routes, audit_routes, auth_routes, change_role_routes, invite_routes,
            members_routes, orgs_routes, remove_routes, users_routes,
        };
        // Boxed: unoptimised handler futures are large, and tests nest them deeply.
        let app = &self.app;
        let res = match function_for(&path, req.method().as_str()) {
            "auth" => Box::pin(auth_routes::handle(app, req)).await,
            "invite" => Box::pin(invite_routes::handle(app, req)).await,
            "accept" => Box::pin(accept_routes::handle(app, req)).await,
            "members" => Box::pin(members_routes::handle(app, req)).await,
            "change-role" => Box::pin(change_role_routes::handle(app, req)).await,
            "remove" => Box::pin(remove_routes::handle(app, req)).await,
            "users" => Box::pin(users_routes::handle(app, req)).await,
            "audit" => Box::pin(audit_routes::handle(app, req)).await,
            _ => Box::pin(orgs_routes::handle(app, req)).await,
        };
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = match res.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::String(t.clone())),
            Body::Binary(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// The organization's audit entries with `action`, newest first, read from the table.
    pub async fn audit_entries(&self, org: OrgId, action: &str) -> Vec<roster::domain::AuditEntry> {
        let page = self
            .app
            .store
            .list_audit(&org, 100, None)
            .await
            .expect("audit");
        page.items
            .into_iter()
            .filter(|a| a.action == action)
            .collect()
    }

    /// Creates an account directly in storage (as an operator or admin would).
    pub async fn create_user(
        &self,
        email: &str,
        org: Option<(OrgId, OrgRole)>,
        platform_admin: bool,
    ) -> User {
        let now = Now::get().rfc3339();
        let hash = password::hash(&Password::parse(PASSWORD).expect("pw")).expect("hash");
        let user = User {
            org_id: org.map(|o| o.0),
            role: org.map(|o| o.1),
            platform_admin,
            joined_at: org.map(|_| now.clone().into()),
            ..User::new(
                Email::parse(email).expect("email"),
                "Test User".into(),
                hash,
                &now,
            )
        };
        self.app
            .store
            .create_user(&user, None)
            .await
            .expect("create user");
        user
    }

    pub async fn login(&self, email: &str) -> Actor {
        let r = self.sign_in(email, PASSWORD).await;
        assert_eq!(r.status, 200, "login {email}: {}", r.body);
        let user = self
            .app
            .store
            .get_user(&UserId::parse(r.body["user"]["id"].as_str().unwrap()).unwrap())
            .await
            .unwrap()
            .unwrap();
        Actor {
            user,
            token: r.body["access_token"].as_str().unwrap().to_string(),
            refresh: r.body["refresh_token"].as_str().unwrap().to_string(),
        }
    }

    /// Whether `email` with `password` is refused (401).
    pub async fn login_fails(&self, email: &str, password: &str) -> bool {
        self.sign_in(email, password).await.status == 401
    }

    pub async fn platform_admin(&self) -> Actor {
        let email = unique_email("root");
        self.create_user(&email, None, true).await;
        self.login(&email).await
    }

    pub async fn user_without_org(&self) -> Actor {
        self.signed_in("solo").await
    }

    /// A fresh account (an address starting with `prefix`, no org), signed in.
    pub async fn signed_in(&self, prefix: &str) -> Actor {
        let email = unique_email(prefix);
        self.create_user(&email, None, false).await;
        self.login(&email).await
    }

    /// An organization created by a fresh self-service owner; returns (org id, owner).
    pub async fn org_with_owner(&self) -> (OrgId, Actor) {
        let owner = self.user_without_org().await;
        let r = self
            .create_org(&owner, json!({"name": "Acme", "code": unique_code()}))
            .await;
        assert_eq!(r.status, 201, "create org: {}", r.body);
        let id = OrgId::parse(r.body["id"].as_str().unwrap()).unwrap();
        (id, owner)
    }

    pub async fn member_of(&self, org: OrgId, role: OrgRole) -> Actor {
        let email = unique_email(role.as_str());
        self.create_user(&email, Some((org, role)), false).await;
        self.login(&email).await
    }
}

/// Which function serves `method` + `path`, by the functions' own route tables (as the
/// local router and API Gateway do). A path no function serves goes to `orgs`, whose own
/// table answers 404 or 405.
pub fn function_for(path: &str, method: &str) -> &'static str {
    use roster::http::router::{Route, resolve};
    use roster::http::{
        accept_routes, audit_routes, auth_routes, change_role_routes, invite_routes,
        members_routes, orgs_routes, remove_routes, users_routes,
    };
    fn serves<Op: Copy>(routes: &[Route<Op>], path: &str, method: &str) -> bool {
        resolve(routes, method, path).is_ok()
    }
    let tables: [(&str, bool); 9] = [
        ("auth", serves(auth_routes::ROUTES, path, method)),
        ("orgs", serves(orgs_routes::ROUTES, path, method)),
        ("invite", serves(invite_routes::ROUTES, path, method)),
        ("accept", serves(accept_routes::ROUTES, path, method)),
        ("members", serves(members_routes::ROUTES, path, method)),
        (
            "change-role",
            serves(change_role_routes::ROUTES, path, method),
        ),
        ("remove", serves(remove_routes::ROUTES, path, method)),
        ("users", serves(users_routes::ROUTES, path, method)),
        ("audit", serves(audit_routes::ROUTES, path, method)),
    ];
    let paths: [(&str, bool); 3] = [
        // A known path under another method: the function owning the path answers 405.
        (
            "auth",
            auth_routes::ROUTES
                .iter()
                .any(|r| resolve(std::slice::from_ref(r), r.method, path).is_ok()),
        ),
        (
            "accept",
            accept_routes::ROUTES
                .iter()
                .any(|r| resolve(std::slice::from_ref(r), r.method, path).is_ok()),
        ),
        (
            "users",
            users_routes::ROUTES
                .iter()
                .any(|r| resolve(std::slice::from_ref(r), r.method, path).is_ok()),
        ),
    ];
    tables
        .iter()
        .chain(paths.iter())
        .find(|(_, hit)| *hit)
        .map(|(name, _)| *name)
        .unwrap_or("orgs")
}

/// A JSON request as the functions receive it (with a bearer token when given).
pub fn request(method: &str, uri: &str, token: Option<&str>, body: Option<&str>) -> Request {
    let mut builder = HttpRequest::builder()
        .method(Method::from_bytes(method.as_bytes()).expect("method"))
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let body = body
        .map(|b| Body::from(b.to_string()))
        .unwrap_or(Body::Empty);
    builder.body(body).expect("request")
}

pub fn unique_email(prefix: &str) -> String {
    format!(
        "{prefix}-{}@example.com",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

pub fn unique_code() -> String {
    format!(
        "C{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12].to_uppercase()
    )
}

/// The token in the newest email-change confirmation mailed to `to`.
pub async fn confirmation_token(t: &TestApp, to: &str) -> String {
    let mails = t.mails_to(to).await;
    let html = &mails
        .last()
        .unwrap_or_else(|| panic!("no mail to {to}"))
        .html;
    let start = html
        .find("/confirm-email?token=")
        .expect("confirmation link")
        + 21;
    html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect()
}

/// Moves an invitation's expiry into the past, as time passing would.
pub async fn expire_now(t: &TestApp, org: roster::domain::OrgId, id: &str) {
    use aws_sdk_dynamodb::types::AttributeValue as V;
    let past = roster::clock::Now::get().epoch() - 60;
    let inv_id = roster::domain::InvitationId::parse(id).unwrap();
    t.dynamo
        .update_item()
        .table_name(&t.app.config.table_name)
        .key("pk", V::S(roster::storage::keys::org_pk(&org)))
        .key("sk", V::S(roster::storage::keys::invitation_sk(&inv_id)))
        .update_expression("SET expires_epoch = :e, gsi1sk = :s")
        .expression_attribute_values(":e", V::N(past.to_string()))
        .expression_attribute_values(":s", V::S(roster::storage::keys::expiry_sk(past, &inv_id)))
        .send()
        .await
        .unwrap();
}

/// A region of its own for a client whose every attempt fails. The SDK keeps one retry
/// quota (token bucket) per service and region for the whole process, and every suite
/// shares this process: failing retries spent from us-east-1's would leave the other
/// tests' clients without retries. (The region only names the quota and signs: these
/// clients have an explicit endpoint.)
pub fn own_retry_quota(what: &str) -> aws_config::Region {
    aws_config::Region::new(format!("{what}-{}", uuid::Uuid::new_v4().simple()))
}

// ---------------------------------------------------------------------------------------
// Turns: every suite shares this one process, and all but one share it freely.

/// Tests take turns through their `TestApp`s: each app holds a shared turn (many at once)
/// or the one lone turn (the load suite: it bounds its run time and fills the served
/// API's queues, so it runs with no other test, as it did in a binary of its own). A lone
/// turn waits until no shared one is held; a shared one waits only while a lone one is
/// held, so a test that makes a second app never waits for its own first one.
#[derive(Default)]
struct Turns {
    held: std::sync::Mutex<Held>,
    changed: tokio::sync::Notify,
}

#[derive(Default)]
struct Held {
    shared: usize,
    alone: bool,
}

static TURNS: std::sync::LazyLock<Turns> = std::sync::LazyLock::new(Turns::default);

struct Turn {
    alone: bool,
}

impl Turn {
    async fn shared() -> Arc<Turn> {
        Self::take(false).await
    }

    async fn alone() -> Arc<Turn> {
        Self::take(true).await
    }

    async fn take(alone: bool) -> Arc<Turn> {
        loop {
            // Registered before the check, so a release between the two still wakes it.
            let changed = TURNS.changed.notified();
            {
                let mut held = TURNS.held.lock().unwrap_or_else(|e| e.into_inner());
                let free = if alone {
                    !held.alone && held.shared == 0
                } else {
                    !held.alone
                };
                if free {
                    if alone {
                        held.alone = true;
                    } else {
                        held.shared += 1;
                    }
                    return Arc::new(Turn { alone });
                }
            }
            changed.await;
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        {
            let mut held = TURNS.held.lock().unwrap_or_else(|e| e.into_inner());
            if self.alone {
                held.alone = false;
            } else {
                held.shared -= 1;
            }
        }
        TURNS.changed.notify_waiters();
    }
}

#[tokio::test]
async fn a_lone_turn_waits_for_shared_ones_and_holds_off_new_ones() {
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(100));
    let shared = Turn::shared().await;
    let alone = tokio::spawn(Turn::alone());
    pause().await;
    assert!(
        !alone.is_finished(),
        "a lone turn waits for the shared ones"
    );
    drop(shared);
    let alone = alone.await.expect("lone turn");
    let next = tokio::spawn(Turn::shared());
    pause().await;
    assert!(!next.is_finished(), "a shared turn waits for the lone one");
    drop(alone);
    next.await.expect("shared turn");
}
