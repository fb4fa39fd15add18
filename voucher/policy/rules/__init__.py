"""The rules of RULES.md, one small named function each, grouped by family.

`RULES` lists every rule id with its clause and its scope (application or contract);
a test checks it against the tables of RULES.md, so no rule is named but unchecked.
"""

from voucher.policy.rules.base import RULES, Rule

__all__ = ["RULES", "Rule"]
