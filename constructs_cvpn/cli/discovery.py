"""Find a ``ClientVpn``'s endpoint and config location from its CloudFormation stack outputs.

The construct adds outputs with the construct ids ``EndpointId``, ``ConfigBucketName``,
``ConfigKey`` and (with generated per-user certificates) ``UserConfigPrefix`` inside its own
scope. CDK turns them into output keys such as ``VpnEndpointId1A2B3C4D``: the construct path
without the stack (non-alphanumerics removed), the id, and eight uppercase hex digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from constructs_cvpn.cli.errors import (
    NotFoundError,
    UsageError,
    error_code,
    error_message,
    from_client_error,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudformation.type_defs import OutputTypeDef

OUTPUT_KEY = re.compile(
    r"^(?P<vpn>[A-Za-z0-9]*?)"
    r"(?P<name>EndpointId|ConfigBucketName|ConfigKey|UserConfigPrefix|UsersFunctionName|OffHoursSchedule)"
    r"(?P<hash>[0-9A-F]{8})$"
)
"""Matches the output keys of a ``ClientVpn``; ``vpn`` is the construct path prefix."""


@dataclass(frozen=True)
class VpnOutputs:
    """The outputs of one ``ClientVpn`` construct in a stack."""

    stack: str
    prefix: str
    endpoint_id: str
    config_bucket: str | None = None
    config_key: str | None = None
    user_config_prefix: str | None = None
    users_function: str | None = None
    """The users function (generated PKI): ``cvpn revoke`` / ``rotate`` invoke it."""
    account: str | None = None
    """The AWS account that holds the stack (from its ARN): the config bucket's owner."""
    schedule: str | None = None
    """The off-hours schedule (JSON; ``cli.wake``), with ``ClientVpn(schedule=...)``."""

    @property
    def label(self) -> str:
        """Human name of this VPN: the construct path prefix, or the endpoint id."""
        return self.prefix or self.endpoint_id


STACK_ARN = re.compile(r"^arn:[\w-]+:cloudformation:[\w-]+:(?P<account>\d{12}):stack/")
"""A stack id (ARN); ``account`` is the account that owns the stack and its resources."""


def stack_account(stack_id: str | None) -> str | None:
    """The 12-digit account id in a stack ARN, or None."""
    match = STACK_ARN.match(stack_id or "")
    return match["account"] if match else None


def parse_outputs(
    stack: str, outputs: Iterable[OutputTypeDef], account: str | None = None
) -> dict[str, VpnOutputs]:
    """Group a stack's outputs by ClientVpn construct; only groups with an EndpointId count."""
    groups: dict[str, dict[str, str]] = {}
    for output in outputs:
        match = OUTPUT_KEY.match(output.get("OutputKey", ""))
        value = output.get("OutputValue")
        if match is None or value is None:
            continue
        groups.setdefault(match["vpn"], {})[match["name"]] = value
    return {
        prefix: VpnOutputs(
            stack=stack,
            prefix=prefix,
            endpoint_id=values["EndpointId"],
            config_bucket=values.get("ConfigBucketName"),
            config_key=values.get("ConfigKey"),
            user_config_prefix=values.get("UserConfigPrefix"),
            users_function=values.get("UsersFunctionName"),
            account=account,
            schedule=values.get("OffHoursSchedule"),
        )
        for prefix, values in sorted(groups.items())
        if "EndpointId" in values
    }


def select_vpn(stack: str, vpns: dict[str, VpnOutputs], vpn: str | None) -> VpnOutputs:
    """Pick the VPN named by ``--vpn`` (or the only one); clear errors listing the choices."""
    choices = ", ".join(sorted(vpns))
    if vpn is not None:
        if vpn in vpns:
            return vpns[vpn]
        folded = {prefix.lower(): outputs for prefix, outputs in vpns.items()}
        if vpn.lower() in folded:
            return folded[vpn.lower()]
        raise NotFoundError(f"stack '{stack}' has no Client VPN '{vpn}'; choose one of: {choices}")
    if len(vpns) > 1:
        raise UsageError(
            f"stack '{stack}' holds {len(vpns)} Client VPNs; choose one with --vpn: {choices}"
        )
    return next(iter(vpns.values()))


def discover(cloudformation: CloudFormationClient, stack: str, vpn: str | None) -> VpnOutputs:
    """Describe ``stack`` and return the outputs of its (selected) ClientVpn."""
    try:
        response = cloudformation.describe_stacks(StackName=stack)
    except ClientError as err:
        if error_code(err) == "ValidationError" and "does not exist" in error_message(err):
            raise NotFoundError(f"stack '{stack}' not found in this account/region") from None
        raise from_client_error(err, f"describe stack '{stack}'") from None
    stacks = response.get("Stacks", [])
    if not stacks:
        raise NotFoundError(f"stack '{stack}' not found in this account/region")
    description = stacks[0]
    vpns = parse_outputs(
        stack, description.get("Outputs", []), stack_account(description.get("StackId"))
    )
    if not vpns:
        status = description.get("StackStatus", "unknown status")
        raise NotFoundError(
            f"stack '{stack}' ({status}) has no ClientVpn outputs (no '...EndpointId...' output)"
        )
    return select_vpn(stack, vpns, vpn)
