"""boto3's bedrock-agentcore client (the official Python SDK, pinned with the test tools)
against the Memory stand-in: events written, listed back page by page with botocore's own
paginator, records retrieved, and a request the service refuses. Prints one JSON report.

Usage: memory_client.py <endpoint> <memory id> < {"namespace": ...}
"""

import datetime
import json
import sys

import boto3
import botocore.exceptions

ACTOR = "ada"
SESSION = "session-boto3-0123456789"


def main():
    endpoint, memory_id = sys.argv[1], sys.argv[2]
    steps = json.load(sys.stdin)
    client = boto3.client(
        "bedrock-agentcore",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    report = {"created": [], "listed": [], "pages": 0}
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    for n in range(3):
        event = client.create_event(
            memoryId=memory_id,
            actorId=ACTOR,
            sessionId=SESSION,
            eventTimestamp=start + datetime.timedelta(seconds=n),
            payload=[
                {"conversational": {"role": "USER", "content": {"text": f"question {n}"}}},
                {"conversational": {"role": "ASSISTANT", "content": {"text": f"answer {n}"}}},
            ],
        )["event"]
        report["created"].append(event["eventId"])
    paginator = client.get_paginator("list_events")
    for page in paginator.paginate(
        memoryId=memory_id,
        actorId=ACTOR,
        sessionId=SESSION,
        includePayloads=True,
        PaginationConfig={"PageSize": 2},
    ):
        report["pages"] += 1
        for event in page["events"]:
            report["listed"].append(
                {
                    "eventId": event["eventId"],
                    "timestamp": event["eventTimestamp"].isoformat(),
                    "texts": [p["conversational"]["content"]["text"] for p in event["payload"]],
                }
            )
    records = client.retrieve_memory_records(
        memoryId=memory_id,
        namespace=steps["namespace"],
        searchCriteria={"searchQuery": "tea", "topK": 5},
    )["memoryRecordSummaries"]
    report["records"] = [
        {"text": r["content"]["text"], "namespaces": r["namespaces"]} for r in records
    ]
    try:
        client.list_events(memoryId=memory_id, actorId=ACTOR, sessionId="not a session id")
        report["refused"] = None
    except botocore.exceptions.ClientError as err:
        report["refused"] = {
            "code": err.response["Error"]["Code"],
            "status": err.response["ResponseMetadata"]["HTTPStatusCode"],
        }
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
