"""Find the CloudWatch Logs log group an endpoint writes its connection logs to."""

from __future__ import annotations

from collections.abc import Mapping

from constructs_cvpn.nag.rules.base import LOG_GROUP
from constructs_cvpn.nag.template import Resource, Template, as_bool


def connection_log_group(endpoint: Resource, template: Template) -> Resource | None:
    """Return the log group of an endpoint with logging on, or ``None`` when unknown/off.

    The group is found through ``{"Ref": <LogGroup>}`` or, for a literal name, by matching a
    ``LogGroupName`` in the same template. An imported group is unknown.
    """
    options = endpoint.prop("ConnectionLogOptions")
    if not isinstance(options, Mapping) or as_bool(options.get("Enabled")) is not True:
        return None
    group = options.get("CloudwatchLogGroup")
    found = template.referenced(group, LOG_GROUP)
    if found is not None or not isinstance(group, str):
        return found
    return next(
        (lg for lg in template.of_type(LOG_GROUP) if lg.prop("LogGroupName") == group),
        None,
    )
