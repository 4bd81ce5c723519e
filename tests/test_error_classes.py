"""Which activity failures are given up at once (pure logic; the workflows' side is in
tests/test_parking.py)."""

from __future__ import annotations

from kafka.errors import KafkaTimeoutError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError

from infra.poison import as_non_retryable, deterministic


def test_values_the_database_or_calendar_refuse_are_deterministic() -> None:
    assert deterministic(DataError("INSERT", {}, Exception("NUL")))
    assert deterministic(IntegrityError("INSERT", {}, Exception("not null")))
    assert deterministic(OverflowError("date value out of range"))
    assert deterministic(ValueError("bad"))
    wrapped = StatementError("bind", "SELECT", {}, OverflowError("date value out of range"))
    assert deterministic(wrapped)


def test_what_may_heal_is_retried() -> None:
    assert not deterministic(OperationalError("SELECT", {}, Exception("database is locked")))
    assert not deterministic(KafkaTimeoutError())
    assert not deterministic(ConnectionError())
    assert not deterministic(KeyError("a bug, fixed by a release"))


def test_the_failure_names_its_type_and_hides_a_nul() -> None:
    error = as_non_retryable(StatementError("bind", "SELECT", {}, OverflowError("out\x00")))
    assert error.non_retryable and error.type == "StatementError.OverflowError"
    assert "\x00" not in error.message
