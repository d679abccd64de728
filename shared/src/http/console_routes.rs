//! The `console` function: the admin console's static files (console/ in the repo, compiled
//! in), served under /console on the API's origin. The index names its assets under a
//! content hash (`/console/<hash>/app.js`), so assets are cached for a year and a deploy is
//! seen at the next load of the index, which is never cached. Relative imports between the
//! modules resolve under the same hash.

use super::router::{Route, resolve};
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy)]
pub enum Op {
    Index,
    Asset,
}

pub const ROUTES: &[Route<Op>] = &[
    Route {
        method: "GET",
        path: "/console",
        op: Op::Index,
    },
    Route {
        method: "GET",
        path: "/console/{version}/{asset}",
        op: Op::Asset,
    },
];

/// Scripts, styles and connections from this origin only; nothing inline, no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const INDEX: &str = include_str!("../../../console/index.html");

/// (name, content type, bytes) of every file the index may reference.
pub const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../console/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../console/app.js"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../console/api.js"),
    ),
    (
        "ui.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../console/ui.js"),
    ),
    (
        "members.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../console/members.js"),
    ),
    (
        "org.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../console/org.js"),
    ),
    (
        "platform.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../console/platform.js"),
    ),
];

/// The assets' content hash: it changes whenever any asset does.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut h = Sha256::new();
        for (name, _, bytes) in ASSETS {
            h.update(name.as_bytes());
            h.update(bytes);
        }
        h.finalize()[..6].iter().map(|b| format!("{b:02x}")).collect()
    })
}

fn index_html() -> &'static str {
    static HTML: OnceLock<String> = OnceLock::new();
    HTML.get_or_init(|| INDEX.replace("{{VERSION}}", version()))
}

pub fn handle(req: &Request) -> Response<Body> {
    let (op, params) = match resolve(ROUTES, req.method().as_str(), req.uri().path()) {
        Ok(found) => found,
        Err(e) => return super::problem::problem_response(&e),
    };
    match op {
        Op::Index => file(
            "text/html; charset=utf-8",
            index_html().as_bytes(),
            "no-cache",
        ),
        Op::Asset => {
            let name = params.get("asset").unwrap_or_default();
            let Some((_, kind, bytes)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
                return super::problem::problem_response(
                    &crate::error::ServiceError::RouteNotFound,
                );
            };
            // An index from before a deploy asks for its old hash: it gets today's file,
            // not cached, rather than a broken page.
            let cache = if params.get("version") == Some(version()) {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            file(kind, bytes, cache)
        }
    }
}

fn file(kind: &'static str, bytes: &'static [u8], cache: &'static str) -> Response<Body> {
    let mut res = Response::new(Body::from(bytes));
    *res.status_mut() = StatusCode::OK;
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Response<Body> {
        let req = lambda_http::http::Request::builder()
            .uri(path)
            .body(Body::Empty)
            .unwrap();
        handle(&req)
    }

    #[test]
    fn index_names_every_asset_it_loads_under_the_current_hash() {
        let res = get("/console");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache");
        let Body::Binary(html) = res.body() else {
            panic!("binary body")
        };
        let html = String::from_utf8_lossy(html);
        assert!(html.contains(&format!("/console/{}/app.js", version())));
        assert!(!html.contains("<script>") && !html.contains("style="));
        let res = get(&format!("/console/{}/app.js", version()));
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        assert_eq!(res.headers()[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(get("/console/old/app.js").headers()[header::CACHE_CONTROL], "no-cache");
        assert_eq!(get(&format!("/console/{}/x.js", version())).status(), 404);
        assert_eq!(get("/console/a/b/c").status(), 404);
    }
}
