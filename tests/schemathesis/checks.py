"""Schemathesis checks for elasticache-local, loaded by tests/schemathesis.sh through
SCHEMATHESIS_HOOKS=checks.

`aws_xml_envelope`: every answer on the query endpoint is an AWS XML envelope, as botocore and
aws-sdk-rust parse it; the control endpoints answer JSON.

A body that is not well-formed XML fails (it once was: control characters in request values
were echoed into the XML; the server now replaces them).
"""

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import schemathesis
import yaml

NS = "http://elasticache.amazonaws.com/doc/2015-02-02/"
CONTROL_PATHS = {"/_health", "/_state", "/_reset", "/_faults"}
# The supported actions, as openapi.yaml lists them (tests/openapi.rs keeps it equal to
# Action::ALL).
_SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
SUPPORTED = set(_SPEC["components"]["schemas"]["ActionRequest"]["discriminator"]["mapping"])
# The HTTP status of each code the server sends, from openapi.yaml (tests/openapi.rs keeps that
# table equal to ApiError::code and ApiError::status in the source).
STATUS = _SPEC["components"]["schemas"]["ErrorCode"]["x-elasticache-local-status"]
# HTTP-level refusals of the front (src/http/protocol_errors.rs, guard.rs, serve.rs).
HTTP_LEVEL = {"NotFound": 404, "MethodNotAllowed": 405, "AccessDenied": 403,
              "RequestEntityTooLarge": 413, "RequestTimeout": 408, "ServiceUnavailable": 503}


# Characters outside XML 1.0's `Char` production (surrogates cannot reach a Rust string).


def _parse_xml(response):
    try:
        return ET.fromstring(response.content)
    except ET.ParseError as error:
        raise AssertionError(f"the body is not well-formed XML: {error}") from None


def _content_type(response):
    values = response.headers.get("content-type") or [""]
    return values[0].split(";")[0].strip().lower()


def _sent_params(response):
    """The parameters as the server decodes them: query string, then the body as a form whatever
    its Content-Type (a body value wins)."""
    request = response.request
    params = dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))
    body = request.body or b""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    params.update(parse_qsl(body, keep_blank_values=True))
    return params


def _is_dashboard_request(response):
    request = response.request
    accept = (request.headers.get("Accept") or "").lower()
    return (request.method == "GET" and "text/html" in accept
            and not _sent_params(response).get("Action") and response.status_code == 200)


def _local(tag):
    """`{ns}Name` -> (ns, Name)."""
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def _children(element):
    return [_local(child.tag)[1] for child in element]


@schemathesis.check
def aws_xml_envelope(ctx, response, case):
    path = urlsplit(response.request.url).path or "/"
    content_type = _content_type(response)
    if path.startswith("/_toxiproxy/") and response.status_code == 204:
        return  # Toxiproxy's DELETE and reset answer 204 with no body
    if path == "/_tls/ca.pem" and response.status_code in (200, 405):
        if response.status_code == 200 and not response.content.startswith(b"-----BEGIN CERTIFICATE-----"):
            raise AssertionError(f"/_tls/ca.pem answered {response.content[:40]!r}, expected a PEM certificate")
        return  # the CA certificate, PEM (or axum's bare 405 for another method)
    if path in CONTROL_PATHS or path.startswith(("/_toxiproxy/", "/_maintenance/")):
        if response.status_code == 405:
            return  # a method the control endpoint does not take: axum's bare 405 with `Allow`
        if content_type != "application/json":
            raise AssertionError(f"{path} answered Content-Type {content_type!r}, expected application/json")
        try:
            json.loads(response.content)
        except ValueError as error:
            raise AssertionError(f"{path} answered invalid JSON: {error}") from None
        return
    if content_type == "text/html" and _is_dashboard_request(response):
        return  # a browser's GET without Action gets the dashboard page
    if content_type != "text/xml":
        raise AssertionError(f"Content-Type is {content_type!r}, expected text/xml")
    root = _parse_xml(response)
    ns, name = _local(root.tag)
    if ns != NS:
        raise AssertionError(f"root <{name}> has namespace {ns!r}, expected {NS!r}")
    header_ids = response.headers.get("x-amzn-requestid") or []
    if name == "ErrorResponse":
        error = root.find(f"{{{NS}}}Error")
        request_id = root.find(f"{{{NS}}}RequestId")
        if error is None or request_id is None or not (request_id.text or "").strip():
            raise AssertionError(f"<ErrorResponse> needs <Error> and a non-empty <RequestId>, has {_children(root)}")
        fields = {_local(child.tag)[1]: (child.text or "") for child in error}
        missing = [f for f in ("Type", "Code", "Message") if not fields.get(f)]
        if missing:
            raise AssertionError(f"<Error> lacks {missing}: {fields}")
        code, fault = fields["Code"], fields["Type"]
        expected_status = HTTP_LEVEL.get(code) or STATUS.get(code)
        if expected_status is None:
            raise AssertionError(f"{code} is not a code the server has (openapi.yaml's ErrorCode)")
        if response.status_code < 300:
            raise AssertionError(f"an ErrorResponse ({code}) with HTTP {response.status_code}: botocore crashes on it")
        if response.status_code != expected_status:
            raise AssertionError(f"{code} came with HTTP {response.status_code}, expected {expected_status}")
        expected_type = "Receiver" if response.status_code >= 500 else "Sender"
        if fault != expected_type:
            raise AssertionError(f"{code} has <Type>{fault}</Type>, expected {expected_type}")
        if header_ids and header_ids[0] != request_id.text:
            raise AssertionError(f"x-amzn-RequestId {header_ids[0]!r} differs from <RequestId>{request_id.text}</RequestId>")
        return
    if not name.endswith("Response"):
        raise AssertionError(f"root element <{name}> is neither <ActionResponse> nor <ErrorResponse>")
    if response.status_code != 200:
        raise AssertionError(f"a success envelope <{name}> with HTTP {response.status_code}")
    action = _sent_params(response).get("Action", "")
    if action not in SUPPORTED:
        raise AssertionError(f"HTTP 200 for Action={action!r}, which is not a supported action")
    if name != f"{action}Response":
        raise AssertionError(f"root <{name}> for Action={action}, expected <{action}Response>")
    children = _children(root)
    if children != [f"{action}Result", "ResponseMetadata"]:
        raise AssertionError(f"<{name}> children are {children}, expected [{action}Result, ResponseMetadata]")
    request_id = root.find(f"{{{NS}}}ResponseMetadata/{{{NS}}}RequestId")
    if request_id is None or not (request_id.text or "").strip():
        raise AssertionError("<ResponseMetadata> has no <RequestId>")
    if header_ids and header_ids[0] != request_id.text:
        raise AssertionError(f"x-amzn-RequestId {header_ids[0]!r} differs from <RequestId>{request_id.text}</RequestId>")
