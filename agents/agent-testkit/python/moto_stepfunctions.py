"""moto's server with its Step Functions interpreter executing state machines, and its
`aws-sdk:bedrockagentcore:*` tasks sent where real Step Functions sends them: to the
AgentCore data plane (here, the local one at 127.0.0.1:$MOTO_PORT, which moto's interpreter
uses as the endpoint of every AWS SDK task).

moto's interpreter (a port of LocalStack's) leaves four gaps for this integration, filled
here and nowhere in the product:
- the service is `bedrockagentcore` in the state's Resource but `bedrock-agentcore` in
  botocore;
- a task's parameters are passed to botocore as written, where Step Functions takes the
  PascalCase names of the API (`AgentRuntimeArn`) and a string for a blob, sent as it is (the
  interpreter would encode a string as JSON once more); and its output keeps botocore's
  member names and an unread stream, where Step Functions gives the PascalCase names of the
  API (`Response`, `StatusCode`) and the blob as a string: the upstream interpreter's own
  conversions (`_to_boto_request`, `_from_boto_response`, present in moto but not called for
  AWS SDK tasks) are called;
- an execution starts from a deep copy of its state machine, which reaches the whole backend
  and, once any execution ran, its thread locks: every later StartExecution fails. The copy
  here shares the backend and leaves the executions out;
- errors are named `BedrockAgentCore.<Error>`, as Step Functions names an SDK service's errors.

Usage: python moto_stepfunctions.py -H 127.0.0.1 -p PORT   (MOTO_PORT: the data plane's port)
"""

import copy
import sys

import botocore.session

from moto.moto_api import _internal as moto_api
from moto.server import main
from moto.stepfunctions.models import StateMachine
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service,
    state_task_service_aws_sdk as aws_sdk,
)

SFN_NAME = "bedrockagentcore"
BOTO_NAME = "bedrock-agentcore"

state_task_service.StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES[SFN_NAME] = BOTO_NAME
aws_sdk._SERVICE_ERROR_NAMES[SFN_NAME] = "BedrockAgentCore"


def _operation(task):
    model = botocore.session.get_session().get_service_model(task._get_boto_service_name())
    action = task.resource.api_action
    return model.operation_model(action[0].upper() + action[1:])


def _to_boto_request_value(self, value, shape):
    if shape.type_name == "blob" and isinstance(value, str):
        return value.encode()
    return _to_boto_request_value_upstream(self, value, shape)


def _normalise_parameters(self, parameters, boto_service_name=None, service_action_name=None):
    self._to_boto_request(parameters, _operation(self).input_shape)


def _normalise_response(self, response, boto_service_name=None, service_action_name=None):
    self._from_boto_response(response, _operation(self).output_shape)


def _clone_state_machine(self, memo):
    clone = copy.copy(self)
    for key, value in vars(self).items():
        if key == "backend":
            continue
        setattr(clone, key, [] if key == "executions" else copy.deepcopy(value, memo))
    return clone


StateMachine.__deepcopy__ = _clone_state_machine

_to_boto_request_value_upstream = state_task_service.StateTaskService._to_boto_request_value
aws_sdk.StateTaskServiceAwsSdk._to_boto_request_value = _to_boto_request_value
aws_sdk.StateTaskServiceAwsSdk._normalise_parameters = _normalise_parameters
aws_sdk.StateTaskServiceAwsSdk._normalise_response = _normalise_response

moto_api.moto_api_backend.set_config({"stepfunctions": {"execute_state_machine": True}})

if __name__ == "__main__":
    sys.exit(main())
