/**
 * A fake jupyter_share server at the fetch boundary: the real ServerConnection
 * and requestAPI run; only `fetch` is replaced by a router that records every
 * request and answers with real `Response`s.
 */
import { ServerConnection } from '@jupyterlab/services';

/** One request as the server saw it. */
export interface IRecorded {
  method: string;
  /** The path after `jupyter-share/api/v1/`, with its query (without JupyterLab's cache buster). */
  path: string;
  body: any;
}

export type Route = (request: IRecorded) => Response | Promise<Response>;

export function json(
  body: unknown,
  status = 200,
  headers: HeadersInit = {}
): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers }
  });
}

export class FakeServer {
  readonly requests: IRecorded[] = [];

  /** Answer requests whose `METHOD path` (query included) matches. */
  on(pattern: RegExp, route: Route): this {
    this._routes.push({ pattern, route });
    return this;
  }

  /** Settings whose fetch reaches this fake server. */
  settings(): ServerConnection.ISettings {
    return ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/',
      token: 'token',
      fetch: (async (input: RequestInfo | URL) => {
        const request = input as Request;
        const url = new URL(request.url);
        url.searchParams.forEach((_, key) => {
          // JupyterLab appends a numeric cache buster for `cache: no-store`.
          if (/^\d+$/.test(key)) {
            url.searchParams.delete(key);
          }
        });
        const prefix = '/jupyter-share/api/v1/';
        const path =
          url.pathname.slice(url.pathname.indexOf(prefix) + prefix.length) +
          url.search;
        const text = await request.text();
        const recorded: IRecorded = {
          method: request.method,
          path,
          body: text ? JSON.parse(text) : undefined
        };
        this.requests.push(recorded);
        for (const { pattern, route } of this._routes) {
          if (pattern.test(`${recorded.method} ${recorded.path}`)) {
            return route(recorded);
          }
        }
        return json(
          {
            message: `no route for ${recorded.method} ${path}`,
            reason: 'Not Found'
          },
          404
        );
      }) as any
    });
  }

  /** The `METHOD path` of every request so far. */
  calls(): string[] {
    return this.requests.map(r => `${r.method} ${r.path}`);
  }

  private _routes: { pattern: RegExp; route: Route }[] = [];
}

let counter = 0;

/** A resource as the API answers it. */
export function resource(fields: { [key: string]: any } = {}): any {
  counter++;
  return {
    id: `r${String(counter).padStart(15, '0')}`,
    kind: 'image',
    name: `image-${counter}`,
    description: '',
    owner: 'alice',
    created_at: '2026-11-26T10:00:00.000Z',
    updated_at: '2026-11-26T10:00:00.000Z',
    spec: { reference: 'python:3.12' },
    access: 'owner',
    shared: false,
    share_count: 0,
    ...fields
  };
}

/** A page of items. */
export function page(items: any[], total = items.length): Response {
  return json({ items, total });
}
