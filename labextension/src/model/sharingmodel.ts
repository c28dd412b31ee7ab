/**
 * The Sharing panel's state: who I am, what I own, what others shared with me,
 * kept fresh by events, polling and explicit refreshes. No DOM here.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { IMe, IResource, Kind, KINDS, ShareAPI } from '../api';
import { IFeedMessage } from '../feed';
import { reuseUnchanged, upsert } from './lists';
import { errorMessage } from './words';

/**
 * Where the panel keeps the time of the newest share it has seen, so that
 * only later shares raise a notification, across reloads.
 */
export interface ISeenStore {
  load(): Promise<string | null>;
  save(sharedAt: string): Promise<void>;
}

/** Where a resource is in the model. */
export type Place = 'owned' | 'shared';

/**
 * The state of the Sharing panel.
 */
export class SharingModel implements IDisposable {
  constructor(options: SharingModel.IOptions) {
    this.api = options.api;
    this._seen = options.seen ?? null;
    this._pollInterval = options.pollInterval ?? 30;
  }

  /** The REST API the model reads. */
  readonly api: ShareAPI;

  /** Emitted after any change of state. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted with the resources newly shared with me since the last look. */
  get newShares(): ISignal<this, IResource[]> {
    return this._newShares;
  }

  /** Who I am; null until the first refresh. */
  get me(): IMe | null {
    return this._me;
  }

  /** The id of this container (`sessions/current`); null until known. */
  get currentSessionId(): string | null {
    return this._currentSessionId;
  }

  /**
   * Forget which resource is this container (after it was deleted): the next
   * refresh reads `sessions/current` again, which registers it anew.
   */
  forgetCurrentSession(): void {
    this._currentSessionId = null;
  }

  /** Whether the first refresh has answered. */
  get loaded(): boolean {
    return this._loaded;
  }

  /** Whether a refresh is running. */
  get refreshing(): boolean {
    return this._inFlight !== null;
  }

  /** Why the last refresh failed; null when it did not. */
  get error(): string | null {
    return this._error;
  }

  /** My own resources of a kind, newest first. */
  owned(kind: Kind): ReadonlyArray<IResource> {
    return this._owned[kind];
  }

  /** Resources of every kind that others shared with me, newest first. */
  get shared(): ReadonlyArray<IResource> {
    return this._shared;
  }

  /** A resource by id, mine or shared with me. */
  find(id: string): { resource: IResource; place: Place } | undefined {
    for (const kind of KINDS) {
      const resource = this._owned[kind].find(r => r.id === id);
      if (resource) {
        return { resource, place: 'owned' };
      }
    }
    const resource = this._shared.find(r => r.id === id);
    return resource ? { resource, place: 'shared' } : undefined;
  }

  /** Seconds between two looks at what is shared with me. */
  get pollInterval(): number {
    return this._pollInterval;
  }
  set pollInterval(seconds: number) {
    if (!(seconds > 0) || seconds === this._pollInterval) {
      return;
    }
    this._pollInterval = seconds;
    if (this._polling) {
      this._schedulePoll();
    }
  }

  /** Look at what is shared with me every `pollInterval` seconds. */
  startPolling(): void {
    this._polling = true;
    this._schedulePoll();
  }

  /** Stop looking. */
  stopPolling(): void {
    this._polling = false;
    window.clearTimeout(this._pollTimer);
  }

  /**
   * Read everything again. Calls made while one runs share one more run after it.
   */
  refresh(): Promise<void> {
    return this._coalesce('all');
  }

  /** Read what is shared with me again. */
  refreshShared(): Promise<void> {
    return this._coalesce('shared');
  }

  /** Refresh soon, once for a burst of calls (events come in bursts). */
  scheduleRefresh(delay = 150): void {
    window.clearTimeout(this._refreshTimer);
    this._refreshTimer = window.setTimeout(() => {
      void this.refresh().catch(() => undefined);
    }, delay);
  }

  /**
   * A change told by the server's change stream: read again only the row it
   * names (or drop it), not whole lists.
   */
  async applyChange(change: IFeedMessage): Promise<void> {
    if (!this._loaded || this._isDisposed) {
      return; // the first refresh reads everything
    }
    const gone = change.access === null || change.action === 'delete';
    let fresh: IResource | null = null;
    if (!gone) {
      fresh = await this.api
        .get(change.kind, change.resource_id)
        .catch(() => null); // gone meanwhile
    }
    if (this._isDisposed) {
      return;
    }
    if (change.list === 'owned') {
      this._owned[change.kind] = upsert(
        this._owned[change.kind],
        change.resource_id,
        fresh
      );
    } else {
      await this._takeShared(upsert(this._shared, change.resource_id, fresh));
    }
    this._changed.emit();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.stopPolling();
    window.clearTimeout(this._refreshTimer);
    Signal.clearData(this);
  }

  private _coalesce(what: 'all' | 'shared'): Promise<void> {
    if (this._inFlight) {
      this._pending =
        this._pending === 'all' || what === 'all' ? 'all' : 'shared';
      if (!this._next) {
        this._next = this._inFlight
          .catch(() => undefined)
          .then(() => {
            const pending = this._pending ?? what;
            this._pending = null;
            this._next = null;
            return this._coalesce(pending);
          });
      }
      return this._next;
    }
    this._inFlight = (
      what === 'all' ? this._refreshAll() : this._refreshShared()
    )
      .then(
        () => {
          this._error = null;
        },
        reason => {
          this._error = errorMessage(reason);
          throw reason;
        }
      )
      .finally(() => {
        this._inFlight = null;
        if (!this._isDisposed) {
          this._changed.emit();
        }
      });
    return this._inFlight;
  }

  private async _refreshAll(): Promise<void> {
    const [me, current, images, formations, sessions, shared] =
      await Promise.all([
        this._me ? Promise.resolve(this._me) : this.api.me(),
        // Reading it also registers this container the first time.
        this._currentSessionId
          ? Promise.resolve(null)
          : this.api.get('session', 'current').catch(() => null),
        this.api.listAll('image', 'owned'),
        this.api.listAll('formation', 'owned'),
        this.api.listAll('session', 'owned'),
        this.api.sharedWithMeAll()
      ]);
    if (this._isDisposed) {
      return;
    }
    this._me = me;
    if (current) {
      this._currentSessionId = current.id;
    }
    const owned = { image: images, formation: formations, session: sessions };
    for (const kind of KINDS) {
      this._owned[kind] = reuseUnchanged(this._owned[kind], owned[kind]);
    }
    if (current && !sessions.some(s => s.id === current.id)) {
      // Registered by this very refresh: the list was read before.
      this._owned.session = [current, ...this._owned.session];
    }
    await this._takeShared(shared);
    this._loaded = true;
  }

  private async _refreshShared(): Promise<void> {
    const shared = await this.api.sharedWithMeAll();
    if (!this._isDisposed) {
      await this._takeShared(shared);
    }
  }

  private async _takeShared(shared: IResource[]): Promise<void> {
    this._shared = reuseUnchanged(this._shared, shared);
    if (!this._seenLoaded) {
      this._seenLoaded = true;
      this._lastSeen = this._seen
        ? await this._seen.load().catch(() => null)
        : null;
    }
    // The very first look sets the mark: what was there before is not news.
    // An empty mark ('') means that nothing was shared at that look.
    const first = this._lastSeen === null;
    const mark = this._lastSeen ?? '';
    let newest = mark;
    for (const r of shared) {
      if (r.shared_at && r.shared_at > newest) {
        newest = r.shared_at;
      }
    }
    const fresh = first
      ? []
      : shared.filter(r => r.shared_at && r.shared_at > mark);
    if (first || newest !== mark) {
      this._lastSeen = newest;
      if (this._seen) {
        await this._seen.save(newest).catch(() => undefined);
      }
    }
    if (fresh.length > 0) {
      this._newShares.emit(fresh);
    }
  }

  private _schedulePoll(failures = 0): void {
    window.clearTimeout(this._pollTimer);
    if (!this._polling || this._isDisposed) {
      return;
    }
    // Back off after failures, up to 8 times the interval.
    const delay = this._pollInterval * 1000 * Math.min(2 ** failures, 8);
    this._pollTimer = window.setTimeout(async () => {
      let failed = false;
      if (typeof document === 'undefined' || !document.hidden) {
        try {
          await this.refreshShared();
        } catch {
          failed = true;
        }
      }
      this._schedulePoll(failed ? failures + 1 : 0);
    }, delay);
  }

  private _changed = new Signal<this, void>(this);
  private _newShares = new Signal<this, IResource[]>(this);
  private _me: IMe | null = null;
  private _currentSessionId: string | null = null;
  private _owned: { [kind in Kind]: IResource[] } = {
    image: [],
    formation: [],
    session: []
  };
  private _shared: IResource[] = [];
  private _loaded = false;
  private _error: string | null = null;
  private _inFlight: Promise<void> | null = null;
  private _pending: 'all' | 'shared' | null = null;
  private _next: Promise<void> | null = null;
  private _seen: ISeenStore | null;
  private _seenLoaded = false;
  private _lastSeen: string | null = null;
  private _pollInterval: number;
  private _polling = false;
  private _pollTimer = 0;
  private _refreshTimer = 0;
  private _isDisposed = false;
}

/** The statics of `SharingModel`. */
export namespace SharingModel {
  export interface IOptions {
    api: ShareAPI;
    /** Keeps the mark of the newest share seen; without it, the mark lives as long as the model. */
    seen?: ISeenStore;
    /** Seconds between two looks at what is shared with me (default 30). */
    pollInterval?: number;
  }
}
