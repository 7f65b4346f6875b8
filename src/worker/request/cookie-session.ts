/**
 * One dispatch's cookies in the worker: seeded with the caller's jar's cookies for the dispatch's
 * origin, it adds the matching Cookie header to every hop and takes in every hop's Set-Cookie (so a
 * login's 302 cookie is sent on the redirect that follows), and remembers the Set-Cookie headers it saw
 * for the main thread's jar.
 */
import type { CookieJar, SerializedCookie } from 'tough-cookie';
import type { CookieRecord } from '../../wire/protocol.js';

export class CookieSession {
  /** `[url, Set-Cookie value]` in the order they arrived. */
  readonly seen: [string, string][] = [];
  readonly #jar: CookieJar;

  private constructor(jar: CookieJar) {
    this.#jar = jar;
  }

  /** tough-cookie is loaded on the first job that uses cookies: a worker that never does starts without it. */
  static async create(seed: readonly CookieRecord[]): Promise<CookieSession> {
    const { CookieJar, version } = await import('tough-cookie');
    const jar = CookieJar.deserializeSync({
      version: `tough-cookie@${version}`,
      storeType: 'MemoryCookieStore',
      rejectPublicSuffixes: true,
      cookies: seed as SerializedCookie[],
    });
    return new CookieSession(jar);
  }

  /** The hop's headers with the jar's cookies for `url` added (after any cookie header the job set). */
  headersFor(headers: readonly string[], url: string): readonly string[] {
    const cookie = this.#jar.getCookieStringSync(url);
    if (cookie === '') return headers;
    const out: string[] = [];
    let merged = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] ?? '';
      const value = headers[i + 1] ?? '';
      if (name === 'cookie' && !merged) {
        out.push(name, `${value}; ${cookie}`);
        merged = true;
      } else out.push(name, value);
    }
    if (!merged) out.push('cookie', cookie);
    return out;
  }

  /** Takes in a response's Set-Cookie headers. */
  absorb(url: string, setCookie: string | string[] | undefined): void {
    if (setCookie === undefined) return;
    for (const header of Array.isArray(setCookie) ? setCookie : [setCookie]) {
      this.seen.push([url, header]);
      this.#jar.setCookieSync(header, url, { ignoreError: true });
    }
  }
}
