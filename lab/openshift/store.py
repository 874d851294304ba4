"""The twin's object store: etcd plus the generic registry logic.

Objects are plain dicts. A stored dict is never mutated after it is stored
(every write stores a new dict), so readers may serialize a reference taken
under the lock after releasing it. Callers outside the lab get deep copies.
"""

import copy
import json
import threading
import uuid

from . import machinery


def deep_copy(obj):
    """A fast deep copy of JSON data."""
    return json.loads(json.dumps(obj))


class Store:
    """Thread-safe in-memory storage keyed by resource type, namespace and name."""

    def __init__(self, clock):
        self.lock = threading.RLock()
        self._clock = clock
        self._objects = {}
        self._revision = 1000
        self.listeners = []

    # ------------------------------------------------------------ reads
    def get(self, rtype, namespace, name):
        """The stored object (a reference; do not mutate) or None."""
        with self.lock:
            return self._objects.get(rtype, {}).get((namespace or "", name))

    def require(self, rtype, namespace, name):
        """Like get but raises a NotFound ApiError."""
        obj = self.get(rtype, namespace, name)
        if obj is None:
            raise machinery.not_found(rtype.group, rtype.resource, name)
        return obj

    def list(self, rtype, namespace=None):
        """Stored objects (references) sorted by namespace and name."""
        with self.lock:
            table = self._objects.get(rtype, {})
            keys = sorted(key for key in table if namespace is None or key[0] == namespace)
            return [table[key] for key in keys]

    @property
    def revision(self):
        """The current resourceVersion (a string, as kube serves it)."""
        with self.lock:
            return str(self._revision)

    # ------------------------------------------------------------ writes
    def _next_revision(self):
        self._revision += 1
        return str(self._revision)

    def _notify(self, rtype, event, old, new):
        for listener in list(self.listeners):
            listener(rtype, event, old, new)

    def create(self, rtype, obj, notify=True):
        """Store a new object; fills uid, resourceVersion, creationTimestamp, generation."""
        with self.lock:
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            namespace = meta.get("namespace", "") if rtype.namespaced else ""
            if not rtype.namespaced:
                meta.pop("namespace", None)
            name = meta.get("name")
            table = self._objects.setdefault(rtype, {})
            if (namespace, name) in table:
                raise machinery.already_exists(rtype.group, rtype.resource, name)
            obj["apiVersion"] = rtype.api_version
            obj["kind"] = rtype.kind
            meta["uid"] = str(uuid.uuid4())
            meta["resourceVersion"] = self._next_revision()
            meta["creationTimestamp"] = machinery.rfc3339(self._clock())
            for key in ("deletionTimestamp", "selfLink"):
                meta.pop(key, None)
            if rtype.has_spec:
                meta["generation"] = 1
            else:
                meta.pop("generation", None)
            table[(namespace, name)] = obj
            if notify:
                self._notify(rtype, "ADDED", None, obj)
            return obj

    def update(self, rtype, obj, notify=True):
        """Replace a stored object; server-owned metadata is kept, generation bumped on spec change."""
        with self.lock:
            meta = obj.get("metadata", {})
            namespace = meta.get("namespace", "") if rtype.namespaced else ""
            name = meta.get("name")
            old = self.get(rtype, namespace, name)
            if old is None:
                raise machinery.not_found(rtype.group, rtype.resource, name)
            obj = copy.deepcopy(obj)
            meta = obj["metadata"]
            for key in ("uid", "creationTimestamp"):
                meta[key] = old["metadata"][key]
            if not rtype.namespaced:
                meta.pop("namespace", None)
            obj["apiVersion"] = rtype.api_version
            obj["kind"] = rtype.kind
            if rtype.has_spec:
                generation = old["metadata"].get("generation", 1)
                if _spec_part(obj) != _spec_part(old):
                    generation += 1
                meta["generation"] = generation
            if _without_rv(obj) == _without_rv(old):
                return old  # no-op updates do not bump resourceVersion
            meta["resourceVersion"] = self._next_revision()
            self._objects[rtype][(namespace, name)] = obj
            if notify:
                self._notify(rtype, "MODIFIED", old, obj)
            return obj

    def delete(self, rtype, namespace, name, notify=True):
        """Remove an object and return it (raises NotFound)."""
        with self.lock:
            key = (namespace or "" if rtype.namespaced else "", name)
            old = self._objects.get(rtype, {}).pop(key, None)
            if old is None:
                raise machinery.not_found(rtype.group, rtype.resource, name)
            self._next_revision()
            if notify:
                self._notify(rtype, "DELETED", old, None)
            return old

    def clear(self):
        """Forget every object."""
        with self.lock:
            self._objects.clear()


def _spec_part(obj):
    """What counts as spec for generation: everything but metadata and status."""
    return {key: value for key, value in obj.items() if key not in ("metadata", "status", "apiVersion", "kind")}


def _without_rv(obj):
    other = dict(obj)
    other["metadata"] = {key: value for key, value in obj["metadata"].items() if key != "resourceVersion"}
    return other
