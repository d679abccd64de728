//! End-to-end tests live in tests/tests/e2e/: one test binary, a module per suite.

/// scripts/scale: one organization at full size, measured through the handlers.
pub mod scale;
