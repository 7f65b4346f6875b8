/**
 * Regression: `hostLimits` keys with a port (`host:port`, `[IPv6]:port`) apply to that origin.
 *
 * Was: the options schema accepted `host:port` keys, but the runtime looked limits up by hostname only
 * (`originRules(origin, new URL(origin).hostname)` -> `HostPatterns.match(hostname)`), so such a key was
 * accepted and then silently never applied; IPv6 keys were refused by the schema.
 * Fixed: the runtime passes `URL.host` too (`originRules(origin, url.hostname, url.host)`) and
 * `HostPatterns.match(hostname, hostWithPort)` tries the exact `host:port` key first, then the exact
 * host, the longest `*.suffix`, `*`. IPv6 keys are written as in URLs (`[::1]`, `[::1]:8080`), and the
 * schema accepts them.
 * Still open (the "runtime's order of calls" case fails): the host's limits are picked once, when its
 * state is created, and the runtime creates it in `recordFirstAttempt(origin, hostname)` /
 * `admit(origin, hostname)`, which pass no port, before `originRules(..., url.host)` is asked; so the
 * port key is still missed at runtime (see also traffic-rate-limit.test.ts, the host:port case).
 */
import { describe, expect, it } from 'vitest';
import { parseOptions, type RuntimeOptions } from '../../dist/src/config/options.js';
import { HostPatterns } from '../../dist/src/policy/host-patterns.js';
import { TrafficController } from '../../dist/src/traffic/traffic-controller.js';
import { FakeClock } from '../fixtures/fake-clock.js';

/** The origin's rules as the runtime asks for them (runtime.ts: `originRules(origin, url.hostname, url.host)`). */
function rulesFor(hostLimits: NonNullable<RuntimeOptions['hostLimits']>, url: string) {
  const traffic = new TrafficController(parseOptions({ workers: 1, hostLimits }), new FakeClock(), {
    onCircuitChange: () => {},
  });
  const parsed = new URL(url);
  return traffic.originRules(parsed.origin, parsed.hostname, parsed.host);
}

describe('hostLimits keyed by host:port', () => {
  it('a host:port key that the options accept applies to that origin', () => {
    const rules = rulesFor({ 'api.test:8080': { rps: 5, concurrency: 2 } }, 'http://api.test:8080/x');
    expect(rules.concurrency).toBe(2);
    expect(rules.rate).toBeDefined();
  });

  it('applies when the runtime has already counted and admitted the job (its order of calls)', () => {
    // runtime.ts #submit: recordFirstAttempt(job.origin, job.hostname), then #admit:
    // admit(job.origin, job.hostname); the coordinator asks originRules only at submit, after both.
    const traffic = new TrafficController(
      parseOptions({ workers: 1, hostLimits: { 'api.test:8080': { rps: 5, concurrency: 2 } } }),
      new FakeClock(),
      {
        onCircuitChange: () => {},
      },
    );
    const url = new URL('http://api.test:8080/x');
    traffic.recordFirstAttempt(url.origin, url.hostname);
    expect(traffic.admit(url.origin, url.hostname)).toEqual({ kind: 'go', pass: 'pass' });
    const rules = traffic.originRules(url.origin, url.hostname, url.host);
    expect(rules.concurrency).toBe(2);
    expect(rules.rate).toBeDefined();
  });

  it('applies to that port only: the same host on another port, or on its default port, does not match', () => {
    const limits = { 'api.test:8080': { concurrency: 2 } };
    expect(rulesFor(limits, 'http://api.test:9090/x')).toMatchObject({ concurrency: Infinity, rate: undefined });
    expect(rulesFor(limits, 'http://api.test/x')).toMatchObject({ concurrency: Infinity, rate: undefined });
  });

  it('the exact host:port beats the exact host, which still applies to the other ports', () => {
    const limits = { 'api.test': { concurrency: 5 }, 'api.test:8080': { concurrency: 2 }, '*': { concurrency: 9 } };
    expect(rulesFor(limits, 'http://api.test:8080/x').concurrency).toBe(2);
    expect(rulesFor(limits, 'http://api.test:9090/x').concurrency).toBe(5);
    expect(rulesFor(limits, 'http://api.test/x').concurrency).toBe(5);
    expect(rulesFor(limits, 'http://other.test:8080/x').concurrency).toBe(9);
  });

  it('is case-insensitive on the host part of the key', () => {
    expect(rulesFor({ 'API.Test:8080': { concurrency: 3 } }, 'http://api.test:8080/x').concurrency).toBe(3);
  });

  it('IPv6 keys as in URLs: [::1]:8080 for that port, [::1] for the host', () => {
    const limits = { '[::1]:8080': { concurrency: 2 }, '[::1]': { concurrency: 4 } };
    expect(rulesFor(limits, 'http://[::1]:8080/x').concurrency).toBe(2);
    expect(rulesFor(limits, 'http://[::1]:9090/x').concurrency).toBe(4);
    expect(rulesFor(limits, 'http://[::1]/x').concurrency).toBe(4);
  });

  it('the options schema accepts host:port and bracketed IPv6 keys, and refuses a bare IPv6 address', () => {
    for (const key of ['api.test:8080', '127.0.0.1:3000', '[::1]', '[::1]:8080', '[2001:db8::1]:443']) {
      expect(() => parseOptions({ workers: 1, hostLimits: { [key]: { concurrency: 1 } } }), key).not.toThrow();
    }
    expect(() => parseOptions({ workers: 1, hostLimits: { '::1': { concurrency: 1 } } })).toThrow();
  });
});

describe('HostPatterns.match(hostname, hostWithPort)', () => {
  const table = new HostPatterns({ '*': 'default', '*.test': 'suffix', 'a.test': 'host', 'a.test:8080': 'host:port' });

  it('tries the exact host:port first, then falls through the usual order', () => {
    expect(table.match('a.test', 'a.test:8080')).toBe('host:port');
    expect(table.match('a.test', 'a.test:9090')).toBe('host');
    expect(table.match('b.test', 'b.test:8080')).toBe('suffix');
    expect(table.match('c.org', 'c.org:8080')).toBe('default');
  });

  it('without a port (default port, or hostWithPort omitted) it matches by host alone', () => {
    expect(table.match('a.test', 'a.test')).toBe('host');
    expect(table.match('a.test')).toBe('host');
  });
});
