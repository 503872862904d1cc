"""Request classes kazoo 2.11.0 lacks, sent through kazoo's own connection.

The installed kazoo has no API for createContainer, createTTL,
getAllChildrenNumber, getEphemerals, whoAmI, checkWatches or removeWatches,
and no add_watch (persistent watches are exercised with rawzk instead). Kazoo's
connection loop accepts any request object with `type`, `serialize()` and
`deserialize(bytes, offset)`, so these are small namedtuples in kazoo's own
style, submitted with `call(client, request)`.
"""
from collections import namedtuple

from kazoo.protocol.serialization import (
    int_struct, long_struct, read_string, stat_struct, write_buffer, write_string)
from kazoo.protocol.states import ZnodeStat
from kazoo.security import OPEN_ACL_UNSAFE


def _acl_bytes(acls):
    b = bytearray(int_struct.pack(len(acls)))
    for acl in acls:
        b += int_struct.pack(acl.perms) + write_string(acl.id.scheme) + write_string(acl.id.id)
    return b


def _read_create2(buf, offset):
    path, offset = read_string(buf, offset)
    return path, ZnodeStat._make(stat_struct.unpack_from(buf, offset))


class CreateContainer(namedtuple("CreateContainer", "path data acl flags")):
    type = 19

    def serialize(self):
        return (bytearray(write_string(self.path)) + write_buffer(self.data)
                + _acl_bytes(self.acl) + int_struct.pack(self.flags))

    @classmethod
    def deserialize(cls, buf, offset):
        return _read_create2(buf, offset)


class CreateTTL(namedtuple("CreateTTL", "path data acl flags ttl")):
    type = 21

    def serialize(self):
        return (bytearray(write_string(self.path)) + write_buffer(self.data)
                + _acl_bytes(self.acl) + int_struct.pack(self.flags) + long_struct.pack(self.ttl))

    @classmethod
    def deserialize(cls, buf, offset):
        return _read_create2(buf, offset)


class GetAllChildrenNumber(namedtuple("GetAllChildrenNumber", "path")):
    type = 104

    def serialize(self):
        return bytearray(write_string(self.path))

    @classmethod
    def deserialize(cls, buf, offset):
        return int_struct.unpack_from(buf, offset)[0]


class GetEphemerals(namedtuple("GetEphemerals", "prefix")):
    type = 103

    def serialize(self):
        return bytearray(write_string(self.prefix))

    @classmethod
    def deserialize(cls, buf, offset):
        n = int_struct.unpack_from(buf, offset)[0]
        offset += 4
        out = []
        for _ in range(max(n, 0)):
            s, offset = read_string(buf, offset)
            out.append(s)
        return out


class WhoAmI(namedtuple("WhoAmI", "")):
    type = 107

    def __bool__(self):  # kazoo skips completing requests that are falsy
        return True

    def serialize(self):
        return bytearray()

    @classmethod
    def deserialize(cls, buf, offset):
        n = int_struct.unpack_from(buf, offset)[0]
        offset += 4
        out = []
        for _ in range(max(n, 0)):
            scheme, offset = read_string(buf, offset)
            user, offset = read_string(buf, offset)
            out.append((scheme, user))
        return out


class CheckWatches(namedtuple("CheckWatches", "path wtype")):
    type = 17

    def serialize(self):
        return bytearray(write_string(self.path)) + int_struct.pack(self.wtype)

    @classmethod
    def deserialize(cls, buf, offset):
        return True


class RemoveWatches(namedtuple("RemoveWatches", "path wtype")):
    type = 18

    def serialize(self):
        return bytearray(write_string(self.path)) + int_struct.pack(self.wtype)

    @classmethod
    def deserialize(cls, buf, offset):
        return True


def call(client, request, timeout=10.0):
    """Send `request` on kazoo client `client` and return its decoded reply
    (raises the kazoo exception for an error reply)."""
    result = client.handler.async_result()
    client._call(request, result)
    return result.get(timeout=timeout)


def create_container(client, path, data=b"", acl=None):
    return call(client, CreateContainer(path, data, acl or OPEN_ACL_UNSAFE, 4))


def create_ttl(client, path, ttl, data=b"", acl=None, sequence=False):
    return call(client, CreateTTL(path, data, acl or OPEN_ACL_UNSAFE, 6 if sequence else 5, ttl))


def get_all_children_number(client, path):
    return call(client, GetAllChildrenNumber(path))


def get_ephemerals(client, prefix="/"):
    return call(client, GetEphemerals(prefix))


def who_am_i(client):
    return call(client, WhoAmI())
