"""Creates the AWS estate the `sovscan aws` tests read from a local moto server.

One bucket in us-east-1 (outside the EU: RES-001), one in eu-central-1, and 120 more in
eu-central-1 so that listing them takes more than one page of 100.
Usage: moto_seed.py ENDPOINT_URL
"""

import sys

import boto3

endpoint = sys.argv[1]


def s3(region):
    return boto3.client(
        "s3",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


s3("us-east-1").create_bucket(Bucket="sovscan-us-data")
eu = s3("eu-central-1")
location = {"LocationConstraint": "eu-central-1"}
eu.create_bucket(Bucket="sovscan-eu-data", CreateBucketConfiguration=location)
for i in range(120):
    eu.create_bucket(Bucket=f"sovscan-page-{i:03d}", CreateBucketConfiguration=location)
print("seeded 122 buckets")
