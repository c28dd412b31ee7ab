/**
 * Asking for more: the calls (against a fake server at the fetch boundary) and
 * the words of the owner's notification.
 */
import {
  describeRequest,
  IAccessRequest,
  nextPermission,
  RequestsAPI
} from '../requests';
import { FakeServer, json } from './fakeserver';

const REQUEST: IAccessRequest = {
  kind: 'session',
  resource_id: 'abc',
  resource_name: 'default',
  owner: 'alice',
  requester: 'bob',
  permission: 'edit',
  message: '',
  created_at: '2026-01-01T00:00:00.000Z',
  holds: 'view'
};

describe('asking for more', () => {
  it('offers the next permission above what one holds', () => {
    expect(nextPermission('view')).toBe('edit');
    expect(nextPermission('edit')).toBe('manage');
    expect(nextPermission('manage')).toBeNull();
    expect(nextPermission('owner')).toBeNull();
  });

  it('says who asks for what, on whose resource', () => {
    expect(describeRequest(REQUEST, 'alice')).toBe(
      'bob asks for edit on your container'
    );
    expect(
      describeRequest(
        {
          ...REQUEST,
          kind: 'image',
          resource_name: 'CARET',
          message: 'please'
        },
        'alice'
      )
    ).toBe('bob asks for edit on your image CARET: “please”');
    expect(
      describeRequest(
        { ...REQUEST, kind: 'image', resource_name: 'CARET' },
        'carol'
      )
    ).toBe("bob asks for edit on alice's image CARET");
  });

  it('asks, lists, decides and withdraws through the API', async () => {
    const server = new FakeServer()
      .on(/^POST sessions\/current\/requests$/, () => json(REQUEST, 201))
      .on(/^GET sessions\/current\/requests$/, () =>
        json({ items: [REQUEST], total: 1 })
      )
      .on(/^GET requests$/, () => json({ to_decide: [REQUEST], asked: [] }))
      .on(/^POST sessions\/abc\/requests\/bob$/, () =>
        json({ decision: 'approve', requester: 'bob', permission: 'edit' })
      )
      .on(/^DELETE sessions\/current\/requests\/bob$/, () => json(null, 204));
    const api = new RequestsAPI(server.settings());
    expect(await api.ask('session', 'current', 'edit', 'hi')).toEqual(REQUEST);
    expect(await api.on('session', 'current')).toEqual([REQUEST]);
    expect((await api.mine()).to_decide).toEqual([REQUEST]);
    expect(
      (await api.decide('session', 'abc', 'bob', 'approve')).decision
    ).toBe('approve');
    await api.withdraw('session', 'current', 'bob');
    expect(server.requests.map(r => r.body)).toEqual([
      { permission: 'edit', message: 'hi' },
      undefined,
      undefined,
      { decision: 'approve' },
      undefined
    ]);
  });
});
