/**
 * Unit tests of requestAPI. Only the network boundary is faked: the real
 * ServerConnection.makeRequest runs, with a fetch that records the Request it
 * gets and answers with a real Response.
 */
import { ServerConnection } from '@jupyterlab/services';

import { API_NAMESPACE, requestAPI } from '../request';

describe('requestAPI', () => {
  let requests: Request[];

  function settingsAnswering(
    body: string,
    init: ResponseInit = { status: 200 }
  ): ServerConnection.ISettings {
    requests = [];
    const fakeFetch = async (input: RequestInfo | URL): Promise<Response> => {
      requests.push(input as Request);
      return new Response(body === '' ? null : body, init);
    };
    return ServerConnection.makeSettings({
      baseUrl: 'http://localhost/user/alice/',
      token: 'secret-token',
      fetch: fakeFetch
    });
  }

  it('joins the base URL, the API namespace and the end point', async () => {
    const settings = settingsAnswering('{}');

    await requestAPI('shares/42', {}, settings);

    expect(API_NAMESPACE).toBe('jupyter-share/api/v1');
    expect(requests).toHaveLength(1);
    // The default settings ask for `cache: 'no-store'`, for which JupyterLab
    // appends a cache-busting query string: compare origin and path only.
    const url = new URL(requests[0].url);
    expect(url.origin + url.pathname).toBe(
      'http://localhost/user/alice/jupyter-share/api/v1/shares/42'
    );
    expect(requests[0].method).toBe('GET');
    expect(requests[0].headers.get('Authorization')).toBe('token secret-token');
  });

  it('passes the request init through', async () => {
    const settings = settingsAnswering('{"id": "s1"}', { status: 201 });

    await requestAPI(
      'shares',
      { method: 'POST', body: JSON.stringify({ principal: 'bob' }) },
      settings
    );

    expect(requests[0].method).toBe('POST');
    expect(await requests[0].text()).toBe('{"principal":"bob"}');
  });

  it('parses a JSON response body', async () => {
    const settings = settingsAnswering(
      JSON.stringify({ name: 'alice', groups: ['staff'] })
    );

    const me = await requestAPI<{ name: string; groups: string[] }>(
      'me',
      {},
      settings
    );

    expect(me).toEqual({ name: 'alice', groups: ['staff'] });
  });

  it('returns an empty body as an empty string', async () => {
    const settings = settingsAnswering('', { status: 204 });

    await expect(
      requestAPI('shares/42', { method: 'DELETE' }, settings)
    ).resolves.toBe('');
  });

  it('throws a ResponseError with the server message on a 400', async () => {
    const settings = settingsAnswering(
      JSON.stringify({ message: 'unknown principal: carol' }),
      { status: 400, statusText: 'Bad Request' }
    );

    const error = await requestAPI('shares', { method: 'POST' }, settings).then(
      () => {
        throw new Error('requestAPI should have rejected');
      },
      (reason: unknown) => reason
    );

    expect(error).toBeInstanceOf(ServerConnection.ResponseError);
    const responseError = error as ServerConnection.ResponseError;
    expect(responseError.message).toBe('unknown principal: carol');
    expect(responseError.response.status).toBe(400);
  });

  it('wraps a failed fetch in a NetworkError', async () => {
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://localhost/',
      fetch: async () => {
        throw new TypeError('connection refused');
      }
    });

    await expect(requestAPI('me', {}, settings)).rejects.toBeInstanceOf(
      ServerConnection.NetworkError
    );
  });
});
