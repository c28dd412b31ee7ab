import { URLExt } from '@jupyterlab/coreutils';

import { ServerConnection } from '@jupyterlab/services';

/**
 * The URL namespace of the jupyter_share server extension's REST API.
 */
export const API_NAMESPACE = 'jupyter-share/api/v1';

/**
 * Call the jupyter_share server extension.
 *
 * @param endPoint API REST end point, relative to `jupyter-share/api/v1`
 * @param init Initial values for the request
 * @param settings The server settings to use (defaults to `makeSettings()`)
 * @returns The response body interpreted as JSON (or the raw text if not JSON)
 * @throws ServerConnection.NetworkError if the server cannot be reached,
 *   ServerConnection.ResponseError (carrying the server's `message`) if the
 *   response status is not 2xx
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const requestUrl = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(requestUrl, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }

  let data: any = await response.text();

  if (data.length > 0) {
    try {
      data = JSON.parse(data);
    } catch (error) {
      console.warn('jupyter-share: response body is not JSON', response);
    }
  }

  if (!response.ok) {
    const message =
      data && typeof data === 'object' && data.message
        ? data.message
        : typeof data === 'string' && data.length > 0
          ? data
          : undefined;
    throw new ServerConnection.ResponseError(response, message);
  }

  return data as T;
}
