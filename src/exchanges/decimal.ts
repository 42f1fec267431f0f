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
