"""The ``DaysToExpiry`` metric, as a CloudWatch embedded-metric-format (EMF) log line.

CloudWatch Logs turns the line into the metric ``constructs-cvpn/DaysToExpiry`` with the
dimension ``Vpn``: no ``cloudwatch:PutMetricData`` permission is needed. The construct's
alarm watches its minimum. The value is in days, rounded to hundredths (about 15 minutes).
"""

from __future__ import annotations

import json
import time

__all__ = ["CA_METRIC", "METRIC", "NAMESPACE", "emit_days_to_expiry"]

NAMESPACE = "constructs-cvpn"
METRIC = "DaysToExpiry"
CA_METRIC = "CaDaysToExpiry"
"""The CA's own days left (Authority only): its alarm fires months ahead, as the CA cannot
be rolled over in place (README, "The CA's end of life")."""


def emit_days_to_expiry(dimension: str, days: float, metric: str = METRIC) -> None:
    """Print the EMF line for ``days`` of ``metric`` (nothing without a dimension)."""
    if not dimension:
        return
    line = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Vpn"]],
                    "Metrics": [{"Name": metric, "Unit": "None"}],
                }
            ],
        },
        "Vpn": dimension,
        metric: round(days, 2),
    }
    print(json.dumps(line), flush=True)  # CloudWatch reads EMF from the function's output
