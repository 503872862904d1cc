"""Crash consistency: writers run while the server is SIGKILLed at random
moments; after every restart on the same data directory each acknowledged
write is there (data, version, zxids), no sequence number or zxid is handed out
twice, and a write whose reply never came is either wholly applied or not at
all (a multi's two creates and its counter bump are all-or-nothing).

Runs against the server under test (ZK_COMPAT_TARGET; passes against Apache
ZooKeeper 3.8.0). Randomness (kill moments, operation mix, data) comes from one
seed, printed and part of every failure message: DURABILITY_SEED=<n> reruns
the same schedule (thread timing still varies). DURABILITY_CYCLES overrides
the number of kill/restart cycles (default 30).
"""
import os
import random
import socket
import threading
import time

import durability as d
import rawzk
import servers
from helpers import TARGET

CYCLES = int(os.environ.get("DURABILITY_CYCLES", "30"))
WRITERS = 3
# A small snapCount makes the server take (fuzzy) snapshots while the writers
# run, so recovery loads a snapshot and replays the log after it.
PROPS = {"zookeeper.snapCount": "100"}

DOWN = (rawzk.ServerClosed, OSError, socket.timeout, TimeoutError, ConnectionError)


class Failure(AssertionError):
    pass


class Writer:
    """One client thread's namespace /c/w<k> and its model of what the
    server acknowledged. At most one request is in doubt at a time (the one
    in flight when the server died): `pending`. Deletes keep the tree (and so
    the server's snapshot and recovery time) from growing without bound."""

    KEEP = 60  # plain / sequential nodes per writer above which deletes win

    def __init__(self, k, seed):
        self.k = k
        self.base = f"/c/w{k}"
        self.rng = random.Random(seed * 7919 + k)
        self.created = {}      # name -> (data, czxid)   plain persistent creates, never modified
        self.seq = {}          # name -> (data, czxid)   sequential creates under s/
        self.fresh = set()     # names ("x" or "s/x") created since the last verification
        self.seq_max = -1      # highest sequence number acknowledged or observed
        self.v = (0, b"", 0)   # counter node v: (version, data, mzxid)
        self.multis = []       # N of the multis whose pair m/N-a, m/N-b exists, oldest first
        self.mc = (0, b"")     # multi counter mc: (version, data)
        self.pending = None
        self.next_id = 0
        self.acked = 0
        self.max_zxid = 0      # highest zxid in an acknowledged reply
        self.floor = 0         # every new zxid must be above this (max acked before the crash)
        self.errors = []
        self.doubt = {"applied": 0, "not applied": 0}

    # ------------------------------------------------------------ one cycle
    def run(self, srv, stop):
        try:
            c = rawzk.RawZK.session(srv.host, srv.port, timeout=4000)
        except DOWN:
            return
        try:
            while not stop.is_set():
                self.step(c)
        except DOWN:
            pass  # the server died; self.pending is the request in doubt
        except Failure as e:
            self.errors.append(str(e))
        except Exception as e:  # noqa: BLE001 - e.g. a garbled reply; fails the test
            self.errors.append(f"w{self.k}: {type(e).__name__}: {e}")
        finally:
            c.close()

    def _zxid(self, z, what):
        if z <= self.floor:
            raise Failure(f"w{self.k}: {what} got zxid {z:#x}, not above {self.floor:#x} "
                          f"acknowledged before the last crash (zxid reused)")
        self.max_zxid = max(self.max_zxid, z)

    def _data(self, tag):
        n = self.rng.randrange(0, 120)
        return (tag + ":").encode() + bytes(self.rng.randrange(256) for _ in range(n))

    def step(self, c):
        r = self.rng.random()
        self.next_id += 1
        i = self.next_id
        tag = f"w{self.k}"
        if r < 0.25 and (len(self.created) + len(self.seq) > self.KEEP or r < 0.08) \
                and (self.created or self.seq):
            # delete (version-checked) a node this writer created
            pool = self.created if len(self.created) >= len(self.seq) else self.seq
            name = self.rng.choice(sorted(pool))
            rel = name if pool is self.created else "s/" + name
            self.pending = ("delete", rel)
            err, _ = c.delete(f"{self.base}/{rel}", version=0)
            if err:
                raise Failure(f"{tag}: delete {rel} failed with {err}")
            del pool[name]
            self.fresh.discard(rel)
        elif r < 0.35:
            name, data = f"n{self.k}_{i}", self._data(f"n{i}")
            self.pending = ("create", name, data)
            err, res = c.create(f"{self.base}/{name}", data, op=rawzk.OP_CREATE2)
            if err:
                raise Failure(f"{tag}: create {name} failed with {err}")
            self._zxid(res[1].czxid, f"create {name}")
            self.created[name] = (data, res[1].czxid)
            self.fresh.add(name)
        elif r < 0.55:
            data = self._data(f"q{i}")
            self.pending = ("seq", data)
            err, res = c.create(f"{self.base}/s/q-", data, flags=rawzk.PERSISTENT_SEQUENTIAL,
                                op=rawzk.OP_CREATE2)
            if err:
                raise Failure(f"{tag}: sequential create failed with {err}")
            path, st = res
            name = path.rsplit("/", 1)[1]
            n = int(name[2:])
            if n <= self.seq_max:
                raise Failure(f"{tag}: sequence number {n} handed out again "
                              f"(highest seen before: {self.seq_max}) for {path}")
            self._zxid(st.czxid, f"sequential create {path}")
            self.seq_max = n
            self.seq[name] = (data, st.czxid)
            self.fresh.add("s/" + name)
        elif r < 0.8:
            ver = self.v[0]
            data = self._data(f"v{i}")
            self.pending = ("set", ver, data)
            err, st = c.set_data(f"{self.base}/v", data, version=ver)
            if err:
                raise Failure(f"{tag}: setData v (version {ver}) failed with {err}")
            if st.version != ver + 1:
                raise Failure(f"{tag}: setData v from version {ver} returned version {st.version}")
            self._zxid(st.mzxid, "setData v")
            self.v = (st.version, data, st.mzxid)
        else:
            # create a pair, bump the counter, and drop the oldest pair: all or nothing
            n, ver = i, self.mc[0]
            old = self.multis[0] if len(self.multis) > 10 else None
            ops = [(rawzk.OP_CREATE, rawzk.create_body(f"{self.base}/m/{n}-a", b"a%d" % n)),
                   (rawzk.OP_CREATE, rawzk.create_body(f"{self.base}/m/{n}-b", b"b%d" % n)),
                   (rawzk.OP_SETDATA, rawzk.setdata_body(f"{self.base}/mc", b"%d" % n, ver))]
            if old is not None:
                ops += [(rawzk.OP_DELETE, rawzk.delete_body(f"{self.base}/m/{old}-a")),
                        (rawzk.OP_DELETE, rawzk.delete_body(f"{self.base}/m/{old}-b"))]
            self.pending = ("multi", n, ver, old)
            rep, res = c.multi(ops)
            if rep.err or res is None or any(x[1] for x in res):
                raise Failure(f"{tag}: multi {n} failed: {rep.err} {res}")
            self._zxid(rep.zxid, f"multi {n}")
            self._apply_multi(n, ver, old)
        self.pending = None
        self.acked += 1

    def _apply_multi(self, n, ver, old):
        if old is not None:
            self.multis.remove(old)
        self.multis.append(n)
        self.mc = (ver + 1, b"%d" % n)

    # ------------------------------------------------------------ checking
    def verify(self, c, full, rng):
        """Compare the server's state with the model, resolving the request in
        doubt (applied wholly -> adopted into the model; not at all -> dropped;
        anything else -> failure). Raises Failure."""
        p = self.pending
        self.pending = None
        tag = f"w{self.k}"
        applied = False

        def get(path):
            err, res = c.get_data(path)
            if err:
                raise Failure(f"{tag}: {path} missing after restart (error {err})")
            return res

        def children(path):
            err, kids = c.get_children(path)
            if err:
                raise Failure(f"{tag}: {path} missing after restart (error {err})")
            return set(kids)

        # resolve an in-doubt create / sequential create / delete by presence
        kids = children(self.base)
        if {"s", "m", "v", "mc"} - kids:
            raise Failure(f"{tag}: fixed children missing: {sorted(kids)}")
        names = kids - {"s", "m", "v", "mc"}
        seqs = children(f"{self.base}/s")
        if p and p[0] == "create" and p[1] in names and p[1] not in self.created:
            data, st = get(f"{self.base}/{p[1]}")
            if data != p[2] or st.version != 0:
                raise Failure(f"{tag}: unacknowledged create {p[1]} half-applied: {data!r:.60} {st}")
            self.created[p[1]] = (data, st.czxid)
            self.fresh.add(p[1])
            applied = True
        if p and p[0] == "seq":
            new = seqs - set(self.seq)
            if len(new) == 1:
                name = new.pop()
                data, st = get(f"{self.base}/s/{name}")
                n = int(name[2:])
                if data != p[1] or n <= self.seq_max:
                    raise Failure(f"{tag}: unacknowledged sequential create {name} wrong: data {data!r:.60}, "
                                  f"number {n} vs highest acknowledged {self.seq_max}")
                self.seq[name] = (data, st.czxid)
                self.seq_max = n
                self.fresh.add("s/" + name)
                applied = True
        if p and p[0] == "delete":
            rel = p[1]
            pool, name, present = ((self.seq, rel[2:], rel[2:] in seqs) if rel.startswith("s/")
                                   else (self.created, rel, rel in names))
            if not present:
                del pool[name]
                self.fresh.discard(rel)
                applied = True
        # now the server must hold exactly the model
        for what, have, want in (("plain", names, set(self.created)), ("sequential", seqs, set(self.seq))):
            if have != want:
                raise Failure(f"{tag}: {what} nodes differ: acknowledged but missing "
                              f"{sorted(want - have)[:8]}, present but never acknowledged or in doubt "
                              f"{sorted(have - want)[:8]} (in doubt: {p})")

        # data and czxid of new nodes, a sample of old ones (all of them when full)
        olds = [x for x in list(self.created) + ["s/" + s for s in self.seq] if x not in self.fresh]
        check = set(self.fresh) | set(olds if full else rng.sample(olds, min(len(olds), 15)))
        for x in sorted(check):
            want = self.seq[x[2:]] if x.startswith("s/") else self.created[x]
            data, st = get(f"{self.base}/{x}")
            if (data, st.czxid, st.mzxid, st.version) != (want[0], want[1], want[1], 0):
                raise Failure(f"{tag}: {x} is {data!r:.60} czxid {st.czxid:#x} mzxid {st.mzxid:#x} "
                              f"version {st.version}; acknowledged {want[0]!r:.60} czxid {want[1]:#x}")
        self.fresh.clear()

        # setData counter
        data, st = get(f"{self.base}/v")
        ver, vdata, mz = self.v
        if st.version == ver:
            if (data, st.mzxid) != (vdata, mz):
                raise Failure(f"{tag}: v version {ver} holds {data!r:.60} mzxid {st.mzxid:#x}, "
                              f"acknowledged {vdata!r:.60} mzxid {mz:#x}")
        elif p and p[0] == "set" and p[1] == ver and st.version == ver + 1 and data == p[2]:
            self.v = (st.version, data, st.mzxid)
            applied = True
        else:
            raise Failure(f"{tag}: v is version {st.version} data {data!r:.60}; acknowledged version {ver}"
                          f" (in doubt: {p and p[0]})")

        # multis: each pair whole, the set of pairs and the counter consistent
        pairs = {}
        for name in children(f"{self.base}/m"):
            n, half = name.split("-")
            pairs.setdefault(int(n), set()).add(half)
        half = {n: h for n, h in pairs.items() if h != {"a", "b"}}
        if half:
            raise Failure(f"{tag}: multi half applied (only some of its creates/deletes visible): {half}")
        data, st = get(f"{self.base}/mc")
        if p and p[0] == "multi" and p[1] in pairs:
            # applied: its pair, its counter bump and its delete of the oldest pair
            self._apply_multi(p[1], p[2], p[3])
            applied = True
        if set(pairs) != set(self.multis) or (st.version, data) != self.mc:
            raise Failure(f"{tag}: multis inconsistent (in doubt: {p}): pairs present {sorted(pairs)[-12:]}, "
                          f"expected {self.multis[-12:]}; counter version {st.version} data {data!r}, "
                          f"expected {self.mc}")
        if full:
            for n in self.multis:
                for h in "ab":
                    got = get(f"{self.base}/m/{n}-{h}")[0]
                    if got != b"%s%d" % (h.encode(), n):
                        raise Failure(f"{tag}: m/{n}-{h} holds {got!r}")
        self.floor = max(self.floor, self.max_zxid)
        if p:
            self.doubt["applied" if applied else "not applied"] += 1


def test_sigkill_while_writing():
    rng, seed = d.seeded_rng("crash test")
    srv = d.make_server(TARGET, props=PROPS)
    writers = [Writer(k, seed) for k in range(WRITERS)]
    history = []
    try:
        d.start(srv)
        c = rawzk.RawZK.session(srv.host, srv.port)
        assert c.create("/c")[0] == 0
        for w in writers:
            for p in ("", "/s", "/m", "/v", "/mc"):
                assert c.create(w.base + p)[0] == 0
        c.close()
        t0 = time.monotonic()
        for cycle in range(CYCLES):
            stop = threading.Event()
            threads = [threading.Thread(target=w.run, args=(srv, stop), daemon=True) for w in writers]
            for t in threads:
                t.start()
            delay = rng.uniform(0.05, 0.7)
            time.sleep(delay)
            d.crash(srv)
            stop.set()
            for t in threads:
                t.join(15)
                assert not t.is_alive(), f"seed {seed}: writer thread stuck after the kill"
            errors = [e for w in writers for e in w.errors]
            assert not errors, f"seed {seed}, cycle {cycle}: " + "; ".join(errors)
            history.append(f"cycle {cycle}: killed after {delay:.3f}s, acked so far "
                           f"{sum(w.acked for w in writers)}, in doubt "
                           f"{[w.pending and w.pending[0] for w in writers]}")
            d.start(srv)
            # Replay compared each logged TxnDigest (written under concurrent
            # load, after fuzzy snapshots) with the tree it rebuilt.
            mntr = dict(l.split("\t", 1) for l in servers.four_letter(srv.port, "mntr").splitlines() if "\t" in l)
            assert mntr.get("zk_digest_mismatches_count") == "0", \
                f"seed {seed}, after cycle {cycle}: {mntr.get('zk_digest_mismatches_count')} digest mismatches in replay"
            c = rawzk.RawZK.session(srv.host, srv.port)
            try:
                for w in writers:
                    w.verify(c, full=(cycle == CYCLES - 1), rng=rng)
            except Failure as e:
                raise AssertionError(f"seed {seed}, after cycle {cycle} (killed {delay:.3f}s in): {e}\n"
                                     + "\n".join(history[-5:])) from None
            finally:
                c.close()
        took = time.monotonic() - t0
        total = sum(w.acked for w in writers)
        print(f"{CYCLES} cycles in {took:.1f}s, {total} acknowledged writes, "
              f"{len(d.snapshot_files(srv))} snapshots, {len(d.log_files(srv))} logs, requests in doubt: "
              f"{sum(w.doubt['applied'] for w in writers)} applied, "
              f"{sum(w.doubt['not applied'] for w in writers)} not applied")
        assert total >= CYCLES * 5, f"seed {seed}: only {total} writes acknowledged in {CYCLES} cycles"
    finally:
        d.dispose(srv)
