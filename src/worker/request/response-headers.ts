/**
 * A response's header lines as undici hands them to a dispatch handler (raw name and value buffers), kept as
 * a flat list of strings with lower-case names. Nothing builds a headers object on the plain path: the list
 * is packed into one string for the main thread (wire/headers.ts), and only a sink, a transform or a cookie
 * jar that wants an object gets one.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { util } from 'undici';
import { packHeaders, unpackHeaders } from '../../wire/headers.js';

type RawValue = Buffer | string | readonly (Buffer | string)[];

function text(value: RawValue | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  return value.map((part) => (typeof part === 'string' ? part : part.toString('latin1'))).join(', ');
}

export class ResponseHeaders {
  /** `[name, value, name, value, ...]`, names lower-case. */
  readonly flat: string[];

  constructor(raw: readonly RawValue[]) {
    const flat = new Array<string>(raw.length);
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      // undici's own lookup: common names come back interned, without a lower-casing copy.
      flat[i] = typeof name === 'string' || Buffer.isBuffer(name) ? util.headerNameToString(name) : text(name);
      flat[i + 1] = text(raw[i + 1]);
    }
    this.flat = flat;
  }

  /** The first value of `name` (lower-case), or undefined. */
  get(name: string): string | undefined {
    const flat = this.flat;
    for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) return flat[i + 1];
    return undefined;
  }

  /** Every value of `name` (lower-case), in order. */
  all(name: string): string[] {
    const values: string[] = [];
    const flat = this.flat;
    for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) values.push(flat[i + 1] ?? '');
    return values;
  }

  /** One string for the trip to the main thread. */
  pack(): string {
    return packHeaders(this.flat);
  }

  /** An object as undici's `parseHeaders` builds it, for the parts that want one (sinks, transforms). */
  toObject(): IncomingHttpHeaders {
    return unpackHeaders(this.pack());
  }
}
