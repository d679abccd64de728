//! A function's route table and its matcher. Each function dispatches on method + raw path
//! itself, so it behaves the same under API Gateway, `cargo lambda watch` and a direct invoke.

use crate::error::ServiceError;

pub struct Route<Op: Copy> {
    pub method: &'static str,
    /// Segments in braces (`/orgs/{org_id}`) are path parameters.
    pub path: &'static str,
    pub op: Op,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct PathParams(Vec<(&'static str, String)>);

impl PathParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn match_path(pattern: &'static str, path: &str) -> Option<PathParams> {
    let mut params = Vec::new();
    let mut want = pattern.trim_matches('/').split('/');
    let mut got = path
        .trim_end_matches('/')
        .trim_start_matches('/')
        .split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return Some(PathParams(params)),
            (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') && !g.is_empty() => {
                params.push((&w[1..w.len() - 1], g.to_string()));
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

/// The route for `method` and `path`: 404 if no pattern matches the path, 405 (with the
/// allowed methods) if one does under another method.
pub fn resolve<Op: Copy>(
    routes: &[Route<Op>],
    method: &str,
    path: &str,
) -> Result<(Op, PathParams), ServiceError> {
    let mut allow = Vec::new();
    for route in routes {
        if let Some(params) = match_path(route.path, path) {
            if route.method.eq_ignore_ascii_case(method) {
                return Ok((route.op, params));
            }
            allow.push(route.method);
        }
    }
    if allow.is_empty() {
        Err(ServiceError::RouteNotFound)
    } else {
        Err(ServiceError::MethodNotAllowed { allow })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTES: &[Route<u8>] = &[
        Route {
            method: "GET",
            path: "/orgs",
            op: 1,
        },
        Route {
            method: "GET",
            path: "/orgs/{org_id}",
            op: 2,
        },
        Route {
            method: "DELETE",
            path: "/orgs/{org_id}",
            op: 3,
        },
    ];

    #[test]
    fn matches_methods_paths_and_params() {
        let (op, params) = resolve(ROUTES, "GET", "/orgs/abc").unwrap();
        assert_eq!((op, params.get("org_id")), (2, Some("abc")));
        assert_eq!(resolve(ROUTES, "DELETE", "/orgs/abc/").unwrap().0, 3);
        assert_eq!(resolve(ROUTES, "GET", "/orgs").unwrap().0, 1);
        assert!(matches!(
            resolve(ROUTES, "GET", "/orgs/a/b"),
            Err(ServiceError::RouteNotFound)
        ));
        assert!(matches!(
            resolve(ROUTES, "GET", "/nope"),
            Err(ServiceError::RouteNotFound)
        ));
        match resolve(ROUTES, "PUT", "/orgs/abc") {
            Err(ServiceError::MethodNotAllowed { allow }) => {
                assert_eq!(allow, vec!["GET", "DELETE"])
            }
            other => panic!("{other:?}"),
        }
    }
}
