import { describe, expect, it } from 'vitest';
import { callerTenant } from '../src/proxy/caller-tenant.js';

describe('callerTenant (--fair-key ip)', () => {
  // Every IPv6 address was a tenant: a host holding a /64 could call from a new one each time
  // and take a fresh share of the queue with each, past --tenant-max-queued.
  it.each([
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', 64, '2001:db8:1:2::/64'],
    ['2001:db8:1:2::1', 64, '2001:db8:1:2::/64'],
    ['[2001:db8:1:2::9]:443', 64, '2001:db8:1:2::/64'],
    ['2001:db8:1:3::1', 64, '2001:db8:1:3::/64'],
    // New-user pass: the loopback read `::/64`, as if every address called; it is one host.
    ['::1', 64, '::1'],
    ['[::1]:8080', 48, '::1'],
    ['::2', 64, '::/64'],
    // A link-local caller comes with the zone of its interface; every address on it is one.
    ['fe80::1:2:3:4%eth0', 64, 'fe80::/64'],
    ['fe80::9%eth1', 64, 'fe80::/64'],
    ['2001:db8:1:2ff::1', 56, '2001:db8:1:200::/56'],
    ['2001:DB8:1:2::1', 48, '2001:db8:1::/48'],
    ['2001:db8:ffff::1', 32, '2001:db8::/32'],
    ['2001:db8::7', 127, '2001:db8::6/127'],
    ['2001:0db8::0007', 128, '2001:db8::7'],
    ['FE80:0::1%eth0', 128, 'fe80::1%eth0'],
  ])('names the IPv6 caller %s by its network of %i bits, %s', (address, bits, tenant) => {
    expect(callerTenant(address, bits)).toBe(tenant);
  });

  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['203.0.113.7:5555', '203.0.113.7'],
    // A dual-stack listener's IPv4 callers, however the gateway spelt them.
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['0:0:0:0:0:FFFF:203.0.113.7', '203.0.113.7'],
    ['::ffff:cb00:7107', '203.0.113.7'],
    // An IPv6-only proxy behind a NAT64 translator sees its IPv4 callers in 64:ff9b::/96: one
    // tenant each, not one /64 for all of them.
    ['64:ff9b::203.0.113.7', '203.0.113.7'],
    ['64:ff9b::cb00:7107', '203.0.113.7'],
    ['64:ff9b::7', '0.0.0.7'],
  ])('names the IPv4 caller %s by its address, %s', (address, tenant) => {
    expect(callerTenant(address)).toBe(tenant);
    expect(callerTenant(address, 128)).toBe(tenant);
  });

  it('puts callers a gateway hides, or whose socket is gone, in the nameless tenant', () => {
    expect(callerTenant('unknown')).toBe('');
    expect(callerTenant('UNKNOWN')).toBe('');
    expect(callerTenant(undefined)).toBe('');
  });

  it.each(['tenant-of-my-choice', '2001:db8::g', '[2001:db8::1', '203.0.113.7:x', ''])(
    'refuses %j, which names no address, with a 400 naming it',
    (address) => {
      expect(() => callerTenant(address)).toThrow(
        expect.objectContaining({
          code: 'bad_request',
          message: `The caller's address ${JSON.stringify(address)} (from X-Forwarded-For) is not an IP address: --fair-key ip needs one`,
        }),
      );
    },
  );
});
