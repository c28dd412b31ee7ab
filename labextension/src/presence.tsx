/**
 * Who is in this container now: the guests the server holds in memory
 * (`GET sessions/current/guests`, the owner's and managers'), shown under the
 * container's row of the Sharing panel with a green dot for "in now", their
 * last activity, what they have open, and Revoke / Lower to view right there.
 * The list follows the server's `jupyter_share/presence` events (and grant
 * changes) on its event stream: no polling.
 */
import * as React from 'react';
import { Notification } from '@jupyterlab/apputils';
import { Event } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import type { components } from './contract';
import { requestAPI } from './request';
import { errorMessage, NULL_TRANS, SharingModel } from './model';

/** The jupyter_events schema of presence changes (events/presence.yaml). */
export const PRESENCE_SCHEMA_ID =
  'https://events.jupyter.org/jupyter_share/presence/v1';

const CHANGE_SCHEMA_ID = 'https://events.jupyter.org/jupyter_share/change/v1';

/** One guest in this container (openapi.yaml: GuestPresence). */
export type IGuestPresence = components['schemas']['GuestPresence'];

/** The guests in this container, kept current from the event stream. */
export class PresenceModel {
  constructor(readonly sharing: SharingModel) {}

  get guests(): ReadonlyArray<IGuestPresence> {
    return this._guests;
  }

  /** Whether the list was read at least once. */
  get loaded(): boolean {
    return this._loaded;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Read the list again. A refusal (not a manager) shows nothing. */
  async refresh(): Promise<void> {
    try {
      const answer = await requestAPI<{ items: IGuestPresence[] }>(
        'sessions/current/guests',
        {},
        this.sharing.api.serverSettings
      );
      this._guests = answer.items;
    } catch (reason) {
      console.warn(
        `jupyter-share: who is in this container: ${errorMessage(reason)}`
      );
      this._guests = [];
    }
    this._loaded = true;
    this._changed.emit();
  }

  /** Refresh soon, once for a burst of events. */
  scheduleRefresh(delay = 100): void {
    if (this._timer === null) {
      this._timer = window.setTimeout(() => {
        this._timer = null;
        void this.refresh();
      }, delay);
    }
  }

  /** Follow the server's event stream: presence and grant changes. */
  connect(events: Event.IManager): void {
    events.stream.connect((_: Event.IManager, event: Event.Emission) => {
      if (
        event.schema_id === PRESENCE_SCHEMA_ID ||
        (event.schema_id === CHANGE_SCHEMA_ID && event.kind === 'session')
      ) {
        this.scheduleRefresh();
      }
    });
  }

  /** Revoke a guest's grant on this container. */
  async revoke(username: string): Promise<void> {
    await this.sharing.api.revoke('session', 'current', `user:${username}`);
    await this.refresh();
  }

  /** Lower a guest to view, keeping their grant's expiry. */
  async lowerToView(username: string): Promise<void> {
    const api = this.sharing.api;
    const grants = await api.grants('session', 'current');
    const grant = grants.find(g => g.principal === `user:${username}`);
    await api.share('session', 'current', `user:${username}`, {
      permission: 'view',
      expires_at: grant?.expires_at ?? null
    });
    await this.refresh();
  }

  private _guests: IGuestPresence[] = [];
  private _loaded = false;
  private _timer: number | null = null;
  private _changed = new Signal<this, void>(this);
}

const MODELS = new WeakMap<SharingModel, PresenceModel>();

/** The presence model of a Sharing model (one each). */
export function presenceOf(sharing: SharingModel): PresenceModel {
  let model = MODELS.get(sharing);
  if (!model) {
    model = new PresenceModel(sharing);
    MODELS.set(sharing, model);
  }
  return model;
}

/** "just now", "5 min ago", "2 h ago". */
export function ago(
  iso: string,
  now = Date.now(),
  trans: TranslationBundle = NULL_TRANS
): string {
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  if (seconds < 60) {
    return trans.__('just now');
  }
  if (seconds < 3600) {
    const minutes = Math.floor(seconds / 60);
    return trans._n('%1 min ago', '%1 min ago', minutes);
  }
  if (seconds < 86400) {
    const hours = Math.floor(seconds / 3600);
    return trans._n('%1 h ago', '%1 h ago', hours);
  }
  return new Date(iso).toLocaleString();
}

/** What a guest has open, in short: "1 kernel · 1 document". */
export function openSummary(
  guest: IGuestPresence,
  trans: TranslationBundle = NULL_TRANS
): string {
  const { kernels, terminals, documents } = guest;
  const parts = [
    kernels.length ? trans._n('%1 kernel', '%1 kernels', kernels.length) : '',
    terminals.length
      ? trans._n('%1 terminal', '%1 terminals', terminals.length)
      : '',
    documents.length
      ? trans._n('%1 document', '%1 documents', documents.length)
      : ''
  ].filter(Boolean);
  return parts.length ? parts.join(' · ') : trans.__('nothing open');
}

/** The tooltip: since when, from where, and each thing open. */
export function presenceTooltip(
  guest: IGuestPresence,
  trans: TranslationBundle = NULL_TRANS
): string {
  const lines = [
    trans.__('%1 (%2)', guest.username, guest.permission),
    trans.__(
      'Signed in %1 from %2',
      new Date(guest.signed_in_at).toLocaleString(),
      guest.address || trans.__('an unknown address')
    ),
    trans.__('Last activity %1', ago(guest.last_active_at, Date.now(), trans))
  ];
  if (guest.documents.length) {
    lines.push(trans.__('Documents: %1', guest.documents.join(', ')));
  }
  if (guest.kernels.length) {
    lines.push(
      trans.__('Kernels: %1', guest.kernels.map(k => k.slice(0, 8)).join(', '))
    );
  }
  if (guest.terminals.length) {
    lines.push(trans.__('Terminals: %1', guest.terminals.join(', ')));
  }
  return lines.join('\n');
}

/** The guests in this container, under its row in the Sharing panel. */
export function GuestsInNow(props: {
  model: SharingModel;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { trans } = props;
  const presence = presenceOf(props.model);
  const [, setVersion] = React.useState(0);
  const [busy, setBusy] = React.useState<string | null>(null);
  React.useEffect(() => {
    const update = () => setVersion(n => n + 1);
    presence.changed.connect(update);
    if (!presence.loaded) {
      void presence.refresh();
    }
    // "2 min ago" moves on by itself.
    const clock = window.setInterval(update, 30000);
    return () => {
      presence.changed.disconnect(update);
      window.clearInterval(clock);
    };
  }, [presence]);

  const guests = presence.guests;
  if (guests.length === 0) {
    return null;
  }
  const act = (username: string, what: 'revoke' | 'view') => {
    setBusy(username);
    const done =
      what === 'revoke'
        ? presence.revoke(username)
        : presence.lowerToView(username);
    done
      .catch(reason =>
        Notification.error(
          what === 'revoke'
            ? trans.__(
                'Could not revoke %1: %2',
                username,
                errorMessage(reason)
              )
            : trans.__(
                'Could not change %1: %2',
                username,
                errorMessage(reason)
              ),
          { autoClose: 8000 }
        )
      )
      .finally(() => setBusy(null));
  };
  return (
    <div
      className="jp-share-presence"
      role="group"
      aria-label={trans.__('Guests in this container')}
    >
      <div className="jp-share-presence-heading">
        {trans.__('In this container')}
      </div>
      <ul className="jp-share-presence-list">
        {guests.map(guest => (
          <li
            key={guest.username}
            className="jp-share-presence-guest"
            data-guest={guest.username}
            data-in-now={guest.in_now ? 'true' : 'false'}
            title={presenceTooltip(guest, trans)}
          >
            <span
              className="jp-share-presence-dot"
              data-in-now={guest.in_now ? 'true' : 'false'}
              aria-hidden="true"
            />
            <span className="jp-share-presence-name">{guest.username}</span>
            <span
              className="jp-share-permission"
              data-permission={guest.permission}
            >
              {guest.permission}
            </span>
            <span className="jp-share-presence-state">
              {guest.in_now
                ? trans.__('in now')
                : trans.__(
                    'seen %1',
                    ago(guest.last_active_at, Date.now(), trans)
                  )}
            </span>
            <span className="jp-share-presence-open">
              {openSummary(guest, trans)}
            </span>
            <span className="jp-share-presence-actions">
              {guest.permission !== 'view' && (
                <button
                  type="button"
                  className="jp-Button jp-mod-minimal jp-share-presence-lower"
                  disabled={busy === guest.username}
                  aria-label={trans.__('Lower %1 to view', guest.username)}
                  onClick={() => act(guest.username, 'view')}
                >
                  {trans.__('To view')}
                </button>
              )}
              <button
                type="button"
                className="jp-Button jp-mod-minimal jp-share-presence-revoke"
                disabled={busy === guest.username}
                aria-label={trans.__('Revoke %1', guest.username)}
                onClick={() => act(guest.username, 'revoke')}
              >
                {trans.__('Revoke')}
              </button>
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
