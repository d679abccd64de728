//! The `console` function: the admin console's static files (console/ in the repo, compiled
//! in), served under /console on the API's origin. The index names its assets under a
//! content hash (`/console/<hash>/app.js`), so assets are cached for a year and a deploy is
//! seen at the next load of the index, which is never cached. Relative imports between the
//! modules resolve under the same hash.

use super::router::{Route, resolve};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use sha2::{Digest, Sha256};

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

/// (name, content type, bytes) of a static file.
pub type Asset = (&'static str, &'static str, &'static [u8]);

/// The console's files (compiled into the `console` function, functions/console) with the
/// index pointing at their current hash.
pub struct Site {
    index: String,
    version: String,
    assets: &'static [Asset],
}

impl Site {
    /// `index` names each asset as `/console/{{VERSION}}/<name>`.
    pub fn new(index: &str, assets: &'static [Asset]) -> Site {
        let mut h = Sha256::new();
        for (name, _, bytes) in assets {
            h.update(name.as_bytes());
            h.update(bytes);
        }
        let version: String = h.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Site {
            index: index.replace("{{VERSION}}", &version),
            version,
            assets,
        }
    }

    /// The assets' content hash: it changes whenever any asset does.
    pub fn version(&self) -> &str {
        &self.version
    }
}

pub fn handle(site: &Site, req: &Request) -> Response<Body> {
    let (op, params) = match resolve(ROUTES, req.method().as_str(), req.uri().path()) {
        Ok(found) => found,
        Err(e) => return super::problem::problem_response(&e),
    };
    match op {
        Op::Index => file(
            "text/html; charset=utf-8",
            site.index.clone().into_bytes(),
            "no-cache",
        ),
        Op::Asset => {
            let name = params.get("asset").unwrap_or_default();
            let Some((_, kind, bytes)) = site.assets.iter().find(|(n, _, _)| *n == name) else {
                return super::problem::problem_response(
                    &crate::error::ServiceError::RouteNotFound,
                );
            };
            // An index from before a deploy asks for its old hash: it gets today's file,
            // not cached, rather than a broken page.
            let cache = if params.get("version") == Some(site.version()) {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            file(kind, bytes.to_vec(), cache)
        }
    }
}

fn file(kind: &'static str, bytes: Vec<u8>, cache: &'static str) -> Response<Body> {
    super::for_browser(StatusCode::OK, Body::from(bytes), kind, cache, CSP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::header;

    const ASSETS: &[Asset] = &[("app.js", "text/javascript", b"export {};")];

    fn get(site: &Site, path: &str) -> Response<Body> {
        let req = lambda_http::http::Request::builder()
            .uri(path)
            .body(Body::Empty)
            .unwrap();
        handle(site, &req)
    }

    #[test]
    fn index_names_its_assets_under_the_current_hash() {
        let site = Site::new(
            "<script type=module src=/console/{{VERSION}}/app.js></script>",
            ASSETS,
        );
        let res = get(&site, "/console");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache");
        let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe"));
        let Body::Binary(html) = res.body() else {
            panic!("binary body")
        };
        let html = String::from_utf8_lossy(html);
        assert!(html.contains(&format!("/console/{}/app.js", site.version())));
        let res = get(&site, &format!("/console/{}/app.js", site.version()));
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        assert_eq!(res.headers()[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(res.headers()[header::REFERRER_POLICY], "no-referrer");
        // An old index's hash: today's file, not cached.
        assert_eq!(
            get(&site, "/console/old/app.js").headers()[header::CACHE_CONTROL],
            "no-cache"
        );
        assert_eq!(
            get(&site, &format!("/console/{}/x.js", site.version())).status(),
            404
        );
        assert_eq!(get(&site, "/console/a/b/c").status(), 404);
        // Any change to an asset is a new hash.
        const OTHER: &[Asset] = &[("app.js", "text/javascript", b"export {} ;")];
        assert_ne!(Site::new("", OTHER).version(), site.version());
    }
}
