/**
 * The change stream's client and the model's use of a change: the row it
 * names is read again (or dropped), never the whole list.
 */
import { ShareAPI } from '../api';
import { ChangeFeed, IFeedMessage } from '../feed';
import { SharingModel } from '../model';
import { FakeServer, json, page, resource } from './fakeserver';

// Node's own, for what the test environment (jsdom) lacks and browsers have.
declare const require: (name: string) => any;
const { ReadableStream } = require('stream/web');
const { TextDecoder, TextEncoder } = require('util');

function change(fields: Partial<IFeedMessage>): IFeedMessage {
  return {
    id: 1,
    action: 'share',
    kind: 'image',
    resource_id: 'x',
    list: 'shared-with-me',
    access: 'view',
    ...fields
  };
}

function bobServer(shared: any[]) {
  return new FakeServer()
    .on(/^GET me$/, () =>
      json({
        username: 'bob',
        display_name: 'bob',
        mode: 'standalone',
        groups: []
      })
    )
    .on(/^GET sessions\/current$/, () => json(resource({ kind: 'session' })))
    .on(/^GET (images|formations|sessions)\?/, () => page([]))
    .on(/^GET shared-with-me/, () => page(shared));
}

describe('SharingModel.applyChange', () => {
  it('reads the one row a share names and adds it, then drops it when access ends', async () => {
    const image = resource({
      owner: 'alice',
      access: 'view',
      shared: true,
      share_count: null,
      shared_at: '2026-12-06T10:00:00.000Z'
    });
    const server = bobServer([]).on(/^GET images\/\w+$/, () => json(image));
    const model = new SharingModel({ api: new ShareAPI(server.settings()) });
    await model.refresh();
    const before = server.calls().length;

    await model.applyChange(change({ resource_id: image.id }));
    expect(model.shared.map(r => r.id)).toEqual([image.id]);
    await model.applyChange(
      change({ resource_id: image.id, action: 'revoke', access: null })
    );
    expect(model.shared).toEqual([]);
    // One read of the row; no list read again.
    expect(server.calls().slice(before)).toEqual([`GET images/${image.id}`]);
    model.dispose();
  });

  it('drops a row that is gone by the time it is read', async () => {
    const image = resource({ owner: 'alice', access: 'view', shared: true });
    let gone = false;
    const server = bobServer([image]).on(/^GET images\/\w+$/, () =>
      gone
        ? json({ message: 'no image', reason: 'Not Found' }, 404)
        : json(image)
    );
    const model = new SharingModel({ api: new ShareAPI(server.settings()) });
    await model.refresh();
    gone = true;
    await model.applyChange(
      change({ resource_id: image.id, action: 'change' })
    );
    expect(model.shared).toEqual([]);
    model.dispose();
  });
});

describe('ChangeFeed', () => {
  // The test environment (jsdom) lacks what browsers have.
  beforeAll(() => {
    Object.assign(globalThis, { TextDecoder, TextEncoder });
  });

  it('reads server-sent events split anywhere, skipping comments', async () => {
    const messages = [change({ id: 1 }), change({ id: 2, action: 'revoke' })];
    const text =
      ': open\n\n' +
      messages
        .map(m => `event: change\ndata: ${JSON.stringify(m)}\n\n`)
        .join('') +
      ': keepalive\n\n';
    const chunks = [text.slice(0, 17), text.slice(17, 60), text.slice(60)];
    const server = new FakeServer().on(/^GET feed/, () => {
      const body = new ReadableStream({
        start(controller: any) {
          for (const chunk of chunks) {
            controller.enqueue(new TextEncoder().encode(chunk));
          }
          controller.close();
        }
      });
      return new Response(body as any, {
        headers: { 'Content-Type': 'text/event-stream' }
      });
    });
    const feed = new ChangeFeed(server.settings());
    const seen: IFeedMessage[] = [];
    feed.received.connect((_, m) => {
      seen.push(m);
      if (seen.length === 2) {
        feed.stop();
      }
    });
    feed.start();
    await new Promise(resolve => setTimeout(resolve, 200));
    feed.stop();
    expect(seen).toEqual(messages);
  });
});
