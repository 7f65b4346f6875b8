/**
 * Go's `%v` of a float64 (`fmt.Sprint`), which is how the Go engine writes a number as text: in
 * `{{ variable.x }}` / `{{ const.x }}` templates and in a `string` context value. `%v` is strconv's
 * `'g'` format with the shortest precision that reads back exactly; with the shortest precision the
 * switch to an exponent happens below 1e-4 or from 1e6 up (strconv/ftoa.go `formatDigits`: `eprec = 6`
 * when shortest), the exponent has at least two digits, and infinities keep their sign
 * (fmt/format.go `fmtFloat`). So `1234567` -> `1.234567e+06`, `1e6` -> `1e+06`, `100000` -> `100000`,
 * `0.0001` -> `0.0001`, `0.00001` -> `1e-05`, `NaN`, `+Inf`, `-Inf`, `-0`. Pure.
 *
 * JavaScript's `String(number)` already gives the shortest digits that read back exactly (and, like Go,
 * the closest such digits when several are that short); only the layout differs, so the digits and the
 * decimal exponent are taken from it and laid out as Go does.
 */

/** `value` as Go's `fmt.Sprintf("%v", value)` writes a float64. */
export function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const sign = value < 0 ? '-' : '';
  const { digits, exponent } = shortestDigits(Math.abs(value));
  if (exponent < -4 || exponent >= 6) {
    const mantissa = digits.length > 1 ? `${digits[0] ?? ''}.${digits.slice(1)}` : digits;
    const magnitude = Math.abs(exponent);
    return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${magnitude < 10 ? '0' : ''}${String(magnitude)}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

/**
 * The shortest significant digits of a positive finite number (no leading or trailing zeros) and the
 * decimal exponent of the first one: 1234.5 -> { digits: '12345', exponent: 3 }.
 */
function shortestDigits(value: number): { readonly digits: string; readonly exponent: number } {
  const text = String(value);
  const e = text.indexOf('e');
  if (e !== -1) {
    return { digits: text.slice(0, e).replace('.', ''), exponent: Number(text.slice(e + 1)) };
  }
  const dot = text.indexOf('.');
  const whole = dot === -1 ? text : text.slice(0, dot);
  const fraction = dot === -1 ? '' : text.slice(dot + 1);
  if (whole !== '0') {
    return { digits: `${whole}${fraction}`.replace(/0+$/, ''), exponent: whole.length - 1 };
  }
  const zeros = /^0*/.exec(fraction)?.[0].length ?? 0;
  return { digits: fraction.slice(zeros), exponent: -zeros - 1 };
}
