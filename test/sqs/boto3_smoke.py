"""boto3 (Debian's python3-boto3, the SQS query protocol) against a raftq node, unchanged:
create, send, receive, delete, attributes, batches and a FIFO queue. Usage:
/usr/bin/python3 boto3_smoke.py http://127.0.0.1:8001 suffix. Exits non-zero on any mismatch."""
import json
import sys

import boto3
import botocore

endpoint, suffix = sys.argv[1], sys.argv[2]
sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="local", aws_secret_access_key="local")
out = {"boto3": boto3.__version__, "botocore": botocore.__version__}


def check(cond, what):
    if not cond:
        raise AssertionError(what)


url = sqs.create_queue(QueueName="py-" + suffix, Attributes={"VisibilityTimeout": "40"}, tags={"lang": "python"})["QueueUrl"]
check(url.endswith("/000000000000/py-" + suffix), "queue url " + url)
check(sqs.get_queue_url(QueueName="py-" + suffix)["QueueUrl"] == url, "get_queue_url")
sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "0", "MessageRetentionPeriod": "7200"})
attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
check(attrs["VisibilityTimeout"] == "40" and attrs["MessageRetentionPeriod"] == "7200", "attributes " + json.dumps(attrs))
check(sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"lang": "python"}, "tags")

sent = sqs.send_message(QueueUrl=url, MessageBody="ünïcode <xml> & body\n",
                        MessageAttributes={"kind": {"DataType": "String", "StringValue": "order"},
                                           "n": {"DataType": "Number", "StringValue": "7"},
                                           "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"}})
got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=5,
                          AttributeNames=["All"], MessageAttributeNames=["All"])["Messages"]
check(len(got) == 1, "one message")
m = got[0]
check(m["Body"] == "ünïcode <xml> & body\n", "body " + repr(m["Body"]))
check(m["MessageId"] == sent["MessageId"], "message id")
check(m["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"], "attribute md5")
check(m["MessageAttributes"]["raw"]["BinaryValue"] == b"\x00\x01\xff", "binary attribute")
check(m["MessageAttributes"]["n"] == {"DataType": "Number", "StringValue": "7"}, "number attribute")
check(m["Attributes"]["ApproximateReceiveCount"] == "1", "receive count")
sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

batch = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "one"},
                                                      {"Id": "b", "MessageBody": "two"}])
check(sorted(e["Id"] for e in batch["Successful"]) == ["a", "b"], "batch send")
msgs = []
for _ in range(10):
    msgs += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
    if len(msgs) >= 2:
        break
check(sorted(x["Body"] for x in msgs) == ["one", "two"], "batch receive")
deleted = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": x["ReceiptHandle"]} for i, x in enumerate(msgs)])
check(len(deleted["Successful"]) == 2 and not deleted.get("Failed"), "batch delete")

try:
    sqs.get_queue_url(QueueName="absent-" + suffix)
    check(False, "missing queue must fail")
except sqs.exceptions.QueueDoesNotExist:
    out["missingQueue"] = "QueueDoesNotExist"

fifo = sqs.create_queue(QueueName="pyfifo-" + suffix + ".fifo",
                        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
first = sqs.send_message(QueueUrl=fifo, MessageBody="f1", MessageGroupId="g")
again = sqs.send_message(QueueUrl=fifo, MessageBody="f1", MessageGroupId="g")
check(first["MessageId"] == again["MessageId"], "content-based dedup")
sqs.send_message(QueueUrl=fifo, MessageBody="f2", MessageGroupId="g")
fm = []
for _ in range(10):
    batch = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
    for x in batch:
        sqs.delete_message(QueueUrl=fifo, ReceiptHandle=x["ReceiptHandle"])
    fm += batch
    if len(fm) >= 2:
        break
check([x["Body"] for x in fm] == ["f1", "f2"], "fifo order " + repr([x["Body"] for x in fm]))
check(fm[0]["Attributes"]["MessageGroupId"] == "g", "group id")
sqs.delete_queue(QueueUrl=fifo)
sqs.delete_queue(QueueUrl=url)
out["ok"] = True
print(json.dumps(out))
