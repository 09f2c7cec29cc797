"""Logs Insights through boto3 against keel's server: argv endpoint, start, end (epoch seconds)."""
import sys
import time

import boto3
from botocore.exceptions import ClientError

endpoint, start, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
logs = boto3.client("logs", endpoint_url=endpoint)


def run(**kw):
    qid = logs.start_query(startTime=start, endTime=end, **kw)["queryId"]
    for _ in range(600):
        r = logs.get_query_results(queryId=qid)
        if r["status"] not in ("Scheduled", "Running"):
            return r
        time.sleep(0.05)
    raise SystemExit("query did not finish")


r = run(logGroupName="keel/prod", queryString="stats avg(latency) as a, pct(latency, 50) as p50 by service")
assert r["status"] == "Complete", r
rows = [{f["field"]: f["value"] for f in row} for row in r["results"]]
assert rows == [{"service": "api", "a": "22", "p50": "22"}, {"service": "db", "a": "22", "p50": "22"}], rows
assert r["statistics"]["recordsScanned"] == 200.0, r["statistics"]

r = run(logGroupNames=["keel/prod", "keel/dev"], queryString='filter user = "u2" | fields requestId | sort @timestamp asc | limit 3')
rows = r["results"]
assert len(rows) == 3 and all(any(f["field"] == "@ptr" for f in row) for row in rows), rows
ptr = [f["value"] for f in rows[0] if f["field"] == "@ptr"][0]
rec = logs.get_log_record(logRecordPointer=ptr)["logRecord"]
assert rec["user"] == "u2" and rec["@logStream"] == "alice/api/0", rec

try:
    logs.start_query(logGroupName="keel/prod", startTime=start, endTime=end, queryString="fields a |")
    raise SystemExit("malformed query accepted")
except ClientError as e:
    assert e.response["Error"]["Code"] == "MalformedQueryException", e.response
    loc = e.response["queryCompileError"]["location"]
    assert (loc["startCharOffset"], loc["endCharOffset"]) == (9, 10), loc

qid = logs.start_query(logGroupName="keel/prod", startTime=start, endTime=end, queryString="fields @message")["queryId"]
assert isinstance(logs.stop_query(queryId=qid)["success"], bool)
qs = logs.describe_queries(logGroupName="keel/prod")["queries"]
assert any(q["queryId"] == qid for q in qs), qs
print("OK")
