/**
 * SharingModel and its helpers, against a fake server at the fetch boundary.
 */
import { IResource, ShareAPI } from '../api';
import {
  badgeTooltip,
  canManage,
  describeNewShare,
  expiryFromDate,
  expiryLabel,
  ISeenStore,
  kindLabel,
  parsePrincipal,
  principalLabel,
  reuseUnchanged,
  SharingModel
} from '../model';
import { FakeServer, json, page, resource } from './fakeserver';

/** A fake server with alice's lists, which tests change between refreshes. */
function aliceServer() {
  const state = {
    images: [] as any[],
    formations: [] as any[],
    sessions: [] as any[],
    shared: [] as any[],
    current: resource({
      kind: 'session',
      name: 'host:/home/alice',
      spec: { url: 'http://h/' }
    }),
    failShared: false
  };
  const server = new FakeServer()
    .on(/^GET me$/, () =>
      json({
        username: 'alice',
        display_name: 'alice',
        mode: 'standalone',
        groups: []
      })
    )
    .on(/^GET sessions\/current$/, () => json(state.current))
    .on(/^GET images\?/, () => page(state.images))
    .on(/^GET formations\?/, () => page(state.formations))
    .on(/^GET sessions\?/, () => page(state.sessions))
    .on(/^GET shared-with-me/, () =>
      state.failShared
        ? json(
            { message: 'database is locked', reason: 'Internal Server Error' },
            500
          )
        : page(state.shared)
    );
  return { server, state };
}

function sharedBy(owner: string, sharedAt: string, fields: any = {}): any {
  return resource({
    owner,
    access: 'view',
    shared: true,
    share_count: null,
    shared_at: sharedAt,
    expires_at: null,
    ...fields
  });
}

class MemorySeen implements ISeenStore {
  constructor(public value: string | null = null) {}
  async load() {
    return this.value;
  }
  async save(value: string) {
    this.value = value;
  }
}

describe('SharingModel', () => {
  it('reads me, this container, my lists and what is shared with me', async () => {
    const { server, state } = aliceServer();
    state.images = [resource({ shared: true, share_count: 2 })];
    state.sessions = [state.current];
    state.shared = [sharedBy('bob', '2026-11-26T10:00:00.000Z')];
    const model = new SharingModel({ api: new ShareAPI(server.settings()) });
    let changes = 0;
    model.changed.connect(() => changes++);

    await model.refresh();

    expect(model.loaded).toBe(true);
    expect(model.error).toBeNull();
    expect(model.me?.username).toBe('alice');
    expect(model.currentSessionId).toBe(state.current.id);
    expect(model.owned('image')).toEqual(state.images);
    expect(model.owned('session')).toEqual([state.current]);
    expect(model.shared).toEqual(state.shared);
    expect(model.find(state.shared[0].id)?.place).toBe('shared');
    expect(model.find(state.images[0].id)?.place).toBe('owned');
    expect(model.find('nope')).toBeUndefined();
    expect(changes).toBe(1);
    model.dispose();
  });

  it('lists this container even when it was registered by this very refresh', async () => {
    const { server, state } = aliceServer();
    const model = new SharingModel({ api: new ShareAPI(server.settings()) });

    await model.refresh();

    expect(model.owned('session').map(s => s.id)).toEqual([state.current.id]);
    // me and the container are read once.
    await model.refresh();
    expect(
      server.calls().filter(c => c === 'GET me' || c === 'GET sessions/current')
    ).toEqual(['GET me', 'GET sessions/current']);
    model.dispose();
  });

  it('keeps unchanged resources as the same objects', async () => {
    const { server, state } = aliceServer();
    state.images = [resource(), resource()];
    const model = new SharingModel({ api: new ShareAPI(server.settings()) });
    await model.refresh();
    const before = model.owned('image');

    state.images = state.images.map(r => ({ ...r }));
    await model.refresh();
    expect(model.owned('image')).toBe(before);

    state.images = [
      { ...state.images[0], share_count: 1, shared: true },
      state.images[1]
    ];
    await model.refresh();
    expect(model.owned('image')).not.toBe(before);
    expect(model.owned('image')[0]).not.toBe(before[0]);
    expect(model.owned('image')[0].share_count).toBe(1);
    expect(model.owned('image')[1]).toBe(before[1]);
    model.dispose();
  });

  it('runs one more refresh for calls made while one runs', async () => {
    const { server } = aliceServer();
    const model = new SharingModel({ api: new ShareAPI(server.settings()) });

    await Promise.all([
      model.refresh(),
      model.refresh(),
      model.refreshShared(),
      model.refresh()
    ]);

    const lists = server.calls().filter(c => c.startsWith('GET images'));
    expect(lists).toHaveLength(2);
    model.dispose();
  });

  it('reports a failed refresh and clears it on the next success', async () => {
    const { server, state } = aliceServer();
    state.failShared = true;
    const model = new SharingModel({ api: new ShareAPI(server.settings()) });

    await expect(model.refresh()).rejects.toThrow('database is locked');
    expect(model.error).toBe('database is locked');
    expect(model.loaded).toBe(false);

    state.failShared = false;
    await model.refresh();
    expect(model.error).toBeNull();
    expect(model.loaded).toBe(true);
    model.dispose();
  });

  describe('new shares', () => {
    it('are not news at the first look, but later ones are', async () => {
      const { server, state } = aliceServer();
      state.shared = [
        sharedBy('bob', '2026-11-26T10:00:00.000Z', { name: 'old' })
      ];
      const seen = new MemorySeen();
      const model = new SharingModel({
        api: new ShareAPI(server.settings()),
        seen
      });
      const news: IResource[][] = [];
      model.newShares.connect((_, items) => news.push(items));

      await model.refresh();
      expect(news).toEqual([]);
      expect(seen.value).toBe('2026-11-26T10:00:00.000Z');

      const fresh = sharedBy('carol', '2026-11-26T11:00:00.000Z', {
        name: 'CARET'
      });
      state.shared = [fresh, ...state.shared];
      await model.refreshShared();
      expect(news.map(items => items.map(r => r.name))).toEqual([['CARET']]);
      expect(seen.value).toBe('2026-11-26T11:00:00.000Z');

      // Seen once: not news again.
      await model.refreshShared();
      expect(news).toHaveLength(1);
      model.dispose();
    });

    it('after a first look at nothing, the first share is news', async () => {
      const { server, state } = aliceServer();
      const seen = new MemorySeen();
      const model = new SharingModel({
        api: new ShareAPI(server.settings()),
        seen
      });
      const news: IResource[][] = [];
      model.newShares.connect((_, items) => news.push(items));

      await model.refresh();
      state.shared = [
        sharedBy('bob', '2026-11-26T12:00:00.000Z', { name: 'first' })
      ];
      await model.refreshShared();

      expect(news.map(items => items.map(r => r.name))).toEqual([['first']]);
      model.dispose();
    });

    it('that came while the lab was closed are news when it opens', async () => {
      const { server, state } = aliceServer();
      state.shared = [
        sharedBy('bob', '2026-11-26T12:00:00.000Z', { name: 'while away' }),
        sharedBy('bob', '2026-11-25T12:00:00.000Z', { name: 'known' })
      ];
      const seen = new MemorySeen('2026-11-25T12:00:00.000Z');
      const model = new SharingModel({
        api: new ShareAPI(server.settings()),
        seen
      });
      const news: IResource[][] = [];
      model.newShares.connect((_, items) => news.push(items));

      await model.refresh();

      expect(news.map(items => items.map(r => r.name))).toEqual([
        ['while away']
      ]);
      model.dispose();
    });
  });

  it('looks at what is shared with me every pollInterval seconds', async () => {
    jest.useFakeTimers();
    try {
      const { server } = aliceServer();
      const model = new SharingModel({
        api: new ShareAPI(server.settings()),
        pollInterval: 30
      });
      model.startPolling();
      const polls = () =>
        server.calls().filter(c => c.startsWith('GET shared-with-me')).length;

      await jest.advanceTimersByTimeAsync(29000);
      expect(polls()).toBe(0);
      await jest.advanceTimersByTimeAsync(1000);
      expect(polls()).toBe(1);

      model.pollInterval = 5;
      await jest.advanceTimersByTimeAsync(5000);
      expect(polls()).toBe(2);

      model.stopPolling();
      await jest.advanceTimersByTimeAsync(60000);
      expect(polls()).toBe(2);
      model.dispose();
    } finally {
      jest.useRealTimers();
    }
  });

  it('backs off while the server fails', async () => {
    jest.useFakeTimers();
    try {
      const { server, state } = aliceServer();
      state.failShared = true;
      const model = new SharingModel({
        api: new ShareAPI(server.settings()),
        pollInterval: 10
      });
      model.startPolling();
      const polls = () =>
        server.calls().filter(c => c.startsWith('GET shared-with-me')).length;

      await jest.advanceTimersByTimeAsync(10000);
      expect(polls()).toBe(1);
      await jest.advanceTimersByTimeAsync(10000);
      expect(polls()).toBe(1); // next one after 20 s
      await jest.advanceTimersByTimeAsync(10000);
      expect(polls()).toBe(2);
      model.dispose();
    } finally {
      jest.useRealTimers();
    }
  });

  it('shows the grantees the list carries, asking nobody per resource', async () => {
    const { server, state } = aliceServer();
    const grantees = [
      { principal: 'user:bob', kind: 'user', name: 'bob', permission: 'view' }
    ];
    state.images = [
      resource({ shared: true, share_count: 1, grantees } as any)
    ];
    const model = new SharingModel({ api: new ShareAPI(server.settings()) });
    await model.refresh();

    expect(model.find(state.images[0].id)?.resource.grantees).toEqual(grantees);
    expect(server.calls().filter(c => c.includes('/grants'))).toHaveLength(0);
    model.dispose();
  });
});

describe('helpers', () => {
  it('reuseUnchanged answers the old list when nothing changed', () => {
    const old = [resource(), resource()];
    expect(
      reuseUnchanged(
        old,
        old.map(r => ({ ...r }))
      )
    ).toBe(old);
    expect(reuseUnchanged([], old)).toBe(old);
    const reordered = reuseUnchanged(old, [{ ...old[1] }, { ...old[0] }]);
    expect(reordered).not.toBe(old);
    expect(reordered[0]).toBe(old[1]);
  });

  it('parsePrincipal reads users and groups', () => {
    expect(parsePrincipal(' bob ')).toEqual({
      kind: 'user',
      name: 'bob',
      principal: 'user:bob'
    });
    expect(parsePrincipal('user:bob')).toEqual({
      kind: 'user',
      name: 'bob',
      principal: 'user:bob'
    });
    expect(parsePrincipal('group:class-2026')).toEqual({
      kind: 'group',
      name: 'class-2026',
      principal: 'group:class-2026'
    });
    expect(parsePrincipal('')).toBeNull();
    expect(parsePrincipal('group:')).toBeNull();
  });

  it('expiryFromDate ends the day, and empty means never', () => {
    expect(expiryFromDate('')).toBeNull();
    const iso = expiryFromDate('2030-01-31')!;
    const end = new Date(iso);
    expect([
      end.getFullYear(),
      end.getMonth() + 1,
      end.getDate(),
      end.getHours()
    ]).toEqual([2030, 1, 31, 23]);
    expect(() => expiryFromDate('someday')).toThrow('not a date');
  });

  it('labels say what things are', () => {
    expect(expiryLabel(null)).toBe('no expiry');
    expect(expiryLabel('2031-01-31T12:00:00.000Z')).toBe('until 2031-01-31');
    expect(kindLabel('session')).toBe('container');
    expect(principalLabel({ kind: 'group', name: 'staff' })).toBe(
      'group staff'
    );
    expect(principalLabel({ kind: 'user', name: 'bob' })).toBe('bob');
    expect(canManage('owner') && canManage('manage')).toBe(true);
    expect(canManage('edit')).toBe(false);
    expect(badgeTooltip(2)).toBe('Shared: 2 grants');
    expect(badgeTooltip(1)).toBe('Shared: 1 grant');
    expect(
      badgeTooltip(2, [
        { kind: 'user', name: 'bob', permission: 'view' } as any,
        { kind: 'group', name: 'class-2026', permission: 'edit' } as any
      ])
    ).toBe('Shared with bob (view), group class-2026 (edit)');
    expect(
      badgeTooltip(3, [
        { kind: 'user', name: 'bob', permission: 'view' } as any
      ])
    ).toBe('Shared with bob (view) and 2 more');
    expect(describeNewShare(resource({ owner: 'alice', name: 'CARET' }))).toBe(
      'alice shared image CARET with you'
    );
    expect(
      describeNewShare(
        resource({ owner: 'bob', kind: 'session', name: 'gpu-box' })
      )
    ).toBe('bob shared container gpu-box with you');
  });
});

describe('this container', () => {
  it('is read again after it was deleted', async () => {
    const { server, state } = aliceServer();
    const model = new SharingModel({ api: new ShareAPI(server.settings()) });
    await model.refresh();
    const first = state.current.id;

    state.current = resource({ kind: 'session', name: 'host:/home/alice' });
    model.forgetCurrentSession();
    await model.refresh();

    expect(model.currentSessionId).toBe(state.current.id);
    expect(model.currentSessionId).not.toBe(first);
    model.dispose();
  });
});
