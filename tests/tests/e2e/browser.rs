//! The acceptance page in a real browser: headless Chromium (Debian's package) driven over
//! WebDriver by chromedriver, against the served API. It opens the link from the email the
//! emulator received, fills the form, submits, sees the result, and saves a screenshot in
//! test-artifacts/.

use crate::common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{PASSWORD, TestApp, unique_code, unique_email};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub(crate) const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

// Shared with the console suite (console.rs).
pub(crate) struct Driver {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) session: String,
    process: Child,
    profile: std::path::PathBuf,
}

impl Drop for Driver {
    /// Chromium is chromedriver's child and outlives it: a failed test would leave it
    /// running, so it is found by its own profile directory.
    fn drop(&mut self) {
        let _ = Command::new("pkill")
            .arg("-f")
            .arg(self.profile.as_os_str())
            .status();
        let _ = self.process.kill();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Driver {
    pub(crate) async fn start() -> Driver {
        Self::start_sized("900,800").await
    }

    /// A browser with a window of `size` ("width,height").
    pub(crate) async fn start_sized(size: &str) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian's chromium-driver; scripts/test installs it)");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile =
            std::env::temp_dir().join(format!("roster-chromium-{}", uuid::Uuid::new_v4().simple()));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            // The console's log, read back through chromedriver's /se/log (console.rs).
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         format!("--window-size={size}"), format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let mut driver = Driver {
            http,
            base,
            session: String::new(),
            process,
            profile,
        };
        let created = driver.post("/session", caps).await;
        driver.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_string();
        driver
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> Value {
        let url = format!("{}{}", self.base, path);
        let res = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .expect("webdriver");
        res.json::<Value>().await.expect("json")["value"].clone()
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        self.http
            .get(url)
            .send()
            .await
            .expect("webdriver")
            .json::<Value>()
            .await
            .expect("json")["value"]
            .clone()
    }

    pub(crate) async fn session_post(&self, path: &str, body: Value) -> Value {
        self.post(&format!("/session/{}{}", self.session, path), body)
            .await
    }

    pub(crate) async fn find(&self, css: &str) -> String {
        let found = self
            .session_post("/element", json!({"using": "css selector", "value": css}))
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_string()
    }

    pub(crate) async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.get(&format!("/element/{id}/text"))
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

#[tokio::test]
async fn a_person_accepts_an_invitation_in_a_real_browser() {
    let Some(api) = common::local_api_url() else {
        return;
    };
    // Data in the table the served functions use.
    let t = TestApp::served().await;
    let root = t.platform_admin().await;
    let http = reqwest::Client::new();
    let org: Value = http
        .post(format!("{api}/orgs"))
        .bearer_auth(&root.token)
        .json(&json!({"name": "Browser & Co", "code": unique_code()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let org_id = org["id"].as_str().unwrap();
    let to = unique_email("browser");
    let invited: Value = http
        .post(format!("{api}/orgs/{org_id}/invitations"))
        .bearer_auth(&root.token)
        .json(&json!({"emails": [to], "role": "member"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(invited["results"][0]["email_delivery"], "sent", "{invited}");

    // The link exactly as the email carries it.
    let mails = t.mails_to(&to).await;
    let html = &mails.last().expect("the invitation email").html;
    let start = html.find("href=\"").unwrap() + 6;
    let link = html[start..start + html[start..].find('"').unwrap()].replace("&amp;", "&");
    assert!(link.starts_with(&api), "{link}");

    let driver = Driver::start().await;
    driver.session_post("/url", json!({"url": link})).await;
    assert!(driver.text("h1").await.contains("Browser & Co"));
    let name = driver.find("#name").await;
    driver
        .session_post(
            &format!("/element/{name}/value"),
            json!({"text": "Brow Ser"}),
        )
        .await;
    let password = driver.find("#password").await;
    driver
        .session_post(
            &format!("/element/{password}/value"),
            json!({"text": PASSWORD}),
        )
        .await;
    let accept = driver.find("button[value=accept]").await;
    driver
        .session_post(&format!("/element/{accept}/click"), json!({}))
        .await;
    let mut result = String::new();
    for _ in 0..50 {
        let found = driver
            .session_post(
                "/elements",
                json!({"using": "css selector", "value": "#result"}),
            )
            .await;
        if let Some(id) = found
            .as_array()
            .and_then(|a| a.first())
            .and_then(|e| e[ELEMENT].as_str())
        {
            result = driver
                .get(&format!("/element/{id}/text"))
                .await
                .as_str()
                .unwrap_or("")
                .to_string();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(result, "You have joined Browser & Co");

    let shot = driver.get("/screenshot").await;
    let png = STANDARD.decode(shot.as_str().unwrap()).unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("invitation-accepted.png"), &png).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let _ = driver
        .http
        .delete(format!("{}/session/{}", driver.base, driver.session))
        .send()
        .await;

    // The new member can sign in.
    t.login(&to).await;
}

/// The email-change confirmation page: the link from the mail shows a button (the GET
/// changes nothing), the button confirms, and the used link is then refused in words.
#[tokio::test]
async fn a_person_confirms_a_new_email_address_in_a_real_browser() {
    let Some(api) = common::local_api_url() else {
        return;
    };
    let t = TestApp::served().await;
    let old = unique_email("before");
    let user = t.create_user(&old, None, false).await;
    let me = t.login(&old).await;
    let new = unique_email("after");
    let http = reqwest::Client::new();
    let r = http
        .patch(format!("{api}/users/{}", user.id))
        .bearer_auth(&me.token)
        .json(&json!({"email": new, "current_password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let mails = t.mails_to(&new).await;
    let html = &mails.last().expect("the confirmation email").html;
    let start = html.find("href=\"").unwrap() + 6;
    let link = html[start..start + html[start..].find('"').unwrap()].replace("&amp;", "&");
    assert!(
        link.starts_with(&format!("{api}/confirm-email?token=")),
        "{link}"
    );

    let driver = Driver::start().await;
    // The heading and the text of the page now shown, read in one script: between the
    // form's POST and the answer there is no document to find an element in.
    let page = async || {
        let v = driver
            .session_post(
                "/execute/sync",
                json!({"script": "const h = document.querySelector('h1');\
                                  return h ? [h.textContent, document.querySelector('main').innerText] : null",
                       "args": []}),
            )
            .await;
        let h1 = v[0].as_str()?.to_string();
        Some((h1, v[1].as_str().unwrap_or_default().to_string()))
    };
    let confirm = async |expect: &str| {
        driver.session_post("/url", json!({"url": link})).await;
        assert_eq!(driver.text("h1").await, "Confirm your new email address");
        let button = driver.find("button[type=submit]").await;
        driver
            .session_post(&format!("/element/{button}/click"), json!({}))
            .await;
        // Up to 60 s: the function's first request shares two cores with the other suites.
        for _ in 0..600 {
            if let Some((h1, text)) = page().await
                && !h1.is_empty()
                && h1 != "Confirm your new email address"
            {
                assert_eq!(h1, expect);
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no answer to the confirmation");
    };
    assert!(
        t.login_fails(&new, PASSWORD).await,
        "opening the link confirms nothing"
    );
    let done = confirm("Email address confirmed").await;
    assert!(done.contains(&new), "{done}");
    let shot = driver.get("/screenshot").await;
    let png = STANDARD.decode(shot.as_str().unwrap()).unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("email-confirmed.png"), &png).unwrap();
    t.login(&new).await;

    // The same link again: used up, said in words.
    let again = confirm("This link cannot be used").await;
    assert!(again.contains("not valid"), "{again}");
}
