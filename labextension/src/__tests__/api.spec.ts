/**
 * ShareAPI against a fake server at the fetch boundary.
 */
import { ServerConnection } from '@jupyterlab/services';

import { MAX_PAGE, resourcePath, ShareAPI } from '../api';
import { ShareAPIError } from '../request';
import { FakeServer, json, page, resource } from './fakeserver';

describe('ShareAPI', () => {
  let server: FakeServer;
  let api: ShareAPI;

  beforeEach(() => {
    server = new FakeServer();
    api = new ShareAPI(server.settings());
  });

  it('reads who I am and searches the directory by prefix', async () => {
    server
      .on(/^GET me$/, () =>
        json({
          username: 'alice',
          display_name: 'Alice',
          mode: 'standalone',
          groups: ['staff']
        })
      )
      .on(/^GET directory/, () =>
        json({ users: ['bob'], groups: ['biology'] })
      );

    expect((await api.me()).username).toBe('alice');
    expect(await api.directory('b')).toEqual({
      users: ['bob'],
      groups: ['biology']
    });
    expect(server.calls()).toEqual(['GET me', 'GET directory?q=b']);
  });

  it('lists one page with scope, offset and limit', async () => {
    const items = [resource(), resource()];
    server.on(/^GET images\?/, () => page(items, 7));

    const answer = await api.list('image', 'owned', { offset: 2, limit: 2 });

    expect(answer).toEqual({ items, total: 7 });
    expect(server.calls()).toEqual(['GET images?scope=owned&offset=2&limit=2']);
  });

  it('follows the pages of a long list', async () => {
    const all = Array.from({ length: 2 * MAX_PAGE + 5 }, () =>
      resource({ kind: 'formation' })
    );
    server.on(/^GET formations\?/, request => {
      const query = new URLSearchParams(request.path.split('?')[1]);
      const offset = Number(query.get('offset'));
      const limit = Number(query.get('limit'));
      return page(all.slice(offset, offset + limit), all.length);
    });

    const items = await api.listAll('formation', 'owned');

    expect(items).toEqual(all);
    expect(server.calls()).toEqual([
      'GET formations?scope=owned&offset=0&limit=1000',
      'GET formations?scope=owned&offset=1000&limit=1000',
      'GET formations?scope=owned&offset=2000&limit=1000'
    ]);
  });

  it('stops at an empty page even if the total says more', async () => {
    server.on(/^GET shared-with-me/, () => page([], 3));

    expect(await api.sharedWithMeAll()).toEqual([]);
    expect(server.calls()).toEqual(['GET shared-with-me?offset=0&limit=1000']);
  });

  it('lists what is shared with me, of one kind', async () => {
    const items = [
      resource({
        owner: 'bob',
        access: 'view',
        shared: true,
        share_count: null
      })
    ];
    server.on(/^GET shared-with-me/, () => page(items));

    expect((await api.sharedWithMe('session')).items).toEqual(items);
    expect(server.calls()).toEqual(['GET shared-with-me?kind=session']);
  });

  it('creates with a JSON body, updates and deletes', async () => {
    const created = resource({ name: 'CARET' });
    server
      .on(/^POST images$/, () => json(created, 201))
      .on(/^PATCH images\//, () => json({ ...created, description: 'R' }))
      .on(/^DELETE images\//, () => json(null, 204));

    expect(await api.create('image', { name: 'CARET', capture: true })).toEqual(
      created
    );
    expect(
      (await api.update('image', created.id, { description: 'R' })).description
    ).toBe('R');
    await expect(api.delete('image', created.id)).resolves.toBeUndefined();

    expect(server.requests.map(r => [r.method, r.path, r.body])).toEqual([
      ['POST', 'images', { name: 'CARET', capture: true }],
      ['PATCH', `images/${created.id}`, { description: 'R' }],
      ['DELETE', `images/${created.id}`, undefined]
    ]);
  });

  it('shares with a principal, reads the access list, revokes', async () => {
    const grant = {
      principal: 'user:bob',
      kind: 'user',
      name: 'bob',
      permission: 'edit',
      granted_by: 'alice',
      created_at: '2026-11-26T10:00:00.000Z',
      expires_at: null,
      link: 'http://localhost:8888/jupyter-share/link/abc'
    };
    server
      .on(/^PUT sessions\/current\/grants\//, () => json(grant, 201))
      .on(/^GET sessions\/current\/grants$/, () =>
        json({ items: [grant], total: 1 })
      )
      .on(/^DELETE sessions\/current\/grants\//, () => json(null, 204));

    const made = await api.share('session', 'current', 'user:bob', {
      permission: 'edit',
      expires_at: null
    });
    expect(made.link).toBe('http://localhost:8888/jupyter-share/link/abc');
    expect(await api.grants('session', 'current')).toEqual([grant]);
    await api.revoke('session', 'current', 'group:class 2026');

    expect(server.requests.map(r => [r.method, r.path, r.body])).toEqual([
      [
        'PUT',
        'sessions/current/grants/user%3Abob',
        { permission: 'edit', expires_at: null }
      ],
      ['GET', 'sessions/current/grants', undefined],
      ['DELETE', 'sessions/current/grants/group%3Aclass%202026', undefined]
    ]);
  });

  it('reads the history of a resource', async () => {
    server.on(/^GET images\/.*\/history/, () =>
      json({
        items: [
          {
            at: 'x',
            actor: 'alice',
            action: 'create',
            principal: null,
            permission: null
          }
        ],
        total: 1
      })
    );

    expect((await api.history('image', 'abc', { limit: 10 })).total).toBe(1);
    expect(server.calls()).toEqual(['GET images/abc/history?limit=10']);
  });

  it('filters the history and exports it as CSV', async () => {
    server
      .on(
        /^GET sessions\/s1\/history\?format=csv/,
        () =>
          new Response('at,actor\r\n', {
            status: 200,
            headers: {
              'Content-Type': 'text/csv; charset=UTF-8',
              'Content-Disposition': 'attachment; filename="history.csv"'
            }
          })
      )
      .on(/^GET sessions\/s1\/history/, () => json({ items: [], total: 0 }));

    await api.history('session', 's1', { person: 'bob', action: 'signin' });
    await api.history('session', 's1', { person: '', action: '' });
    const file = await api.historyCSV('session', 's1', { person: 'bob' });

    expect(file.filename).toBe('history.csv');
    expect(server.calls()).toEqual([
      'GET sessions/s1/history?person=bob&action=signin',
      'GET sessions/s1/history',
      'GET sessions/s1/history?format=csv&person=bob'
    ]);
  });

  it('downloads an environment file with its name and type', async () => {
    server.on(
      /^GET images\/abc\/environment/,
      () =>
        new Response('numpy==2.1.0\n', {
          status: 200,
          headers: {
            'Content-Type': 'text/plain; charset=utf-8',
            'Content-Disposition': 'attachment; filename="requirements.txt"'
          }
        })
    );

    const file = await api.environment('abc', 'requirements');

    expect(file).toEqual({
      filename: 'requirements.txt',
      contentType: 'text/plain; charset=utf-8',
      content: 'numpy==2.1.0\n'
    });
    expect(server.calls()).toEqual([
      'GET images/abc/environment?format=requirements'
    ]);
  });

  it('refuses a download with the server message', async () => {
    server.on(/environment/, () =>
      json(
        {
          message: 'this image has no captured environment',
          reason: 'Bad Request'
        },
        400
      )
    );

    await expect(api.environment('abc', 'conda')).rejects.toThrow(
      'this image has no captured environment'
    );
  });

  it('throws ShareAPIError with the message and the field at fault', async () => {
    server.on(/^PUT/, () =>
      json(
        {
          message: "unknown user 'bobb': did you mean 'bob'?",
          reason: 'Bad Request',
          field: 'principal'
        },
        400
      )
    );

    const error = await api
      .share('image', 'abc', 'bobb', { permission: 'view' })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ShareAPIError);
    expect(error).toBeInstanceOf(ServerConnection.ResponseError);
    expect((error as ShareAPIError).message).toBe(
      "unknown user 'bobb': did you mean 'bob'?"
    );
    expect((error as ShareAPIError).field).toBe('principal');
    expect((error as ShareAPIError).response.status).toBe(400);
  });

  it('escapes ids in paths', () => {
    expect(resourcePath('image', 'a/b c')).toBe('images/a%2Fb%20c');
    expect(resourcePath('session', 'current')).toBe('sessions/current');
  });
});
