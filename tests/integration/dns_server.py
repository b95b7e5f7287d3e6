"""A small authoritative DNS server for the integration tests (python3-dnslib).

It serves the records of a zone text (any types dnslib knows: MX, A, AAAA,
TXT, PTR, TLSA, CNAME, ...) on UDP and TCP at one loopback address and
port, answering as the authority for every name it holds: NXDOMAIN for an
unknown name, NODATA (NOERROR, no answer, the SOA in authority) for a
known name without the asked type, CNAMEs followed inside the zone.
Faults are injected per name:

    server.servfail.add("broken.test")        # answer SERVFAIL
    server.drop.add("slow.test")              # never answer (a timeout)
    server.raw[("bad.test", "MX")] = [b"\\x00"] # send these bytes as rdata

Tern's resolver (libunbound) forwards to it: `--resolver 127.0.0.1@PORT`.
"""
import socket
import threading

from dnslib import QTYPE, RCODE, RD, RR, SOA, DNSLabel, DNSRecord
from dnslib.server import DNSError, DNSHandler, DNSLogger, DNSServer


class Drop(DNSError):
    """Raised by the resolver to send no answer; dnslib's handler catches
    DNSError and goes on without replying."""


def _key(name):
    return str(DNSLabel(name)).lower().rstrip(".") + "."


def free_dns_port(host="127.0.0.1"):
    """A port free for both UDP and TCP on host."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((host, 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind((host, port))
                    return port
                except OSError:
                    continue


class ZoneResolver:
    """dnslib resolver over a dict {name: [RR, ...]} with fault injection."""

    def __init__(self, server):
        self.server = server

    def resolve(self, request, handler):
        try:
            return self._resolve(request, handler)
        except DNSError:
            raise
        except Exception:  # a bug here must show as SERVFAIL, not a silent thread death
            reply = request.reply()
            reply.header.rcode = RCODE.SERVFAIL
            return reply

    def _resolve(self, request, handler):
        s = self.server
        qname = _key(request.q.qname)
        qtype = QTYPE[request.q.qtype]
        s.queries.append((qname, qtype, handler.protocol))
        if qname in s.drop:
            raise Drop("dropped " + qname)
        reply = request.reply()
        reply.header.aa = 1
        reply.header.ra = 1
        if qname in s.servfail:
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        raw = s.raw.get((qname, qtype))
        if raw is not None:
            for data in raw:
                reply.add_answer(RR(qname, request.q.qtype, rdata=RD(data), ttl=60))
            return reply
        self._answer(reply, qname, request.q.qtype, 0)
        return reply

    def _answer(self, reply, qname, qtype, depth):
        records = self.server.records
        rrs = records.get(qname, [])
        matches = [rr for rr in rrs if rr.rtype == qtype]
        cnames = [rr for rr in rrs if rr.rtype == QTYPE.CNAME]
        if matches:
            reply.add_answer(*matches)
        elif cnames and qtype != QTYPE.CNAME and depth < 8:
            reply.add_answer(*cnames)
            target = _key(cnames[0].rdata.label)
            if self.server.holds(target):
                self._answer(reply, target, qtype, depth + 1)
        elif not self.server.holds(qname):
            reply.header.rcode = RCODE.NXDOMAIN
            reply.add_auth(self.server.soa(qname))
        elif depth == 0:
            reply.add_auth(self.server.soa(qname))


class DnsServer:
    """The server: records from zone text, UDP and TCP on host:port."""

    def __init__(self, zone="", host="127.0.0.1", port=None):
        self.host = host
        self.port = port or free_dns_port(host)
        self.records = {}
        self.servfail = set()
        self.drop = set()
        self.raw = {}
        self.queries = []
        self._servers = []
        self.add_zone(zone)

    # -- zone data -------------------------------------------------------
    def add_zone(self, text):
        """Adds the records of a zone text (absolute names, one RR a line)."""
        for rr in RR.fromZone(text) if text.strip() else []:
            self.records.setdefault(_key(rr.rname), []).append(rr)

    def set_records(self, text):
        """Replaces every record of the names in text."""
        for rr in RR.fromZone(text):
            self.records.pop(_key(rr.rname), None)
        self.add_zone(text)

    def holds(self, name):
        """Whether name exists: it has records, or a name below it has
        (an empty non-terminal such as _tcp.mx.a.test)."""
        name = _key(name)
        return any(k == name or k.endswith("." + name) for k in self.records)

    def soa(self, name):
        labels = [label for label in _key(name).split(".") if label]
        apex = ".".join(labels[-2:]) + "."
        host = "ns." + apex if labels else "ns.invalid."
        return RR(apex, QTYPE.SOA, ttl=60,
                  rdata=SOA(host, "hostmaster." + host, (1, 3600, 600, 86400, 60)))

    # -- fault injection names are normalized like the queries -----------
    def fail(self, name):
        self.servfail.add(_key(name))

    def timeout(self, name):
        self.drop.add(_key(name))

    def garbage(self, name, qtype, *rdatas):
        self.raw[(_key(name), qtype)] = list(rdatas)

    # -- process ---------------------------------------------------------
    @property
    def address(self):
        """The forwarder syntax libunbound and `tern dns --resolver` take."""
        return "%s@%d" % (self.host, self.port)

    def start(self):
        logger = DNSLogger(log="-request,-reply,-truncated,-error", prefix=False)
        for tcp in (False, True):
            server = DNSServer(ZoneResolver(self), address=self.host, port=self.port, tcp=tcp,
                               logger=logger, handler=DNSHandler)
            server.start_thread()
            self._servers.append(server)
        return self

    def stop(self):
        for server in self._servers:
            server.stop()
            server.server.server_close()
        self._servers = []


__all__ = ["DnsServer", "free_dns_port"]
