"""The ``DaysToExpiry`` metric, as a CloudWatch embedded-metric-format (EMF) log line.

CloudWatch Logs turns the line into the metric ``constructs-cvpn/DaysToExpiry`` with the
dimension ``Vpn``: no ``cloudwatch:PutMetricData`` permission is needed. The construct's
alarm watches its minimum. The value is in days, rounded to hundredths (about 15 minutes).
"""

from __future__ import annotations

import json
import time

__all__ = ["METRIC", "NAMESPACE", "emit_days_to_expiry"]

NAMESPACE = "constructs-cvpn"
METRIC = "DaysToExpiry"


def emit_days_to_expiry(dimension: str, days: float) -> None:
    """Print the EMF line for ``days`` (nothing without a dimension)."""
    if not dimension:
        return
    line = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Vpn"]],
                    "Metrics": [{"Name": METRIC, "Unit": "None"}],
                }
            ],
        },
        "Vpn": dimension,
        METRIC: round(days, 2),
    }
    print(json.dumps(line), flush=True)  # CloudWatch reads EMF from the function's output
