import { URLExt } from '@jupyterlab/coreutils';

import { ServerConnection } from '@jupyterlab/services';

/**
 * The URL namespace of the jupyter_share server extension's REST API.
 */
export const API_NAMESPACE = 'jupyter-share/api/v1';

/**
 * A refusal of the share API: the server's `message` (as `message`) and the
 * input at fault (`field`, e.g. `principal` or `spec.memory`), when known.
 */
export class ShareAPIError extends ServerConnection.ResponseError {
  constructor(
    response: Response,
    message?: string,
    readonly field: string | null = null
  ) {
    super(response, message);
    this.name = 'ShareAPIError';
  }
}

/**
 * Call the jupyter_share server extension.
 *
 * @param endPoint API REST end point, relative to `jupyter-share/api/v1`
 * @param init Initial values for the request
 * @param settings The server settings to use (defaults to `makeSettings()`)
 * @returns The response body interpreted as JSON (or the raw text if not JSON)
 * @throws ServerConnection.NetworkError if the server cannot be reached,
 *   ShareAPIError (a ServerConnection.ResponseError carrying the server's
 *   `message` and `field`) if the response status is not 2xx
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
    throw new ShareAPIError(
      response,
      message,
      data && typeof data === 'object' ? (data.field ?? null) : null
    );
  }

  return data as T;
}

/**
 * A file answered by the server: its name (from `Content-Disposition`), its
 * media type and its text.
 */
export interface IFileResponse {
  filename: string;
  contentType: string;
  content: string;
}

/**
 * Download a file from the jupyter_share server extension.
 *
 * @param endPoint API REST end point, relative to `jupyter-share/api/v1`
 * @param settings The server settings to use (defaults to `makeSettings()`)
 * @returns The file's name, media type and text
 * @throws ServerConnection.NetworkError or ServerConnection.ResponseError, as
 *   `requestAPI` does
 */
export async function requestFile(
  endPoint: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<IFileResponse> {
  const requestUrl = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(requestUrl, {}, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const content = await response.text();
  if (!response.ok) {
    let message: string | undefined;
    try {
      message = JSON.parse(content).message;
    } catch {
      message = content || undefined;
    }
    throw new ShareAPIError(response, message);
  }
  const disposition = response.headers.get('Content-Disposition') ?? '';
  const match = /filename="?([^";]+)"?/.exec(disposition);
  const fallback = endPoint.split('?')[0].split('/').pop() || 'download';
  return {
    filename: match ? match[1] : fallback,
    contentType: response.headers.get('Content-Type') ?? 'text/plain',
    content
  };
}
