"""ACLs and authentication: get/set ACL, NoAuth, digest, super digest,
`auth` scheme, ip scheme (wire-protocol.md 8.5, 12.1)."""
import pytest
from kazoo.exceptions import (AuthFailedError, BadVersionError, InvalidACLError, NoAuthError,
                              NoNodeError)
from kazoo.security import (ACL, Id, OPEN_ACL_UNSAFE, Permissions, make_acl,
                            make_digest_acl, make_digest_acl_credential)

import kzext
import rawzk
from helpers import start_server, stop_server

SUPER_PASSWORD = "s3cret"


def acl_tuples(acls):
    return [(a.perms, a.id.scheme, a.id.id) for a in acls]


# ------------------------------------------------------------------ get/set ACL
def test_get_acls_default_open(zk, base):
    zk.create(base + "/a")
    acls, stat = zk.get_acls(base + "/a")
    assert acl_tuples(acls) == [(31, "world", "anyone")]
    assert stat == zk.exists(base + "/a")
    assert stat.aversion == 0


def test_get_acls_missing_is_nonode(zk, base):
    with pytest.raises(NoNodeError):
        zk.get_acls(base + "/none")
    with pytest.raises(NoNodeError):
        zk.set_acls(base + "/none", OPEN_ACL_UNSAFE)


def test_set_acls_bumps_aversion_only(zk, base):
    zk.create(base + "/a", b"d")
    before = zk.exists(base + "/a")
    new = [make_acl("world", "anyone", read=True, write=True)]
    stat = zk.set_acls(base + "/a", new)
    assert stat.aversion == 1
    assert (stat.version, stat.mzxid, stat.cversion, stat.pzxid) == (
        before.version, before.mzxid, before.cversion, before.pzxid)
    acls, stat2 = zk.get_acls(base + "/a")
    assert acl_tuples(acls) == [(3, "world", "anyone")]
    assert stat2 == stat


def test_set_acls_version_is_aversion(zk, base):
    zk.create(base + "/a")
    zk.set(base + "/a", b"x")  # data version 1, aversion still 0
    with pytest.raises(BadVersionError):
        zk.set_acls(base + "/a", OPEN_ACL_UNSAFE, version=1)
    assert zk.set_acls(base + "/a", OPEN_ACL_UNSAFE, version=0).aversion == 1
    with pytest.raises(BadVersionError):
        zk.set_acls(base + "/a", OPEN_ACL_UNSAFE, version=0)
    assert zk.set_acls(base + "/a", OPEN_ACL_UNSAFE, version=1).aversion == 2
    assert zk.set_acls(base + "/a", OPEN_ACL_UNSAFE, version=-1).aversion == 3


def test_set_acls_dedups(zk, base):
    zk.create(base + "/a")
    dup = [make_acl("world", "anyone", all=True)] * 3
    zk.set_acls(base + "/a", dup)
    assert acl_tuples(zk.get_acls(base + "/a")[0]) == [(31, "world", "anyone")]


@pytest.mark.parametrize("acl", [
    [],
    [(31, "world", "nobody")],
    [(31, "bogus", "x")],
    [(31, "digest", "nocolon")],
    [(31, "ip", "not.an.ip")],
    [(31, "ip", "10.0.0.0/33")],
    [(31, "ip", "::1")],
    [(31, "auth", "")],  # this connection has no authenticated id
])
def test_set_acl_invalid(raw, zk, base, acl):
    zk.create(base + "/a")
    assert raw.set_acl(base + "/a", acl)[0] == rawzk.INVALIDACL
    assert raw.create(base + "/b", acl=acl)[0] == rawzk.INVALIDACL
    assert zk.exists(base + "/a").aversion == 0


# ------------------------------------------------------------------ NoAuth
def test_no_auth_on_every_operation(zk_factory, base):
    owner = zk_factory(auth_data=[("digest", "owner:pw")])
    acl = [make_digest_acl("owner", "pw", all=True)]
    owner.create(base + "/secret", b"s", acl=acl)
    owner.create(base + "/secret/child", b"c")
    other = zk_factory()
    with pytest.raises(NoAuthError):
        other.get(base + "/secret")
    with pytest.raises(NoAuthError):
        other.set(base + "/secret", b"x")
    with pytest.raises(NoAuthError):
        other.get_children(base + "/secret")
    with pytest.raises(NoAuthError):
        other.get_children(base + "/secret", include_data=True)
    with pytest.raises(NoAuthError):
        other.create(base + "/secret/new")  # CREATE is checked on the parent
    with pytest.raises(NoAuthError):
        other.delete(base + "/secret/child")  # DELETE is checked on the parent
    with pytest.raises(NoAuthError):
        other.get_acls(base + "/secret")
    with pytest.raises(NoAuthError):
        other.set_acls(base + "/secret", OPEN_ACL_UNSAFE)
    with pytest.raises(NoAuthError):
        kzext.get_all_children_number(other, base + "/secret")
    # the node itself can be deleted: DELETE is checked on the (open) parent
    # -- but it has a child, so check the data is intact instead
    assert owner.get(base + "/secret")[0] == b"s"
    # the child has an open ACL and is readable
    assert other.get(base + "/secret/child")[0] == b"c"


def test_nonode_is_reported_before_noauth_for_missing_child(zk_factory, base):
    owner = zk_factory(auth_data=[("digest", "owner:pw")])
    owner.create(base + "/s", acl=[make_digest_acl("owner", "pw", all=True)])
    other = zk_factory()
    with pytest.raises(NoNodeError):
        other.get(base + "/s/missing")
    with pytest.raises(NoNodeError):
        other.create(base + "/missing/x")


def test_permission_bits_are_independent(zk_factory, zk, base):
    zk.create(base + "/r", b"r", acl=[make_acl("world", "anyone", read=True)])
    with pytest.raises(NoAuthError):
        zk.set(base + "/r", b"w")
    with pytest.raises(NoAuthError):
        zk.create(base + "/r/c")
    assert zk.get(base + "/r")[0] == b"r"
    zk.create(base + "/w", b"", acl=[make_acl("world", "anyone", write=True)])
    zk.set(base + "/w", b"ok")
    with pytest.raises(NoAuthError):
        zk.get(base + "/w")
    zk.create(base + "/c", acl=[make_acl("world", "anyone", create=True)])
    zk.create(base + "/c/kid")
    with pytest.raises(NoAuthError):
        zk.delete(base + "/c/kid")
    zk.create(base + "/d", acl=[make_acl("world", "anyone", delete=True, create=True)])
    zk.create(base + "/d/kid")
    zk.delete(base + "/d/kid")
    zk.create(base + "/ad", acl=[make_acl("world", "anyone", admin=True)])
    acls, _ = zk.get_acls(base + "/ad")  # ADMIN alone is enough for getACL
    assert acl_tuples(acls) == [(16, "world", "anyone")]
    zk.set_acls(base + "/ad", OPEN_ACL_UNSAFE)
    assert zk.get(base + "/ad")[0] == b""


# ------------------------------------------------------------------ digest
def test_digest_auth_grants_access(zk_factory, base):
    owner = zk_factory()
    owner.add_auth("digest", "alice:pw")
    acl = [make_digest_acl("alice", "pw", all=True)]
    owner.create(base + "/d", b"x", acl=acl)
    assert owner.get(base + "/d")[0] == b"x"
    acls, _ = owner.get_acls(base + "/d")
    assert acl_tuples(acls) == [(31, "digest", make_digest_acl_credential("alice", "pw"))]
    wrong = zk_factory(auth_data=[("digest", "alice:wrong")])  # accepted, just another id
    with pytest.raises(NoAuthError):
        wrong.get(base + "/d")
    right = zk_factory(auth_data=[("digest", "alice:pw")])
    assert right.get(base + "/d")[0] == b"x"


def test_digest_ids_masked_without_admin(zk_factory, base):
    owner = zk_factory(auth_data=[("digest", "bob:pw")])
    acl = [make_digest_acl("bob", "pw", all=True), make_acl("world", "anyone", read=True)]
    owner.create(base + "/m", acl=acl)
    other = zk_factory()
    acls, _ = other.get_acls(base + "/m")
    assert acl_tuples(acls) == [(31, "digest", "bob:x"), (1, "world", "anyone")]
    acls, _ = owner.get_acls(base + "/m")
    assert acl_tuples(acls)[0] == (31, "digest", make_digest_acl_credential("bob", "pw"))


def test_who_am_i(zk_factory):
    """Apache keeps auth ids in a hash set, so their order is unspecified."""
    c = zk_factory()
    assert kzext.who_am_i(c) == [("ip", "127.0.0.1")]
    c.add_auth("digest", "carol:pw")
    assert sorted(kzext.who_am_i(c)) == [("digest", "carol"), ("ip", "127.0.0.1")]
    c.add_auth("digest", "carol:pw")  # the same id is not added twice
    c.add_auth("digest", "dave:pw")
    assert sorted(kzext.who_am_i(c)) == [("digest", "carol"), ("digest", "dave"), ("ip", "127.0.0.1")]


def test_auth_unknown_scheme_fails_client(zk_factory):
    c = zk_factory()
    with pytest.raises(AuthFailedError):
        c.add_auth("nosuchscheme", "x")


# ------------------------------------------------------------------ auth scheme
def test_auth_scheme_expands_to_authenticated_ids(zk_factory, base):
    c = zk_factory(auth_data=[("digest", "u1:p1"), ("digest", "u2:p2")])
    c.create(base + "/a", b"v", acl=[ACL(Permissions.ALL, Id("auth", "ignored"))])
    acls, _ = c.get_acls(base + "/a")
    assert sorted(acl_tuples(acls)) == sorted([
        (31, "digest", make_digest_acl_credential("u1", "p1")),
        (31, "digest", make_digest_acl_credential("u2", "p2")),
    ])
    u2 = zk_factory(auth_data=[("digest", "u2:p2")])
    assert u2.get(base + "/a")[0] == b"v"
    anon = zk_factory()
    with pytest.raises(NoAuthError):
        anon.get(base + "/a")


def test_auth_scheme_in_set_acls(zk_factory, base):
    c = zk_factory(auth_data=[("digest", "x:y")])
    c.create(base + "/a")
    c.set_acls(base + "/a", [ACL(Permissions.READ | Permissions.ADMIN, Id("auth", ""))])
    acls, stat = c.get_acls(base + "/a")
    assert acl_tuples(acls) == [(17, "digest", make_digest_acl_credential("x", "y"))]
    assert stat.aversion == 1


def test_auth_scheme_without_authentication_is_invalidacl(zk, base):
    with pytest.raises(InvalidACLError):
        zk.create(base + "/a", acl=[ACL(Permissions.ALL, Id("auth", ""))])


# ------------------------------------------------------------------ ip
def test_ip_acls(zk, base):
    zk.create(base + "/mine", b"m", acl=[make_acl("ip", "127.0.0.1", all=True)])
    assert zk.get(base + "/mine")[0] == b"m"
    zk.create(base + "/net", b"n", acl=[make_acl("ip", "127.0.0.0/8", all=True)])
    assert zk.get(base + "/net")[0] == b"n"
    zk.create(base + "/far", b"f", acl=[make_acl("ip", "10.1.2.3", all=True)])
    with pytest.raises(NoAuthError):
        zk.get(base + "/far")
    zk.create(base + "/farnet", b"f", acl=[make_acl("ip", "10.0.0.0/8", all=True)])
    with pytest.raises(NoAuthError):
        zk.get(base + "/farnet")
    zk.create(base + "/all", b"a", acl=[make_acl("ip", "0.0.0.0/0", read=True)])
    assert zk.get(base + "/all")[0] == b"a"


def test_ip_auth_packet_is_accepted(raw):
    assert raw.auth("ip", b"").err == 0
    assert raw.who_am_i() == (0, [("ip", "127.0.0.1")])


# ------------------------------------------------------------------ super
@pytest.fixture(scope="module")
def super_server():
    digest = make_digest_acl_credential("super", SUPER_PASSWORD)
    srv = start_server(props={"zookeeper.DigestAuthenticationProvider.superDigest": digest})
    yield srv
    stop_server(srv)


def test_super_digest_bypasses_acls(super_server, zk_factory):
    owner = zk_factory(super_server, auth_data=[("digest", "own:pw")])
    owner.create("/locked", b"L", acl=[make_digest_acl("own", "pw", all=True)])
    owner.create("/locked/kid")
    anon = zk_factory(super_server)
    with pytest.raises(NoAuthError):
        anon.get("/locked")
    su = zk_factory(super_server, auth_data=[("digest", "super:" + SUPER_PASSWORD)])
    assert su.get("/locked")[0] == b"L"
    su.set("/locked", b"M")
    su.create("/locked/new")
    su.delete("/locked/kid")
    acls, _ = su.get_acls("/locked")  # super counts as ADMIN: no masking
    assert acl_tuples(acls) == [(31, "digest", make_digest_acl_credential("own", "pw"))]
    su.set_acls("/locked", OPEN_ACL_UNSAFE)
    assert anon.get("/locked")[0] == b"M"
    assert sorted(kzext.who_am_i(su)) == [("digest", "super"), ("ip", "127.0.0.1"), ("super", "")]


def test_wrong_super_password_is_plain_digest(super_server, zk_factory):
    owner = zk_factory(super_server, auth_data=[("digest", "own2:pw")])
    owner.create("/locked2", acl=[make_digest_acl("own2", "pw", all=True)])
    notsu = zk_factory(super_server, auth_data=[("digest", "super:wrong")])
    with pytest.raises(NoAuthError):
        notsu.get("/locked2")
    assert sorted(kzext.who_am_i(notsu)) == [("digest", "super"), ("ip", "127.0.0.1")]
