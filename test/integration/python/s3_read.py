"""Reads a Sherd dataset through the gateway's S3 facade with boto3, as a data-lake tool would.

Usage: s3_read.py SPEC.json, where SPEC holds the endpoint, the dataset id, a large key, an
output path and the SHA-256 of every key. Prints a JSON report; exits non-zero on a mismatch.
"""
import hashlib
import json
import sys

import boto3
from boto3.s3.transfer import TransferConfig
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError


def main() -> None:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    # Unsigned, as for any public bucket; path-style, as for any endpoint that is not AWS.
    client = boto3.client(
        "s3",
        endpoint_url=spec["endpoint"],
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    expected = spec["expected"]

    listed, pages = [], 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket="datasets", Prefix=spec["dataset"] + "/"):
        pages += 1
        listed += [(o["Key"], o["Size"]) for o in page.get("Contents", [])]
    if [key for key, _ in listed] != sorted(expected, key=lambda k: k.encode()):
        raise SystemExit(f"listing differs: {len(listed)} keys listed, {len(expected)} expected")

    head = client.head_object(Bucket="datasets", Key=spec["big"])
    body = client.get_object(Bucket="datasets", Key=spec["big"], Range="bytes=1000-1999")["Body"].read()

    # A multi-part download: ranged GETs in parallel threads, as s3transfer does for large objects.
    config = TransferConfig(multipart_threshold=512 * 1024, multipart_chunksize=512 * 1024, max_concurrency=4)
    client.download_file("datasets", spec["big"], spec["out"], Config=config)
    with open(spec["out"], "rb") as f:
        downloaded = hashlib.sha256(f.read()).hexdigest()

    # Whole gets of a sample of keys, each compared with its source.
    whole = 0
    for key, _ in listed[:: max(1, len(listed) // 20)][:20]:
        data = client.get_object(Bucket="datasets", Key=key)["Body"].read()
        if hashlib.sha256(data).hexdigest() != expected[key]:
            raise SystemExit(f"{key} differs from its source")
        whole += 1

    try:
        client.get_object(Bucket="datasets", Key=spec["dataset"] + "/missing.bin")
        missing = "no error"
    except ClientError as error:
        missing = error.response["Error"]["Code"]

    with open(spec["out"], "rb") as f:
        f.seek(1000)
        big = f.read(1000)
    print(json.dumps({
        "listed": len(listed),
        "pages": pages,
        "headLength": head["ContentLength"],
        "rangeMatches": body == big and downloaded == expected[spec["big"]],
        "downloadMatches": downloaded == expected[spec["big"]],
        "wholeGetsMatch": whole,
        "noSuchKey": missing,
    }))


if __name__ == "__main__":
    main()
