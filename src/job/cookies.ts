/**
 * Opt-in cookies, per job: `cookies: true` gives the job a jar of its own (cookies set by one hop are
 * sent on the next, then forgotten); `cookies: jar` (a tough-cookie CookieJar) also reads and stores
 * the caller's jar, so later jobs given the same jar carry its cookies. No jar is ever shared between
 * jobs unless the caller passes the same one (a workflow run should own its jar).
 *
 * The jar stays on this thread. Each dispatch sends the worker the jar's cookies for the origin it goes
 * to (every path); the worker applies them and the Set-Cookie of every hop it follows within that origin
 * in a jar of its own for the dispatch, and returns the Set-Cookie headers it saw, which are stored here.
 * A redirect to another origin comes back to this thread, so its dispatch is seeded from the updated jar.
 */
import { createRequire } from 'node:module';
import type { CookieJar } from 'tough-cookie';
import { z } from 'zod';
import type { CookieRecord, JobOutcome, JobPayload } from '../wire/protocol.js';

import type { CookieJarLike } from './cookie-jar.js';

export type { CookieJarLike } from './cookie-jar.js';

function isSyncJar(value: unknown): value is CookieJarLike {
  if (typeof value !== 'object' || value === null) return false;
  const jar = value as Partial<Record<'getCookiesSync' | 'setCookieSync' | 'store', unknown>>;
  return (
    typeof jar.getCookiesSync === 'function' &&
    typeof jar.setCookieSync === 'function' &&
    typeof jar.store === 'object' &&
    jar.store !== null &&
    (jar.store as { synchronous?: unknown }).synchronous === true
  );
}

/** `cookies`: true (a jar for this job only), false, or a CookieJar whose store is synchronous (the default one is). */
export const cookiesSchema = z.union([
  z.boolean(),
  z.custom<CookieJarLike>(isSyncJar, {
    error: 'expected true, false or a tough-cookie CookieJar with a synchronous store',
  }),
]);

/** The jar a job uses: its own for `true`, the caller's, or none. */
export function jarFor(option: z.output<typeof cookiesSchema> | undefined): CookieJarLike | undefined {
  if (option === undefined || option === false) return undefined;
  return option === true ? new (loadCookieJar())() : option;
}

let cookieJarClass: typeof CookieJar | undefined;

/** tough-cookie is loaded (its CommonJS build, synchronously) by the first job that asks for cookies. */
function loadCookieJar(): typeof CookieJar {
  cookieJarClass ??= (createRequire(import.meta.url)('tough-cookie') as { CookieJar: typeof CookieJar }).CookieJar;
  return cookieJarClass;
}

/** The wire payload of one dispatch to `origin`: the job's fixed part plus the jar's cookies for that origin. */
export function dispatchPayload(
  payload: JobPayload | undefined,
  jar: CookieJarLike | undefined,
  origin: string,
): { payload?: JobPayload } {
  if (jar === undefined) return payload === undefined ? {} : { payload };
  const cookies = jar.getCookiesSync(`${origin}/`, { allPaths: true }).map((cookie) => cookie.toJSON() as CookieRecord);
  return { payload: { ...payload, cookies } };
}

/** Stores the Set-Cookie headers a worker saw (on a success or a redirect handed back) in the job's jar. */
export function storeSetCookies(jar: CookieJarLike | undefined, outcome: JobOutcome): void {
  if (jar === undefined || outcome.ok === false || outcome.setCookies === undefined) return;
  // Invalid, foreign-domain or public-suffix cookies are dropped, as a browser drops them.
  for (const [url, header] of outcome.setCookies) jar.setCookieSync(header, url, { ignoreError: true });
}
