/**
 * The owner's change stream (`GET jupyter-share/api/v1/feed`, server-sent
 * events): what changed anywhere on the store, as it concerns the signed-in
 * user, told at once by their server's watcher of the store.
 *
 * Read with `fetch` (through ServerConnection, so the token or cookie and
 * base URL are the server's) rather than EventSource, which cannot send the
 * token. Reconnects with a backoff; after a reconnect the panel reads its
 * lists again, since changes made meanwhile were not told.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { Access, Kind } from './api';
import { API_NAMESPACE } from './request';

/** One change, as the server tells it (`ShareService.feed_message`). */
export interface IFeedMessage {
  id: number;
  action: string;
  kind: Kind;
  resource_id: string;
  /** The panel's list that holds the resource. */
  list: 'owned' | 'shared-with-me';
  /** The user's access now; null when it ended (or the resource is gone). */
  access: Access | null;
  resource_name?: string;
  owner?: string;
  actor?: string;
  /** Only on the user's own grant, or to those who manage the resource. */
  principal?: string | null;
  permission?: string | null;
}

export class ChangeFeed {
  constructor(
    private readonly _settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  /** A change was told. */
  get received(): ISignal<this, IFeedMessage> {
    return this._received;
  }

  /** The stream opened again after it was lost: changes may have been missed. */
  get reconnected(): ISignal<this, void> {
    return this._reconnected;
  }

  /** Whether the stream is open now. */
  get connected(): boolean {
    return this._connected;
  }

  start(): void {
    if (!this._running) {
      this._running = true;
      void this._loop();
    }
  }

  stop(): void {
    this._running = false;
    this._abort?.abort();
  }

  private async _loop(): Promise<void> {
    let failures = 0;
    let opened = false;
    while (this._running) {
      const started = Date.now();
      try {
        await this._read(() => {
          if (opened) {
            this._reconnected.emit();
          }
          opened = true;
        });
      } catch (reason) {
        // Lost, refused or not offered: try again later.
        console.debug('jupyter-share: the change stream ended', reason);
      }
      this._connected = false;
      if (!this._running) {
        return;
      }
      // A stream that stayed open a while starts the backoff again.
      failures = Date.now() - started > 30000 ? 0 : failures + 1;
      const delay = Math.min(1000 * 2 ** Math.max(failures - 1, 0), 60000);
      await new Promise(resolve => window.setTimeout(resolve, delay));
    }
  }

  private async _read(onOpen: () => void): Promise<void> {
    this._abort = new AbortController();
    const url = URLExt.join(this._settings.baseUrl, API_NAMESPACE, 'feed');
    const response = await ServerConnection.makeRequest(
      url,
      { signal: this._abort.signal, cache: 'no-store' },
      this._settings
    );
    if (!response.ok || !response.body) {
      throw new Error(`the change stream answered ${response.status}`);
    }
    this._connected = true;
    onOpen();
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        return;
      }
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        this._take(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
      }
    }
  }

  private _take(block: string): void {
    const data = block
      .split('\n')
      .filter(line => line.startsWith('data: '))
      .map(line => line.slice(6))
      .join('\n');
    if (!data) {
      return; // a comment (keepalive)
    }
    try {
      this._received.emit(JSON.parse(data) as IFeedMessage);
    } catch (reason) {
      console.warn('jupyter-share: a change the panel could not read', reason);
    }
  }

  private _running = false;
  private _connected = false;
  private _abort: AbortController | null = null;
  private _received = new Signal<this, IFeedMessage>(this);
  private _reconnected = new Signal<this, void>(this);
}
