"""An OTLP/HTTP receiver for the tests: decodes what an agent exports with the official OTLP
protobuf definitions (`opentelemetry-proto` on PyPI) and appends it, one JSON object a line,
to a file the test reads.

Usage: otlp_receiver.py <port> <output.jsonl>

Serves POST /v1/traces and POST /v1/metrics (binary protobuf, optionally gzip) as the OTLP
specification says, and answers with the matching Export…ServiceResponse. Each line is
{"signal": "span", ...} or {"signal": "metric", ...}, with attribute values unwrapped from
AnyValue, ids as hex, and the resource's attributes beside each record; a body the
definitions cannot decode is answered 400 and recorded as {"signal": "error", ...}.
"""

import gzip
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

LOCK = threading.Lock()


def any_value(value):
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def attributes(pairs):
    return {pair.key: any_value(pair.value) for pair in pairs}


def spans(request):
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield {
                    "signal": "span",
                    "resource": resource,
                    "scope": scope_spans.scope.name,
                    "name": span.name,
                    "kind": trace_pb2.Span.SpanKind.Name(span.kind),
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex(),
                    "start_time_unix_nano": span.start_time_unix_nano,
                    "end_time_unix_nano": span.end_time_unix_nano,
                    "attributes": attributes(span.attributes),
                    "status": trace_pb2.Status.StatusCode.Name(span.status.code),
                    "events": [event.name for event in span.events],
                }


def points(metric):
    kind = metric.WhichOneof("data")
    data = getattr(metric, kind)
    for point in data.data_points:
        entry = {"attributes": attributes(point.attributes)}
        if kind in ("sum", "gauge"):
            entry["value"] = getattr(point, point.WhichOneof("value"))
        elif kind == "histogram":
            entry["count"] = point.count
            entry["sum"] = point.sum
        yield entry


def metrics(request):
    for resource_metrics in request.resource_metrics:
        resource = attributes(resource_metrics.resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                yield {
                    "signal": "metric",
                    "resource": resource,
                    "scope": scope_metrics.scope.name,
                    "name": metric.name,
                    "unit": metric.unit,
                    "type": metric.WhichOneof("data"),
                    "points": list(points(metric)),
                }


ROUTES = {
    "/v1/traces": (
        trace_service_pb2.ExportTraceServiceRequest,
        trace_service_pb2.ExportTraceServiceResponse,
        spans,
    ),
    "/v1/metrics": (
        metrics_service_pb2.ExportMetricsServiceRequest,
        metrics_service_pb2.ExportMetricsServiceResponse,
        metrics,
    ),
}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        route = ROUTES.get(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if route is None:
            self.answer(404, b"")
            return
        request_type, response_type, records = route
        try:
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            request = request_type.FromString(body)
        except (DecodeError, OSError) as err:
            record(
                {
                    "signal": "error",
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "error": str(err),
                }
            )
            self.answer(400, b"")
            return
        for entry in records(request):
            entry["content_type"] = self.headers.get("Content-Type")
            record(entry)
        self.answer(200, response_type().SerializeToString())

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        sys.stderr.write("otlp_receiver: " + (format % args) + "\n")


def record(entry):
    with LOCK, open(OUTPUT, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")


if __name__ == "__main__":
    PORT = int(sys.argv[1])
    OUTPUT = sys.argv[2]
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
