"""Tests of the ``ClientVpn`` cdk-nag rule pack (``constructs_cvpn.nag``)."""
