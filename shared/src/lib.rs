//! Roster's shared library: domain types and rules, the single-table storage, one service
//! per operation, and the HTTP edge every function uses.

pub mod app;
pub mod auth;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod runtime;
pub mod services;
pub mod storage;
pub mod telemetry;
pub mod templates;
pub mod tls;

pub use app::App;
pub use error::{ServiceError, ServiceResult};
