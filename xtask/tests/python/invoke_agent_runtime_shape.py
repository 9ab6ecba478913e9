"""Prints what `cargo xtask check` needs of InvokeAgentRuntime's input, from botocore's
published model of bedrock-agentcore, as the JSON committed at
xtask/src/infra/workflows/invoke_agent_runtime.json (xtask/tests/workflow_model.rs compares
them byte for byte).

Member names are given as Step Functions' AWS SDK integration spells them (PascalCase), beside
botocore's own; the integration's resource and error prefix are derived from the service id
the same way Step Functions derives them.
"""

import json
import sys

import botocore
import botocore.loaders

SERVICE = "bedrock-agentcore"
API_VERSION = "2024-02-28"
OPERATION = "InvokeAgentRuntime"
# What the check reads of a member's shape; the rest (documentation, locations) is not checked.
CONSTRAINTS = ("min", "max", "pattern")


def pascal(name):
    return name[:1].upper() + name[1:]


def main():
    model = botocore.loaders.Loader().load_service_model(
        SERVICE, "service-2", api_version=API_VERSION
    )
    meta = model["metadata"]
    shapes = model["shapes"]
    op = model["operations"][OPERATION]
    request = shapes[op["input"]["shape"]]
    required = set(request.get("required", []))
    members = {}
    for name, ref in request["members"].items():
        shape = shapes[ref["shape"]]
        member = {
            "member": name,
            "type": shape["type"],
            "required": name in required,
        }
        for key in CONSTRAINTS:
            if key in shape:
                member[key] = shape[key]
        members[pascal(name)] = member
    # Step Functions names an SDK integration by the service id, lower-cased without spaces,
    # and prefixes the service's errors with it in PascalCase without spaces.
    sfn_service = meta["serviceId"].replace(" ", "")
    out = {
        "api_version": meta["apiVersion"],
        "botocore_version": botocore.__version__,
        "error_prefix": sfn_service,
        "errors": sorted(e["shape"] for e in op.get("errors", [])),
        "members": members,
        "operation": OPERATION,
        "resource": "arn:aws:states:::aws-sdk:%s:%s"
        % (sfn_service.lower(), OPERATION[:1].lower() + OPERATION[1:]),
        "service": SERVICE,
        "service_id": meta["serviceId"],
    }
    sys.stdout.write(json.dumps(out, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
