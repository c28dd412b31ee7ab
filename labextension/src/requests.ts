/**
 * Asking for more: requests for a higher permission (REST API v1,
 * `/requests` and `/{kind}/{id}/requests`), and the owner's notifications of
 * new ones with Approve and Deny.
 */
import { Notification } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';

import { Access, Kind, Permission } from './api';
import type { components } from './contract';
import { kindLabel, NULL_TRANS } from './model';
import { requestAPI } from './request';

type Schemas = components['schemas'];

/** An open request for more, as the API answers it. */
export type IAccessRequest = Schemas['AccessRequest'];

/** GET /requests */
export type IMyRequests = Schemas['MyRequests'];

/** The answer to approving or denying. */
export type IDecision = Schemas['Decision'];

function path(kind: Kind, id: string): string {
  return `${kind}s/${encodeURIComponent(id)}/requests`;
}

/** The calls of asking for more, on one server. */
export class RequestsAPI {
  constructor(
    readonly serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  /** POST /{kind}/{id}/requests: ask for `permission`, with an optional message. */
  ask(
    kind: Kind,
    id: string,
    permission: Permission,
    message = ''
  ): Promise<IAccessRequest> {
    return requestAPI(
      path(kind, id),
      { method: 'POST', body: JSON.stringify({ permission, message }) },
      this.serverSettings
    );
  }

  /** GET /{kind}/{id}/requests: all open ones for managers, one's own otherwise. */
  async on(kind: Kind, id: string): Promise<IAccessRequest[]> {
    const page = await requestAPI<{ items: IAccessRequest[] }>(
      path(kind, id),
      {},
      this.serverSettings
    );
    return page.items;
  }

  /** GET /requests: for me to decide, and my own. */
  mine(): Promise<IMyRequests> {
    return requestAPI('requests', {}, this.serverSettings);
  }

  /** POST /{kind}/{id}/requests/{requester}: approve or deny. */
  decide(
    kind: Kind,
    id: string,
    requester: string,
    decision: 'approve' | 'deny'
  ): Promise<IDecision> {
    return requestAPI(
      `${path(kind, id)}/${encodeURIComponent(requester)}`,
      { method: 'POST', body: JSON.stringify({ decision }) },
      this.serverSettings
    );
  }

  /** DELETE /{kind}/{id}/requests/{me}: withdraw my own request. */
  async withdraw(kind: Kind, id: string, me: string): Promise<void> {
    await requestAPI(
      `${path(kind, id)}/${encodeURIComponent(me)}`,
      { method: 'DELETE' },
      this.serverSettings
    );
  }
}

/** The next permission to ask for, above what one holds (null: nothing more). */
export function nextPermission(access: Access | string): Permission | null {
  return access === 'view' ? 'edit' : access === 'edit' ? 'manage' : null;
}

/** "bob asks for edit on your container" (or on alice's image CARET, for a manager). */
export function describeRequest(
  r: IAccessRequest,
  me: string,
  trans: TranslationBundle = NULL_TRANS
): string {
  const kind = kindLabel(r.kind, trans);
  const what =
    r.owner === me
      ? r.kind === 'session'
        ? trans.__('your %1', kind)
        : trans.__('your %1 %2', kind, r.resource_name)
      : trans.__("%1's %2 %3", r.owner, kind, r.resource_name);
  return r.message
    ? trans.__(
        '%1 asks for %2 on %3: “%4”',
        r.requester,
        r.permission,
        what,
        r.message
      )
    : trans.__('%1 asks for %2 on %3', r.requester, r.permission, what);
}

/** The key of one request (a new one after a close is news again). */
function keyOf(r: IAccessRequest): string {
  return `${r.kind}/${r.resource_id}/${r.requester}/${r.created_at}`;
}

/**
 * Tells the owner (and managers) of new requests for more: a notification
 * with Approve and Deny. `check` reads /requests (call it on the server's
 * `ask` events and on the panel's refreshes); what was there at the first
 * look is told too, once per page.
 */
export class RequestNotifier {
  constructor(
    readonly api: RequestsAPI,
    readonly me: () => string | null,
    readonly onDecided: () => void = () => undefined,
    readonly trans: TranslationBundle = NULL_TRANS
  ) {}

  /** Look for new requests now (calls made while one runs share the next one). */
  check(): Promise<void> {
    if (this._running) {
      this._again = true;
      return this._running;
    }
    this._running = this._check().finally(() => {
      this._running = null;
      if (this._again) {
        this._again = false;
        void this.check();
      }
    });
    return this._running;
  }

  private async _check(): Promise<void> {
    let found: IMyRequests;
    try {
      found = await this.api.mine();
    } catch {
      return; // an older server without requests, or not reachable now
    }
    const open = new Set(found.to_decide.map(keyOf));
    for (const [key, id] of this._shown) {
      if (!open.has(key)) {
        Notification.dismiss(id); // decided elsewhere, or withdrawn
        this._shown.delete(key);
      }
    }
    for (const r of found.to_decide) {
      const key = keyOf(r);
      if (!this._shown.has(key)) {
        this._shown.set(key, this._notify(r));
      }
    }
  }

  private _notify(r: IAccessRequest): string {
    const trans = this.trans;
    const decide = (decision: 'approve' | 'deny') => {
      this.api.decide(r.kind, r.resource_id, r.requester, decision).then(
        () => {
          Notification.success(
            decision === 'approve'
              ? r.permission === 'edit'
                ? trans.__('%1 may now edit %2', r.requester, r.resource_name)
                : trans.__('%1 may now manage %2', r.requester, r.resource_name)
              : trans.__("You denied %1's request", r.requester),
            { autoClose: 5000 }
          );
          this.onDecided();
        },
        reason =>
          Notification.error(
            decision === 'approve'
              ? trans.__(
                  "Could not approve %1's request: %2",
                  r.requester,
                  reason?.message ?? reason
                )
              : trans.__(
                  "Could not deny %1's request: %2",
                  r.requester,
                  reason?.message ?? reason
                ),
            { autoClose: 10000 }
          )
      );
    };
    return Notification.info(describeRequest(r, this.me() ?? '', trans), {
      autoClose: false,
      actions: [
        {
          label: trans.__('Approve'),
          caption: trans.__('Give %1 %2', r.requester, r.permission),
          displayType: 'accent',
          callback: () => decide('approve')
        },
        {
          label: trans.__('Deny'),
          caption: trans.__('Close the request; nothing changes'),
          callback: () => decide('deny')
        }
      ]
    });
  }

  private _shown = new Map<string, string>();
  private _running: Promise<void> | null = null;
  private _again = false;
}
