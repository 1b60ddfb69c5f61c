import { isIP } from 'node:net';
import { ProxyHttpError } from '../errors.js';

/**
 * The network an IPv6 caller is grouped by, unless `--fair-key ip/<bits>` says otherwise: a host
 * or a home network holds a whole /64 and could call from a new address each time, a fresh
 * tenant with fresh caps per call, as an IPv4 caller cannot.
 */
const DEFAULT_IPV6_TENANT_BITS = 64;

const IPV4 = String.raw`\d{1,3}(?:\.\d{1,3}){3}`;
const WITH_PORT = new RegExp(`^(?:\\[([^\\]]+)\\](?::\\d+)?|(${IPV4}):\\d+)$`);

/**
 * The caller's address as its tenant (`--fair-key ip`), one name per caller: some gateways add a
 * port to X-Forwarded-For, an IPv6 address has many spellings, an IPv4 caller may come as IPv6
 * (`::ffff:a.b.c.d` on a dual-stack listener, `64:ff9b::a.b.c.d` through a NAT64 translator),
 * and an IPv6 caller is its network of `ipv6Bits`, written `2001:db8:1:2::/64` (at 128 the
 * address, with the zone a link-local caller comes from; the loopback `::1` always). A gateway
 * that hides its callers (Squid writes `unknown`) puts them all in the nameless tenant, as does a
 * request whose socket is gone (Node gives no address then). Anything else is a gateway's
 * mistake, or a caller's through a hop count, and would make a tenant of its own: refused.
 */
export function callerTenant(
  address: string | undefined,
  ipv6Bits = DEFAULT_IPV6_TENANT_BITS,
): string {
  if (address === undefined || address.toLowerCase() === 'unknown') return '';
  const withPort = WITH_PORT.exec(address);
  const bare = withPort ? (withPort[1] ?? withPort[2] ?? '') : address;
  const version = isIP(bare);
  if (version === 4) return bare;
  const [ip = '', zone] = bare.split('%', 2);
  const groups = version === 6 ? ipv6Groups(ip) : undefined;
  if (!groups) {
    const shown = address.length > 100 ? `${address.slice(0, 100)}...` : address;
    throw new ProxyHttpError(
      'bad_request',
      `The caller's address ${JSON.stringify(shown)} (from X-Forwarded-For) is not an IP address: --fair-key ip needs one`,
    );
  }
  const ipv4 = embeddedIpv4(groups);
  if (ipv4 !== undefined) return ipv4;
  // This machine, one host: its /64 would read `::/64`, as if a whole network called.
  if (groups.every((group, at) => group === (at === 7 ? 1 : 0))) return '::1';
  if (ipv6Bits === 128) return zone === undefined ? spelt(groups) : `${spelt(groups)}%${zone}`;
  const network = groups.map((group, at) => {
    const kept = Math.min(16, Math.max(0, ipv6Bits - at * 16));
    return group & (0xffff << (16 - kept)) & 0xffff;
  });
  return `${spelt(network)}/${ipv6Bits}`;
}

/** The eight groups of an IPv6 address, read the way URLs read one; undefined if they cannot. */
function ipv6Groups(address: string): number[] | undefined {
  let hostname: string;
  try {
    hostname = new URL(`http://[${address}]`).hostname;
  } catch {
    return undefined;
  }
  // URLs spell it in hex groups, with `::` for the longest run of zeros (dotted parts too).
  const groupsOf = (part: string | undefined) =>
    part ? part.split(':').map((group) => Number.parseInt(group, 16)) : [];
  const [head, tail] = hostname.slice(1, -1).split('::');
  const high = groupsOf(head);
  const low = groupsOf(tail);
  return [...high, ...new Array<number>(8 - high.length - low.length).fill(0), ...low];
}

/** The IPv4 caller an IPv4-mapped (`::ffff:0:0/96`) or NAT64 (`64:ff9b::/96`) address carries. */
function embeddedIpv4(groups: readonly number[]): string | undefined {
  const zeros = (from: number, to: number) => groups.slice(from, to).every((group) => group === 0);
  const mapped = zeros(0, 5) && groups[5] === 0xffff;
  const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6);
  if (!mapped && !nat64) return undefined;
  const [high = 0, low = 0] = groups.slice(6);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** Groups as URLs spell them: the one spelling of each address. */
function spelt(groups: readonly number[]): string {
  return new URL(`http://[${groups.map((group) => group.toString(16)).join(':')}]`).hostname.slice(
    1,
    -1,
  );
}
