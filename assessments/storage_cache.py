"""A Django cache kept in a Django storage: the PDF cache when the files are in object storage, so
that a PDF rendered by any worker is served by every app server.

Each entry is one object named by the hash of its key: an 8-byte expiry (0: never) and the pickled
value. The storage is trusted (the app's own bucket), like the file-based cache it replaces.
"""

import hashlib
import pickle
import struct
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.files.base import ContentFile
from django.core.files.storage import storages

_EXPIRY = struct.Struct(">d")


class StorageCache(BaseCache):
    def __init__(self, location: str, params: dict) -> None:
        super().__init__(params)
        self.alias = location

    @property
    def storage(self):
        return storages[self.alias]

    def _name(self, key, version=None) -> str:
        full = self.make_and_validate_key(key, version=version)
        return hashlib.sha256(full.encode()).hexdigest() + ".cache"

    def _read(self, name: str):
        try:
            with self.storage.open(name, "rb") as handle:
                data = handle.read()
        except (FileNotFoundError, OSError):
            return None
        (expiry,) = _EXPIRY.unpack_from(data)
        if expiry and expiry < time.time():
            self.storage.delete(name)
            return None
        return pickle.loads(data[_EXPIRY.size :])  # noqa: S301 (the app's own storage)

    def get(self, key, default=None, version=None):
        value = self._read(self._name(key, version))
        return default if value is None else value

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> None:
        name = self._name(key, version)
        expiry = self.get_backend_timeout(timeout)
        payload = _EXPIRY.pack(expiry or 0) + pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        if self.storage.exists(name):
            self.storage.delete(name)
        self.storage.save(name, ContentFile(payload))

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        if self.has_key(key, version=version):
            return False
        self.set(key, value, timeout, version)
        return True

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        value = self.get(key, version=version)
        if value is None:
            return False
        self.set(key, value, timeout, version)
        return True

    def delete(self, key, version=None) -> bool:
        name = self._name(key, version)
        if not self.storage.exists(name):
            return False
        self.storage.delete(name)
        return True

    def has_key(self, key, version=None) -> bool:
        return self._read(self._name(key, version)) is not None

    def clear(self) -> None:
        _directories, files = self.storage.listdir("")
        for name in files:
            if name.endswith(".cache"):
                self.storage.delete(name)
