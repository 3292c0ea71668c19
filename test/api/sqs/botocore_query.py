"""Test helper: botocore (Debian's, the aws CLI's) as the query protocol client.

Reads one JSON document on stdin:
  {"model": path or null (botocore's own sqs model), "serialize": [{"op": name, "params": {...}}],
   "parse": [{"op": name, "status": int, "headers": {...}, "body": str}]}
and prints {"serialized": [form body str], "parsed": [dict]}. Byte values are
written as {"$bytes": base64} in params and come back as base64 strings.
"""
import base64
import json
import sys

from botocore.awsrequest import AWSRequest
from botocore.loaders import create_loader
from botocore.model import ServiceModel
from botocore.parsers import QueryParser
from botocore.serialize import QuerySerializer


def decode(value):
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return base64.b64decode(value["$bytes"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def encode(value):
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [encode(v) for v in value]
    return value


def main():
    job = json.load(sys.stdin)
    if job.get("model"):
        with open(job["model"]) as f:
            model = ServiceModel(json.load(f), "sqs")
    else:
        model = ServiceModel(create_loader().load_service_model("sqs", "service-2"), "sqs")
    serializer = QuerySerializer()
    serialized = []
    for item in job.get("serialize", []):
        op = model.operation_model(item["op"])
        req = serializer.serialize_to_request(decode(item["params"]), op)
        prepared = AWSRequest(method=req["method"], url="http://localhost:9324/", data=req["body"], headers=req["headers"]).prepare()
        body = prepared.body
        serialized.append(body.decode("utf-8") if isinstance(body, bytes) else body)
    parser = QueryParser()
    parsed = []
    for item in job.get("parse", []):
        op = model.operation_model(item["op"])
        response = {"status_code": item["status"], "headers": item["headers"], "body": item["body"].encode("utf-8")}
        parsed.append(encode(parser.parse(response, op.output_shape)))
    json.dump({"serialized": serialized, "parsed": parsed}, sys.stdout)


main()
