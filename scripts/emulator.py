"""The local AWS emulator: moto's server for DynamoDB (with its Streams), SESv2, Secrets
Manager (the token signing key), EventBridge and SQS (the events' end-to-end test; moto serves
every service it emulates, none is switched off here), one request at a time.

moto applies a TransactWriteItems by deep-copying every table it touches, writing, and
restoring the copies on a failed condition, with no lock: two concurrent transactions can
both pass their conditions, a rollback can erase another request's write, and each
transaction costs a copy of the whole table. DynamoDB isolates transactions, so here:
- requests are serialised (one at a time), and
- a transaction saves only the items it touches and restores just those on failure.

moto also answers every Query by listing and sorting the whole table before picking the
partition, so a query's time grows with the table (seconds at scripts/scale's sizes). Here a
query on the table looks at its partition only and a query on an index at the unsorted
items (moto sorts what matches either way): the same answers, in time that follows the
partition (table) or the table without its sort (index).

moto also keeps every model object it ever created (each item, item copy and stream record)
in a list that its /moto-api/data.json walks, attribute by attribute, under the lock: a
mail lookup then cost time that grew with everything the suite had written, and the memory
was never freed. Only SES's messages are read from there (the tests' and scripts/mail's
inbox), so only they are kept.
"""

import argparse
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple
import copy
import moto.dynamodb.models as dynamodb_models
from moto.core.common_models import BaseModel
from moto.dynamodb.models.table import Table as _Table


class _TablesByReference:
    """moto's `copy` module, except that a Table is not copied (see _item_rollback)."""

    def deepcopy(self, value, memo=None):
        if isinstance(value, dynamodb_models.Table):
            return value
        return copy.deepcopy(value, memo)

    def __getattr__(self, name):
        return getattr(copy, name)


def _item_key(backend, op_type, op):
    table = backend.get_table(op["TableName"])
    if op_type != "Put":
        return op["Key"]
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _item_rollback(transact):
    def run(self, transact_items):
        saved = []
        for entry in transact_items:
            try:
                op_type, op = next(iter(entry.items()))
                key = _item_key(self, op_type, op)
                current = self.get_item(op["TableName"], key)
                before = copy.deepcopy(current.to_json()["Attributes"]) if current else None
                saved.append((op["TableName"], key, before))
            except Exception:  # malformed input: moto itself reports it
                pass
        try:
            return transact(self, transact_items)
        except Exception:
            for table_name, key, before in reversed(saved):
                if before is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, before)
            raise

    return run


def _partition_query(query):
    def run(self, hash_key, *args, **kwargs):
        # Table.query(hash_key, range_comparison, range_objs, limit, exclusive_start_key,
        # scan_index_forward, projection_expressions, index_name, ...), as moto calls it.
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if not self.range_key_attr:
            return query(self, hash_key, *args, **kwargs)
        if index_name:
            items = [item for part in self.items.values() for item in part.values()]
        else:
            items = list(self.items.get(hash_key, {}).values())
        # Shadows the method for this call only (requests are serialised, see main).
        self.all_items = lambda: items
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    return run


def _track_mail_only(cls, *args, **kwargs):
    instance = super(BaseModel, cls).__new__(cls)
    if cls.__module__.startswith(("moto.ses.", "moto.sesv2.")):
        cls.instances_tracked.append(instance)
    return instance


BaseModel.__new__ = _track_mail_only
dynamodb_models.copy = _TablesByReference()
_Table.query = _partition_query(_Table.query)
dynamodb_models.DynamoDBBackend.transact_write_items = _item_rollback(
    dynamodb_models.DynamoDBBackend.transact_write_items
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    args = parser.parse_args()

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ, start_response):
        with lock:
            # Materialise the body inside the lock: moto may produce it lazily.
            return list(app(environ, start_response))

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(
        args.host,
        args.port,
        serialised,
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
