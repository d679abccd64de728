//! The `console` Lambda: the admin console's static files (console/ in the repo, compiled
//! in here), served by `roster::http::console_routes`. It reads no configuration and
//! touches no table: no `App`, only the runtime loop.

use lambda_http::{Body, Error, Request, Response, service_fn};
use roster::http::console_routes::{Asset, Site, handle};

const JS: &str = "text/javascript; charset=utf-8";

/// Every file the index may reference.
const ASSETS: &[Asset] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../console/app.css"),
    ),
    ("boot.js", JS, include_bytes!("../../../console/boot.js")),
    ("app.js", JS, include_bytes!("../../../console/app.js")),
    ("api.js", JS, include_bytes!("../../../console/api.js")),
    ("ui.js", JS, include_bytes!("../../../console/ui.js")),
    (
        "members.js",
        JS,
        include_bytes!("../../../console/members.js"),
    ),
    ("org.js", JS, include_bytes!("../../../console/org.js")),
    (
        "platform.js",
        JS,
        include_bytes!("../../../console/platform.js"),
    ),
];

#[tokio::main]
async fn main() -> Result<(), Error> {
    roster::telemetry::init();
    let site: &'static Site = Box::leak(Box::new(Site::new(
        include_str!("../../../console/index.html"),
        ASSETS,
    )));
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<Response<Body>, std::convert::Infallible>(handle(site, &req))
    }))
    .await
}
