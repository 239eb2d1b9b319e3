"""``cvpn``'s exit codes are the ones README.md and ``cvpn --help`` list, and AWS errors
without a message still say something."""

from __future__ import annotations

import re
from pathlib import Path

from botocore.exceptions import ClientError, EndpointConnectionError

from constructs_cvpn.cli.errors import (
    EXIT_CODES_HELP,
    ExitCode,
    error_message,
    from_botocore_error,
)

README = Path(__file__).resolve().parents[2] / "README.md"

#: The first word README.md gives each code, and the member it stands for.
WORDS = {
    "ok": ExitCode.OK,
    "AWS": ExitCode.ERROR,
    "usage": ExitCode.USAGE,
    "not": ExitCode.NOT_FOUND,
    "`wait`": ExitCode.TIMEOUT,
    "file": ExitCode.REFUSED,
    "interrupted": ExitCode.INTERRUPTED,
}


def _listed(text: str) -> dict[int, str]:
    """Code -> first word, from a sentence "Exit codes: 0 ok, 1 AWS error (...), ..."."""
    listing = text[text.index("Exit codes: ") + len("Exit codes: ") :].split(".\n")[0]
    listing = re.sub(r"\([^)]*\)", "", listing)  # the parenthesised details
    return {int(code): word for code, word in re.findall(r"(\d+) ([\w`]+)", listing)}


def test_the_readme_lists_every_exit_code_by_its_number() -> None:
    listed = _listed(README.read_text())
    assert {WORDS[word]: code for code, word in listed.items()} == {
        m: m.value for m in WORDS.values()
    }
    assert set(listed) == {m.value for m in ExitCode}


def test_the_help_lists_the_same_codes() -> None:
    assert set(_listed(EXIT_CODES_HELP + ".\n")) == {m.value for m in ExitCode}


def test_an_aws_error_without_a_message_shows_its_code_or_says_so() -> None:
    coded = ClientError({"Error": {"Code": "InternalFailure"}}, "DescribeStacks")
    assert error_message(coded) == "InternalFailure"
    assert error_message(ClientError({}, "DescribeStacks")) == "no message"


def test_an_unreachable_endpoint_is_named() -> None:
    url = "https://ec2.eu-west-1.amazonaws.com/"
    error = from_botocore_error(EndpointConnectionError(endpoint_url=url))
    assert str(error) == f'cannot reach AWS: Could not connect to the endpoint URL: "{url}"'
