/**
 * A bounded set of label values for one metrics label: the first `max` distinct values keep their own
 * name, later ones are all counted under {@link OTHER_LABEL}. Values come from callers (origins, tenant
 * names), so without a bound a flood of distinct values would be a flood of series in every scrape.
 */

/** The label every value beyond the bound is counted under. */
export const OTHER_LABEL = 'other';

export class LabelValues {
  readonly #max: number;
  readonly #known = new Set<string>();

  constructor(max: number) {
    this.#max = max;
  }

  /** The label `value` is counted under; the first `max` distinct values are remembered for good. */
  labelOf(value: string): string {
    if (this.#known.has(value)) return value;
    if (this.#known.size < this.#max) {
      this.#known.add(value);
      return value;
    }
    return OTHER_LABEL;
  }

  /** The values that have a label of their own, in the order they were first seen. */
  values(): string[] {
    return [...this.#known];
  }
}
