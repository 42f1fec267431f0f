/**
 * Exact decimal strings from the network. Amounts are never turned into floats: the engine gets
 * the exchange's digits, and the only arithmetic here (free + locked, amount + fee) is on BigInt.
 */

/** A non-negative decimal as exchanges print it: "12", "0.001", "8.91000000". */
export const UDEC = /^\d{1,30}(\.\d{1,30})?$/;

/** a + b for two UDEC strings, with the larger of their scales ("8.91000000" + "0.004" → "8.91400000"). */
export function addDecimals(a: string, b: string): string {
  const [ai = '', af = ''] = a.split('.');
  const [bi = '', bf = ''] = b.split('.');
  const scale = Math.max(af.length, bf.length);
  const sum = BigInt(ai + af.padEnd(scale, '0')) + BigInt(bi + bf.padEnd(scale, '0'));
  if (scale === 0) return sum.toString();
  const digits = sum.toString().padStart(scale + 1, '0');
  return `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** true when a UDEC string is greater than zero */
export const isPositive = (v: string) => /[1-9]/.test(v);

/** A signed decimal as exchanges print it: "-0.00867", "12", "+" is not accepted. */
export const DEC = /^-?\d{1,30}(\.\d{1,30})?$/;

/** a + b for two DEC strings (signed), exact, at the larger of their scales; "-0" becomes "0". */
export function addSignedDecimals(a: string, b: string): string {
  const scaled = (s: string, scale: number) => {
    const neg = s.startsWith('-');
    const [i = '', f = ''] = (neg ? s.slice(1) : s).split('.');
    const v = BigInt(i + f.padEnd(scale, '0'));
    return neg ? -v : v;
  };
  const scale = Math.max(a.split('.')[1]?.length ?? 0, b.split('.')[1]?.length ?? 0);
  const sum = scaled(a, scale) + scaled(b, scale);
  const neg = sum < 0n;
  const digits = (neg ? -sum : sum).toString().padStart(scale + 1, '0');
  const abs = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return neg ? `-${abs}` : abs;
}

/** −v for a DEC string; zero stays unsigned. */
export function negateDecimal(v: string): string {
  if (v.startsWith('-')) return v.slice(1);
  return /[1-9]/.test(v) ? `-${v}` : v;
}

/** A DEC string as a scaled BigInt: value = n / 10^scale. */
function scaledOf(s: string): { n: bigint; scale: number } {
  const neg = s.startsWith('-');
  const [i = '', f = ''] = (neg ? s.slice(1) : s).split('.');
  const n = BigInt(i + f);
  return { n: neg ? -n : n, scale: f.length };
}

function print(n: bigint, scale: number): string {
  const neg = n < 0n;
  const digits = (neg ? -n : n).toString().padStart(scale + 1, '0');
  const abs = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  const trimmed = abs.includes('.') ? abs.replace(/0+$/, '').replace(/\.$/, '') : abs;
  return neg && /[1-9]/.test(trimmed) ? `-${trimmed}` : trimmed;
}

/** a × b for two DEC strings, exact, trailing zeros trimmed ("0.01" × "3" → "0.03"). */
export function mulDecimals(a: string, b: string): string {
  const x = scaledOf(a);
  const y = scaledOf(b);
  return print(x.n * y.n, x.scale + y.scale);
}

/** a ÷ b for two DEC strings, truncated toward zero at `scale` decimals (b ≠ 0). */
export function divDecimals(a: string, b: string, scale: number): string {
  const x = scaledOf(a);
  const y = scaledOf(b);
  if (y.n === 0n) throw new RangeError('division by zero');
  // a/b = (x.n / 10^xs) / (y.n / 10^ys) = x.n · 10^(ys − xs) / y.n
  const shift = scale + y.scale - x.scale;
  const num = shift >= 0 ? x.n * 10n ** BigInt(shift) : x.n;
  const den = shift >= 0 ? y.n : y.n * 10n ** BigInt(-shift);
  return print(num / den, scale);
}
