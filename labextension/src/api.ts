/**
 * A typed client of the jupyter_share REST API v1 (`jupyter_share/openapi.yaml`).
 *
 * Every method is one HTTP request through `requestAPI`, except the `*All`
 * methods, which follow the pages of a list.
 */
import { ServerConnection } from '@jupyterlab/services';

import type { components, operations } from './contract';
import { IFileResponse, requestAPI, requestFile } from './request';

/**
 * The API's models, generated from the OpenAPI description (`jlpm contract`
 * writes src/contract.ts from jupyter_share/openapi.yaml, which the Python
 * models generate): the names below are the extension's for them.
 */
type Schemas = components['schemas'];

/** The kinds of resource, singular as in a Resource's `kind`. */
export type Kind = Schemas['Resource']['kind'];

/** All kinds, in the order the panel shows them. */
export const KINDS: ReadonlyArray<Kind> = ['image', 'formation', 'session'];

/** A permission a grant can give, from least to most. */
export type Permission = Schemas['Grant']['permission'];

/** All permissions, from least to most. */
export const PERMISSIONS: ReadonlyArray<Permission> = [
  'view',
  'edit',
  'manage'
];

/** The caller's effective access to a resource. */
export type Access = Schemas['Resource']['access'];

/** Which resources a list holds. */
export type Scope = NonNullable<
  NonNullable<operations['listResources']['parameters']['query']>['scope']
>;

/** A resource as the API answers it. */
export type IResource = Schemas['Resource'];

/** What an image is: a reference, a captured environment, or both. */
export type IImageSpec = Schemas['ImageSpec'];

/** How to run an image. */
export type IFormationSpec = Schemas['FormationSpec'];

/** What a container's server reports about itself. */
export type ISessionSpec = Schemas['SessionSpec'];

/** An image's spec (a resource's `spec` is one of three, after its `kind`). */
export function imageSpec(resource: IResource): IImageSpec | null {
  return resource.kind === 'image' ? (resource.spec as IImageSpec) : null;
}

/** A formation's spec. */
export function formationSpec(resource: IResource): IFormationSpec | null {
  return resource.kind === 'formation'
    ? (resource.spec as IFormationSpec)
    : null;
}

/** A container's spec. */
export function sessionSpec(resource: IResource): ISessionSpec | null {
  return resource.kind === 'session' ? (resource.spec as ISessionSpec) : null;
}

/** Who holds a grant, as a list shows it. */
export type IGrantee = Schemas['Grantee'];

/** What a list shows of an image's captured environment. */
export type IEnvironmentSummary = Schemas['EnvironmentSummary'];

/** A grant: who holds which access to a resource. */
export type IGrant = Schemas['Grant'];

/** One row of a resource's history. */
export type IHistoryEntry = Schemas['HistoryEntry'];

/** What a history query keeps: people (actor or principal) and actions. */
export interface IHistoryFilter {
  /** `bob`, `user:bob` or `group:NAME`; empty for everyone. */
  person?: string;
  /** Actions, comma-separated (`share,change`); empty for all. */
  action?: string;
}

/** Who the caller is. */
export type IMe = Schemas['Me'];

/** User and group names for the user picker. */
export type IDirectory = Schemas['Directory'];

/** One page of a list. */
export interface IPage<T> {
  items: T[];
  total: number;
}

/** What a grant is made with. */
export type IGrantRequest = Schemas['GrantRequest'];

/** The body of a new image or formation. */
export type ICreateRequest =
  Schemas['ImageCreate'] | Schemas['FormationCreate'];

/** The fields of a resource to change. */
export type IUpdateRequest = Schemas['ResourceUpdate'];

/** The formats a captured environment can be downloaded in. */
export type EnvironmentFormat = 'requirements' | 'conda';

/** The plural path segment of a kind. */
export function plural(kind: Kind): string {
  return `${kind}s`;
}

/** The API path of a resource; `sessions/current` is this container. */
export function resourcePath(kind: Kind, id: string): string {
  return `${plural(kind)}/${encodeURIComponent(id)}`;
}

/** The answer to a revoke with `rekey`: what happened to the server's keys. */
export type IRekeyed = Schemas['Rekeyed'];

/** A query string of the defined values, with a leading `?` when not empty. */
function query(params: { [key: string]: string | number | undefined }): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) {
      search.set(key, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** The largest page the API answers. */
export const MAX_PAGE = 1000;

/**
 * The jupyter_share REST API v1 of one Jupyter server.
 */
export class ShareAPI {
  /**
   * @param serverSettings The server to talk to (defaults to this page's server).
   */
  constructor(
    readonly serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  /** GET /me */
  me(): Promise<IMe> {
    return this._request('me');
  }

  /** GET /directory?q=PREFIX */
  directory(prefix = ''): Promise<IDirectory> {
    return this._request(`directory${query({ q: prefix })}`);
  }

  /** GET /{kind}?scope=&offset=&limit= */
  list(
    kind: Kind,
    scope: Scope = 'all',
    page: { offset?: number; limit?: number } = {}
  ): Promise<IPage<IResource>> {
    return this._request(
      `${plural(kind)}${query({ scope, offset: page.offset, limit: page.limit })}`
    );
  }

  /** Every resource of a list, page after page. */
  listAll(kind: Kind, scope: Scope = 'all'): Promise<IResource[]> {
    return this._all(page => this.list(kind, scope, page));
  }

  /** GET /shared-with-me?kind=&offset=&limit= */
  sharedWithMe(
    kind?: Kind,
    page: { offset?: number; limit?: number } = {}
  ): Promise<IPage<IResource>> {
    return this._request(
      `shared-with-me${query({ kind, offset: page.offset, limit: page.limit })}`
    );
  }

  /** Every resource shared with the caller, page after page. */
  sharedWithMeAll(kind?: Kind): Promise<IResource[]> {
    return this._all(page => this.sharedWithMe(kind, page));
  }

  /** GET /{kind}/{id} */
  get(kind: Kind, id: string): Promise<IResource> {
    return this._request(resourcePath(kind, id));
  }

  /** POST /{kind}: a new image or formation. */
  create(kind: Kind, body: ICreateRequest): Promise<IResource> {
    return this._request(plural(kind), {
      method: 'POST',
      body: JSON.stringify(body)
    });
  }

  /** PATCH /{kind}/{id} */
  update(kind: Kind, id: string, body: IUpdateRequest): Promise<IResource> {
    return this._request(resourcePath(kind, id), {
      method: 'PATCH',
      body: JSON.stringify(body)
    });
  }

  /** DELETE /{kind}/{id} */
  async delete(kind: Kind, id: string): Promise<void> {
    await this._request(resourcePath(kind, id), { method: 'DELETE' });
  }

  /** GET /{kind}/{id}/grants: the access list. */
  async grants(kind: Kind, id: string): Promise<IGrant[]> {
    const list = await this._request<IPage<IGrant>>(
      `${resourcePath(kind, id)}/grants`
    );
    return list.items;
  }

  /** PUT /{kind}/{id}/grants/{principal}: share, or change a grant. */
  share(
    kind: Kind,
    id: string,
    principal: string,
    grant: IGrantRequest
  ): Promise<IGrant> {
    return this._request(
      `${resourcePath(kind, id)}/grants/${encodeURIComponent(principal)}`,
      { method: 'PUT', body: JSON.stringify(grant) }
    );
  }

  /**
   * DELETE /{kind}/{id}/grants/{principal}: revoke, or leave. `rekey`: the
   * container's owner also gives its server a new token and cookie secret
   * (this browser stays signed in).
   */
  async revoke(
    kind: Kind,
    id: string,
    principal: string,
    options: { rekey?: boolean } = {}
  ): Promise<IRekeyed | null> {
    const answer = await this._request<IRekeyed | null>(
      `${resourcePath(kind, id)}/grants/${encodeURIComponent(principal)}${
        options.rekey ? query({ rekey: 'true' }) : ''
      }`,
      { method: 'DELETE' }
    );
    return answer ?? null;
  }

  /** GET /{kind}/{id}/history, filtered by person and action. */
  history(
    kind: Kind,
    id: string,
    page: { offset?: number; limit?: number } & IHistoryFilter = {}
  ): Promise<IPage<IHistoryEntry>> {
    return this._request(
      `${resourcePath(kind, id)}/history${query({
        offset: page.offset,
        limit: page.limit,
        person: page.person || undefined,
        action: page.action || undefined
      })}`
    );
  }

  /** Every history row that `filter` keeps (all pages). */
  historyAll(
    kind: Kind,
    id: string,
    filter: IHistoryFilter = {}
  ): Promise<IHistoryEntry[]> {
    return this._all(page => this.history(kind, id, { ...page, ...filter }));
  }

  /** GET /{kind}/{id}/history?format=csv: the export, as `history.csv`. */
  historyCSV(
    kind: Kind,
    id: string,
    filter: IHistoryFilter = {}
  ): Promise<IFileResponse> {
    return requestFile(
      `${resourcePath(kind, id)}/history${query({
        format: 'csv',
        person: filter.person || undefined,
        action: filter.action || undefined
      })}`,
      this.serverSettings
    );
  }

  /** GET /images/{id}/environment?format=: `requirements.txt` or `environment.yml`. */
  environment(id: string, format: EnvironmentFormat): Promise<IFileResponse> {
    return requestFile(
      `${resourcePath('image', id)}/environment${query({ format })}`,
      this.serverSettings
    );
  }

  private _request<T>(endPoint: string, init: RequestInit = {}): Promise<T> {
    return requestAPI<T>(endPoint, init, this.serverSettings);
  }

  private async _all<T>(
    fetchPage: (page: { offset: number; limit: number }) => Promise<IPage<T>>
  ): Promise<T[]> {
    const items: T[] = [];
    // Bounded: a list that grows while it is read cannot keep us here.
    for (let pages = 0; pages < 100; pages++) {
      const page = await fetchPage({ offset: items.length, limit: MAX_PAGE });
      items.push(...page.items);
      if (page.items.length === 0 || items.length >= page.total) {
        break;
      }
    }
    return items;
  }
}
