/**
 * What people type into the forms, normalised for the API.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { NULL_TRANS } from './words';

/**
 * The principal a user typed, normalised: `bob` and `user:bob` are the user,
 * `group:class` the group; blanks around are dropped. Null when empty.
 */
export function parsePrincipal(
  text: string
): { kind: 'user' | 'group'; name: string; principal: string } | null {
  const trimmed = text.trim();
  if (!trimmed) {
    return null;
  }
  const match = /^(user|group):(.*)$/.exec(trimmed);
  const kind = match ? (match[1] as 'user' | 'group') : 'user';
  const name = (match ? match[2] : trimmed).trim();
  if (!name) {
    return null;
  }
  return { kind, name, principal: `${kind}:${name}` };
}

/** An expiry date input (YYYY-MM-DD) as the end of that local day, in ISO 8601; null for none. */
export function expiryFromDate(
  date: string,
  trans: TranslationBundle = NULL_TRANS
): string | null {
  if (!date) {
    return null;
  }
  const end = new Date(`${date}T23:59:59`);
  if (isNaN(end.getTime())) {
    throw new Error(trans.__('not a date: %1', date));
  }
  return end.toISOString();
}
