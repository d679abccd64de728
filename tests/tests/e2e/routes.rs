//! One list of routes: template.yaml's HttpApi events, the local router in Cargo.toml, each
//! function's own route table and openapi.yaml must be the same set of (method, path), and
//! the first three must also agree on which function serves each.

use std::collections::BTreeSet;

type Routes = BTreeSet<(String, String, String)>;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// (binary, method, path) of every HttpApi event, per top-level resource of template.yaml.
fn template_routes() -> Routes {
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    let mut routes = Routes::new();
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    for line in text.lines() {
        let top_level_resource =
            line.starts_with("  ") && !line.starts_with("   ") && line.trim_end().ends_with(':');
        if top_level_resource || blocks.is_empty() {
            blocks.push(Vec::new());
        }
        if let Some(b) = blocks.last_mut() {
            b.push(line.trim());
        }
    }
    for block in blocks {
        let Some(binary) = block.iter().find_map(|l| l.strip_prefix("Binary: ")) else {
            continue;
        };
        let mut method = None;
        for line in &block {
            if let Some(m) = line.strip_prefix("Method: ") {
                method = Some(m.trim_matches('"').to_uppercase());
            } else if let Some(p) = line.strip_prefix("Path: ") {
                let m = method.take().expect("Method before Path in each event");
                routes.insert((binary.to_string(), m, p.trim_matches('"').to_string()));
            }
        }
    }
    routes
}

fn local_router_routes() -> Routes {
    let text = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    let doc: toml::Value = toml::from_str(&text).expect("Cargo.toml parses");
    let router = doc["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_array()
        .expect("router");
    let mut routes = Routes::new();
    for r in router {
        let function = r["function"].as_str().unwrap();
        for m in r["methods"].as_array().expect("methods listed") {
            routes.insert((
                function.to_string(),
                m.as_str().unwrap().to_string(),
                r["path"].as_str().unwrap().to_string(),
            ));
        }
    }
    routes
}

fn function_routes() -> Routes {
    let mut routes = Routes::new();
    for r in roster::http::auth_routes::ROUTES {
        routes.insert(("auth".into(), r.method.into(), r.path.into()));
    }
    for r in roster::http::orgs_routes::ROUTES {
        routes.insert(("orgs".into(), r.method.into(), r.path.into()));
    }
    for r in roster::http::invite_routes::ROUTES {
        routes.insert(("invite".into(), r.method.into(), r.path.into()));
    }
    for r in roster::http::accept_routes::ROUTES {
        routes.insert(("accept".into(), r.method.into(), r.path.into()));
    }
    for r in roster::http::members_routes::ROUTES {
        routes.insert(("members".into(), r.method.into(), r.path.into()));
    }
    for r in roster::http::change_role_routes::ROUTES {
        routes.insert(("change-role".into(), r.method.into(), r.path.into()));
    }
    for r in roster::http::remove_routes::ROUTES {
        routes.insert(("remove".into(), r.method.into(), r.path.into()));
    }
    for r in roster::http::users_routes::ROUTES {
        routes.insert(("users".into(), r.method.into(), r.path.into()));
    }
    for r in roster::http::audit_routes::ROUTES {
        routes.insert(("audit".into(), r.method.into(), r.path.into()));
    }
    routes
}

/// The console's static files: served and routed like the API, but not API operations, so
/// not in openapi.yaml.
fn console_routes() -> Routes {
    roster::http::console_routes::ROUTES
        .iter()
        .map(|r| ("console".into(), r.method.into(), r.path.into()))
        .collect()
}

/// (method, path) of every operation under `paths:` in openapi.yaml.
fn openapi_routes() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(root().join("openapi.yaml")).expect("openapi.yaml");
    let mut routes = BTreeSet::new();
    let mut in_paths = false;
    let mut path = None;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_paths = line.trim_end() == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(p) = line.strip_prefix("  /") {
            path = Some(format!(
                "/{}",
                p.trim_end()
                    .trim_end_matches(':')
                    .trim_matches('"')
                    .trim_matches('\'')
            ));
        } else if let Some(m) = line
            .strip_prefix("    ")
            .and_then(|l| l.strip_suffix(':'))
            .filter(|m| ["get", "post", "put", "patch", "delete"].contains(m))
        {
            routes.insert((
                m.to_uppercase(),
                path.clone().expect("a path before its methods"),
            ));
        }
    }
    routes
}

fn differences(a: &Routes, a_name: &str, b: &Routes, b_name: &str) -> Vec<String> {
    let mut out: Vec<String> = a
        .difference(b)
        .map(|r| format!("{r:?} in {a_name} but not in {b_name}"))
        .collect();
    out.extend(
        b.difference(a)
            .map(|r| format!("{r:?} in {b_name} but not in {a_name}")),
    );
    out
}

#[test]
fn template_local_router_and_functions_agree() {
    let template = template_routes();
    let local = local_router_routes();
    let functions = function_routes();
    assert!(functions.len() >= 10, "{functions:?}");
    let served: Routes = functions.union(&console_routes()).cloned().collect();
    let mut diffs = differences(
        &template,
        "template.yaml",
        &served,
        "the functions' route tables",
    );
    diffs.extend(differences(
        &local,
        "the local router (Cargo.toml)",
        &served,
        "the functions' route tables",
    ));
    let unassigned = |r: &Routes| -> Routes {
        r.iter()
            .map(|(_, m, p)| (String::new(), m.clone(), p.clone()))
            .collect()
    };
    let openapi: Routes = openapi_routes()
        .into_iter()
        .map(|(m, p)| (String::new(), m, p))
        .collect();
    assert!(openapi.len() >= 33, "{openapi:?}");
    diffs.extend(differences(
        &openapi,
        "openapi.yaml",
        &unassigned(&functions),
        "the functions' route tables",
    ));
    assert!(
        diffs.is_empty(),
        "route lists disagree:\n{}",
        diffs.join("\n")
    );
}
