#!/usr/bin/env python3
"""Writes the hand-built captures of the libpcap differential test (issue 35).

Usage: make_captures.py OUTDIR

Each file is one case where a pcapng (or pcap) reader may read or refuse
differently from libpcap: section versions, interface options, snaplens,
byte orders, simple packet blocks, link types, damaged blocks. The test
(tests/pcap/pcap_diff_test.cpp) reads every file with libpcap and with
vringsim and compares what each read; tests/pcap/differences.txt names the
files where vringsim refuses on purpose (docs/contract.md, "Captures read as
libpcap reads them").
"""
import os
import struct
import sys

SHB, IDB, PB, SPB, EPB, NRB = 0x0A0D0D0A, 1, 2, 3, 6, 4
MAGIC = 0x1A2B3C4D


class Order:
    def __init__(self, big=False):
        self.p = ">" if big else "<"

    def pack(self, fmt, *v):
        return struct.pack(self.p + fmt, *v)


def block(o, btype, body, trailer=None, length=None):
    """A block: type, length, body padded to 4, trailing length."""
    body = body + b"\0" * (-len(body) % 4)
    n = 12 + len(body) if length is None else length
    return o.pack("II", btype, n) + body + o.pack("I", n if trailer is None else trailer)


def shb(o, major=1, minor=0, trailer=None, length=None, extra=b""):
    body = o.pack("IHHq", MAGIC, major, minor, -1) + extra
    return block(o, SHB, body, trailer, length)


def opt(o, code, value):
    return o.pack("HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def tsresol(o, v):
    return opt(o, 9, bytes([v]))


def tsoffset(o, s):
    return opt(o, 14, o.pack("q", s))


END = None  # opt_endofopt marker, added by idb()


def idb(o, linktype=1, snaplen=262144, options=(), end=True):
    body = o.pack("HHI", linktype, 0, snaplen) + b"".join(options)
    if options and end:
        body += o.pack("HH", 0, 0)
    return block(o, IDB, body)


def frame(n, first=0x45):
    """n bytes: an Ethernet/IPv4 start, then a counting pattern."""
    head = bytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00, first])
    return (head + bytes((i * 7) & 0xFF for i in range(max(0, n - len(head)))))[:n]


def epb(o, ts, caplen, origlen=None, iface=0, data=None, opts=b""):
    origlen = caplen if origlen is None else origlen
    data = frame(caplen) if data is None else data
    data = data + b"\0" * (-len(data) % 4)
    body = o.pack("IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, caplen, origlen) + data + opts
    return block(o, EPB, body)


def pb(o, ts, caplen, origlen=None, iface=0):
    origlen = caplen if origlen is None else origlen
    body = o.pack("HHIIII", iface, 0, ts >> 32, ts & 0xFFFFFFFF, caplen, origlen) + frame(caplen)
    return block(o, PB, body)


def spb(o, origlen, stored=None):
    stored = origlen if stored is None else stored
    return block(o, SPB, o.pack("I", origlen) + frame(stored))


def ts_us(sec, usec=0):
    return sec * 1000000 + usec


T0 = 1700000000  # seconds since the epoch


def three_epbs(o, unit_per_s=1000000, iface=0, caplen=60):
    return b"".join(epb(o, (T0 + k) * unit_per_s + k * (unit_per_s // 4), caplen, iface=iface) for k in range(3))


def pcap_file(packets, linktype=1, snaplen=262144, magic=0xA1B2C3D4):
    """Classic pcap, little-endian: packets are (sec, subsec, caplen, origlen)."""
    out = struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)
    for sec, sub, cap, orig in packets:
        out += struct.pack("<IIII", sec, sub, cap, orig) + frame(cap)
    return out


def cases():
    le, be = Order(False), Order(True)
    c = {}
    base = lambda o=le, **kw: shb(o, **kw) + idb(o)  # noqa: E731

    # Section header versions: libpcap reads 1.0 and 1.2 in the first section.
    for major, minor in ((1, 0), (1, 1), (1, 2), (1, 3), (1, 9), (2, 0), (0, 0)):
        c[f"shb-version-{major}.{minor}.pcapng"] = shb(le, major, minor) + idb(le) + three_epbs(le)
    # Later sections: only the major version is checked.
    for major, minor in ((1, 1), (1, 3), (2, 0)):
        c[f"second-section-version-{major}.{minor}.pcapng"] = (
            base() + three_epbs(le) + shb(le, major, minor) + idb(le) + three_epbs(le))
    # A second section header before the first interface: skipped, its version unread.
    c["second-shb-before-idb-version-1.1.pcapng"] = shb(le) + shb(le, 1, 1) + idb(le) + three_epbs(le)
    c["big-endian.pcapng"] = shb(be) + idb(be) + three_epbs(be)

    # The first section header's trailing length is not checked by libpcap; later ones are.
    c["shb-bad-trailer.pcapng"] = shb(le, trailer=32) + idb(le) + three_epbs(le)
    c["second-shb-bad-trailer.pcapng"] = base() + three_epbs(le) + shb(le, trailer=32) + idb(le) + three_epbs(le)
    # The first section header's length need not be a multiple of 4 (libpcap reads that many bytes).
    c["shb-length-30.pcapng"] = le.pack("III", SHB, 30, MAGIC) + le.pack("HHq", 1, 0, -1) + b"\0" * 6 + \
        idb(le) + three_epbs(le)
    c["shb-length-24.pcapng"] = le.pack("III", SHB, 24, MAGIC) + le.pack("HHq", 1, 0, -1)[:12] + idb(le)
    # The first section header may be up to 1 MiB long (libpcap's limit for it; 16 MiB for other blocks).
    pad = lambda n: b"\0" * (n - 28)  # noqa: E731  bytes filling the block to n (options nobody reads)
    c["shb-length-1mib.pcapng"] = shb(le, extra=pad(1 << 20)) + idb(le) + three_epbs(le)
    c["shb-length-over-1mib.pcapng"] = shb(le, extra=pad((1 << 20) + 4)) + idb(le) + three_epbs(le)
    c["second-shb-over-1mib.pcapng"] = base() + three_epbs(le) + shb(le, extra=pad((1 << 20) + 4)) + idb(le) + \
        three_epbs(le)
    c["second-shb-too-short.pcapng"] = base() + three_epbs(le) + block(le, SHB, le.pack("IHH", MAGIC, 1, 0)) + \
        idb(le) + three_epbs(le)

    # Sections in different byte orders.
    c["sections-byte-order-differ.pcapng"] = base() + three_epbs(le) + shb(be) + idb(be) + three_epbs(be)
    c["sections-byte-order-differ-be-le.pcapng"] = shb(be) + idb(be) + three_epbs(be) + shb(le) + idb(le) + \
        three_epbs(le)
    c["two-sections-same-order.pcapng"] = base() + three_epbs(le) + shb(le) + idb(le) + three_epbs(le)
    c["second-section-without-interface.pcapng"] = base() + three_epbs(le) + shb(le) + three_epbs(le)

    # Interface options.
    c["tsresol-length-2.pcapng"] = shb(le) + idb(le, options=[opt(le, 9, b"\x09\x00")]) + three_epbs(le)
    c["tsresol-length-0.pcapng"] = shb(le) + idb(le, options=[opt(le, 9, b"")]) + three_epbs(le)
    c["tsresol-duplicate.pcapng"] = shb(le) + idb(le, options=[tsresol(le, 6), tsresol(le, 6)]) + three_epbs(le)
    c["tsoffset-length-4.pcapng"] = shb(le) + idb(le, options=[opt(le, 14, b"\0\0\0\0")]) + three_epbs(le)
    c["tsoffset-duplicate.pcapng"] = shb(le) + idb(le, options=[tsoffset(le, 5), tsoffset(le, 5)]) + \
        three_epbs(le)
    c["tsoffset-negative.pcapng"] = shb(le) + idb(le, options=[tsoffset(le, -T0 - 10)]) + three_epbs(le)
    c["tsoffset-positive-be.pcapng"] = shb(be) + idb(be, options=[tsoffset(be, 1000)]) + three_epbs(be)
    c["endofopt-length-4.pcapng"] = shb(le) + idb(le, options=[tsresol(le, 9), opt(le, 0, b"\0\0\0\0")],
                                                   end=False) + three_epbs(le, 10**9)
    c["options-after-endofopt.pcapng"] = shb(le) + idb(le, options=[le.pack("HH", 0, 0), tsresol(le, 3),
                                                                    tsresol(le, 3)], end=False) + three_epbs(le)
    c["option-runs-past-block.pcapng"] = shb(le) + block(le, IDB, le.pack("HHI", 1, 0, 262144) +
                                                         le.pack("HH", 2, 12) + b"abcd") + three_epbs(le)
    c["tsresol-in-second-interface-duplicate.pcapng"] = (
        shb(le) + idb(le) + three_epbs(le) + idb(le, options=[tsresol(le, 3), tsresol(le, 3)]) + three_epbs(le))
    c["idb-too-short.pcapng"] = shb(le) + block(le, IDB, le.pack("HH", 1, 0)) + three_epbs(le)
    c["shb-options-ignored.pcapng"] = shb(le, extra=tsresol(le, 0xFF) + le.pack("HH", 0, 0)) + idb(le) + \
        three_epbs(le)

    # Timestamp resolutions: 10^-n up to 19, 2^-n up to 63 are libpcap's; libpcap's
    # nanoseconds are exact for 2^-n only up to n = 34.
    for r in (0, 3, 9, 12, 19, 20, 127):
        per_s = 10**r
        sec = 0 if r >= 19 else T0  # 10^19 units already fill 64 bits in a second
        ts = [sec * per_s + per_s // 3 * k for k in range(3)]
        c[f"tsresol-10pow-{r}.pcapng"] = shb(le) + idb(le, options=[tsresol(le, r)]) + b"".join(
            epb(le, t % 2**64, 60) for t in ts)
    for n in (0, 10, 30, 34, 35, 40, 63, 64, 127):
        per_s = 2**n
        # seconds that fit 64 bits of units, and fractions near 1/3 and 0.9 of a second
        sec = min(T0, (2**64 - 1) // per_s - 1)
        ts = [sec * per_s, sec * per_s + per_s // 3, sec * per_s + per_s * 9 // 10]
        c[f"tsresol-2pow-{n}.pcapng"] = shb(le) + idb(le, options=[tsresol(le, 0x80 | n)]) + b"".join(
            epb(le, t % 2**64, 60) for t in ts)
    # 2^-40 with fractions small enough for libpcap's arithmetic: still refused by interface.
    c["tsresol-2pow-40-small-fractions.pcapng"] = shb(le) + idb(le, options=[tsresol(le, 0x80 | 40)]) + b"".join(
        epb(le, (1000 << 40) + k, 60) for k in range(3))
    # Whole seconds (10^0) up to 2^64 - 1: beyond what a signed 64-bit count of seconds holds.
    c["seconds-beyond-int64.pcapng"] = shb(le) + idb(le, options=[tsresol(le, 0)]) + epb(le, 5, 60) + \
        epb(le, 2**63, 60) + epb(le, 2**64 - 1, 60)
    c["seconds-at-int64-max.pcapng"] = shb(le) + idb(le, options=[tsresol(le, 0)]) + epb(le, 2**63 - 1, 60)
    c["tsoffset-wraps-below-int64.pcapng"] = shb(le) + idb(le, options=[tsresol(le, 0), tsoffset(le, -2**63)]) + \
        epb(le, 0, 60) + epb(le, 3, 60)

    # Snapshot lengths.
    c["caplen-above-snaplen.pcapng"] = shb(le) + idb(le, snaplen=65535) + epb(le, ts_us(T0), 60) + \
        epb(le, ts_us(T0, 5), 70000) + epb(le, ts_us(T0, 9), 60)
    c["caplen-equals-snaplen.pcapng"] = shb(le) + idb(le, snaplen=96) + epb(le, ts_us(T0), 96, 1514)
    c["snaplen-0-big-frame.pcapng"] = shb(le) + idb(le, snaplen=0) + epb(le, ts_us(T0), 70000)
    c["snaplen-above-max.pcapng"] = shb(le) + idb(le, snaplen=300000) + epb(le, ts_us(T0), 70000)
    c["interfaces-snaplen-differ.pcapng"] = shb(le) + idb(le, snaplen=65535) + three_epbs(le) + \
        idb(le, snaplen=262144) + three_epbs(le, iface=1)
    c["interfaces-snaplen-0-and-max.pcapng"] = shb(le) + idb(le, snaplen=0) + idb(le, snaplen=262144) + \
        three_epbs(le) + three_epbs(le, iface=1)
    c["sections-snaplen-differ.pcapng"] = shb(le) + idb(le, snaplen=65535) + three_epbs(le) + shb(le) + \
        idb(le, snaplen=1500) + three_epbs(le)
    c["two-interfaces.pcapng"] = shb(le) + idb(le) + idb(le, options=[tsresol(le, 9)]) + \
        epb(le, ts_us(T0), 60) + epb(le, T0 * 10**9 + 500, 61, iface=1)

    # Simple packet blocks: no timestamp (libpcap: the first interface's if_tsoffset, 0 ns),
    # captured length the smaller of the original and the snaplen.
    c["spb.pcapng"] = shb(le) + idb(le) + spb(le, 60) + spb(le, 1514) + spb(le, 64)
    c["spb-above-snaplen.pcapng"] = shb(le) + idb(le, snaplen=96) + spb(le, 1514, stored=96)
    c["spb-cut-short.pcapng"] = shb(le) + idb(le) + spb(le, 1514, stored=96)
    c["spb-with-tsoffset.pcapng"] = shb(le) + idb(le, options=[tsoffset(le, 77)]) + spb(le, 60) + \
        epb(le, ts_us(3), 60)
    c["spb-before-idb.pcapng"] = shb(le) + spb(le, 60) + idb(le)
    c["spb-be.pcapng"] = shb(be) + idb(be) + spb(be, 60)
    c["spb-second-section-no-idb.pcapng"] = base() + spb(le, 60) + shb(le) + spb(le, 60)

    # Obsolete packet blocks, unknown blocks, packets on unknown interfaces.
    c["obsolete-pb.pcapng"] = shb(le) + idb(le) + b"".join(pb(le, ts_us(T0, k), 60 + k) for k in range(3))
    c["unknown-blocks-skipped.pcapng"] = shb(le) + block(le, NRB, b"\0" * 8) + idb(le) + \
        block(le, 0x80000001, b"custom") + three_epbs(le)
    c["epb-unknown-interface.pcapng"] = shb(le) + idb(le) + epb(le, ts_us(T0), 60, iface=1)
    c["epb-before-idb.pcapng"] = shb(le) + epb(le, ts_us(T0), 60) + idb(le)
    c["epb-caplen-into-options.pcapng"] = shb(le) + idb(le) + epb(le, ts_us(T0), 64, data=frame(60),
                                                                 opts=le.pack("HH", 1, 0) + b"\0" * 0)
    c["epb-caplen-past-block.pcapng"] = shb(le) + idb(le) + epb(le, ts_us(T0), 200, data=frame(60))
    c["epb-too-short.pcapng"] = shb(le) + idb(le) + block(le, EPB, le.pack("III", 0, 0, 0))
    c["no-interface.pcapng"] = shb(le) + block(le, NRB, b"\0" * 4)
    c["block-length-8.pcapng"] = base() + le.pack("II", EPB, 8) + b"\0" * 8
    c["block-length-not-multiple-of-4.pcapng"] = base() + le.pack("II", EPB, 33) + b"\0" * 25
    c["block-bad-trailer.pcapng"] = base() + epb(le, ts_us(T0), 60)[:-4] + le.pack("I", 999)
    c["block-cut.pcapng"] = base() + three_epbs(le)[:-10]
    c["block-header-cut.pcapng"] = base() + three_epbs(le) + b"\x06\0\0"
    c["zero-length-packet.pcapng"] = base() + epb(le, ts_us(T0), 0, 0) + epb(le, ts_us(T0, 1), 60)
    c["oversized-packet.pcapng"] = base() + epb(le, ts_us(T0), 60, 300000)

    # Link types: those read from pcap are read from pcapng too.
    for lt, name in ((0, "null"), (1, "ethernet"), (12, "dlt-raw-12"), (101, "raw"), (108, "loop"),
                     (113, "linux-sll"), (228, "ipv4"), (229, "ipv6"), (276, "linux-sll2"), (105, "802.11")):
        c[f"linktype-{lt}-{name}.pcapng"] = shb(le) + idb(le, linktype=lt) + three_epbs(le)
        c[f"linktype-{lt}-{name}.pcap"] = pcap_file([(T0, k, 60, 60) for k in range(3)], linktype=lt)
    c["linktype-101-two-interfaces.pcapng"] = shb(le) + idb(le, linktype=101) + idb(le, linktype=101) + \
        three_epbs(le) + three_epbs(le, iface=1)
    c["linktype-101-then-12.pcapng"] = shb(le) + idb(le, linktype=101) + idb(le, linktype=12) + \
        three_epbs(le) + three_epbs(le, iface=1)
    c["linktype-1-then-113.pcapng"] = shb(le) + idb(le) + three_epbs(le) + idb(le, linktype=113) + \
        three_epbs(le, iface=1)
    c["linktype-101-second-section.pcapng"] = shb(le) + idb(le, linktype=101) + three_epbs(le) + shb(le) + \
        idb(le, linktype=101) + three_epbs(le)

    # Classic pcap: the "modified" (Kuznetzov) magic libpcap also reads, zero and oversized lengths.
    c["kuznetzov-magic.pcap"] = struct.pack("<IHHiIII", 0xA1B2CD34, 2, 4, 0, 0, 262144, 1) + b"".join(
        struct.pack("<IIIIIHBB", T0, k, 60, 60, 0, 0, 0, 0) + frame(60) for k in range(3))
    c["zero-length-packet.pcap"] = pcap_file([(T0, 0, 0, 0), (T0, 1, 60, 60)])
    c["caplen-above-snaplen.pcap"] = pcap_file([(T0, 0, 60, 60), (T0, 1, 1000, 1000)], snaplen=96)
    return c


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for old in os.listdir(out):  # a case renamed or removed leaves no file behind
        if old.endswith((".pcap", ".pcapng")):
            os.remove(os.path.join(out, old))
    for name, data in sorted(cases().items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
