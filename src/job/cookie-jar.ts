/** The methods flowpool uses, so a jar from another copy of tough-cookie works too. */
export interface CookieJarLike {
  readonly store: { readonly synchronous: boolean };
  getCookiesSync(url: string, options?: { allPaths?: boolean }): { toJSON(): unknown }[];
  setCookieSync(cookie: string, url: string, options?: { ignoreError?: boolean }): unknown;
}
