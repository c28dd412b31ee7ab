/**
 * A container whose server stopped is said to be stopped; nothing else is.
 */
import { IResource } from '../api';
import { stoppedTitle } from '../panel';

// `spec` loose: the cases give a container's spec in part (the server sends it whole).
function resource(
  extra: Partial<Omit<IResource, 'spec'>> & { spec?: object }
): IResource {
  return {
    id: 'r1',
    kind: 'session',
    name: 'alice@host:~',
    owner: 'alice',
    access: 'owner',
    spec: { url: 'http://127.0.0.1:8888/' },
    ...extra
  } as IResource;
}

describe('stoppedTitle', () => {
  it('says a stopped container stopped, and when', () => {
    const title = stoppedTitle(
      resource({
        spec: { state: 'stopped', stopped_at: '2026-12-06T05:00:00Z' }
      })
    );
    expect(title).toMatch(/^Its server stopped at /);
    expect(stoppedTitle(resource({ spec: { state: 'stopped' } }))).toBe(
      'Its server stopped'
    );
  });

  it('says nothing of running containers or of other kinds', () => {
    expect(stoppedTitle(resource({ spec: { state: 'running' } }))).toBeNull();
    expect(stoppedTitle(resource({ spec: {} }))).toBeNull();
    expect(
      stoppedTitle(resource({ kind: 'image', spec: { state: 'stopped' } }))
    ).toBeNull();
  });
});
