#!/usr/bin/env python3
"""Parse an STS GetCallerIdentity answer with botocore's real parser and STS model.
Reads {"protocol": "query"|"json", "status": 200, "body": "..."} on stdin, prints the parsed
output (without HTTP headers) as JSON. Used by tests/sts_botocore.rs."""
import json, sys
import botocore.session
from botocore import parsers

request = json.load(sys.stdin)
model = botocore.session.get_session().get_service_model('sts')
shape = model.operation_model('GetCallerIdentity').output_shape
parser = parsers.create_parser(request['protocol'])
headers = {'x-amzn-requestid': 'from-header'} if request['protocol'] == 'json' else {}
parsed = parser.parse(
    {'body': request['body'].encode(), 'headers': headers, 'status_code': request['status']},
    shape,
)
parsed['ResponseMetadata'].pop('HTTPHeaders', None)
json.dump({'parsed': parsed, 'model_protocols': model.metadata.get('protocols')}, sys.stdout)
