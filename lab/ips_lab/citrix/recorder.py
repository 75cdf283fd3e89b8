"""The requests the lab saw: method, path, query, status, the host name the client asked for (a real one through the
real-host proxy) and a few headers; never secrets or bodies."""

import re
import threading
from urllib.parse import parse_qsl, urlencode

from ..common.clock import iso
from ..common.server import host_name

RECORDED_HEADERS = ("User-Agent", "Citrix-CustomerId", "Citrix-InstanceId", "Citrix-TransactionId", "Content-Type", "Accept")
_SECRET_QUERY = re.compile(r"secret|password|access_token|^token$|^sig$", re.IGNORECASE)
MAX_RECORDS = 20000


def _safe_query(query):
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(_SECRET_QUERY.search(key) for key in dict(pairs)):
        return query
    return urlencode([(k, "********" if _SECRET_QUERY.search(k) else v) for k, v in pairs])


class Recorder(object):
    def __init__(self, clock):
        self._clock = clock
        self._lock = threading.Lock()
        self._items = []

    def record(self, method, path, query, status, headers, fault=None):
        entry = {"time": iso(self._clock.now()), "method": method, "path": path, "query": _safe_query(query), "status": status,
                 "host": host_name(headers),
                 "headers": {h: headers[h] for h in RECORDED_HEADERS if headers.get(h) is not None}, "fault": fault}
        with self._lock:
            self._items.append(entry)
            del self._items[:-MAX_RECORDS]

    def items(self):
        with self._lock:
            return list(self._items)

    def clear(self):
        with self._lock:
            self._items = []
