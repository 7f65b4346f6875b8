import { describe, expect, it } from 'vitest';
import { checkDestination, DestinationPolicy } from '../../dist/src/policy/index.js';

const SECRET = 'hunter2-S3cret';
const USER = 'alice-user';
const PATH = 'private-path-segment';
const QUERY = 'token-value-xyz';

// Blocked for every kind of reason, with a password, user, path and query in each.
const urls: readonly string[] = [
  `http://${USER}:${SECRET}@example.com/${PATH}?q=${QUERY}`,
  `http://${USER}:${SECRET}@127.0.0.1/${PATH}?q=${QUERY}`,
  `https://:${SECRET}@169.254.169.254/${PATH}?q=${QUERY}`,
  `ftp://${USER}:${SECRET}@example.com/${PATH}?q=${QUERY}`,
  `http://${USER}:${SECRET}@example.com:0/${PATH}?q=${QUERY}`,
  `http://${USER}:${SECRET}@[::1]/${PATH}?q=${QUERY}`,
  `javascript://${USER}:${SECRET}@x/%0aalert(1)?q=${QUERY}`,
  `http://${USER}:${SECRET}@exa mple.com/${PATH}?q=${QUERY}`,
];

describe('reasons never echo URL secrets', () => {
  const policies = [undefined, DestinationPolicy.compile({ allow: ['example.com', '127.0.0.0/8'], deny: ['::1'] })];

  it.each(urls)('%s', (url) => {
    for (const policy of policies) {
      const verdict = checkDestination(url, policy);
      expect(verdict.allowed).toBe(false);
      expect(verdict.reason).toBeDefined();
      for (const secret of [SECRET, USER, PATH, QUERY]) expect(verdict.reason).not.toContain(secret);
    }
  });
});
