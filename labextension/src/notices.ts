/**
 * What happened, in words, for the notifications the owner and the neighbour
 * get: a guest signed in to or left my container, someone left what I shared
 * with them, and my access to something shared with me ends soon.
 */
import { Notification } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

import { IResource } from './api';
import { IFeedMessage } from './feed';
import { kindLabel } from './model';

/** How long before an end of access the reminder comes. */
export const REMIND_BEFORE_MS = 60 * 60 * 1000;

/** A presence event (events/presence.yaml) in words for the container's owner. */
export function presenceWords(
  event: { readonly [key: string]: unknown },
  trans: TranslationBundle
): string | null {
  if (typeof event.guest !== 'string' || !event.guest) {
    return null;
  }
  switch (event.action) {
    case 'sign-in':
      return trans.__('%1 signed in to your container', event.guest);
    case 'gone':
      return trans.__(
        '%1 left your container: their access ended',
        event.guest
      );
    default:
      return null; // kernels, documents, idle: the panel's list shows them
  }
}

/** A change to something I own, when a neighbour made it: "bob left image CARET". */
export function ownerChangeWords(
  change: IFeedMessage,
  me: string | null,
  trans: TranslationBundle
): string | null {
  if (change.list !== 'owned' || !change.actor || change.actor === me) {
    return null;
  }
  const what = change.resource_name
    ? trans.__('%1 %2', kindLabel(change.kind), change.resource_name)
    : trans.__('your %1', kindLabel(change.kind));
  switch (change.action) {
    case 'leave':
      return trans.__('%1 left %2', change.actor, what);
    case 'ask':
      return null; // the request's own notification, with Approve and Deny, says it
    default:
      return null;
  }
}

/** "in 1 hour", "in 12 minutes": how far away `ms` is, in words. */
export function inWords(ms: number, trans: TranslationBundle): string {
  const minutes = Math.max(1, Math.round(ms / 60000));
  if (minutes >= 60) {
    const hours = Math.round(minutes / 60);
    return trans._n('in %1 hour', 'in %1 hours', hours);
  }
  return trans._n('in %1 minute', 'in %1 minutes', minutes);
}

/** The reminder for one end of access, in words. */
export function endsWords(
  what: string,
  ends: string,
  now: number,
  trans: TranslationBundle
): string {
  return trans.__(
    'Your access to %1 ends %2',
    what,
    inWords(Date.parse(ends) - now, trans)
  );
}

/**
 * Reminds once, an hour before (or at once when less is left), of each end of
 * access it is told about. Told again with the same end, it does nothing; a
 * new end (the owner changed the expiry) is reminded again.
 */
export class ExpiryReminder {
  constructor(
    private readonly _trans: TranslationBundle,
    private readonly _notify: (text: string) => void = text =>
      void Notification.warning(text, { autoClose: 15000 }),
    private readonly _now: () => number = () => Date.now()
  ) {}

  /** What shared with me ends when: `key` names it, `what` says it in words. */
  watch(key: string, what: string, ends: string | null | undefined): void {
    const known = this._timers.get(key);
    if (known && known.ends === ends) {
      return;
    }
    if (known) {
      window.clearTimeout(known.timer);
      this._timers.delete(key);
    }
    const end = ends ? Date.parse(ends) : NaN;
    if (!ends || isNaN(end) || end <= this._now()) {
      return;
    }
    const timer = window.setTimeout(
      () => this._notify(endsWords(what, ends, this._now(), this._trans)),
      Math.max(0, end - REMIND_BEFORE_MS - this._now())
    );
    this._timers.set(key, { ends, timer });
  }

  /** Follow the resources shared with me; those gone are forgotten. */
  watchShared(resources: ReadonlyArray<IResource>): void {
    const seen = new Set<string>();
    for (const r of resources) {
      seen.add(r.id);
      const what = this._trans.__(
        "%1's %2 %3",
        r.owner,
        kindLabel(r.kind),
        r.name
      );
      this.watch(r.id, what, r.expires_at);
    }
    for (const [key, known] of this._timers) {
      if (!seen.has(key) && !key.startsWith('guest:')) {
        window.clearTimeout(known.timer);
        this._timers.delete(key);
      }
    }
  }

  dispose(): void {
    for (const known of this._timers.values()) {
      window.clearTimeout(known.timer);
    }
    this._timers.clear();
  }

  private _timers = new Map<string, { ends: string; timer: number }>();
}
