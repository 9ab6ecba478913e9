//! The instruments: invocations of the agent, and its model calls as the GenAI semantic
//! conventions name them. Without a meter provider (no metrics endpoint) they are no-ops.

use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram};

pub(super) struct Instruments {
    invocations: Counter<u64>,
    invocation_duration: Histogram<f64>,
    pub token_usage: Histogram<u64>,
    pub operation_duration: Histogram<f64>,
}

/// Made on first use, which comes after [`super::init`] installed the meter provider.
pub(super) fn instruments() -> &'static Instruments {
    static INSTRUMENTS: OnceLock<Instruments> = OnceLock::new();
    INSTRUMENTS.get_or_init(|| {
        let meter = opentelemetry::global::meter("agentcore-runtime");
        Instruments {
            invocations: meter
                .u64_counter("agentcore.runtime.invocations")
                .with_description("Invocations answered, by protocol and status")
                .with_unit("{invocation}")
                .build(),
            invocation_duration: meter
                .f64_histogram("agentcore.runtime.invocation.duration")
                .with_description("From a request's arrival to its last byte (streams included)")
                .with_unit("s")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            // The GenAI semantic conventions' instruments and their advised buckets.
            token_usage: meter
                .u64_histogram("gen_ai.client.token.usage")
                .with_description("Number of input and output tokens used")
                .with_unit("{token}")
                .with_boundaries(TOKEN_BUCKETS.to_vec())
                .build(),
            operation_duration: meter
                .f64_histogram("gen_ai.client.operation.duration")
                .with_description("GenAI operation duration")
                .with_unit("s")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
        }
    })
}

const DURATION_BUCKETS: [f64; 14] = [
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
const TOKEN_BUCKETS: [f64; 14] = [
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];

/// One invocation answered (`protocol`: `http` or `mcp`), with the status the caller got.
pub(crate) fn record_invocation(protocol: &'static str, status: u16, took: Duration) {
    let attributes = [
        KeyValue::new("agentcore.protocol", protocol),
        KeyValue::new("http.response.status_code", i64::from(status)),
    ];
    let instruments = instruments();
    instruments.invocations.add(1, &attributes);
    instruments
        .invocation_duration
        .record(took.as_secs_f64(), &attributes);
}
