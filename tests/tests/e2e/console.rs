//! The admin console (issue 14): its refresh cookie through the auth function in-process,
//! and every walkthrough of the seeds in headless Chromium against the served local API
//! (the acceptance-page test's driver, browser.rs), with a screenshot of each view in
//! test-artifacts/console-*.png and axe-core's audit of each.

use crate::browser::{Driver, ELEMENT};
use crate::common::{self, Joining, PASSWORD, TestApp, request, unique_code, unique_email};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::http::header;
use roster::domain::OrgRole;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// The refresh cookie (item 7).

fn cookie_of(r: &common::Reply) -> String {
    r.headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The cookie's value from a Set-Cookie header.
fn value_of(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

async fn with_cookie(t: &TestApp, path: &str, cookie: &str, content_type: &str) -> common::Reply {
    let mut req = request("POST", path, None, Some("{}"));
    let h = req.headers_mut();
    h.insert(
        header::COOKIE,
        format!("roster_refresh={cookie}").parse().unwrap(),
    );
    h.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
    h.insert(header::HOST, "127.0.0.1:9000".parse().unwrap());
    t.dispatch(req).await
}

#[tokio::test]
async fn sign_in_sets_an_http_only_strict_cookie_that_refreshes_and_signs_out() {
    let t = TestApp::spawn().await;
    let email = unique_email("cookie");
    t.create_user(&email, None, false).await;

    // Deployed (any non-loopback host, or none): Secure.
    let r = t.sign_in(&email, PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let set = cookie_of(&r);
    for part in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/auth/refresh;",
        "; Secure",
    ] {
        assert!(set.contains(part), "{part} missing: {set}");
    }
    // JSON clients still get the token in the body, and it is the cookie's.
    assert_eq!(value_of(&set), r.body["refresh_token"].as_str().unwrap());

    // On a loopback host (plain-HTTP local runs): not Secure, or the browser drops it.
    let mut req = request(
        "POST",
        "/auth/login",
        None,
        Some(&json!({"email": email, "password": PASSWORD}).to_string()),
    );
    req.headers_mut()
        .insert(header::HOST, "localhost:9000".parse().unwrap());
    let local = t.dispatch(req).await;
    let local_cookie = cookie_of(&local);
    assert!(!local_cookie.contains("Secure"), "{local_cookie}");

    // The cookie alone (body `{}`) refreshes, and the rotated token comes back in it.
    let first = value_of(&local_cookie);
    let r = with_cookie(&t, "/auth/refresh", &first, "application/json").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let second = value_of(&cookie_of(&r));
    assert_ne!(second, first);
    assert_eq!(second, r.body["refresh_token"].as_str().unwrap());
    let access = r.body["access_token"].as_str().unwrap().to_string();

    // CSRF: a cookie on a request that is not JSON (what a cross-site form can send) is not
    // used, and a body-less JSON request without the cookie is refused as before.
    let r = with_cookie(&t, "/auth/refresh", &second, "text/plain").await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = t.call("POST", "/auth/refresh", None, Some(json!({}))).await;
    assert_eq!(r.status, 400, "{}", r.body);

    // The console signs out with its access token (the cookie never reaches /auth/logout):
    // that token's session ends on the server and the answer clears the cookie.
    let mut req = request("POST", "/auth/logout", Some(&access), Some("{}"));
    req.headers_mut()
        .insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
    let r = t.dispatch(req).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(
        cookie_of(&r).starts_with("roster_refresh=; Path=/auth/refresh; Max-Age=0"),
        "{}",
        cookie_of(&r)
    );
    let r = with_cookie(&t, "/auth/refresh", &second, "application/json").await;
    assert_eq!(r.status, 401, "the session is over: {}", r.body);
    // Without a token, a body-less sign-out is refused as before.
    let r = t.call("POST", "/auth/logout", None, Some(json!({}))).await;
    assert_eq!(r.status, 400, "{}", r.body);
}

// ---------------------------------------------------------------------------------------
// What the console needs from the API (item 9).

#[tokio::test]
async fn a_bulk_refusal_names_blockers_of_the_organization_and_no_one_else() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let admin = t.member_of(org, OrgRole::Admin).await;
    let member = t.member_of(org, OrgRole::Member).await;
    let (other, _) = t.org_with_owner().await;
    let outsider = t.member_of(other, OrgRole::Member).await;
    let ids = [&member, &owner, &admin, &outsider].map(|a| a.user.id.to_string());
    let r = t
        .bulk_role(&admin, org, json!({"user_ids": ids, "role": "member"}))
        .await;
    assert_eq!((r.status, r.code()), (409, "bulk_refused"), "{}", r.body);
    let errors = r.body["errors"].as_array().unwrap();
    let by_id = |id: &str| {
        errors
            .iter()
            .find(|e| e["field"] == id)
            .unwrap_or_else(|| panic!("{id} not among {errors:?}"))
    };
    for blocker in [&owner, &admin] {
        let e = by_id(&blocker.user.id.to_string());
        assert_eq!(e["name"], blocker.user.name.as_str(), "{e}");
        assert_eq!(e["email"], blocker.user.email.as_ref() as &str, "{e}");
    }
    // Someone else's member is not named to this organization's admin.
    let e = by_id(&outsider.user.id.to_string());
    assert!(e.get("name").is_none() && e.get("email").is_none(), "{e}");
    assert_eq!(errors.len(), 3, "{errors:?}");
}

#[tokio::test]
async fn members_and_users_are_found_by_email_or_name() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let root = t.platform_admin().await;
    let mut made = Vec::new();
    for name in ["Ada Lovelace", "Alan Turing", "Grace Hopper"] {
        let email = unique_email(&name.to_lowercase().replace(' ', "."));
        let r = t
            .create_user_via_api(
                &root,
                json!({"email": email, "name": name, "password": PASSWORD, "role": "member", "org_id": org.to_string()}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        made.push(email);
    }
    let emails = |r: &common::Reply| -> Vec<String> {
        let mut v: Vec<String> = r.body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", r.body))
            .iter()
            .map(|m| m["email"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    // By name (lower case finds a capitalised name), by part of an email, by a full name.
    let r = t.members(&owner, org, "?q=lovelace").await;
    assert_eq!(emails(&r), [made[0].clone()]);
    // (Terms with a letter past `f`: the emails' random hex suffixes hold a-f.)
    let r = t.members(&owner, org, "?q=turing").await;
    assert_eq!(emails(&r), [made[1].clone()]);
    let r = t
        .members(&owner, org, "?q=Grace%20Hopper&role=member")
        .await;
    assert_eq!(emails(&r), [made[2].clone()]);
    let r = t.members(&owner, org, "?q=alan.turing").await;
    assert_eq!(emails(&r), [made[1].clone()]);
    let r = t.members(&owner, org, "?q=nobody-here").await;
    assert!(emails(&r).is_empty());
    // Searching covers members; pending invitations have their own list.
    let r = t.members(&owner, org, "?q=ada&include_pending=true").await;
    assert_eq!(
        (r.status, r.code()),
        (400, "validation_failed"),
        "{}",
        r.body
    );
    let long = "x".repeat(101);
    let r = t.members(&owner, org, &format!("?q={long}")).await;
    assert_eq!(r.status, 400, "{}", r.body);

    // Users, the same way, as the org's owner and as a platform admin.
    let r = t
        .call("GET", "/users?q=turing", Some(&owner.token), None)
        .await;
    assert_eq!(emails(&r), [made[1].clone()]);
    let uri = format!("/users?org_id={org}&q=hopper");
    let r = t.call("GET", &uri, Some(&root.token), None).await;
    assert_eq!(emails(&r), [made[2].clone()]);
    let r = t
        .call(
            "GET",
            "/users?platform_admins=true&q=x",
            Some(&root.token),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
}

// ---------------------------------------------------------------------------------------
// The console in a browser (items 1 to 5, 8, 10, 11).

const ENTER: &str = "\u{E007}";
/// The members view's Previous/Next buttons.
const PAGER: &str = "//div[@class='pager']";
const ESCAPE: &str = "\u{E00C}";
const AXE_VERSION: &str = "4.14.1";
const AXE_INTEGRITY: &str =
    "FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==";

fn root_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// axe-core's browser build, fetched once from the npm registry at its pinned version and
/// checked against the registry's integrity digest (used by this test only, never served).
async fn axe_source() -> String {
    use sha2::{Digest, Sha512};
    let dir = root_dir().join(format!(".local/axe-core-{AXE_VERSION}"));
    let file = dir.join("package/axe.min.js");
    if !file.exists() {
        // curl, as the README promises it (and it trusts the system's certificate store).
        let url = format!("https://registry.npmjs.org/axe-core/-/axe-core-{AXE_VERSION}.tgz");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("axe-core.tgz");
        let got = std::process::Command::new("curl")
            .args(["-fsSL", "--retry", "2", "-o"])
            .arg(&path)
            .arg(&url)
            .status()
            .expect("curl");
        assert!(got.success(), "axe-core from {url}");
        let tgz = std::fs::read(&path).unwrap();
        assert_eq!(
            STANDARD.encode(Sha512::digest(&tgz)),
            AXE_INTEGRITY,
            "axe-core tarball integrity"
        );
        let ok = std::process::Command::new("tar")
            .arg("-xzf")
            .arg(&path)
            .arg("-C")
            .arg(&dir)
            .args(["package/axe.min.js", "package/LICENSE"])
            .status()
            .expect("tar");
        assert!(ok.success(), "untar axe-core");
    }
    std::fs::read_to_string(file).expect("axe.min.js")
}

struct Console {
    d: Driver,
    api: String,
    axe: String,
    /// (view, serious or critical violations) for every view audited.
    audits: Vec<(String, Vec<String>)>,
}

impl Console {
    async fn exec(&self, script: &str, args: Value) -> Value {
        self.d
            .session_post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    async fn open(&self, path: &str) {
        self.d
            .session_post("/url", json!({"url": format!("{}{path}", self.api)}))
            .await;
    }

    async fn try_find(&self, using: &str, value: &str) -> Option<String> {
        let found = self
            .d
            .session_post("/elements", json!({"using": using, "value": value}))
            .await;
        found
            .as_array()
            .and_then(|a| a.first())
            .and_then(|e| e[ELEMENT].as_str())
            .map(str::to_string)
    }

    /// The first element `xpath` matches, waiting up to 30 s for it (the served functions
    /// share two cores with the build and the other suites).
    async fn wait(&self, xpath: &str) -> String {
        self.wait_for(xpath, Duration::from_secs(30)).await
    }

    async fn wait_for(&self, xpath: &str, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            if let Some(id) = self.try_find("xpath", xpath).await {
                return id;
            }
            if start.elapsed() > limit {
                let seen = self
                    .exec(
                        "return {text: document.body.innerText, resources: performance\
                         .getEntriesByType('resource').map(e => [e.name, e.responseStatus, e.duration])}",
                        json!([]),
                    )
                    .await;
                panic!("no {xpath} after {limit:?}; the page says:\n{seen}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A Chrome DevTools command, through chromedriver.
    async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.d
            .session_post("/goog/cdp/execute", json!({"cmd": cmd, "params": params}))
            .await
    }

    /// The sign-in form of a first load. When a module failed to load (boot.js says so),
    /// what the browser saw is printed for the log and the page reloaded once, as a person
    /// would; the first page gets longer than a step, for the two cores the suites share.
    async fn first_page(&self) {
        let either = "//button[.='Sign in'] | //p[@id='boot-failed']";
        let id = self.wait_for(either, Duration::from_secs(120)).await;
        if self
            .try_find("xpath", "//p[@id='boot-failed']")
            .await
            .as_deref()
            == Some(&id)
        {
            let seen = self
                .exec(
                    "return {failures: window.rosterBoot.failures, resources: performance\
                     .getEntriesByType('resource').map(e => [e.name, e.responseStatus, e.duration])}",
                    json!([]),
                )
                .await;
            eprintln!("console: the first load failed, reloading once: {seen}");
            self.click("//button[.='Reload']").await;
            self.wait_for("//button[.='Sign in']", Duration::from_secs(120))
                .await;
        }
    }

    async fn gone(&self, xpath: &str) {
        for _ in 0..300 {
            if self.try_find("xpath", xpath).await.is_none() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{xpath} still there after 30 s");
    }

    /// Clicks, finding the element again if the view was redrawn in between.
    async fn click(&self, xpath: &str) {
        for _ in 0..5 {
            let id = self.wait(xpath).await;
            let out = self
                .d
                .session_post(&format!("/element/{id}/click"), json!({}))
                .await;
            if out.get("error").is_none() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("could not click {xpath}");
    }

    async fn type_in(&self, xpath: &str, text: &str) {
        let id = self.wait(xpath).await;
        self.d
            .session_post(&format!("/element/{id}/value"), json!({"text": text}))
            .await;
    }

    async fn clear(&self, xpath: &str) {
        let id = self.wait(xpath).await;
        self.d
            .session_post(&format!("/element/{id}/clear"), json!({}))
            .await;
    }

    /// Keys to whatever has focus (as a person at the keyboard).
    async fn keys(&self, text: &str) {
        let active = self.d.get("/element/active").await;
        let id = active[ELEMENT].as_str().expect("a focused element");
        self.d
            .session_post(&format!("/element/{id}/value"), json!({"text": text}))
            .await;
    }

    async fn choose(&self, select_id: &str, value: &str) {
        self.click(&format!(
            "//select[@id='{select_id}']/option[@value='{value}']"
        ))
        .await;
    }

    async fn toast(&self, contains: &str) {
        self.wait(&format!(
            "//div[@id='toasts']/div[contains(., \"{contains}\")]"
        ))
        .await;
    }

    async fn shot(&self, name: &str) {
        let shot = self.d.get("/screenshot").await;
        let png = STANDARD.decode(shot.as_str().unwrap_or("")).expect("png");
        assert!(png.starts_with(b"\x89PNG"));
        let dir = root_dir().join("test-artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("console-{name}.png")), &png).unwrap();
    }

    /// axe-core on the page as it is: the serious and critical violations, kept for the end.
    async fn audit(&mut self, view: &str) {
        let script = format!(
            "{}\n;const done = arguments[arguments.length - 1];\
             axe.run(document).then(r => done(JSON.stringify({{passes: r.passes.length, bad: \
             r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')\
             .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + JSON.stringify(v.nodes.map(n => n.target)))\
             }}))).catch(e => done('axe failed: ' + e));",
            self.axe
        );
        let out = self
            .d
            .session_post("/execute/async", json!({"script": script, "args": []}))
            .await;
        let report: Value = out
            .as_str()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_else(|| panic!("axe-core did not run on {view}: {out}"));
        // A run that checked nothing would pass vacuously.
        assert!(
            report["passes"].as_u64().unwrap_or(0) > 5,
            "{view}: {report}"
        );
        let bad = report["bad"]
            .as_array()
            .map(|a| a.iter().map(|v| v.to_string()).collect())
            .unwrap_or_default();
        self.audits.push((view.to_string(), bad));
    }

    async fn sign_in(&self, email: &str) {
        self.type_in("//input[@name='email']", email).await;
        self.type_in("//input[@name='password']", PASSWORD).await;
        self.click("//button[.='Sign in']").await;
    }

    async fn sign_out(&self) {
        self.click("//button[@id='signout']").await;
        self.wait("//button[.='Sign in']").await;
    }

    fn row(email: &str) -> String {
        format!("//tr[@data-email='{email}']")
    }

    /// Waits for the focused element to read `text`.
    async fn focus_on(&self, text: &str) {
        for _ in 0..50 {
            let now = self
                .exec("return document.activeElement.textContent", json!([]))
                .await;
            if now == text {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("focus never reached {text:?}");
    }

    fn org_row(code: &str) -> String {
        format!("//tr[@data-code='{code}']")
    }

    /// A paste of `text` into the focused element, as the clipboard would deliver it.
    async fn paste(&self, text: &str) {
        self.exec(
            "const dt = new DataTransfer(); dt.setData('text/plain', arguments[0]);\
             document.activeElement.dispatchEvent(new ClipboardEvent('paste',\
               {clipboardData: dt, bubbles: true, cancelable: true}));",
            json!([text]),
        )
        .await;
    }

    /// A row button that reads `visible` and names what it acts on in its aria-label.
    async fn row_button(&self, row: &str, visible: &str, label: &str) {
        let xpath = format!("{row}//button[.='{visible}' and @aria-label=\"{label}\"]");
        self.click(&xpath).await;
    }

    /// Nothing wider than its box: the page, the header and the main area (item 6).
    async fn fits(&self, view: &str) {
        let out = self
            .exec(
                "return ['html', 'header', 'main', 'table'].map(s => document.querySelector(s))\
                   .filter(Boolean).map(e => [e.tagName, e.scrollWidth, e.clientWidth])\
                   .concat([['window', document.documentElement.scrollWidth, innerWidth]])",
                json!([]),
            )
            .await;
        for box_ in out.as_array().unwrap() {
            let (scroll, client) = (box_[1].as_u64().unwrap(), box_[2].as_u64().unwrap());
            assert!(scroll <= client, "{view}: {box_} overflows: {out}");
        }
    }

    /// The browser's console log since the last read: JavaScript errors, console.error calls
    /// and failed loads. The API's 4xx answers are expected (each is shown to the person as
    /// a message, and Chromium logs every one); anything else is kept.
    async fn console_errors(&self) -> Vec<String> {
        let log = self
            .d
            .session_post("/se/log", json!({"type": "browser"}))
            .await;
        let entries = log
            .as_array()
            .unwrap_or_else(|| panic!("no browser log: {log}"));
        entries
            .iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| format!("{}: {}", e["source"], e["message"]))
            .filter(|m| !(m.starts_with("\"network\"") && m.contains(&self.api) && is_4xx(m)))
            .collect()
    }
}

/// A network entry for a response with a 4xx status ("the server responded with a status of
/// 404 (Not Found)").
fn is_4xx(message: &str) -> bool {
    message
        .split("with a status of ")
        .nth(1)
        .is_some_and(|rest| rest.starts_with('4'))
}

/// A member with a name of our choosing, created by the platform admin through the API.
async fn named_member(t: &TestApp, root: &common::Actor, org: &str, name: &str) -> String {
    let email = unique_email(&name.to_lowercase().replace(' ', "-"));
    let r = t
        .create_user_via_api(
            root,
            json!({"email": email, "name": name, "password": PASSWORD, "role": "member", "org_id": org}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    email
}

#[tokio::test]
async fn every_seed_walkthrough_in_a_real_browser() {
    let Some(api) = common::local_api_url() else {
        return;
    };
    let http = reqwest::Client::new();

    // Headers of the index and of an asset (item 6).
    let index = http.get(format!("{api}/console")).send().await.unwrap();
    assert_eq!(index.status(), 200);
    let h = index.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-cache");
    let html = index.text().await.unwrap();
    let start = html.find("/console/").unwrap();
    let asset = &html[start..start + html[start..].find('"').unwrap()];
    let res = http.get(format!("{api}{asset}")).send().await.unwrap();
    assert_eq!(res.status(), 200, "{asset}");
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );

    // The people: an owner's organization, a platform admin, a plain member.
    let t = TestApp::served().await;
    let root = t.platform_admin().await;
    let owner_email = unique_email("owner");
    t.create_user(&owner_email, None, false).await;
    let owner = t.login(&owner_email).await;
    let code = unique_code();
    let r = t
        .create_org(&owner, json!({"name": "Console & Co", "code": code}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let org = r.body["id"].as_str().unwrap().to_string();
    let org_id = roster::domain::OrgId::parse(&org).unwrap();
    let ada = named_member(&t, &root, &org, "Ada Lovelace").await;
    let alan = named_member(&t, &root, &org, "Alan Turing").await;
    let plain = t.member_of(org_id, OrgRole::Member).await;
    // Items 5 and 6: the longest name the API takes (100 characters, a 68-letter word among
    // them), the longest code, a description with a long unbroken address, and 21 pending
    // invitations: two pages of the members view.
    let long_name = format!(
        "{} Analytical Engines & Looms Ltd.",
        "Supercalifragilisticexpialidocious".repeat(2)
    );
    assert_eq!(long_name.chars().count(), 100);
    let long_code = format!("{}_{}", unique_code(), "X".repeat(18));
    let long_description = format!("See https://example.com/{}", "engines".repeat(40));
    let r = t
        .create_org(
            &root,
            json!({"name": long_name, "code": long_code, "description": long_description}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let long_org = r.body["id"].as_str().unwrap().to_string();
    let crowd: Vec<String> = (0..21).map(|i| unique_email(&format!("page{i}"))).collect();
    let r = t.invite(&root, &long_org, &crowd, "member").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let long_code = long_code.to_uppercase();

    let mut c = Console {
        d: Driver::start_sized("1280,900").await,
        api: api.clone(),
        axe: axe_source().await,
        audits: Vec::new(),
    };
    c.d.session_post("/timeouts", json!({"script": 120_000}))
        .await;

    // The first load resumes a session through /auth/refresh: that function is started
    // (cargo lambda watch starts each on its first request) before the browser asks, and
    // the first page gets longer than a step, for the two cores the other suites share.
    let warm = http
        .post(format!("{api}/auth/refresh"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), 400, "no cookie, no token");
    // First load: what crosses the network, all from this origin (item 11).
    c.open("/console").await;
    c.first_page().await;
    let transfer = c
        .exec(
            "const n = performance.getEntriesByType('navigation')[0];\
             const r = performance.getEntriesByType('resource');\
             return {bytes: n.transferSize + r.reduce((s, e) => s + e.transferSize, 0),\
                     body: n.encodedBodySize + r.reduce((s, e) => s + e.encodedBodySize, 0),\
                     requests: 1 + r.length, origins: r.map(e => new URL(e.name).origin)}",
            json!([]),
        )
        .await;
    for origin in transfer["origins"].as_array().unwrap() {
        assert_eq!(origin.as_str().unwrap(), api, "a request to another origin");
    }
    let first_load_bytes = transfer["bytes"].as_u64().unwrap_or(0);
    assert!(first_load_bytes < 100_000, "{transfer}");
    c.audit("sign-in").await;
    c.shot("sign-in").await;

    // A module that fails to load is said, with a way out, not "Loading…" forever: the
    // browser is told to refuse one module, from a cold cache.
    c.cdp("Network.enable", json!({})).await;
    c.cdp("Network.clearBrowserCache", json!({})).await;
    c.cdp("Network.setBlockedURLs", json!({"urls": ["*/members.js"]}))
        .await;
    c.open("/console").await;
    c.wait("//p[@role='alert' and contains(., 'The console did not load')]")
        .await;
    c.shot("load-failed").await;
    c.cdp("Network.setBlockedURLs", json!({"urls": []})).await;
    c.click("//button[.='Reload']").await;
    c.first_page().await;
    // The browser's console so far: the refused module, and nothing else (item 7 reads the
    // rest at the end).
    let blocked = c.console_errors().await;
    assert!(
        blocked.iter().all(|m| m.contains("members.js")),
        "{blocked:#?}"
    );

    // Item 5: a wrong password is a human message.
    c.type_in("//input[@name='email']", &owner_email).await;
    c.type_in("//input[@name='password']", "not the password at all")
        .await;
    c.click("//button[.='Sign in']").await;
    c.wait("//p[@role='alert' and contains(., 'nvalid email or password')]")
        .await;
    c.clear("//input[@name='email']").await;
    c.clear("//input[@name='password']").await;

    // Item 1 and 2: the owner signs in and sees the members.
    c.sign_in(&owner_email).await;
    c.wait("//h1[contains(., 'Members of Console & Co')]").await;
    c.wait(&Console::row(&ada)).await;
    // Item 5: one page, no paging buttons.
    assert!(c.try_find("xpath", PAGER).await.is_none());
    // Search by name (item 9).
    c.type_in("//input[@id='f-q']", "lovelace").await;
    c.gone(&Console::row(&alan)).await;
    c.wait(&Console::row(&ada)).await;
    c.clear("//input[@id='f-q']").await;
    c.type_in("//input[@id='f-q']", " ").await;
    c.wait(&Console::row(&alan)).await;

    // Invite three by typing and pressing Enter; see them pending.
    c.click("//button[@id='invite-open']").await;
    let invitees: Vec<String> = (0..3).map(|i| unique_email(&format!("inv{i}"))).collect();
    for e in &invitees {
        c.keys(&format!("{e}{ENTER}")).await;
    }
    // A fourth address, typed with a comma, that the API refuses with its reason.
    c.keys("not-an-address,").await;
    c.wait(&format!(
        "//span[@class='chip' and contains(., '{}')]",
        invitees[2]
    ))
    .await;
    // Item 4: flagged on its chip as soon as it is added, before Send; the others are not.
    c.wait("//span[contains(@class, 'invalid') and contains(., 'not-an-address (it has no @)')]")
        .await;
    c.wait("//span[@id='chip-count' and .='4 addresses, 1 invalid']")
        .await;
    assert!(
        c.try_find(
            "xpath",
            "//span[@class='chip invalid' and contains(., '@example.com')]"
        )
        .await
        .is_none()
    );
    c.audit("invite").await;
    c.shot("invite").await;
    c.click("//dialog//button[.='Send invitations']").await;
    c.wait("//ul[@id='invite-results' and count(li)=4]").await;
    let results = c.d.text("#invite-results").await;
    assert_eq!(results.matches(": invited").count(), 3, "{results}");
    assert!(results.contains("not-an-address: invalid ("), "{results}");
    c.toast("3 invitations sent").await;
    // Escape closes the dialog and focus goes back to the button that opened it.
    c.keys(ESCAPE).await;
    c.gone("//dialog[@open]").await;
    let focused = c.exec("return document.activeElement.id", json!([])).await;
    assert_eq!(focused, "invite-open");
    for e in &invitees {
        c.wait(&format!("{}//span[.='pending']", Console::row(e)))
            .await;
    }
    c.audit("members").await;
    c.shot("members").await;

    // Item 4: a pasted list becomes chips; 100 addresses fit the modal, their chips scroll.
    c.click("//button[@id='invite-open']").await;
    c.paste("ana@example.com, bob@example.com\ncyd@example.com")
        .await;
    c.wait("//dialog[count(.//span[@role='listitem'])=3]").await;
    c.wait("//span[@id='chip-count' and .='3 addresses']").await;
    let more: Vec<String> = (4..=100)
        .map(|i| format!("person{i}@example.com"))
        .collect();
    c.paste(&more.join("\n")).await;
    c.wait("//span[@id='chip-count' and .='100 addresses']")
        .await;
    let fit = c
        .exec(
            "const d = document.getElementById('dialog'); const r = d.getBoundingClientRect();\
             const l = d.querySelector('.chips-list');\
             const send = [...d.querySelectorAll('button')].find(b => b.textContent === 'Send invitations');\
             return {in_window: r.top >= 0 && r.bottom <= innerHeight,\
                     dialog_scrolls: d.scrollHeight > d.clientHeight,\
                     chips_scroll: l.scrollHeight > l.clientHeight,\
                     send_shown: send.getBoundingClientRect().bottom <= r.bottom}",
            json!([]),
        )
        .await;
    assert_eq!(
        fit,
        json!({"in_window": true, "dialog_scrolls": false, "chips_scroll": true, "send_shown": true})
    );
    c.audit("invite-100").await;
    c.shot("invite-100").await;
    c.click("//dialog//button[.='Cancel']").await;
    c.gone("//dialog[@open]").await;

    // One accepts from the mail; a reload keeps the session and shows them active.
    let token = t.latest_token(&invitees[0]).await;
    let r = t
        .accept(&token, Joining::New("Grace Hopper", PASSWORD))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    c.open("/console").await;
    c.wait(&format!("{}//span[.='active']", Console::row(&invitees[0])))
        .await;
    let drawn = c
        .exec(
            "const m = performance.getEntriesByName('members-drawn')[0]; return m ? m.startTime : null",
            json!([]),
        )
        .await;
    let members_ms = drawn.as_f64().expect("members-drawn mark");

    // Row actions: change one role, resend and revoke an invitation, with toasts.
    c.click(&format!(
        "{}//button[.='Change role']",
        Console::row(&invitees[0])
    ))
    .await;
    c.click("//dialog//button[.='Change role']").await;
    c.toast("Grace Hopper").await;
    c.wait(&format!("{}/td[4][.='admin']", Console::row(&invitees[0])))
        .await;
    c.click(&format!(
        "{}//button[.='Resend']",
        Console::row(&invitees[1])
    ))
    .await;
    c.toast(&format!("{} was sent again", invitees[1])).await;
    c.click(&format!(
        "{}//button[.='Revoke']",
        Console::row(&invitees[2])
    ))
    .await;
    c.audit("confirm").await;
    c.click("//dialog//button[.='Revoke']").await;
    c.toast("was revoked").await;
    c.gone(&Console::row(&invitees[2])).await;

    // Bulk: Ada and Alan become admins, with a confirmation.
    for e in [&ada, &alan] {
        c.click(&format!("{}//input[@type='checkbox']", Console::row(e)))
            .await;
    }
    c.choose("bulk-action", "admin").await;
    c.click("//button[@id='bulk-apply']").await;
    c.wait("//dialog//li[contains(., 'Ada Lovelace')]").await;
    c.shot("bulk-confirm").await;
    c.click("//dialog//button[.='Make admin']").await;
    c.toast("Role changed to admin for 2 people").await;
    c.wait(&format!("{}/td[4][.='admin']", Console::row(&alan)))
        .await;

    // Refused: Alan leaves meanwhile; the bulk removal names him and changes nothing.
    for e in [&ada, &alan] {
        c.click(&format!("{}//input[@type='checkbox']", Console::row(e)))
            .await;
    }
    let alan_id = t
        .app
        .store
        .find_user_by_email(&roster::domain::Email::parse(&alan).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    let r = t.remove(&owner, org_id, alan_id.to_string().as_str()).await;
    assert_eq!(r.status, 204, "{}", r.body);
    c.choose("bulk-action", "remove").await;
    c.click("//button[@id='bulk-apply']").await;
    c.click("//dialog//button[.='Remove']").await;
    c.wait(&format!(
        "//dialog//ul[@class='blockers']/li[contains(., 'Alan Turing ({alan})')]"
    ))
    .await;
    c.shot("bulk-refused").await;
    c.click("//dialog//button[.='OK']").await;
    c.wait(&Console::row(&ada)).await;

    // A bulk removal without a blocker goes through.
    c.open("/console").await;
    c.wait(&Console::row(&ada)).await;
    c.click(&format!("{}//input[@type='checkbox']", Console::row(&ada)))
        .await;
    c.choose("bulk-action", "remove").await;
    c.click("//button[@id='bulk-apply']").await;
    c.click("//dialog//button[.='Remove']").await;
    c.toast("Removed 1 person").await;
    c.gone(&Console::row(&ada)).await;

    // Settings and the audit log in words.
    c.open("/console#settings").await;
    c.wait("//h2[.='Transfer ownership']").await;
    c.audit("settings").await;
    c.shot("settings").await;
    // The owner edits the description, then hands the organization to Grace.
    c.type_in(
        "//textarea[@name='description']",
        "Where the console is tested",
    )
    .await;
    c.click("//button[.='Save changes']").await;
    c.toast("Organization settings saved").await;
    c.click(&format!(
        "//select[@name='user_id']/option[contains(., '{}')]",
        invitees[0]
    ))
    .await;
    c.click("//form//button[.='Transfer ownership']").await;
    c.toast("Ownership transferred").await;
    let r = t.org(&root, org_id).await;
    assert_eq!(r.body["description"], "Where the console is tested");
    let grace = t
        .app
        .store
        .find_user_by_email(&roster::domain::Email::parse(&invitees[0]).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.body["owner_id"], grace.id.to_string().as_str());
    c.open("/console#audit").await;
    c.wait("//li[contains(., \"changed Grace Hopper's role from member to admin\")]")
        .await;
    c.wait("//li[contains(., 'made Grace Hopper the owner')]")
        .await;
    c.audit("audit").await;
    c.shot("audit").await;

    // Sign out ends the session: a reload shows the sign-in form.
    c.sign_out().await;
    c.open("/console").await;
    c.wait("//button[.='Sign in']").await;

    // Item 4: a member who is not an admin.
    c.sign_in(plain.user.email.as_ref()).await;
    c.wait("//h1[.='This console is for administrators']").await;
    c.wait("//p[contains(., 'Console & Co')]").await;
    assert!(c.try_find("xpath", "//nav//a").await.is_none());
    c.audit("not-admin").await;
    c.shot("not-admin").await;
    c.sign_out().await;

    // Item 3: the platform admin.
    c.sign_in(root.user.email.as_ref()).await;
    c.wait("//h1[.='Organizations']").await;
    c.wait(&format!("//td[.='{code}']")).await;
    c.wait(&Console::org_row(&long_code)).await;
    c.fits("organizations").await;
    c.audit("organizations").await;
    c.shot("organizations").await;

    // Item 1: New Organization (its owner invited), edited in every field, deleted by code.
    let lab_code = unique_code();
    let lab_owner = unique_email("lab-owner");
    c.click("//button[.='New Organization']").await;
    c.type_in("//dialog//input[@name='name']", "Lovelace Labs")
        .await;
    c.type_in("//dialog//input[@name='code']", &lab_code).await;
    c.type_in("//dialog//textarea[@name='description']", "Engines")
        .await;
    c.type_in("//dialog//input[@name='tier']", "pro").await;
    c.type_in("//dialog//input[@name='owner_email']", &lab_owner)
        .await;
    c.audit("new-organization").await;
    c.shot("new-organization").await;
    c.click("//dialog//button[.='Create']").await;
    c.toast(&format!(
        "Lovelace Labs created. {lab_owner} is invited to own it"
    ))
    .await;
    c.wait(&format!(
        "{}[td[1]='Lovelace Labs' and td[3]='Engines' and td[4]='pro']",
        Console::org_row(&lab_code)
    ))
    .await;
    assert!(
        !t.mails_to(&lab_owner).await.is_empty(),
        "the owner's invitation"
    );
    c.row_button(
        &Console::org_row(&lab_code),
        "Edit",
        &format!("Edit Lovelace Labs ({lab_code})"),
    )
    .await;
    let lab_code2 = format!("{lab_code}-2");
    for (name, value) in [
        ("input[@name='name']", "Lovelace Analytical Labs"),
        ("textarea[@name='description']", "Engines of every kind"),
        ("input[@name='code']", &lab_code2),
        ("input[@name='tier']", "enterprise"),
    ] {
        c.clear(&format!("//dialog//{name}")).await;
        c.type_in(&format!("//dialog//{name}"), value).await;
    }
    c.click("//dialog//button[.='Save']").await;
    c.toast("Lovelace Analytical Labs saved").await;
    c.wait(&format!(
        "{}[td[1]='Lovelace Analytical Labs' and td[3]='Engines of every kind' and td[4]='enterprise']",
        Console::org_row(&lab_code2)
    ))
    .await;
    assert!(
        c.try_find("xpath", &Console::org_row(&lab_code))
            .await
            .is_none()
    );
    c.row_button(
        &Console::org_row(&lab_code2),
        "Delete",
        &format!("Delete Lovelace Analytical Labs ({lab_code2})"),
    )
    .await;
    // Delete waits for the code, typed in any case.
    c.wait("//dialog//button[.='Delete' and @disabled]").await;
    c.type_in("//input[@id='confirm-code']", "WRONG").await;
    c.wait("//dialog//button[.='Delete' and @disabled]").await;
    c.clear("//input[@id='confirm-code']").await;
    c.type_in("//input[@id='confirm-code']", &lab_code2.to_lowercase())
        .await;
    c.click("//dialog//button[.='Delete' and not(@disabled)]")
        .await;
    c.toast("Lovelace Analytical Labs was deleted").await;
    c.gone(&Console::org_row(&lab_code2)).await;

    // Items 5 and 6: the long-named organization's members: header, picker and table keep
    // their width; 20 a page, Next only where there is a next page, Previous only after.
    c.open("/console#members").await;
    c.choose("org-pick", &long_org).await;
    c.wait(&format!("//h1[.='Members of {long_name}']")).await;
    let page = "//div[@id='member-table']//tbody";
    c.wait(&format!("{page}[count(tr)=20]")).await;
    c.wait("//button[.='Next page']").await;
    assert!(
        c.try_find("xpath", "//button[.='Previous page']")
            .await
            .is_none()
    );
    c.fits("members of a long name").await;
    c.audit("long-name").await;
    c.shot("long-name").await;
    c.click("//button[.='Next page']").await;
    c.wait(&format!("{page}[count(tr)=1]")).await;
    c.wait("//button[.='Previous page']").await;
    assert!(
        c.try_find("xpath", "//button[.='Next page']")
            .await
            .is_none()
    );
    // The button pressed is gone: focus went to the one left, not to the page's start.
    c.focus_on("Previous page").await;
    c.click("//button[.='Previous page']").await;
    c.wait(&format!("{page}[count(tr)=20]")).await;
    assert!(
        c.try_find("xpath", "//button[.='Previous page']")
            .await
            .is_none()
    );

    // Users: filter by organization and by global administrators; create, then edit with
    // the password left blank (it keeps working).
    c.open("/console#users").await;
    c.choose("u-org", &org).await;
    c.wait(&Console::row(&invitees[0])).await;
    c.click("//input[@id='u-admins']").await;
    c.wait(&Console::row(root.user.email.as_ref())).await;
    c.gone(&Console::row(&invitees[0])).await;
    c.click("//input[@id='u-admins']").await;
    c.click("//button[.='New User']").await;
    let created = unique_email("made");
    c.type_in("//dialog//input[@name='email']", &created).await;
    c.type_in("//dialog//input[@name='name']", "Katherine Johnson")
        .await;
    // Item 5: a field error appears next to its field.
    c.type_in("//dialog//input[@name='password']", "short")
        .await;
    c.click("//dialog//button[.='Create user']").await;
    c.wait("//dialog//div[@data-field='password']/span[@class='err' and string-length(.) > 0]")
        .await;
    c.shot("field-error").await;
    c.clear("//dialog//input[@name='password']").await;
    c.type_in("//dialog//input[@name='password']", PASSWORD)
        .await;
    c.audit("new-user").await;
    c.click("//dialog//button[.='Create user']").await;
    c.toast(&format!("{created} created")).await;
    c.wait(&Console::row(&created)).await;
    // Item 2: the row's buttons read Edit and Delete; their labels name the person.
    c.row_button(&Console::row(&created), "Edit", &format!("Edit {created}"))
        .await;
    c.clear("//dialog//input[@name='name']").await;
    c.type_in("//dialog//input[@name='name']", "Katherine G. Johnson")
        .await;
    c.click("//dialog//button[.='Save']").await;
    c.toast(&format!("{created} saved")).await;
    c.wait(&format!(
        "{}/td[.='Katherine G. Johnson']",
        Console::row(&created)
    ))
    .await;
    c.shot("users").await;
    c.audit("users").await;
    assert_eq!(t.sign_in(&created, PASSWORD).await.status, 200);
    c.row_button(
        &Console::row(&created),
        "Delete",
        &format!("Delete {created}"),
    )
    .await;
    c.wait("//dialog//p[contains(., 'Katherine G. Johnson')]")
        .await;
    c.click("//dialog//button[.='Delete']").await;
    c.toast(&format!("{created} was deleted")).await;
    c.gone(&Console::row(&created)).await;
    assert_eq!(t.sign_in(&created, PASSWORD).await.status, 401);

    // Invitations: an expiry in seconds.
    c.open("/console#invitations").await;
    c.choose("i-org", &org).await;
    c.click("//button[.='Send Invitation']").await;
    let timed = unique_email("timed");
    c.type_in("//dialog//input[@name='email']", &timed).await;
    c.type_in("//dialog//input[@name='expires_in_seconds']", "600")
        .await;
    c.click("//dialog//button[.='Send Invitation']").await;
    c.toast(&format!("Invitation to {timed}: invited")).await;
    c.wait(&Console::row(&timed)).await;
    c.choose("i-status", "pending").await;
    c.wait(&Console::row(&timed)).await;
    c.audit("invitations").await;
    c.shot("invitations").await;
    let listed = t
        .invitations(&root, org_id, "?status=pending&limit=100")
        .await;
    let inv = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == timed.as_str())
        .expect("the timed invitation")
        .clone();
    let expires = time::OffsetDateTime::parse(
        inv["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let left = (expires - time::OffsetDateTime::now_utc()).whole_seconds();
    assert!((400..=600).contains(&left), "{left} s left");
    // Item 3: Delete revokes it: gone from the pending ones, listed as revoked.
    c.row_button(
        &Console::row(&timed),
        "Delete",
        &format!("Delete the invitation to {timed}"),
    )
    .await;
    c.click("//dialog//button[.='Delete']").await;
    c.toast(&format!("The invitation to {timed} was revoked"))
        .await;
    c.gone(&Console::row(&timed)).await;
    c.choose("i-status", "revoked").await;
    c.wait(&format!("{}/td[3][.='revoked']", Console::row(&timed)))
        .await;

    // Delete the organization by typing its code.
    c.open("/console#orgs").await;
    c.row_button(
        &Console::org_row(&code),
        "Delete",
        &format!("Delete Console & Co ({code})"),
    )
    .await;
    c.type_in("//input[@id='confirm-code']", &code).await;
    c.click("//dialog//button[.='Delete' and not(@disabled)]")
        .await;
    c.toast("Console & Co was deleted").await;
    c.gone(&format!("//td[.='{code}']")).await;
    assert_eq!(t.org(&root, org_id).await.status, 404);

    // Item 7: nothing went wrong in the page along the way.
    let errors = c.console_errors().await;
    let _ =
        c.d.http
            .delete(format!("{}/session/{}", c.d.base, c.d.session))
            .send()
            .await;
    assert!(errors.is_empty(), "the browser's console: {errors:#?}");

    // Figures for docs/BENCHMARKS.md.
    eprintln!(
        "console: first load {} bytes in {} requests ({} bytes of bodies); members drawn {members_ms:.0} ms after navigation",
        first_load_bytes, transfer["requests"], transfer["body"]
    );
    let bad: Vec<_> = c.audits.iter().filter(|(_, v)| !v.is_empty()).collect();
    assert!(
        bad.is_empty(),
        "axe-core: serious or critical violations: {bad:#?}"
    );
    assert!(c.audits.len() >= 11, "{}", c.audits.len());
}
