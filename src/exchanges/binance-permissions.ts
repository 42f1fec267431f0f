/**
 * GET /sapi/v1/account/apiRestrictions (developers.binance.com/docs/wallet/account/api-key-permission):
 * the key's permission flags. The same key serves spot and USD-M, so both adapters ask this.
 * Untrusted input: the three flags we act on must be present and boolean, or the answer is
 * malformed; a missing optional flag reads as "not enabled" only where the docs add it later
 * (options, portfolio margin, universal transfer).
 */
import { isRecord, malformed } from './binance-common.js';
import type { KeyPermissions } from './types.js';

export function parseApiRestrictions(r: unknown): KeyPermissions {
  if (!isRecord(r)) throw malformed('apiRestrictions');
  const must = (k: string): boolean => {
    const v = r[k];
    if (typeof v !== 'boolean') throw malformed(`apiRestrictions.${k}`);
    return v;
  };
  const may = (k: string): boolean => {
    const v = r[k];
    if (v === undefined) return false;
    if (typeof v !== 'boolean') throw malformed(`apiRestrictions.${k}`);
    return v;
  };
  const spot = must('enableSpotAndMarginTrading');
  const futures = must('enableFutures');
  const margin = may('enableMargin');
  return {
    read: must('enableReading'),
    trade:
      spot ||
      futures ||
      margin ||
      may('enableVanillaOptions') ||
      may('enablePortfolioMarginTrading') ||
      may('enableFixApiTrade'),
    withdraw: must('enableWithdrawals'),
    transfer: may('enableInternalTransfer') || may('permitsUniversalTransfer'),
    futures,
    margin,
  };
}
