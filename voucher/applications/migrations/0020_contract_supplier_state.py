"""The supplier's word on each contract as a whole, kept for the supplier's list (issue 22 item 5:
filtered and paged in SQL). Existing contracts get it from the words already given, with the
line hashes of this migration's time (a frozen copy of applications.supplier.content_hash)."""

import hashlib
import json
from decimal import Decimal

from django.db import migrations, models

CONTRACT_FIELDS = ("contract_id", "supplier_uscc", "signed_on", "valid_from", "valid_to", "total_amount")
DELIVERY_FIELDS = ("start", "end", "service", "device", "quantity", "unit", "unit_price", "amount")


def _text(value):
    if isinstance(value, Decimal):
        return str(value.normalize())
    return None if value is None else str(value)


def _hash(row, fields):
    content = {name: _text(getattr(row, name)) for name in fields}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def states_from_words(apps, schema_editor):
    Contract = apps.get_model("applications", "Contract")
    LineConfirmation = apps.get_model("applications", "LineConfirmation")
    spoken = set(LineConfirmation.objects.values_list("contract_id", flat=True))
    for contract in Contract.objects.filter(pk__in=spoken).prefetch_related("deliveries"):
        words = {w.line: w for w in LineConfirmation.objects.filter(contract=contract)}
        rows = [("contract", contract, CONTRACT_FIELDS)]
        rows += [(f"delivery:{d.pk}", d, DELIVERY_FIELDS) for d in contract.deliveries.all()]
        states = set()
        for key, row, fields in rows:
            word = words.get(key)
            matches = word is not None and word.content_hash == _hash(row, fields)
            states.add(word.state if matches else "unconfirmed")
        state = (
            "disputed" if "disputed" in states
            else "confirmed" if states == {"confirmed"} else "unconfirmed"
        )
        Contract.objects.filter(pk=contract.pk).update(supplier_state=state)


class Migration(migrations.Migration):

    dependencies = [
        ("applications", "0019_application_evaluation_pending"),
    ]

    operations = [
        migrations.AddField(
            model_name="contract",
            name="supplier_state",
            field=models.CharField(
                db_index=True, default="unconfirmed", max_length=12, verbose_name="供给方确认状态"
            ),
        ),
        migrations.RunPython(states_from_words, migrations.RunPython.noop),
    ]
