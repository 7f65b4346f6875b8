/**
 * `hostLimits` keys: exact `host:port`, then exact host, then the longest `*.suffix`, then `*`
 * (port keys in detail: traffic-regression-host-limit-port-keys.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { HostPatterns } from '../../dist/src/policy/host-patterns.js';

describe('HostPatterns', () => {
  const table = new HostPatterns({
    '*': 'default',
    '*.example.com': 'example',
    '*.api.example.com': 'api',
    'special.api.example.com': 'special',
    'LOUD.Test': 'loud',
  });

  it('an exact host beats every suffix', () => {
    expect(table.match('special.api.example.com')).toBe('special');
  });

  it('the longest matching suffix beats shorter ones', () => {
    expect(table.match('v1.api.example.com')).toBe('api');
    expect(table.match('www.example.com')).toBe('example');
    expect(table.match('a.b.c.example.com')).toBe('example');
  });

  it('falls back to * for everything else', () => {
    expect(table.match('other.org')).toBe('default');
    expect(table.match('127.0.0.1')).toBe('default');
  });

  it('a *.suffix wildcard does not match the bare domain, nor a name that merely ends with it', () => {
    expect(table.match('example.com')).toBe('default');
    expect(table.match('notexample.com')).toBe('default');
  });

  it('is case-insensitive on both the key and the host', () => {
    expect(table.match('loud.test')).toBe('loud');
    expect(table.match('WWW.EXAMPLE.COM')).toBe('example');
    expect(table.match('Special.API.example.com')).toBe('special');
  });

  it('returns undefined without a * entry when nothing matches', () => {
    const t = new HostPatterns({ 'a.test': 1, '*.b.test': 2 });
    expect(t.match('c.test')).toBeUndefined();
    expect(t.match('a.test')).toBe(1);
    expect(t.match('x.b.test')).toBe(2);
  });

  it('matches IP literals exactly', () => {
    const t = new HostPatterns({ '127.0.0.1': 'loopback', '*': 'other' });
    expect(t.match('127.0.0.1')).toBe('loopback');
    expect(t.match('127.0.0.2')).toBe('other');
  });

  it('matches IPv6 literals as URLs write them (in brackets), with or without a port', () => {
    const t = new HostPatterns({ '[::1]': 'loopback', '[::1]:8080': 'loopback-8080', '*': 'other' });
    expect(t.match('[::1]')).toBe('loopback');
    expect(t.match('[::1]', '[::1]:9090')).toBe('loopback');
    expect(t.match('[::1]', '[::1]:8080')).toBe('loopback-8080');
    expect(t.match('[::2]', '[::2]:8080')).toBe('other');
  });
});
