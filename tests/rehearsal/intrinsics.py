"""CloudFormation's intrinsic functions and pseudo parameters, resolved against the rehearsal's resources."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

from rehearsal.network import ACCOUNT, REGION

NO_VALUE = object()
_SUB = re.compile(r"\$\{([^}!][^}]*)\}")


class ResolveError(Exception):
    pass


class Resolver:
    def __init__(
        self,
        template: dict[str, Any],
        stack_name: str,
        stack_id: str,
        ref: Callable[[str], Any],
        get_att: Callable[[str, str], Any],
        parameters: dict[str, str] | None = None,
    ) -> None:
        self.template = template
        self.ref_resource = ref
        self.get_att = get_att
        self.pseudo = {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": REGION,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack_name,
            "AWS::StackId": stack_id,
            "AWS::NotificationARNs": [],
        }
        self.parameters = {
            name: (parameters or {}).get(name, definition.get("Default"))
            for name, definition in template.get("Parameters", {}).items()
        }

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template.get("Conditions", {})[name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            resolved = [self.resolve(v) for v in value]
            return [v for v in resolved if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                return self._function(key, argument)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _function(self, name: str, argument: Any) -> Any:
        if name == "Ref":
            if argument == "AWS::NoValue":
                return NO_VALUE
            if argument in self.pseudo:
                return self.pseudo[argument]
            if argument in self.parameters:
                return self.parameters[argument]
            return self.ref_resource(argument)
        if name == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return self.get_att(logical_id, self.resolve(attribute))
        if name == "Fn::Join":
            separator, values = argument
            return separator.join(str(v) for v in self.resolve(values))
        if name == "Fn::Select":
            index, values = self.resolve(argument)
            return values[int(index)]
        if name == "Fn::Split":
            separator, text = self.resolve(argument)
            return text.split(separator)
        if name == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            variables = self.resolve(variables)

            def substitute(match: re.Match[str]) -> str:
                token = match.group(1)
                if token in variables:
                    return str(variables[token])
                if "." in token and token not in self.pseudo:
                    return str(self._function("Fn::GetAtt", token.split(".", 1)))
                return str(self._function("Ref", token))

            return _SUB.sub(substitute, text).replace("${!", "${")
        if name == "Fn::FindInMap":
            mapping, top, second = self.resolve(argument)
            try:
                return self.template["Mappings"][mapping][top][second]
            except KeyError:
                raise ResolveError(f"Fn::FindInMap {mapping}/{top}/{second}: no such entry") from None
        if name == "Fn::If":
            condition, when_true, when_false = argument
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name == "Fn::Equals":
            first, second = self.resolve(argument)
            return first == second
        if name == "Fn::Not":
            return not self.resolve(argument[0])
        if name == "Fn::And":
            return all(self.resolve(a) for a in argument)
        if name == "Fn::Or":
            return any(self.resolve(a) for a in argument)
        if name == "Condition":
            return self.condition(argument)
        if name == "Fn::GetAZs":
            return [f"{REGION}{zone}" for zone in "abcdef"]
        if name == "Fn::Base64":
            return base64.b64encode(str(self.resolve(argument)).encode()).decode()
        raise ResolveError(f"{name} is not an intrinsic the rehearsal resolves")


def references(value: Any) -> set[str]:
    """Logical ids a property value depends on (Ref, Fn::GetAtt, and names inside Fn::Sub strings)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str) and not argument.startswith("AWS::"):
                found.add(argument)
            elif key == "Fn::GetAtt":
                found.add(argument[0] if isinstance(argument, list) else argument.split(".", 1)[0])
            elif key == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                for token in _SUB.findall(text):
                    if not token.startswith("AWS::"):
                        found.add(token.split(".", 1)[0])
                if not isinstance(argument, str):
                    found |= references(argument[1])
            else:
                found |= references(argument)
    return found
