//! Roster's end-to-end tests: one test binary (each binary links the whole AWS SDK again),
//! one module per suite, so a test is named by its suite: `cargo test -p roster-tests --test
//! e2e hostile::` runs one suite, `... -- --list` names them all.
//!
//! The tests of every suite share this process (see `common` for the one suite that runs
//! alone, and for the SDK's process-wide retry quotas).

mod common;

mod accept;
mod auth;
mod browser;
mod budgets;
mod console;
mod edge;
mod events;
mod faults;
mod guards;
mod hostile;
mod invitations;
mod keys;
mod limits;
mod load;
mod local_api;
mod matrix;
mod members;
mod orgs;
mod page;
mod proxy;
mod quotas;
mod routes;
mod scale;
mod shards;
mod table;
mod transactions;
