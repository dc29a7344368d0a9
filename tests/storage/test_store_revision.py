"""Readers trust a successful schema-revision check for a short interval, never a failed one."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from saisei.errors import StorageError
from saisei.storage.store import Store


def test_a_database_changed_under_a_running_store_is_refused_after_the_interval(
    tmp_path: Path,
) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'saisei.db'}", tmp_path / "timeseries")
    try:
        store.upgrade()
        with store.reader():
            pass
        with store.bind.begin() as connection:  # e.g. another version's 'saisei db upgrade'
            connection.execute(text("UPDATE alembic_version SET version_num = 'elsewhere'"))
        with store.reader():  # within revision_recheck_s the check is not repeated
            pass
        store.revision_recheck_s = 0.0
        with pytest.raises(StorageError, match="found revision elsewhere"), store.reader():
            pass
        store.revision_recheck_s = 60.0
        with pytest.raises(StorageError, match="found revision elsewhere"), store.reader():
            pass  # a failed check is not remembered as a success
    finally:
        store.close()
