"""``acm.delete_certificate`` on a certificate an earlier run already deleted.

The CA role may delete only a certificate carrying this CA's tag (``aws:ResourceTag``), so
IAM answers a deleted certificate's ARN with ``AccessDeniedException``. Such a denial means
"gone" only when ``DescribeCertificate`` cannot find the certificate; a denial on a
certificate that exists is a real refusal and must surface.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from constructs_cvpn.handlers.pki import acm, aws

from .conftest import REGION

ARN = f"arn:aws:acm:{REGION}:123456789012:certificate/12345678-1234-1234-1234-123456789012"
DENIED = "AccessDeniedException"


@pytest.fixture
def stub() -> Iterator[Stubber]:
    client: Any = boto3.client(
        "acm", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        aws.set_client("acm", client)
        yield stubber
        stubber.assert_no_pending_responses()
    aws.reset()


def test_denied_on_a_certificate_that_is_gone_counts_as_deleted(stub: Stubber) -> None:
    stub.add_client_error("delete_certificate", DENIED, expected_params={"CertificateArn": ARN})
    stub.add_client_error(
        "describe_certificate", "ResourceNotFoundException", expected_params={"CertificateArn": ARN}
    )
    assert acm.delete_certificate(ARN, 0) is True


def test_denied_on_a_certificate_that_exists_is_raised(stub: Stubber) -> None:
    stub.add_client_error("delete_certificate", DENIED, expected_params={"CertificateArn": ARN})
    stub.add_response(
        "describe_certificate",
        {"Certificate": {"CertificateArn": ARN, "Serial": "01:02"}},
        expected_params={"CertificateArn": ARN},
    )
    with pytest.raises(ClientError) as raised:
        acm.delete_certificate(ARN, 0)
    assert raised.value.response["Error"]["Code"] == DENIED


def test_denied_lookup_is_raised_too(stub: Stubber) -> None:
    stub.add_client_error("delete_certificate", DENIED, expected_params={"CertificateArn": ARN})
    stub.add_client_error("describe_certificate", DENIED, expected_params={"CertificateArn": ARN})
    with pytest.raises(ClientError) as raised:
        acm.delete_certificate(ARN, 0)
    assert raised.value.response["Error"]["Code"] == DENIED
