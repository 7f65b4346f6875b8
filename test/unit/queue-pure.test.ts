/**
 * Queue mode's pure parts, without Redis: the rate windows (any interval holds at most rps x T + one
 * window's points), the redelivery rule (only repeatable jobs run again), the wire encoding (bytes and
 * errors survive JSON, a JSON body that looks like encoded bytes stays as it is) and option checks.
 */
import { describe, expect, it } from 'vitest';
import { FlowpoolError } from '../../dist/src/errors/flowpool-error.js';
import { parseQueueOptions, queueClientOptionsSchema } from '../../dist/src/queue/options.js';
import { msUntilNextSlot, rateSlots, slotIndex } from '../../dist/src/queue/rate-slots.js';
import { decideDelivery } from '../../dist/src/queue/redelivery.js';
import { jobFingerprint } from '../../dist/src/queue/fingerprint.js';
import { scopedIdempotencyKey } from '../../dist/src/queue/keys.js';
import {
  decodeJob,
  encodeError,
  encodeJob,
  encodeResult,
  parseOutcome,
  settleOutcome,
} from '../../dist/src/queue/wire.js';
import type { HttpResult } from '../../dist/src/api/runtime.js';

describe('rate windows', () => {
  // 5 s at rps 50: 51 windows of 5 at most, 255 requests (51/s), under the 55/s the issue allows.
  it('splits a rate into windows of about 100 ms, at least one request each', () => {
    expect(rateSlots(50)).toEqual({ points: 5, slotMs: 100, keySeconds: 2 });
    expect(rateSlots(1000)).toMatchObject({ points: 100, slotMs: 100 });
    expect(rateSlots(2)).toMatchObject({ points: 1, slotMs: 500 });
    expect(rateSlots(0.5)).toEqual({ points: 1, slotMs: 2000, keySeconds: 3 });
  });

  it('bounds any 5 s interval by rps x 5 + two windows, wherever it starts (one for whole windows)', () => {
    for (const rps of [1, 7, 50, 333]) {
      const slots = rateSlots(rps);
      for (let start = 0; start < 1000; start += 37) {
        const first = slotIndex(start, slots);
        const last = slotIndex(start + 4_999.999, slots);
        const allowed = (last - first + 1) * slots.points;
        expect(allowed).toBeLessThanOrEqual(rps * 5 + 2 * slots.points);
        if (Number.isInteger(5_000 / slots.slotMs)) expect(allowed).toBeLessThanOrEqual(rps * 5 + slots.points);
      }
    }
  });

  it('waits exactly until the next window', () => {
    const slots = rateSlots(50);
    expect(msUntilNextSlot(1_000_030, slots)).toBeCloseTo(70);
    expect(slotIndex(1_000_030 + msUntilNextSlot(1_000_030, slots), slots)).toBe(slotIndex(1_000_030, slots) + 1);
  });
});

describe('redelivery', () => {
  const first = { attemptsStarted: 1, stalledCounter: 0 };
  const again = { attemptsStarted: 2, stalledCounter: 1 };
  it('runs a first delivery whatever the method', () => {
    expect(decideDelivery(first, { method: 'POST' })).toBe('run');
  });
  it('runs a redelivered job again only if it is repeatable', () => {
    expect(decideDelivery(again, {})).toBe('rerun');
    expect(decideDelivery(again, { method: 'PUT' })).toBe('rerun');
    expect(decideDelivery(again, { method: 'POST' })).toBe('refuse');
    expect(decideDelivery(again, { method: 'POST', idempotent: true })).toBe('rerun');
    expect(decideDelivery(again, { method: 'GET', idempotent: false })).toBe('refuse');
    expect(decideDelivery({ attemptsStarted: 1, stalledCounter: 1 }, { method: 'PATCH' })).toBe('refuse');
  });
});

describe('wire', () => {
  it('carries a bytes body both ways', () => {
    const body = Uint8Array.from([0, 1, 2, 255]);
    const payload = JSON.parse(JSON.stringify(encodeJob({ url: 'http://a/', body }, 'k', 123))) as unknown;
    const decoded = decodeJob(payload);
    expect(decoded.key).toBe('k');
    expect(decoded.deadline).toBe(123);
    expect(Array.from(decoded.job.body as Uint8Array)).toEqual([0, 1, 2, 255]);
  });

  it('keeps a JSON response body that looks like encoded bytes as it is', () => {
    const result = { status: 200, body: { base64: 'AAEC' }, timings: { queuedMs: 1 } } as unknown as HttpResult;
    const outcome = parseOutcome(JSON.stringify(encodeResult(result, 'w1')));
    if (outcome === undefined) throw new Error('expected an outcome');
    const settled = settleOutcome(outcome, 5);
    expect(settled.ok && settled.value.body).toEqual({ base64: 'AAEC' });
    expect(settled.ok && settled.value.processedBy).toBe('w1');
    expect(settled.ok && settled.value.timings.totalMs).toBe(5);
  });

  it('rebuilds a FlowpoolError with its code and details', () => {
    const error = new FlowpoolError('FLOWPOOL_TIMEOUT', 'too slow', { phase: 'headers' });
    const outcome = parseOutcome(JSON.stringify(encodeError(error, 'w')));
    if (outcome === undefined) throw new Error('expected an outcome');
    const settled = settleOutcome(outcome, 1);
    expect(settled.ok).toBe(false);
    if (!settled.ok) {
      expect(settled.error).toBeInstanceOf(FlowpoolError);
      expect(settled.error.code).toBe('FLOWPOOL_TIMEOUT');
      expect(settled.error.details.phase).toBe('headers');
    }
  });

  it('refuses data that is not a flowpool payload', () => {
    expect(() => decodeJob({ url: 'http://a/' })).toThrow(expect.objectContaining({ code: 'FLOWPOOL_INVALID_JOB' }));
  });
});

describe('options', () => {
  it('names the field and never quotes a Redis URL (it may hold a password)', () => {
    try {
      parseQueueOptions(queueClientOptionsSchema, { redis: 'http://user:s3cret@host/', queue: 'q' });
      expect.unreachable();
    } catch (error) {
      expect((error as FlowpoolError).code).toBe('FLOWPOOL_INVALID_OPTIONS');
      expect((error as FlowpoolError).details.field).toBe('options.redis');
      expect((error as FlowpoolError).message).not.toContain('s3cret');
    }
  });
  it('refuses a queue name BullMQ would mangle', () => {
    expect(() => parseQueueOptions(queueClientOptionsSchema, { redis: 'redis://h', queue: 'a:b' })).toThrow(
      /options.queue/,
    );
  });
});

describe('idempotency fingerprints', () => {
  const roundTrip = (job: Parameters<typeof jobFingerprint>[0]) =>
    jobFingerprint(decodeJob(JSON.parse(JSON.stringify(encodeJob(job, 'k', 1))) as unknown).job);

  it('is the same for the client and for the job as the worker decodes it (bytes, json key order)', () => {
    const bytes = { url: 'https://a.test/x', method: 'POST', body: new Uint8Array([0, 1, 255]) };
    expect(roundTrip(bytes)).toBe(jobFingerprint(bytes));
    expect(jobFingerprint({ url: 'https://a.test/x', method: 'post', json: { a: 1, b: [2, { c: 3, d: 4 }] } })).toBe(
      jobFingerprint({ url: 'https://A.test/x', method: 'POST', json: { b: [2, { d: 4, c: 3 }], a: 1 } }),
    );
  });

  it('changes with method, URL, body and the headers that matter; not with trace or request ids', () => {
    const base = { url: 'https://a.test/orders', method: 'POST', body: 'A', headers: { 'content-type': 'text/plain' } };
    const fp = jobFingerprint(base);
    for (const other of [
      { ...base, method: 'PUT' },
      { ...base, url: 'https://a.test/orders?x=1' },
      { ...base, url: 'https://b.test/orders' },
      { ...base, body: 'B' },
      { ...base, headers: { 'content-type': 'application/json' } },
      { ...base, headers: { ...base.headers, Authorization: 'Bearer other' } },
      { ...base, headers: { ...base.headers, cookie: 'sid=2' } },
      { ...base, auth: { bearer: 't' } },
    ])
      expect(jobFingerprint(other)).not.toBe(fp);
    expect(
      jobFingerprint({ ...base, headers: { ...base.headers, traceparent: '00-1-2-01', 'x-request-id': 'r' } }),
    ).toBe(fp);
  });

  it('scopes a key by namespace: the same key in two namespaces is two keys', () => {
    expect(scopedIdempotencyKey('tenant-1', 'order-42')).not.toBe(scopedIdempotencyKey('tenant-2', 'order-42'));
    expect(scopedIdempotencyKey(undefined, 'order-42')).not.toBe(scopedIdempotencyKey('order-42', ''));
    expect(scopedIdempotencyKey('t', 'k')).toBe(scopedIdempotencyKey('t', 'k'));
  });
});
