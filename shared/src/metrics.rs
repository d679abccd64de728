//! Counts the AWS requests an invocation makes, per service and operation, with an SDK
//! interceptor on each client. The runtime logs the counts in each invocation's summary
//! line; tests read them to hold every operation to its request budget.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// What an invocation asked of AWS so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calls {
    /// Requests sent (attempts, so retries count), keyed by "service.operation"
    /// (e.g. "dynamodb.TransactWriteItems").
    pub requests: BTreeMap<String, u64>,
    /// Sequential round trips per service: operations that overlap in time (run
    /// concurrently) share one; an operation started while none was in flight begins a new one.
    pub round_trips: BTreeMap<String, u64>,
}

impl Calls {
    /// Requests to one service (the prefix before the dot).
    pub fn total(&self, service: &str) -> u64 {
        self.requests
            .iter()
            .filter(|(k, _)| k.split('.').next() == Some(service))
            .map(|(_, v)| v)
            .sum()
    }

    /// Requests of one "service.operation".
    pub fn get(&self, key: &str) -> u64 {
        self.requests.get(key).copied().unwrap_or(0)
    }

    pub fn round_trips(&self, service: &str) -> u64 {
        self.round_trips.get(service).copied().unwrap_or(0)
    }
}

#[derive(Debug, Default)]
struct State {
    calls: Calls,
    in_flight: BTreeMap<&'static str, u64>,
}

/// Counts requests and round trips; one per App, shared by its SDK clients.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Mutex<State>>);

impl CallCounter {
    /// The counts so far, and a fresh start.
    pub fn take(&self) -> Calls {
        self.0
            .lock()
            .map(|mut s| std::mem::take(&mut s.calls))
            .unwrap_or_default()
    }

    pub fn snapshot(&self) -> Calls {
        self.0.lock().map(|s| s.calls.clone()).unwrap_or_default()
    }

    /// The interceptor for one service's client ("dynamodb", "sesv2").
    pub fn interceptor(&self, service: &'static str) -> ServiceCounter {
        ServiceCounter {
            service,
            counter: self.clone(),
        }
    }

    fn with(&self, f: impl FnOnce(&mut State)) {
        if let Ok(mut state) = self.0.lock() {
            f(&mut state);
        }
    }
}

/// A `CallCounter` as one client's interceptor.
#[derive(Debug, Clone)]
pub struct ServiceCounter {
    service: &'static str,
    counter: CallCounter,
}

impl Intercept for ServiceCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let service = self.service;
        self.counter.with(|s| {
            let in_flight = s.in_flight.entry(service).or_default();
            if *in_flight == 0 {
                *s.calls.round_trips.entry(service.into()).or_default() += 1;
            }
            *in_flight += 1;
        });
        Ok(())
    }

    /// Runs for every execution, failed ones included, so in-flight counts stay balanced.
    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.counter.with(|s| {
            if let Some(n) = s.in_flight.get_mut(self.service) {
                *n = n.saturating_sub(1);
            }
        });
        Ok(())
    }

    /// Once per attempt, so retries count as the requests they are.
    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map(|m| m.name())
            .unwrap_or("unknown");
        let key = format!("{}.{operation}", self.service);
        self.counter
            .with(|s| *s.calls.requests.entry(key).or_default() += 1);
        Ok(())
    }
}
