//! The Memory stand-in against a client nobody here wrote: boto3's `bedrock-agentcore`
//! (`python/memory_client.py`), which builds its requests and parses the answers from
//! botocore's published model of the service.

use std::io::Write;
use std::process::{Command, Stdio};

use agent_testkit::memory::{MEMORY_ID, StandIn};
use agent_testkit::{tool, workspace_root};
use serde_json::{Value, json};

fn boto3(standin: &StandIn, input: &Value) -> Value {
    let mut child = Command::new(tool("python3-pinned"))
        .arg(workspace_root().join("agents/agent-testkit/python/memory_client.py"))
        .args([standin.url(), MEMORY_ID])
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the boto3 client");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("send the input");
    let out = child.wait_with_output().expect("wait for the boto3 client");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the boto3 client failed:\n{stderr}");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("the boto3 client printed no report ({e}):\n{stderr}"))
}

#[test]
fn boto3_writes_lists_page_by_page_and_retrieves_on_the_stand_in() {
    let standin = StandIn::start();
    standin.add_record("/facts/ada", "Ada likes tea.");
    standin.add_record("/facts/bob", "Bob likes coffee.");
    let report = boto3(&standin, &json!({ "namespace": "/facts/ada" }));

    assert_eq!(report["created"].as_array().map(Vec::len), Some(3));
    // Newest first, over pages of two that botocore's paginator followed.
    assert_eq!(report["pages"], 2, "{report}");
    let texts: Vec<&Value> = report["listed"]
        .as_array()
        .expect("listed")
        .iter()
        .map(|e| &e["texts"])
        .collect();
    assert_eq!(
        texts,
        [
            &json!(["question 2", "answer 2"]),
            &json!(["question 1", "answer 1"]),
            &json!(["question 0", "answer 0"]),
        ]
    );
    assert_eq!(
        report["listed"][2]["timestamp"],
        "2026-01-01T00:00:00+00:00"
    );
    assert_eq!(
        report["records"],
        json!([{ "text": "Ada likes tea.", "namespaces": ["/facts/ada"] }])
    );
    assert_eq!(
        report["refused"],
        json!({ "code": "ValidationException", "status": 400 })
    );

    let requests = standin.requests();
    let created: Vec<_> = requests
        .iter()
        .filter(|r| r.operation == "CreateEvent")
        .collect();
    assert_eq!(created.len(), 3);
    assert_eq!(
        (created[0].actor_id.as_str(), created[0].session_id.as_str()),
        ("ada", "session-boto3-0123456789")
    );
    assert!(
        created[0]
            .authorization
            .contains("/us-east-1/bedrock-agentcore/aws4_request"),
        "{}",
        created[0].authorization
    );
    assert_eq!(
        standin
            .events(MEMORY_ID, "ada", "session-boto3-0123456789")
            .len(),
        3
    );
}
