/**
 * The CPU-heavy workload: reshapes the target's `/large` document (400 items, ~50 KB of JSON) with about
 * 5 ms of CPU on the 2-core machine the figures in bench/README.md come from. Deterministic: the same
 * input gives the same output and the same amount of work, whichever thread runs it.
 *
 * Default export, `(body) => summary`, so it plugs into flowpool's `transforms` option as is; the
 * main-thread and naive-piscina variants call the same function. The summary is small on purpose:
 * the cost under test is the CPU, not a large structured clone back.
 */

/** Passes over the items; calibrated so that one call takes ~5 ms here (see bench/README.md). */
export const HEAVY_PASSES = 125;

interface Item {
  readonly id: number;
  readonly name: string;
  readonly price: number;
  readonly tags: readonly string[];
  readonly description: string;
}

export interface HeavySummary {
  readonly items: number;
  readonly checksum: number;
  readonly totalByTag: Record<string, number>;
  readonly top: readonly number[];
}

function itemsOf(body: unknown): Item[] {
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) throw new TypeError('heavy transform: expected a body with an items array');
  return items as Item[];
}

/** Sorts the items by a key that changes each pass, then aggregates: repeated, so the work is steady. */
export default function heavyTransform(body: unknown): HeavySummary {
  const items = itemsOf(body);
  let checksum = 0;
  const totalByTag: Record<string, number> = {};
  let order = items.slice();
  for (let pass = 0; pass < HEAVY_PASSES; pass++) {
    const salt = pass * 2654435761;
    order = order
      .map((item) => ({ item, key: ((item.id * 40503 + salt) >>> 0) % 1009, label: `${item.name}:${pass % 7}` }))
      .sort((a, b) => a.key - b.key || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0))
      .map((entry) => entry.item);
    for (let i = 0; i < order.length; i++) {
      const item = order[i];
      if (item === undefined) continue;
      checksum = (checksum * 31 + item.id * (i + 1) + item.description.length) >>> 0;
      for (const tag of item.tags) totalByTag[tag] = (totalByTag[tag] ?? 0) + item.price;
    }
  }
  return { items: items.length, checksum, totalByTag, top: order.slice(0, 5).map((item) => item.id) };
}
