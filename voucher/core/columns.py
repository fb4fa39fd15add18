"""The columns money and quantities are kept in, exact on SQLite and PostgreSQL alike
(docs/decisions/0015-exact-money-in-storage.md).

SQLite has no decimal type: Django's DecimalField is a column of NUMERIC affinity, which keeps a
fraction as an 8-byte float and is read back to 15 significant digits (98,777,777,788,777.77
came back ….80, 1,234,567,890.123456 came back ….123460), and Sum() over it adds floats. So:

- `MoneyField`: yuan in Python (a Decimal with two places, as before), whole fen in the column, a
  64-bit integer on both databases. Exact to ±92,233,720,368,547,758.07 yuan; compared, ordered,
  checked (the CHECK constraints) and summed (Sum() is integer arithmetic) by the database
  exactly.
- `QuantityField`: a Decimal with six places in Python (quantities, unit prices), its decimal
  text in the column. Nothing is computed on a quantity in SQL, and 14 digits before the point
  plus 6 after do not fit a 64-bit integer of millionths; text holds any of them.

A value that is not a whole number of fen (millionths) is refused (ValueError), never rounded,
and a float never reaches a column (TypeError).
"""

from __future__ import annotations

from decimal import Context, Decimal
from typing import Any

from django import forms
from django.core import validators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.migrations.operations import AlterField

MONEY_PLACES = 2
QUANTITY_PLACES = 6
QUANTITY_CHARACTERS = 40  # a sign, 32 digits, the point: more than any sum of quantities
MAX_DIGITS = 32  # of a value scaled to its units (fen, millionths)
_BIGINT = 2**63  # a 64-bit integer column holds [-2^63, 2^63)
LARGEST_YUAN = Decimal(_BIGINT - 1).scaleb(-MONEY_PLACES)


def scaled(value: Any, places: int) -> int:
    """`value` × 10^places as an int, exactly: ValueError for a value with more places (or not
    a number), TypeError for a float. No decimal context is involved: nothing is rounded."""
    if isinstance(value, float | bool):
        raise TypeError(f"money and quantities are never floats: {value!r}")
    number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    if not number.is_finite():
        raise ValueError(f"not a number: {value!r}")
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    significant = "".join(map(str, digits)).rstrip("0")
    if not significant:
        return 0
    shift = exponent + len(digits) - len(significant) + places  # the trailing zeros moved
    if shift < 0:
        raise ValueError(f"{value} has more than {places} decimal places")
    if len(significant) + shift > MAX_DIGITS:
        raise ValueError(f"{value} has more than {MAX_DIGITS} digits")
    units = int(significant) * 10**shift
    return -units if sign else units


def unscaled(units: int, places: int) -> Decimal:
    """Integer `units` of 10^-places as a Decimal with `places` places, exactly."""
    return Decimal(f"{int(units)}E-{places}")


def _from_column(value: Any) -> int:
    """A fen column as the driver hands it: an int (SQLite; PostgreSQL's bigint), or a Decimal
    without a fraction (PostgreSQL's sum of a bigint column is numeric)."""
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    raise TypeError(f"a money column holds whole fen, not {value!r}")


class MoneyField(models.Field):
    """An amount in yuan, a Decimal with two places; whole fen in a 64-bit integer column."""

    description = "An amount in yuan, kept as whole fen"
    empty_strings_allowed = False
    default_error_messages = models.DecimalField.default_error_messages

    def get_internal_type(self) -> str:
        return "BigIntegerField"

    @property
    def validators(self) -> list[Any]:
        return [
            *super().validators,
            validators.MinValueValidator(-LARGEST_YUAN),
            validators.MaxValueValidator(LARGEST_YUAN),
        ]

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Decimal | None:
        return None if value is None else unscaled(_from_column(value), MONEY_PLACES)

    def to_python(self, value: Any) -> Decimal | None:
        if value is None:
            return None
        try:
            return unscaled(scaled(value, MONEY_PLACES), MONEY_PLACES)
        except (ArithmeticError, TypeError, ValueError):
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            ) from None

    def get_prep_value(self, value: Any) -> int | None:
        value = super().get_prep_value(value)
        if value is None:
            return None
        fen = scaled(value, MONEY_PLACES)
        if not -_BIGINT <= fen < _BIGINT:
            raise ValueError(f"{value} yuan is beyond what a money column holds")
        return fen

    def formfield(
        self, form_class: Any = None, choices_form_class: Any = None, **kwargs: Any
    ) -> Any:
        return super().formfield(
            form_class=form_class or forms.DecimalField,
            choices_form_class=choices_form_class,
            **{"max_digits": 18, "decimal_places": MONEY_PLACES, **kwargs},
        )


class QuantityField(models.Field):
    """A quantity or unit price, a Decimal with six places; its decimal text in the column."""

    description = "A decimal with six places, kept as its text"
    empty_strings_allowed = False
    default_error_messages = models.DecimalField.default_error_messages

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", QUANTITY_CHARACTERS)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == QUANTITY_CHARACTERS:
            del kwargs["max_length"]
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        return "CharField"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Decimal | None:
        if value is None:
            return None
        return unscaled(scaled(value, QUANTITY_PLACES), QUANTITY_PLACES)

    def to_python(self, value: Any) -> Decimal | None:
        if value is None:
            return None
        try:
            return unscaled(scaled(value, QUANTITY_PLACES), QUANTITY_PLACES)
        except (ArithmeticError, TypeError, ValueError):
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            ) from None

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return str(unscaled(scaled(value, QUANTITY_PLACES), QUANTITY_PLACES))

    def formfield(
        self, form_class: Any = None, choices_form_class: Any = None, **kwargs: Any
    ) -> Any:
        return super().formfield(
            form_class=form_class or forms.DecimalField,
            choices_form_class=choices_form_class,
            **{"max_digits": QUANTITY_CHARACTERS - 2, "decimal_places": QUANTITY_PLACES, **kwargs},
        )


class YuanToFen(AlterField):
    """Migration: a DecimalField of yuan becomes a MoneyField, each amount its whole fen.

    Django's own AlterField would cast the yuan to an integer (PostgreSQL rounds 12.34 to 12;
    SQLite copies the value as it is). A CHECK constraint comparing two amounts must be removed
    before the first of them is converted and added again after the last."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        self._convert(app_label, schema_editor, from_state, to_state, to_fen=True)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        self._convert(app_label, schema_editor, from_state, to_state, to_fen=False)

    def describe(self) -> str:
        return f"Keep {self.model_name}.{self.name} in whole fen"

    def _convert(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any, to_fen: bool
    ) -> None:
        to_model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, to_model):
            return
        from_model = from_state.apps.get_model(app_label, self.model_name)
        old = from_model._meta.get_field(self.name)
        new = to_model._meta.get_field(self.name)
        quote = schema_editor.quote_name
        table, column = quote(to_model._meta.db_table), quote(new.column)
        if schema_editor.connection.vendor == "postgresql":
            # the type and the values in one rewrite of the table: numeric arithmetic, exact
            kind, using = (
                ("bigint", f"round({column} * 100)::bigint")
                if to_fen
                else (new.db_type(schema_editor.connection), f"{column}::numeric / 100")
            )
            schema_editor.execute(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {kind} USING {using}"
            )
            return
        # SQLite rebuilds the table, copying each value as it is, then the values are scaled;
        # the yuan it kept were floats already: rounded to the fen, they are what was read
        schema_editor.alter_field(from_model, old, new)
        scale = f"CAST(round({column} * 100) AS INTEGER)" if to_fen else f"{column} / 100.0"
        schema_editor.execute(f"UPDATE {table} SET {column} = {scale}")


class DecimalToText(AlterField):
    """Migration: a DecimalField of quantities becomes a QuantityField, each value its text with
    six places. PostgreSQL writes a numeric(20, 6) so; SQLite copies the float it kept as its
    own shortest text ("0.5", "1.0e-06"), which is read (15 significant digits, as Django read
    it) and written again with six places."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if (
            not self.allow_migrate_model(schema_editor.connection.alias, model)
            or schema_editor.connection.vendor == "postgresql"
        ):
            return
        quote = schema_editor.quote_name
        table = quote(model._meta.db_table)
        key, column = quote(model._meta.pk.column), quote(model._meta.get_field(self.name).column)
        exact = Context(prec=60)
        place = Decimal(1).scaleb(-QUANTITY_PLACES)
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL")
            rows = cursor.fetchall()
            changed = []
            for pk, text in rows:
                canonical = format(Decimal(str(text)).quantize(place, context=exact), "f")
                if canonical != text:
                    changed.append((canonical, pk))
            cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE {key} = %s", changed)

    def describe(self) -> str:
        return f"Keep {self.model_name}.{self.name} as decimal text"
