/**
 * Lists of resources kept across refreshes: unchanged rows keep their
 * objects, so that React renders only the rows that changed.
 */
import { IResource } from '../api';

/** The fields whose change makes a resource's row render again. */
function fingerprint(r: IResource): string {
  return [
    r.name,
    r.updated_at,
    r.access,
    r.shared,
    r.share_count,
    r.shared_at,
    r.expires_at,
    r.owner,
    JSON.stringify(r.grantees ?? null),
    r.description
  ].join('\u0000');
}

/**
 * The new list, reusing the objects of the old one for unchanged resources,
 * so that rows of unchanged resources need not render again.
 */
export function reuseUnchanged(
  old: ReadonlyArray<IResource>,
  fresh: IResource[]
): IResource[] {
  if (old.length === 0) {
    return fresh;
  }
  const byId = new Map(old.map(r => [r.id, r]));
  let same = old.length === fresh.length;
  const result = fresh.map((r, i) => {
    const previous = byId.get(r.id);
    if (previous && fingerprint(previous) === fingerprint(r)) {
      same = same && old[i] === previous;
      return previous;
    }
    same = false;
    return r;
  });
  return same ? (old as IResource[]) : result;
}

/** `list` with the row of `id` replaced by `fresh`, added first, or dropped (null). */
export function upsert(
  list: IResource[],
  id: string,
  fresh: IResource | null
): IResource[] {
  const at = list.findIndex(r => r.id === id);
  if (fresh === null) {
    return at < 0 ? list : list.filter(r => r.id !== id);
  }
  if (at < 0) {
    return [fresh, ...list];
  }
  const next = list.slice();
  next[at] = fresh;
  return next;
}
