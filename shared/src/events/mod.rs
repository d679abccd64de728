//! Events: every audit entry published on Amazon EventBridge (DESIGN.md section 12).
//!
//! The table's stream, filtered by the event source mapping to new audit items
//! (`stream::FILTER_PATTERN`), reaches the `events` function; `detail` turns each audit
//! item into the published, versioned schema (docs/events.md) and `publish` sends them with
//! PutEvents, at most ten per call, reporting every record it could not publish as a batch
//! item failure so that Lambda retries it (and, after the retries, sends it to the
//! dead-letter queue): nothing is acknowledged unpublished.

pub mod detail;
pub mod publish;
pub mod stream;

pub use detail::{DETAIL_TYPES, Detail, SOURCE};
pub use publish::Publisher;
pub use stream::{BatchResponse, StreamEvent};
