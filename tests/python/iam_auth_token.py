"""Prints an ElastiCache IAM auth token, made the way the AWS SDK examples make it: botocore's
RequestSigner.generate_presigned_url for GET http://<cache>/?Action=connect&User=<user>,
operation `connect`, expiring in 900 seconds, with the scheme stripped.

Usage: iam_auth_token.py CACHE USER REGION ACCESS_KEY_ID SECRET [MINUTES_AGO]
MINUTES_AGO signs as if the clock were that far behind (an expired token)."""

import datetime
import sys
from unittest import mock
from urllib.parse import urlencode

import botocore.auth
import botocore.session
from botocore.model import ServiceId
from botocore.signers import RequestSigner


def token(cache, user, region, key, secret, minutes_ago=0):
    session = botocore.session.get_session()
    session.set_credentials(key, secret)
    signer = RequestSigner(
        ServiceId("elasticache"),
        region,
        "elasticache",
        "v4",
        session.get_credentials(),
        session.get_component("event_emitter"),
    )
    query = urlencode({"Action": "connect", "User": user})
    request = {
        "method": "GET",
        "url": f"http://{cache}/?{query}",
        "body": {},
        "url_path": "/",
        "query_string": "",
        "headers": {},
        "context": {},
    }
    then = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    then -= datetime.timedelta(minutes=minutes_ago)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=then):
        url = signer.generate_presigned_url(
            request, operation_name="connect", expires_in=900, region_name=region
        )
    return url.removeprefix("http://")


if __name__ == "__main__":
    args = sys.argv[1:]
    minutes = int(args[5]) if len(args) > 5 else 0
    print(token(*args[:5], minutes_ago=minutes))
