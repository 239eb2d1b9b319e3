"""``ClientVpnChecks``: the cdk-nag 3 rule pack for AWS Client VPN.

The pack runs as a CDK validation plugin after synthesis. For every Client VPN resource of the
construct tree it reads that resource, and the resources it points at, from the stack's
synthesized template, so it sees exactly what CloudFormation will get (escape-hatch overrides
included) and works the same for our ``ClientVpn``, the L2 ``ClientVpnEndpoint`` and raw L1s.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

import jsii
from aws_cdk import (
    CfnResource,
    IPolicyValidationContext,
    PolicyValidationPluginReport,
    Stack,
    Stage,
)
from cdk_nag import IApplyRule, NagMessageLevel, NagPack, NagRuleCompliance
from constructs import IConstruct

from constructs_cvpn.nag.rules import ALL_RULES, PACK_NAME, ClientVpnRule
from constructs_cvpn.nag.template import Template


@jsii.implements(IApplyRule)
class _RuleApplication:
    """One rule applied to one resource, in the shape ``NagPack.applyRule`` expects."""

    def __init__(self, rule: ClientVpnRule, node: CfnResource, pack: ClientVpnChecks) -> None:
        self._rule = rule
        self._pack = pack
        self._rule_suffix_override: str | None = rule.suffix
        self._info: str = rule.info
        self._explanation: str = rule.explanation
        self._level: NagMessageLevel = rule.level
        self._node: CfnResource = node

    # jsii only sees class-level properties; IApplyRule declares them settable.

    @property
    def rule_suffix_override(self) -> str | None:
        return self._rule_suffix_override

    @rule_suffix_override.setter
    def rule_suffix_override(self, value: str | None) -> None:
        self._rule_suffix_override = value

    @property
    def info(self) -> str:
        return self._info

    @info.setter
    def info(self, value: str) -> None:
        self._info = value

    @property
    def explanation(self) -> str:
        return self._explanation

    @explanation.setter
    def explanation(self, value: str) -> None:
        self._explanation = value

    @property
    def level(self) -> NagMessageLevel:
        return self._level

    @level.setter
    def level(self, value: NagMessageLevel) -> None:
        self._level = value

    @property
    def node(self) -> CfnResource:
        return self._node

    @node.setter
    def node(self, value: CfnResource) -> None:
        self._node = value

    def rule(self, node: CfnResource) -> NagRuleCompliance | list[str]:
        """Run the rule's pure check on the resource as found in the synthesized template."""
        template, logical_id = self._pack._locate(node)
        return self._rule.check(template[logical_id], template)


class ClientVpnChecks(NagPack):
    """Client VPN best practices as a cdk-nag 3 rule pack (rule ids ``ClientVpn-*``).

    Add it to an app with ``Validations.of(app).add_plugins(ClientVpnChecks(app))``; acknowledge
    a single finding with ``Validations.of(construct).acknowledge(Acknowledgment(id=..., ...))``.

    ERROR findings fail synthesis. Unlike cdk-nag 3.0's own packs, findings at WARN/INFO level
    are reported (severity ``warning`` in ``validation-report.json`` and on stderr) but do not
    fail synthesis on their own.
    """

    def __init__(
        self,
        scope: IConstruct | None = None,
        *,
        verbose: bool | None = None,
        write_suppressions_to_cloud_formation: bool | None = None,
        rules: Iterable[ClientVpnRule] = ALL_RULES,
    ) -> None:
        """Create the pack.

        :param scope: the app, needed only with ``write_suppressions_to_cloud_formation``.
        :param verbose: add each rule's explanation to its finding (default: false).
        :param write_suppressions_to_cloud_formation: write acknowledgements into resource
            metadata as ``cdk_nag.rules_to_suppress`` (default: false).
        :param rules: the rules to run (default: all of :data:`ALL_RULES`).
        """
        super().__init__(
            scope,
            verbose=verbose,
            write_suppressions_to_cloud_formation=write_suppressions_to_cloud_formation,
        )
        self._pack_name = PACK_NAME
        self._rules_by_type: dict[str, list[ClientVpnRule]] = {}
        for rule in rules:
            self._rules_by_type.setdefault(rule.resource_type, []).append(rule)
        self._templates: dict[tuple[str, int, int], Template] = {}

    @property
    def name(self) -> str:
        """Plugin name shown in validation reports."""
        return PACK_NAME

    def validate_scope(self, scope: IConstruct) -> PolicyValidationPluginReport:
        """Check ``scope``; the report fails only when there is an ERROR-level finding.

        Called by CDK during synthesis (through ``validate``). Called directly, the stacks under
        ``scope`` must have been synthesized to their assembly directory first.
        """
        report = super().validate_scope(scope)
        violations = list(report.violations)
        return PolicyValidationPluginReport(
            success=all(v.severity != "error" for v in violations),
            violations=violations,
            metadata=report.metadata,
        )

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        """Entry point of the CDK validation framework; delegates to :meth:`validate_scope`."""
        self._templates.clear()
        return super().validate(context)

    def _check_resource(self, node: CfnResource) -> None:
        """Apply the rules written for this resource's type."""
        for rule in self._rules_by_type.get(node.cfn_resource_type, ()):
            self._apply_rule(_RuleApplication(rule, node, self))

    def _locate(self, node: CfnResource) -> tuple[Template, str]:
        """Return the synthesized template of ``node``'s stack and ``node``'s logical id."""
        stack = Stack.of(node)
        stage = Stage.of(stack)
        if stage is None:
            raise RuntimeError(f"{PACK_NAME}: stack {stack.node.path} is not in an app or stage")
        path = os.path.join(stage.outdir, stack.template_file)
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            raise RuntimeError(
                f"{PACK_NAME}: no synthesized template at {path}; run the pack through "
                "Validations.of(app).add_plugins(...) and app.synth()"
            ) from None
        key = (path, stat.st_mtime_ns, stat.st_size)
        template = self._templates.get(key)
        if template is None:
            with open(path, encoding="utf-8") as handle:
                template = self._templates[key] = Template(json.load(handle))
        logical_id = stack.resolve(node.logical_id)
        return template, str(logical_id)
