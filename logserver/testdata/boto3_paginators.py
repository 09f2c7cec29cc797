"""boto3 against keel's log server: every paginator the service defines for
the operations the server supports walks all pages, and errors parse as
botocore ClientErrors with AWS's codes. Prints OK on success."""
import sys
import time

import boto3
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
logs = boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1")

now = int(time.time() * 1000)
for i in range(7):
    logs.create_log_group(logGroupName=f"py/g{i}")
for i in range(9):
    logs.create_log_stream(logGroupName="py/g0", logStreamName=f"s{i}")
    logs.put_log_events(
        logGroupName="py/g0", logStreamName=f"s{i}",
        logEvents=[{"timestamp": now + j, "message": f"s{i} event {j}"} for j in range(25)],
    )

groups = [g["logGroupName"]
          for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix="py/", PaginationConfig={"PageSize": 2})
          for g in page["logGroups"]]
assert groups == [f"py/g{i}" for i in range(7)], groups

streams = [s["logStreamName"]
           for page in logs.get_paginator("describe_log_streams").paginate(logGroupName="py/g0", PaginationConfig={"PageSize": 4})
           for s in page["logStreams"]]
assert streams == [f"s{i}" for i in range(9)], streams

events = [e for page in logs.get_paginator("filter_log_events").paginate(logGroupName="py/g0", PaginationConfig={"PageSize": 10})
          for e in page["events"]]
assert len(events) == 225, len(events)
assert len({e["eventId"] for e in events}) == 225
assert all(events[i]["timestamp"] <= events[i + 1]["timestamp"] for i in range(len(events) - 1))

# GetLogEvents by hand, the way boto3 users do: stop when the token repeats.
got, token = [], None
while True:
    kw = {"logGroupName": "py/g0", "logStreamName": "s3", "startFromHead": True, "limit": 7}
    if token:
        kw["nextToken"] = token
    r = logs.get_log_events(**kw)
    got += r["events"]
    if r["nextForwardToken"] == token:
        break
    token = r["nextForwardToken"]
assert [e["message"] for e in got] == [f"s3 event {j}" for j in range(25)], got

try:
    logs.create_log_group(logGroupName="py/g0")
    raise SystemExit("duplicate group accepted")
except ClientError as e:
    assert e.response["Error"]["Code"] == "ResourceAlreadyExistsException", e.response
try:
    logs.get_log_events(logGroupName="py/g0", logStreamName="s0", nextToken="f/forged")
    raise SystemExit("forged token accepted")
except ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidParameterException", e.response
print("OK")
