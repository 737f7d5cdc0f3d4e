import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import {
  compileTrustedProxies,
  ipv4Value,
  normalizeAddress,
  resolveClientAddress,
} from '../../src/ingress/client-address.ts';

const trusted = compileTrustedProxies(['127.0.0.1/32', '10.0.0.0/8', 'fd00::/8', '2001:db8:1::1']);

interface Case {
  readonly name: string;
  readonly peer: string;
  readonly xff: string | string[] | undefined;
  readonly client: string;
}

const cases: readonly Case[] = [
  { name: 'an untrusted peer is the client, whatever it sends', peer: '203.0.113.7', xff: '198.51.100.1', client: '203.0.113.7' },
  { name: 'a trusted peer without XFF is the client', peer: '10.0.0.5', xff: undefined, client: '10.0.0.5' },
  { name: 'a trusted peer passes on the XFF entry', peer: '10.0.0.5', xff: '198.51.100.1', client: '198.51.100.1' },
  { name: 'the right-most untrusted entry wins', peer: '10.0.0.5', xff: '1.1.1.1, 198.51.100.1, 10.0.0.9', client: '198.51.100.1' },
  { name: 'spoofed entries left of an untrusted one are ignored', peer: '127.0.0.1', xff: '6.6.6.6, 198.51.100.1', client: '198.51.100.1' },
  { name: 'every entry trusted: the left-most valid one', peer: '10.0.0.5', xff: 'junk, 10.1.1.1, 10.2.2.2', client: '10.1.1.1' },
  { name: 'no valid entry: the peer', peer: '10.0.0.5', xff: 'unknown, , garbage', client: '10.0.0.5' },
  { name: 'an empty header: the peer', peer: '10.0.0.5', xff: '', client: '10.0.0.5' },
  { name: 'no header lines: the peer', peer: '10.0.0.5', xff: [], client: '10.0.0.5' },
  { name: 'garbage entries are skipped', peer: '10.0.0.5', xff: '198.51.100.1, <script>, 999.1.1.1, unknown', client: '198.51.100.1' },
  { name: 'leading-zero octets are malformed', peer: '10.0.0.5', xff: '198.51.100.1, 010.0.0.1', client: '198.51.100.1' },
  { name: 'spaces around entries are trimmed', peer: '10.0.0.5', xff: '  198.51.100.1  ,10.0.0.9', client: '198.51.100.1' },
  { name: 'empty entries between commas are skipped', peer: '10.0.0.5', xff: '198.51.100.1,,,', client: '198.51.100.1' },
  { name: 'an IPv4 entry with a port', peer: '10.0.0.5', xff: '198.51.100.1:4711', client: '198.51.100.1' },
  { name: 'an IPv4 entry with a non-numeric port is malformed', peer: '10.0.0.5', xff: '198.51.100.2, 198.51.100.1:http', client: '198.51.100.2' },
  { name: 'a bracketed IPv6 entry with a port', peer: '10.0.0.5', xff: '[2001:db8::7]:443', client: '2001:db8::7' },
  { name: 'a bracketed IPv6 entry without a port', peer: '10.0.0.5', xff: '[2001:db8::7]', client: '2001:db8::7' },
  { name: 'an unclosed bracket is malformed', peer: '10.0.0.5', xff: '198.51.100.1, [2001:db8::7', client: '198.51.100.1' },
  { name: 'an IPv6 client behind an IPv6 proxy', peer: 'fd12::1', xff: '2001:db8::7, fd00::2', client: '2001:db8::7' },
  { name: 'a single trusted IPv6 host', peer: '2001:db8:1::1', xff: '2001:db8::7', client: '2001:db8::7' },
  { name: 'an IPv6 host next to the trusted one is not trusted', peer: '2001:db8:1::2', xff: '2001:db8::7', client: '2001:db8:1::2' },
  { name: 'an IPv4-mapped peer is its IPv4 address', peer: '::ffff:203.0.113.7', xff: undefined, client: '203.0.113.7' },
  { name: 'an IPv4-mapped peer is trusted as its IPv4 address', peer: '::ffff:10.0.0.5', xff: '198.51.100.1', client: '198.51.100.1' },
  { name: 'a trusted IPv4-mapped peer with no valid entry is its IPv4 address', peer: '::ffff:10.0.0.5', xff: 'unknown', client: '10.0.0.5' },
  { name: 'an IPv4-mapped entry is normalized and checked as IPv4', peer: '10.0.0.5', xff: '198.51.100.1, ::FFFF:10.0.0.9', client: '198.51.100.1' },
  { name: 'header lines are read as if joined in order', peer: '10.0.0.5', xff: ['198.51.100.1', '198.51.100.2, 10.0.0.9'], client: '198.51.100.2' },
  { name: 'the right-most untrusted entry may be in an earlier line', peer: '10.0.0.5', xff: ['198.51.100.1', '10.0.0.9'], client: '198.51.100.1' },
  { name: 'every line trusted: the left-most valid entry of the first line', peer: '10.0.0.5', xff: ['unknown, 10.1.1.1', '10.2.2.2'], client: '10.1.1.1' },
  { name: 'a non-IP peer (unix socket) is returned as it is', peer: '/run/switchyard.sock', xff: '198.51.100.1', client: '/run/switchyard.sock' },
];

describe('resolveClientAddress (SPEC §2.1)', () => {
  for (const { name, peer, xff, client } of cases) {
    it(name, () => assert.equal(resolveClientAddress(peer, xff, trusted), client));
    it(`${name} (the caller gives the peer's trust, as the proxy does)`, () => {
      const peerTrusted = trusted.has(normalizeAddress(peer) || peer);
      assert.equal(resolveClientAddress(peer, xff, trusted, peerTrusted), client);
    });
  }

  it('takes the peer\'s trust from the caller when given, so the proxy checks it once per request', () => {
    assert.equal(resolveClientAddress('10.0.0.5', '198.51.100.1', trusted, true), '198.51.100.1');
    assert.equal(resolveClientAddress('10.0.0.5', '198.51.100.1', trusted, false), '10.0.0.5');
    assert.equal(resolveClientAddress('203.0.113.7', '198.51.100.1', trusted, true), '198.51.100.1');
  });

  it('ignores XFF entirely when no proxy is trusted', () => {
    assert.equal(resolveClientAddress('10.0.0.5', '198.51.100.1', compileTrustedProxies([])), '10.0.0.5');
  });

  it('looks only at the last 64 entries of a long chain', () => {
    const trustedHops = Array.from({ length: 64 }, (_, i) => `10.0.${i}.1`).join(', ');
    const chain = `198.51.100.1, ${trustedHops}`;
    // The untrusted client is the 65th entry from the right: out of reach, so the left-most seen wins.
    assert.equal(resolveClientAddress('10.0.0.5', chain, trusted), '10.0.0.1');
    assert.equal(resolveClientAddress('10.0.0.5', `${chain}, 198.51.100.9`, trusted), '198.51.100.9');
  });

  it('counts the 64 entries across header lines', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `10.1.${i}.1`);
    lines[0] = '198.51.100.1';
    assert.equal(resolveClientAddress('10.0.0.5', lines, trusted), '10.1.36.1');
  });

  it('stays fast on an absurdly long header', () => {
    const huge = `${'6.6.6.6, '.repeat(200_000)}198.51.100.1`;
    const started = performance.now();
    for (let i = 0; i < 1000; i++) resolveClientAddress('10.0.0.5', huge, trusted);
    assert.equal(resolveClientAddress('10.0.0.5', huge, trusted), '198.51.100.1');
    assert.ok(performance.now() - started < 1000, 'bounded work per call');
  });

  it('skips an entry too long to be an address', () => {
    assert.equal(resolveClientAddress('10.0.0.5', `198.51.100.1, ${'1'.repeat(10_000)}`, trusted), '198.51.100.1');
  });
});

describe('normalizeAddress', () => {
  const table: readonly (readonly [string, string])[] = [
    ['1.2.3.4', '1.2.3.4'],
    [' 1.2.3.4\t', '1.2.3.4'],
    ['1.2.3.4:80', '1.2.3.4'],
    ['1.2.3.4:123456', ''],
    ['1.2.3.4:', ''],
    ['[::1]:80', '::1'],
    ['[::1]x', ''],
    ['::1', '::1'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::ffff:0:1.2.3.4', '::ffff:0:1.2.3.4'],
    ['unknown', ''],
    ['', ''],
    ['1.2.3', ''],
    ['256.1.1.1', ''],
  ];
  for (const [entry, normalized] of table) {
    it(`${JSON.stringify(entry)} → ${JSON.stringify(normalized)}`, () => assert.equal(normalizeAddress(entry), normalized));
  }
});

describe('compileTrustedProxies', () => {
  it('treats a bare address as a single host', () => {
    const proxies = compileTrustedProxies(['192.0.2.1', '2001:db8::1']);
    assert.equal(proxies.has('192.0.2.1'), true);
    assert.equal(proxies.has('192.0.2.2'), false);
    assert.equal(proxies.has('2001:db8::1'), true);
    assert.equal(proxies.has('2001:db8::2'), false);
  });

  it('stores an IPv4-mapped CIDR as IPv4, so mapped peers match it', () => {
    const proxies = compileTrustedProxies(['::ffff:192.0.2.0/120']);
    assert.equal(resolveClientAddress('::ffff:192.0.2.9', '198.51.100.1', proxies), '198.51.100.1');
  });

  it('matches IPv4 addresses exactly as node:net BlockList does, for any prefix length', () => {
    const octet = () => Math.floor(Math.random() * 256);
    const address = () => `${octet()}.${octet()}.${octet()}.${octet()}`;
    for (let round = 0; round < 200; round++) {
      const cidrs = Array.from({ length: 1 + (round % 4) }, () => `${address()}/${Math.floor(Math.random() * 33)}`);
      const proxies = compileTrustedProxies(cidrs);
      const reference = new BlockList();
      for (const cidr of cidrs) reference.addSubnet(cidr.split('/')[0], Number(cidr.split('/')[1]), 'ipv4');
      // Random addresses, and ones just inside and outside each network's first address.
      const probes = Array.from({ length: 50 }, address);
      for (const cidr of cidrs) probes.push(cidr.split('/')[0]);
      for (const probe of probes) {
        assert.equal(proxies.has(probe), reference.check(probe, 'ipv4'), `${probe} against ${cidrs.join(', ')}`);
      }
    }
  });

  it('reads dotted quads and refuses anything else', () => {
    assert.equal(ipv4Value('0.0.0.0'), 0);
    assert.equal(ipv4Value('255.255.255.255'), 0xffffffff);
    assert.equal(ipv4Value('10.1.2.3'), 0x0a010203);
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '1.2.3.256', '1..2.3', '.1.2.3', '1.2.3.', '1.2.3.4 ', '::1', 'a.b.c.d']) {
      assert.equal(ipv4Value(bad), -1, bad);
    }
  });

  for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/8.5', 'fd00::/129', 'not-an-ip/8', '', 'fe80::1%eth0/64']) {
    it(`rejects ${JSON.stringify(bad)} naming the entry`, () => {
      assert.throws(() => compileTrustedProxies(['10.0.0.0/8', bad]), { message: /^trustedProxies\[1\]: / });
    });
  }
});
