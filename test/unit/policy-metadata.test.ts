import { describe, expect, it } from 'vitest';
import { checkAddress, checkDestination, DestinationPolicy, isMetadataName } from '../../dist/src/policy/index.js';

const METADATA = { allowed: false, reason: 'cloud metadata endpoint' };
const ALLOWED_BY_RULE = { allowed: true, reason: 'allowed by policy.allow' };

const names: readonly string[] = [
  'metadata.google.internal',
  'METADATA.Google.Internal.',
  'metadata',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
  'Kubernetes.Default.Svc.Cluster.Local.',
];

const addresses: readonly string[] = [
  '169.254.169.254', // AWS, Azure, GCP, Oracle, DigitalOcean
  '169.254.170.2', // ECS
  '169.254.170.23', // EKS Pod Identity
  '168.63.129.16', // Azure WireServer: a public address otherwise
  '100.100.100.200', // Alibaba
  '192.0.0.192', // Oracle
  'fd00:ec2::254', // AWS IPv6
  'FD00:EC2:0:0:0:0:0:254',
  'fd00:ec2::23',
  '::ffff:169.254.169.254',
  '::ffff:a83f:8110', // 168.63.129.16 mapped
  '64:ff9b::a9fe:a9fe', // NAT64 of 169.254.169.254
  '2002:a83f:8110::', // 6to4 of 168.63.129.16
];

// [policy.allow, address]: a broad allow never opens a metadata endpoint.
const allowedByCidrStillBlocked: readonly (readonly [readonly string[], string])[] = [
  [['169.254.0.0/16'], '169.254.169.254'],
  [['169.254.0.0/16'], '169.254.170.2'],
  [['0.0.0.0/0'], '168.63.129.16'],
  [['168.63.129.0/24'], '168.63.129.16'],
  [['100.64.0.0/10'], '100.100.100.200'],
  [['192.0.0.0/24'], '192.0.0.192'],
  [['fd00::/8'], 'fd00:ec2::254'],
  [['::/0'], 'fd00:ec2::23'],
  [['::ffff:0:0/96'], '::ffff:169.254.169.254'],
  [['169.254.0.0/16'], '::ffff:169.254.169.254'],
  [['169.254.169.0/24', '169.254.170.0/24'], '169.254.170.23'],
];

describe('metadata endpoints are blocked by name', () => {
  it.each(names)('http://%s/ is blocked', (name) => {
    expect(checkDestination(`http://${name}/computeMetadata/v1/`)).toEqual(METADATA);
    expect(isMetadataName(name)).toBe(true);
  });

  it.each(['metadata.google.internal.evil.com', 'my-metadata', 'kubernetes.io', 'foo.svc.cluster.local'])(
    '%s is not a metadata name',
    (name) => {
      expect(isMetadataName(name)).toBe(false);
      expect(checkDestination(`https://${name}/`)).toEqual({ allowed: true });
    },
  );
});

describe('metadata endpoints are blocked by address', () => {
  it.each(addresses)('%s is blocked', (ip) => {
    expect(checkAddress(ip)).toEqual(METADATA);
  });

  it('blocks a metadata name whatever address it resolves to', () => {
    const policy = DestinationPolicy.compile({ allow: ['10.0.0.0/8'] });
    expect(policy.checkAddress('10.1.2.3', 'metadata.google.internal')).toEqual(METADATA);
    expect(policy.checkAddress('10.1.2.3', 'kubernetes.default.svc')).toEqual(METADATA);
  });
});

describe('a broad allow entry does not open a metadata endpoint', () => {
  it.each(allowedByCidrStillBlocked)('allow %j: %s still blocked', (allow, ip) => {
    expect(checkAddress(ip, { allow })).toEqual(METADATA);
  });

  it.each([
    [['*.internal'], 'http://metadata.google.internal/'],
    [['*.google.internal'], 'http://metadata.google.internal/'],
    [['*.ec2.internal'], 'http://instance-data.ec2.internal/'],
    [['*.svc.cluster.local'], 'https://kubernetes.default.svc.cluster.local/'],
    [['*.goog'], 'http://metadata.goog/'],
  ] as const)('allow %j: %s still blocked', (allow, url) => {
    expect(checkDestination(url, { allow })).toEqual(METADATA);
  });

  it('a DNS answer pointing an allowed name at a metadata address is blocked (rebinding)', () => {
    const policy = DestinationPolicy.compile({ allow: ['api.example.com', '*.example.org'] });
    expect(policy.checkAddress('169.254.169.254', 'api.example.com')).toEqual(METADATA);
    expect(policy.checkAddress('fd00:ec2::254', 'x.example.org')).toEqual(METADATA);
  });
});

describe('an allow entry naming exactly the endpoint lets it through', () => {
  it.each([
    [['169.254.169.254'], '169.254.169.254', undefined],
    [['169.254.169.254/32'], '169.254.169.254', undefined],
    [['fd00:ec2::254'], 'fd00:ec2::254', undefined],
    [['[fd00:ec2::254]'], 'fd00:ec2::254', undefined],
    [['168.63.129.16'], '168.63.129.16', undefined],
    [['169.254.169.254'], '::ffff:169.254.169.254', undefined],
    [['metadata.google.internal'], '169.254.169.254', 'metadata.google.internal'],
    [['metadata.google.internal'], '169.254.169.254', 'METADATA.GOOGLE.INTERNAL.'],
  ] as const)('allow %j: %s (from %s) passes', (allow, ip, hostname) => {
    expect(DestinationPolicy.compile({ allow }).checkAddress(ip, hostname)).toEqual(ALLOWED_BY_RULE);
  });

  it.each([
    [['metadata.google.internal'], 'http://metadata.google.internal/'],
    [['metadata.google.internal'], 'http://Metadata.Google.Internal./'],
    [['169.254.169.254'], 'http://169.254.169.254/latest/meta-data/'],
    [['kubernetes.default.svc'], 'https://kubernetes.default.svc/'],
  ] as const)('allow %j: %s passes', (allow, url) => {
    expect(checkDestination(url, { allow })).toEqual(ALLOWED_BY_RULE);
  });

  it('an exact allow does not beat a deny', () => {
    expect(checkAddress('169.254.169.254', { allow: ['169.254.169.254'], deny: ['169.254.0.0/16'] })).toEqual({
      allowed: false,
      reason: 'denied by policy.deny',
    });
  });

  it('an exact allow of one endpoint does not open another', () => {
    expect(checkAddress('169.254.170.2', { allow: ['169.254.169.254'] })).toEqual(METADATA);
  });
});
