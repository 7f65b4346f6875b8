/** NO_PROXY matching (src/worker/connect/no-proxy.ts), pure: the rules curl and undici's EnvHttpProxyAgent follow. */
import { describe, expect, it } from 'vitest';
import { NoProxy } from '../../dist/src/worker/connect/no-proxy.js';

describe('NoProxy', () => {
  it.each([
    [['example.com'], 'example.com', 443, true],
    [['example.com'], 'api.example.com', 443, true],
    [['example.com'], 'notexample.com', 443, false],
    [['.example.com'], 'example.com', 80, true],
    [['*.example.com'], 'a.b.example.com', 80, true],
    [['example.com:8443'], 'example.com', 8443, true],
    [['example.com:8443'], 'example.com', 443, false],
    [['127.0.0.1'], '127.0.0.1', 3000, true],
    [['127.0.0.1:3000'], '127.0.0.1', 3001, false],
    [['::1'], '[::1]', 80, true],
    [['[::1]:8080'], '[::1]', 8080, true],
    [['[::1]:8080'], '[::1]', 80, false],
    [['*'], 'anything.test', 80, true],
    [['EXAMPLE.com'], 'Example.COM', 80, true],
    [[], 'localhost', 80, false],
    [[' ', ''], 'localhost', 80, false],
  ] as const)('%j bypasses %s:%d: %s', (entries, host, port, expected) => {
    expect(new NoProxy(entries).bypasses(host, port)).toBe(expected);
  });
});
