/**
 * The pure parts of launching a formation: the Hub's spawn URL (no token in
 * it), the labels of what was not applied, and which rows offer Stop.
 */
import { IResource } from '../api';
import { hubSpawnUrl, isLaunchedAndRunning, notAppliedLabel } from '../launch';

// `spec` loose: the cases give a container's spec in part (the server sends it whole).
function resource(
  overrides: Partial<Omit<IResource, 'spec'>> & { spec?: object }
): IResource {
  return {
    id: 'c0ffee',
    kind: 'session',
    name: 'lab',
    description: null,
    owner: 'bob',
    created_at: '2026-12-06T08:00:00Z',
    updated_at: '2026-12-06T08:00:00Z',
    spec: {},
    access: 'owner',
    shared: false,
    share_count: 0,
    ...overrides
  } as IResource;
}

describe('hubSpawnUrl', () => {
  it('starts a named server with the formation as the spawner hooks’ choice', () => {
    expect(hubSpawnUrl('/hub/', 'bob', '0123456789abcdef')).toBe(
      '/hub/spawn/bob/formation-0123456789ab?opt-jupyter_share_choice=formation%3A0123456789abcdef'
    );
  });

  it('encodes the user name and falls back to /hub/', () => {
    const url = hubSpawnUrl('', 'a b', 'f00');
    expect(url.startsWith('/hub/spawn/a%20b/formation-f00?')).toBe(true);
    expect(url).not.toContain('token');
  });
});

describe('notAppliedLabel', () => {
  it('shows the field and its value, and a variable without one', () => {
    expect(notAppliedLabel({ field: 'cpu', value: 4, reason: 'x' })).toBe(
      'cpu 4'
    );
    expect(
      notAppliedLabel({ field: 'env.PYTHONPATH', value: null, reason: 'x' })
    ).toBe('env.PYTHONPATH');
    expect(
      notAppliedLabel({
        field: 'storage',
        value: [{ mount_path: '/data' }],
        reason: 'x'
      })
    ).toBe('storage [{"mount_path":"/data"}]');
  });
});

describe('isLaunchedAndRunning', () => {
  const launched = { launched_from: 'formation:f00', state: 'running' };

  it('is my running container launched from a formation', () => {
    expect(isLaunchedAndRunning(resource({ spec: launched }))).toBe(true);
  });

  it('is not a stopped one, someone else’s, or one not launched', () => {
    expect(
      isLaunchedAndRunning(
        resource({ spec: { ...launched, state: 'stopped' } })
      )
    ).toBe(false);
    expect(
      isLaunchedAndRunning(resource({ spec: launched, access: 'view' }))
    ).toBe(false);
    expect(isLaunchedAndRunning(resource({ spec: { state: 'running' } }))).toBe(
      false
    );
    expect(
      isLaunchedAndRunning(resource({ kind: 'formation', spec: launched }))
    ).toBe(false);
  });
});
