/**
 * The model's words for people: kinds, principals, expiries, badges and
 * errors, through a translation bundle (untranslated without one).
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { IGrant, IResource, Kind } from '../api';

/** The words of a bundle that translates nothing: for callers (and tests) without a translator. */
export const NULL_TRANS: TranslationBundle =
  nullTranslator.load('jupyter_share');

/** The word for a kind in sentences ("alice shared image CARET with you"). */
export function kindLabel(
  kind: Kind,
  trans: TranslationBundle = NULL_TRANS
): string {
  switch (kind) {
    case 'session':
      return trans.__('container');
    case 'image':
      return trans.__('image');
    case 'formation':
      return trans.__('formation');
    default:
      return kind;
  }
}

/** The title of a kind's section in the panel. */
export function sectionTitle(
  kind: Kind,
  trans: TranslationBundle = NULL_TRANS
): string {
  return {
    image: trans.__('Images'),
    formation: trans.__('Formations'),
    session: trans.__('Containers')
  }[kind];
}

/** How a grant's principal reads: `bob`, or `group class-2026`. */
export function principalLabel(
  grant: Pick<IGrant, 'kind' | 'name'>,
  trans: TranslationBundle = NULL_TRANS
): string {
  return grant.kind === 'group' ? trans.__('group %1', grant.name) : grant.name;
}

/** The calendar date of an ISO 8601 date-time, as YYYY-MM-DD in local time. */
export function formatDate(iso: string): string {
  const date = new Date(iso);
  if (isNaN(date.getTime())) {
    return iso;
  }
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** When an access runs out, for people: "no expiry", "until 2026-12-31". */
export function expiryLabel(
  expiresAt: string | null | undefined,
  trans: TranslationBundle = NULL_TRANS
): string {
  return expiresAt
    ? trans.__('until %1', formatDate(expiresAt))
    : trans.__('no expiry');
}

/**
 * The tooltip of an owned resource's shared badge.
 *
 * @param count The resource's `share_count`
 * @param grants Its access list, when known
 */
export function badgeTooltip(
  count: number,
  grants?: ReadonlyArray<Pick<IGrant, 'kind' | 'name' | 'permission'>> | null,
  trans: TranslationBundle = NULL_TRANS
): string {
  if (!grants || grants.length === 0) {
    return trans._n('Shared: %1 grant', 'Shared: %1 grants', count);
  }
  const names = grants
    .map(g => trans.__('%1 (%2)', principalLabel(g, trans), g.permission))
    .join(', ');
  return count > grants.length
    ? trans.__('Shared with %1 and %2 more', names, count - grants.length)
    : trans.__('Shared with %1', names);
}

/** The sentence of a notification: "alice shared image CARET with you". */
export function describeNewShare(
  resource: IResource,
  trans: TranslationBundle = NULL_TRANS
): string {
  return trans.__(
    '%1 shared %2 %3 with you',
    resource.owner,
    kindLabel(resource.kind, trans),
    resource.name
  );
}

/** The error message of a failed request, for people. */
export function errorMessage(reason: unknown): string {
  if (reason && typeof reason === 'object' && 'message' in reason) {
    const message = String((reason as Error).message);
    if (message) {
      return message;
    }
  }
  return String(reason);
}
